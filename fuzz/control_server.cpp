// Control frames a client may send, as the server reads them.
#include <cstdint>
#include <string_view>

#include "voxcast/protocol/envelope.hpp"
#include "voxcast/protocol/messages.hpp"
#include "voxcast/server/handshake.hpp"

using namespace voxcast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  server::HandshakePolicy policy;
  policy.require_token = true;
  policy.token = "fuzz-token";
  (void)server::evaluate_hello(text, policy);
  auto e = protocol::parse_envelope(text);
  if (!e) return 0;
  const auto& p = e->payload;
  (void)protocol::parse_session_hello(p);
  (void)protocol::parse_state_update(p);
  (void)protocol::parse_call_command(p);
  (void)protocol::parse_session_goodbye(p);
  (void)protocol::serialize(e.value());  // what an echo would write
  return 0;
}
