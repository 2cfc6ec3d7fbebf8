#include "store_servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace voxcast::testing {
namespace fs = std::filesystem;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

pid_t spawn(const std::vector<std::string>& argv, int in_fd, int out_fd, const std::string& log_file) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in_fd >= 0) posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
  else posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  else posix_spawn_file_actions_addopen(&fa, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// Waits up to `timeout_s` for `pid` to exit, then kills it.
void reap(pid_t pid, double timeout_s) {
  if (pid <= 0) return;
  const double end = now_s() + timeout_s;
  while (now_s() < end) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_file) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
  pid_ = spawn(argv, in[0], out[1], log_file);
  close(in[0]);
  close(out[1]);
  in_ = in[1];
  out_ = out[0];
}

ChildProcess::~ChildProcess() {
  if (in_ >= 0) close(in_);
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    reap(pid_, 5);
  }
  if (out_ >= 0) close(out_);
}

bool ChildProcess::running() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

std::string ChildProcess::read_line(double timeout_s) {
  const double end = now_s() + timeout_s;
  while (true) {
    auto nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    const double left = end - now_s();
    if (left <= 0 || out_ < 0) return {};
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) return {};
    char buf[4096];
    ssize_t n = read(out_, buf, sizeof buf);
    if (n <= 0) return {};
    buffered_.append(buf, static_cast<size_t>(n));
  }
}

int ChildProcess::wait_for_port(double timeout_s) {
  const double end = now_s() + timeout_s;
  while (now_s() < end) {
    std::string line = read_line(end - now_s());
    if (line.rfind("PORT ", 0) == 0) return std::atoi(line.c_str() + 5);
    if (line.empty() && !running()) return 0;
  }
  return 0;
}

std::string ChildProcess::close_and_read(const std::string& prefix, double timeout_s) {
  if (in_ >= 0) close(in_);
  in_ = -1;
  const double end = now_s() + timeout_s;
  while (now_s() < end) {
    std::string line = read_line(end - now_s());
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    if (line.empty()) break;
  }
  return {};
}

bool wait_for_listen(int port, double timeout_s) {
  const double end = now_s() + timeout_s;
  while (now_s() < end) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(s);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TlsFiles make_test_ca(const std::string& dir) {
  TlsFiles t{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key"};
  const std::string q = " >>'" + dir + "/openssl.log' 2>&1";
  std::ofstream(dir + "/san.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  int rc = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=voxcast-test-ca "
               "-keyout '" + dir + "/ca.key' -out '" + t.ca_pem + "'" + q);
  rc |= run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 -keyout '" + t.key_pem +
            "' -out '" + dir + "/server.csr'" + q);
  rc |= run("openssl x509 -req -days 2 -in '" + dir + "/server.csr' -CA '" + t.ca_pem + "' -CAkey '" + dir +
            "/ca.key' -CAcreateserial -extfile '" + dir + "/san.ext' -out '" + t.cert_pem + "'" + q);
  if (rc != 0) return {};
  return t;
}

Nginx::Nginx(const std::string& root, const std::string& scratch, const TlsFiles* tls) : scratch_(scratch), tls_(tls) {
  log_ = scratch + "/access.log";
  // nginx binds a port named in its configuration: a free one is picked, and picked again
  // should another process take it first.
  for (int attempt = 0; attempt < 3 && port_ == 0; ++attempt) {
    const int port = free_port();
    std::ostringstream conf;
    // Run as root (CI), nginx's worker would become "nobody", who cannot read the test's
    // 0700 scratch directories.
    conf << (geteuid() == 0 ? "user root;\n" : "") << "daemon off;\nworker_processes 1;\npid " << scratch << "/nginx.pid;\nerror_log " << scratch
         << "/error.log warn;\nevents { worker_connections 256; }\nhttp {\n"
         << "  access_log " << log_ << ";\n  client_body_temp_path " << scratch << "/body;\n"
         << "  proxy_temp_path " << scratch << "/proxy;\n  fastcgi_temp_path " << scratch << "/fcgi;\n"
         << "  uwsgi_temp_path " << scratch << "/uwsgi;\n  scgi_temp_path " << scratch << "/scgi;\n"
         << "  keepalive_requests 10000;\n  default_type application/octet-stream;\n"
         << "  server {\n    listen 127.0.0.1:" << port << (tls ? " ssl http2" : "") << ";\n    root " << root << ";\n";
    if (tls) conf << "    ssl_certificate " << tls->cert_pem << ";\n    ssl_certificate_key " << tls->key_pem << ";\n";
    conf << "  }\n}\n";
    std::ofstream(scratch + "/nginx.conf") << conf.str();
    pid_ = spawn({"nginx", "-e", scratch + "/error.log", "-p", scratch, "-c", scratch + "/nginx.conf"}, -1, -1,
                 scratch + "/nginx.out");
    if (pid_ > 0 && wait_for_listen(port, 10)) {
      port_ = port;
    } else if (pid_ > 0) {
      kill(pid_, SIGTERM);
      reap(pid_, 5);
      pid_ = -1;
    }
  }
}

Nginx::~Nginx() {
  if (pid_ > 0) {
    kill(pid_, SIGQUIT);  // graceful: the worker finishes and exits with the master
    reap(pid_, 5);
  }
}

std::string Nginx::url() const { return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_); }

int Nginx::requests() const {
  std::ifstream f(log_);
  int n = 0;
  std::string line;
  while (std::getline(f, line)) ++n;
  return n;
}

std::string stores_tool(const std::string& script) { return std::string(VOXCAST_STORES_DIR) + "/" + script; }

bool s3rver_installed() {
  std::error_code ec;
  return fs::exists(std::string(VOXCAST_STORES_DIR) + "/node_modules/s3rver/package.json", ec);
}

}  // namespace voxcast::testing
