#pragma once
// Real servers and clients on loopback ports chosen at run time.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "voxcast/client/stream_loop.hpp"
#include "voxcast/protocol/messages.hpp"
#include "voxcast/server/server.hpp"

namespace voxcast::testing {

struct TestServerOptions {
  double heartbeat_s = 15.0;
  double hello_timeout_s = 5.0;
  bool require_token = true;
  std::string data_root;
  uint16_t control_port = 0;  // 0: picked at run time (a restarted server reuses its ports)
  uint16_t pixel_port = 0;
  std::function<std::unique_ptr<data::VolumeSource>()> make_source;  // default: small synthetic cells
  bool tls_self_signed = false;  // wss with a certificate made at start (clients pin it)
  std::string tls_cert_file, tls_key_file;
  std::string web_root;  // the browser client's files served on the control port
  int unauthenticated_per_ip = 16;
  int unauthenticated_total = 128;
  std::string bricks = "auto";  // server --bricks
};

// Noise at the test server's 320x240 (a new picture at every z): frames of about 30 KB,
// a stream of some 15 Mbit/s that a slow link cannot carry.
std::unique_ptr<data::VolumeSource> make_noise_volume();

class TestServer {
 public:
  explicit TestServer(TestServerOptions o = {});
  ~TestServer();
  server::Server& get() { return *server_; }
  ConnectionOptions connection(bool with_token = true) const;
  client::ClientConfig client_config() const;

 private:
  std::unique_ptr<server::Server> server_;
};

// A server that can die and come back on the same ports (fault tests).
class RestartableServer {
 public:
  explicit RestartableServer(TestServerOptions o = {});
  TestServer& get() { return *server_; }
  bool alive() const { return server_ != nullptr; }
  void kill() { server_.reset(); }  // sockets close as when the process dies
  void restart();                    // a fresh server, in its default state, same ports

 private:
  TestServerOptions options_;
  std::unique_ptr<TestServer> server_;
};

// A bare control-socket peer for byte-level protocol tests (blocking, with a read timeout).
class RawControl {
 public:
  RawControl(const std::string& host, uint16_t port);
  ~RawControl();
  void send_text(const std::string& text);
  void send(const protocol::Json& j) { send_text(j.dump()); }
  // Next frame, or nullopt after `timeout_s` or when the server closed.
  std::optional<protocol::Json> read(double timeout_s = 5.0);
  // Reads until a frame of `type` arrives (other frames are skipped).
  std::optional<protocol::Json> read_type(const std::string& type, double timeout_s = 5.0);
  bool closed() const { return closed_; }
  // The WebSocket close code the server sent (0: none, or not closed).
  int close_code() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool closed_ = false;
};

// The PNG of a napari.screenshot reply, decoded (nullopt for an error reply or a bad PNG).
struct Picture {
  std::vector<uint8_t> rgba;
  int width = 0, height = 0;
};
std::optional<Picture> screenshot_picture(const client::CommandResult& reply);

protocol::Json hello_frame(const std::string& token, bool want_errors = true);
protocol::Json state_update_frame(const std::string& session, const std::string& id, const std::string& scope,
                                  const std::string& target, const std::string& key, protocol::Json value);

}  // namespace voxcast::testing
