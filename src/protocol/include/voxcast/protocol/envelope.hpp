#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "voxcast/protocol/result.hpp"

namespace voxcast::protocol {

inline constexpr int kProtocolVersion = 2;

// Frame type names of protocol v2.
namespace type {
inline constexpr const char* kSessionHello = "session.hello";
inline constexpr const char* kSessionWelcome = "session.welcome";
inline constexpr const char* kSessionReject = "session.reject";
inline constexpr const char* kSessionHeartbeat = "session.heartbeat";
inline constexpr const char* kSessionAck = "session.ack";
inline constexpr const char* kSessionGoodbye = "session.goodbye";
inline constexpr const char* kStateUpdate = "state.update";
inline constexpr const char* kAckState = "ack.state";
inline constexpr const char* kNotifyScene = "notify.scene";
inline constexpr const char* kNotifyLayers = "notify.layers";
inline constexpr const char* kNotifyDims = "notify.dims";
inline constexpr const char* kNotifyCamera = "notify.camera";
inline constexpr const char* kNotifyStream = "notify.stream";
inline constexpr const char* kNotifyError = "notify.error";
inline constexpr const char* kCallCommand = "call.command";
inline constexpr const char* kReplyCommand = "reply.command";
inline constexpr const char* kErrorCommand = "error.command";
}  // namespace type

// One control-channel frame: envelope fields plus the type-specific payload.
struct Envelope {
  std::string type;
  int version = kProtocolVersion;
  std::optional<std::string> session;
  std::optional<std::string> frame_id;
  double timestamp = 0.0;
  std::optional<int64_t> seq;
  std::optional<std::string> delta_token;
  std::optional<std::string> intent_id;
  nlohmann::json payload = nlohmann::json::object();
};

// True for the frame types protocol v2 defines (and voxcast implements).
bool is_known_type(std::string_view type);

// Parses and validates the envelope of one text frame: JSON object, `type` string,
// `version` == 2, `timestamp` number, `payload` object, id fields strings, and the
// per-type presence rules of protocol.md §2.2 for known types. Unknown envelope
// fields are ignored. Unknown types parse (the dispatcher decides what to do).
// Error codes: "invalid_json", "invalid_envelope".
Result<Envelope> parse_envelope(std::string_view text);
Result<Envelope> envelope_from_json(const nlohmann::json& j);

// Checks the per-type rules on an envelope built in code (used by both parse and tests).
std::optional<Error> validate_envelope(const Envelope& e);

nlohmann::json envelope_to_json(const Envelope& e);
std::string serialize(const Envelope& e);

}  // namespace voxcast::protocol
