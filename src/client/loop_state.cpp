#include "voxcast/client/loop_state.hpp"

#include <cstdio>

namespace voxcast::client {

const char* to_string(LinkPhase p) {
  switch (p) {
    case LinkPhase::idle: return "idle";
    case LinkPhase::connecting: return "connecting";
    case LinkPhase::streaming: return "streaming";
    case LinkPhase::reconnecting: return "reconnecting";
    case LinkPhase::pixel_reconnecting: return "pixel reconnecting";
    case LinkPhase::stopping: return "stopping";
    case LinkPhase::stopped: return "stopped";
  }
  return "?";
}

nlohmann::json to_json(const LoopState& s) {
  return {{"phase", to_string(s.phase)},
          {"session", s.session_id},
          {"tls", s.tls},
          {"control_up", s.control_up},
          {"pixel_up", s.pixel_up},
          {"heartbeat_s", s.heartbeat_s},
          {"exact_stills", s.exact_stills},
          {"receipts", s.receipts},
          {"pixel_epoch", s.pixel_epoch},
          {"restore_pending", s.restore_pending},
          {"reconnect_attempts", s.reconnect_attempts},
          {"next_retry_ms", s.next_retry_ms},
          {"sessions", s.sessions},
          {"outbox_depth", s.outbox_depth},
          {"last_error", s.last_error},
          {"server_goodbye", s.server_goodbye},
          {"server_error", s.server_error},
          {"server_errors", s.server_errors}};
}

std::string describe(const LoopState& s) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s%s control %s pixel %s epoch %u sessions %llu", to_string(s.phase),
                s.tls ? " (tls)" : "", s.control_up ? "up" : "down", s.pixel_up ? "up" : "down", s.pixel_epoch,
                static_cast<unsigned long long>(s.sessions));
  std::string out = buf;
  if (!s.session_id.empty()) out += " session " + s.session_id.substr(0, 8);
  if (s.reconnect_attempts > 0)
    out += " retry " + std::to_string(s.reconnect_attempts) + " in " + std::to_string(static_cast<int>(s.next_retry_ms)) + " ms";
  if (!s.last_error.empty()) out += " (" + s.last_error + ")";
  if (!s.server_goodbye.empty()) out += " server said goodbye: " + s.server_goodbye;
  if (!s.server_error.empty()) out += " server error: " + s.server_error;
  return out;
}

}  // namespace voxcast::client
