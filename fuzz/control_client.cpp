// Control frames a server may send, as the client reads them: every payload parser and
// the scene mirror the client reduces them into.
#include <cstdint>
#include <string_view>

#include "voxcast/client/mirror.hpp"
#include "voxcast/protocol/envelope.hpp"
#include "voxcast/protocol/messages.hpp"

using namespace voxcast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  client::ClientMirror mirror;
  // Several frames, one per line, reduced in order into one mirror.
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    auto e = protocol::parse_envelope(text.substr(begin, end - begin));
    begin = end + 1;
    if (!e) continue;
    const auto& p = e->payload;
    (void)protocol::parse_session_welcome(p);
    (void)protocol::parse_session_reject(p);
    (void)protocol::parse_ack_state(p);
    (void)protocol::parse_reply_command(p);
    (void)protocol::parse_error_command(p);
    (void)protocol::parse_notify_error(p);
    (void)client::apply_notify(&mirror, e.value());
  }
  return 0;
}
