#pragma once
// The state of the client's network loop, in one struct: what the io thread knows about
// the link. The loop publishes a copy after each change; describe() prints it.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace voxcast::client {

enum class LinkPhase {
  idle,                // not started
  connecting,          // first connection: TCP, TLS, WebSocket, hello
  streaming,           // both channels up
  reconnecting,        // control lost: a new session is being opened (back-off)
  pixel_reconnecting,  // pixel lost alone: reopened under the same session
  stopping,            // goodbye sent, sockets closing
  stopped,             // threads joined
};
const char* to_string(LinkPhase p);

struct LoopState {
  LinkPhase phase = LinkPhase::idle;
  std::string session_id;
  bool tls = false;
  bool control_up = false;
  bool pixel_up = false;
  double heartbeat_s = 15.0;     // from the welcome; silence for 3 periods = lost
  bool exact_stills = false;     // the welcome enabled pixel.exact_still: the pixel upgrade asks for them
  bool receipts = false;         // the welcome enabled pixel.receipts: frames are receipted
  uint32_t pixel_epoch = 0;      // pixel connections so far; the media thread re-gates on each
  bool restore_pending = false;  // after a new session: the old view is re-applied on its baseline
  int reconnect_attempts = 0;    // failed attempts in the current outage
  double next_retry_ms = 0;      // back-off before the next attempt
  uint64_t sessions = 0;         // sessions opened (1 + full reconnects)
  size_t outbox_depth = 0;       // control frames queued on the io thread
  std::string last_error;        // why the last connect attempt failed
  // The server's session.goodbye ("server_shutdown: server is shutting down"): a planned
  // stop, so the client waits for it at a calm pace instead of hammering it.
  std::string server_goodbye;
  // The server's last notify.error ("data.read_failed: …") and how many came so far.
  std::string server_error;
  uint64_t server_errors = 0;
};

nlohmann::json to_json(const LoopState& s);
std::string describe(const LoopState& s);  // one line for logs and --stats

}  // namespace voxcast::client
