#pragma once
// Real object-store servers on loopback for the store tests, each started by the test and
// stopped with it: nginx (HTTP, HTTPS with a CA made for the test), s3rver (npm) with SigV4
// checked, and a fault-injecting proxy (tests/stores/fault_proxy.mjs).
#include <sys/types.h>

#include <string>
#include <vector>

namespace voxcast::testing {

// A child process whose stdin is a pipe (closing it asks node tools to stop) and whose
// stdout is read for a "PORT <n>" line.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // The port printed as "PORT <n>" within `timeout_s`; 0 when none came.
  int wait_for_port(double timeout_s);
  // The first stdout line starting with `prefix` after stdin is closed (e.g. "STATS").
  std::string close_and_read(const std::string& prefix, double timeout_s);
  bool running();

 private:
  std::string read_line(double timeout_s);
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string buffered_;
};

struct TlsFiles {
  std::string ca_pem, cert_pem, key_pem;
};
// A CA and a certificate for 127.0.0.1 signed by it, made with the openssl CLI in `dir`.
TlsFiles make_test_ca(const std::string& dir);

// nginx serving `root` on 127.0.0.1 (HTTPS with HTTP/2 when `tls` is given).
class Nginx {
 public:
  Nginx(const std::string& root, const std::string& scratch, const TlsFiles* tls = nullptr);
  ~Nginx();
  int port() const { return port_; }
  bool ok() const { return port_ > 0; }
  std::string url() const;  // "http(s)://127.0.0.1:PORT"
  int requests() const;     // lines in its access log

 private:
  std::string scratch_, log_;
  bool tls_ = false;
  int port_ = 0;
  pid_t pid_ = -1;
};

// True when a TCP connection to 127.0.0.1:port succeeds within `timeout_s`.
bool wait_for_listen(int port, double timeout_s);

// Where the npm tools live (tests/stores) and whether setup installed them.
std::string stores_tool(const std::string& script);
bool s3rver_installed();

}  // namespace voxcast::testing
