#pragma once
// A scripted control server on loopback, for client tests against hostile servers.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "voxcast/protocol/messages.hpp"

namespace voxcast::testing {

// A scripted control server for client tests: accepts on a loopback port chosen at run
// time, one connection at a time on its own thread; each connection runs `script` and is
// closed when the script returns. Stops (bounded) in the destructor.
class FakeControlServer {
 public:
  struct Conn {
    virtual ~Conn() = default;
    virtual std::optional<std::string> read_text(double timeout_s) = 0;  // nullopt: closed or timed out
    virtual void send_text(const std::string& text) = 0;
  };
  using Script = std::function<void(Conn&)>;
  explicit FakeControlServer(Script script);
  ~FakeControlServer();
  uint16_t port() const { return port_; }
  int connections() const;  // accepted so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

// A valid session.welcome for `session` (the required notify features on).
protocol::Json welcome_frame(const std::string& session);

}  // namespace voxcast::testing
