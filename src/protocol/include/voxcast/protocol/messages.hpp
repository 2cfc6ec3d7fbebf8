#pragma once
// Payloads of protocol v2 as plain structs, with JSON encode and validating decode.
// Decoders ignore unknown payload fields (voxcast's rule: additive changes never break
// a peer); encoders emit only the fields protocol v2 defines, so a reference client
// (which rejects unknown fields in notify payloads) accepts everything we send.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "voxcast/protocol/result.hpp"

namespace voxcast::protocol {

using Json = nlohmann::json;

struct ClientInfo {
  std::string name;
  std::string version;
  std::string platform;
};

struct AuthInfo {
  std::string type;  // "token"
  std::optional<std::string> token;
};

struct SessionHello {
  std::vector<int> protocols{2};
  ClientInfo client;
  std::map<std::string, bool> features;
  std::map<std::string, std::optional<std::string>> resume_tokens;
  std::optional<AuthInfo> auth;
};

struct ResumeCursor {
  int64_t seq = 0;
  std::string delta_token;
};

struct FeatureToggle {
  bool enabled = false;
  std::optional<int> version;
  std::optional<bool> resume;
  std::optional<std::vector<std::string>> commands;
  std::optional<ResumeCursor> resume_state;
};

struct SessionWelcome {
  int protocol_version = 2;
  std::string session_id;
  double heartbeat_s = 15.0;
  int ack_timeout_ms = 250;
  std::map<std::string, FeatureToggle> features;
};

struct SessionReject {
  std::string code;
  std::string message;
  Json details = Json::object();
};

struct SessionGoodbye {
  std::optional<std::string> code;
  std::optional<std::string> message;
  std::optional<std::string> reason;
};

struct StateUpdate {
  std::string scope;
  std::string target;
  std::string key;
  Json value;  // may be null
};

struct AckState {
  std::string intent_id;
  std::string in_reply_to;
  bool accepted = true;
  std::optional<Json> applied_value;
  std::optional<int64_t> version;
  std::optional<Error> error;
};

struct CallCommand {
  std::string command;
  Json args = Json::array();
  Json kwargs = Json::object();
  std::optional<std::string> origin;
};

struct ReplyCommand {
  std::string in_reply_to;
  std::optional<Json> result;
};

struct ErrorCommand {
  std::string in_reply_to;
  std::string code;
  std::string message;
  Json details = Json::object();
};

struct LatencyPolicy {
  double max_buffer_ms = 120.0;
  double grace_keyframe_ms = 2000.0;
};

struct NotifyStream {
  std::string codec = "h264";
  std::string format = "avcc";
  double fps = 60.0;
  int width = 0;
  int height = 0;
  int nal_length_size = 4;
  std::string avcc_base64;
  LatencyPolicy latency_policy;
};

struct LevelDescriptor {
  int index = 0;
  std::vector<int64_t> shape;
  std::vector<double> downsample;
  std::optional<std::string> path;
};

struct NotifyDims {
  std::vector<int64_t> current_step;
  std::vector<LevelDescriptor> levels;
  int current_level = 0;
  std::vector<std::vector<int64_t>> level_shapes;
  std::string mode = "plane";
  int ndisplay = 2;
  std::optional<bool> downgraded;
  std::vector<std::string> axis_labels;
  std::vector<int> order;
  std::vector<int> displayed;
};

struct NotifyCamera {
  std::string mode;    // "pose" or the camera key of the intent
  std::string origin;  // "state.update" | "worker.state.camera"
  std::optional<Json> delta;
  std::optional<Json> state;
};

struct NotifyLayers {
  std::string layer_id;
  std::optional<Json> controls;
  std::optional<Json> metadata;
  std::optional<Json> data;
  std::optional<Json> thumbnail;
  bool removed = false;
};

struct NotifyScene {
  Json viewer = Json::object();
  Json layers = Json::array();
  std::optional<Json> policies;
  std::optional<Json> metadata;
};

struct NotifyError {
  std::string domain;
  std::string code;
  std::string message;
  std::string severity = "warning";  // info | warning | critical
  Json context = Json::object();
};

Json to_json(const SessionHello& m);
Json to_json(const SessionWelcome& m);
Json to_json(const SessionReject& m);
Json to_json(const SessionGoodbye& m);
Json to_json(const StateUpdate& m);
Json to_json(const AckState& m);
Json to_json(const CallCommand& m);
Json to_json(const ReplyCommand& m);
Json to_json(const ErrorCommand& m);
Json to_json(const NotifyStream& m);
Json to_json(const NotifyDims& m);
Json to_json(const NotifyCamera& m);
Json to_json(const NotifyLayers& m);
Json to_json(const NotifyScene& m);
Json to_json(const NotifyError& m);

// Decoders: error code "invalid_payload" with a message naming the field.
Result<SessionHello> parse_session_hello(const Json& payload);
Result<SessionWelcome> parse_session_welcome(const Json& payload);
Result<SessionReject> parse_session_reject(const Json& payload);
Result<SessionGoodbye> parse_session_goodbye(const Json& payload);
Result<StateUpdate> parse_state_update(const Json& payload);
Result<AckState> parse_ack_state(const Json& payload);
Result<CallCommand> parse_call_command(const Json& payload);
Result<ReplyCommand> parse_reply_command(const Json& payload);
Result<ErrorCommand> parse_error_command(const Json& payload);
Result<NotifyStream> parse_notify_stream(const Json& payload);
Result<NotifyDims> parse_notify_dims(const Json& payload);
Result<NotifyCamera> parse_notify_camera(const Json& payload);
Result<NotifyLayers> parse_notify_layers(const Json& payload);
Result<NotifyScene> parse_notify_scene(const Json& payload);
Result<NotifyError> parse_notify_error(const Json& payload);

}  // namespace voxcast::protocol
