#include "voxcast/protocol/messages.hpp"

#include <limits>

#include "voxcast/protocol/json.hpp"

namespace voxcast::protocol {
namespace {

bool convert(const Json& j, std::string* out) {
  if (!j.is_string()) return false;
  *out = j.get<std::string>();
  return true;
}
bool convert(const Json& j, bool* out) {
  if (!j.is_boolean()) return false;
  *out = j.get<bool>();
  return true;
}
// Integer-valued floats are tolerated (some peers emit 2.0 for 2); values that do not fit
// the field are refused, never narrowed.
bool convert(const Json& j, int* out) {
  auto v = json_int64(j);
  if (!v || *v < std::numeric_limits<int>::min() || *v > std::numeric_limits<int>::max()) return false;
  *out = static_cast<int>(*v);
  return true;
}
bool convert(const Json& j, int64_t* out) {
  auto v = json_int64(j);
  if (!v) return false;
  *out = *v;
  return true;
}
bool convert(const Json& j, double* out) {
  if (!j.is_number()) return false;
  *out = j.get<double>();
  return true;
}
bool convert(const Json& j, Json* out) {
  *out = j;
  return true;
}
template <class T>
bool convert(const Json& j, std::vector<T>* out) {
  if (!j.is_array()) return false;
  out->clear();
  for (const auto& e : j) {
    T v{};
    if (!convert(e, &v)) return false;
    out->push_back(std::move(v));
  }
  return true;
}

const char* type_name_of(const std::string*) { return "a string"; }
const char* type_name_of(const bool*) { return "a boolean"; }
const char* type_name_of(const int*) { return "an integer"; }
const char* type_name_of(const int64_t*) { return "an integer"; }
const char* type_name_of(const double*) { return "a number"; }
const char* type_name_of(const Json*) { return "a value"; }
template <class T>
const char* type_name_of(const std::vector<T>*) {
  return "an array";
}

// Reads fields of one payload object; the first failure is kept.
class Reader {
 public:
  Reader(const Json& j, std::string what) : j_(j), what_(std::move(what)) {
    if (!j_.is_object()) fail(what_ + " payload must be an object");
  }
  template <class T>
  void req(const char* key, T* out) {
    if (err_) return;
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return fail(what_ + ": '" + key + "' is required");
    if (!convert(*it, out)) return fail(what_ + ": '" + key + "' must be " + type_name_of(out));
  }
  template <class T>
  void opt(const char* key, std::optional<T>* out) {
    if (err_) return;
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return;
    T v{};
    if (!convert(*it, &v)) return fail(what_ + ": '" + key + "' must be " + type_name_of(&v));
    *out = std::move(v);
  }
  template <class T>
  void opt_default(const char* key, T* out) {
    std::optional<T> v;
    opt(key, &v);
    if (v) *out = std::move(*v);
  }
  void req_object(const char* key, Json* out) {
    req(key, out);
    if (!err_ && !out->is_object()) fail(what_ + ": '" + std::string(key) + "' must be an object");
  }
  void fail(std::string message) {
    if (!err_) err_ = make_error("invalid_payload", std::move(message));
  }
  const Json& json() const { return j_; }
  bool ok() const { return !err_.has_value(); }
  const Error& error() const { return *err_; }

 private:
  const Json& j_;
  std::string what_;
  std::optional<Error> err_;
};

Json error_to_json(const Error& e) {
  Json j = {{"code", e.code}, {"message", e.message}};
  if (!e.details.empty()) j["details"] = e.details;
  return j;
}

}  // namespace

// ---- session.* -------------------------------------------------------------------

Json to_json(const SessionHello& m) {
  Json features = Json::object();
  for (const auto& [k, v] : m.features) features[k] = v;
  Json tokens = Json::object();
  for (const auto& [k, v] : m.resume_tokens) tokens[k] = v ? Json(*v) : Json(nullptr);
  Json j = {{"protocols", m.protocols},
            {"client", {{"name", m.client.name}, {"version", m.client.version}, {"platform", m.client.platform}}},
            {"features", features},
            {"resume_tokens", tokens}};
  if (m.auth) {
    j["auth"] = {{"type", m.auth->type}};
    if (m.auth->token) j["auth"]["token"] = *m.auth->token;
  }
  return j;
}

Result<SessionHello> parse_session_hello(const Json& p) {
  Reader r(p, "session.hello");
  SessionHello m;
  r.req("protocols", &m.protocols);
  if (r.ok() && m.protocols.empty()) r.fail("session.hello: 'protocols' must not be empty");
  Json client, features, tokens;
  r.req_object("client", &client);
  r.req_object("features", &features);
  r.req_object("resume_tokens", &tokens);
  if (!r.ok()) return r.error();
  Reader rc(client, "session.hello.client");
  rc.req("name", &m.client.name);
  rc.req("version", &m.client.version);
  rc.req("platform", &m.client.platform);
  if (!rc.ok()) return rc.error();
  for (const auto& [k, v] : features.items()) {
    // The reference coerces feature values to bool; accept bools and numbers.
    if (v.is_boolean()) m.features[k] = v.get<bool>();
    else if (v.is_number()) m.features[k] = v.get<double>() != 0.0;
    else return make_error("invalid_payload", "session.hello: feature '" + quote_prefix(k) + "' must be a boolean");
  }
  for (const auto& [k, v] : tokens.items()) {
    if (v.is_null()) m.resume_tokens[k] = std::nullopt;
    else if (v.is_string()) m.resume_tokens[k] = v.get<std::string>();
    else return make_error("invalid_payload", "session.hello: resume token '" + quote_prefix(k) + "' must be a string or null");
  }
  auto auth = p.find("auth");
  if (auth != p.end() && !auth->is_null()) {
    Reader ra(*auth, "session.hello.auth");
    AuthInfo a;
    ra.req("type", &a.type);
    ra.opt("token", &a.token);
    if (!ra.ok()) return ra.error();
    m.auth = a;
  }
  return m;
}

Json to_json(const SessionWelcome& m) {
  Json features = Json::object();
  for (const auto& [k, f] : m.features) {
    Json t = {{"enabled", f.enabled}};
    if (f.version) t["version"] = *f.version;
    if (f.resume) t["resume"] = *f.resume;
    if (f.commands) t["commands"] = *f.commands;
    if (f.resume_state) t["resume_state"] = {{"seq", f.resume_state->seq}, {"delta_token", f.resume_state->delta_token}};
    features[k] = t;
  }
  return {{"protocol_version", m.protocol_version},
          {"session", {{"id", m.session_id}, {"heartbeat_s", m.heartbeat_s}, {"ack_timeout_ms", m.ack_timeout_ms}}},
          {"features", features}};
}

Result<SessionWelcome> parse_session_welcome(const Json& p) {
  Reader r(p, "session.welcome");
  SessionWelcome m;
  Json session, features;
  r.req("protocol_version", &m.protocol_version);
  r.req_object("session", &session);
  r.req_object("features", &features);
  if (!r.ok()) return r.error();
  if (m.protocol_version != 2) return make_error("invalid_payload", "session.welcome: protocol_version must be 2");
  Reader rs(session, "session.welcome.session");
  rs.req("id", &m.session_id);
  rs.opt_default("heartbeat_s", &m.heartbeat_s);
  rs.opt_default("ack_timeout_ms", &m.ack_timeout_ms);
  if (!rs.ok()) return rs.error();
  for (const auto& [name, t] : features.items()) {
    Reader rt(t, "session.welcome.features." + name);
    FeatureToggle f;
    rt.req("enabled", &f.enabled);
    rt.opt("version", &f.version);
    rt.opt("resume", &f.resume);
    rt.opt("commands", &f.commands);
    std::optional<Json> rstate;
    rt.opt("resume_state", &rstate);
    if (!rt.ok()) return rt.error();
    if (rstate) {
      Reader rr(*rstate, "resume_state");
      ResumeCursor c;
      rr.req("seq", &c.seq);
      rr.req("delta_token", &c.delta_token);
      if (!rr.ok()) return rr.error();
      f.resume_state = c;
    }
    m.features[name] = f;
  }
  return m;
}

Json to_json(const SessionReject& m) {
  Json j = {{"code", m.code}, {"message", m.message}};
  if (!m.details.empty()) j["details"] = m.details;
  return j;
}

Result<SessionReject> parse_session_reject(const Json& p) {
  Reader r(p, "session.reject");
  SessionReject m;
  r.req("code", &m.code);
  r.req("message", &m.message);
  r.opt_default("details", &m.details);
  if (!r.ok()) return r.error();
  return m;
}

Json to_json(const SessionGoodbye& m) {
  Json j = Json::object();
  if (m.code) j["code"] = *m.code;
  if (m.message) j["message"] = *m.message;
  if (m.reason) j["reason"] = *m.reason;
  return j;
}

Result<SessionGoodbye> parse_session_goodbye(const Json& p) {
  Reader r(p, "session.goodbye");
  SessionGoodbye m;
  r.opt("code", &m.code);
  r.opt("message", &m.message);
  r.opt("reason", &m.reason);
  if (!r.ok()) return r.error();
  return m;
}

// ---- state lane ------------------------------------------------------------------

Json to_json(const StateUpdate& m) {
  return {{"scope", m.scope}, {"target", m.target}, {"key", m.key}, {"value", m.value}};
}

Result<StateUpdate> parse_state_update(const Json& p) {
  Reader r(p, "state.update");
  StateUpdate m;
  r.req("scope", &m.scope);
  r.req("target", &m.target);
  r.req("key", &m.key);
  if (!r.ok()) return r.error();
  if (!p.contains("value")) return make_error("invalid_payload", "state.update: 'value' is required");
  m.value = p.at("value");
  return m;
}

Json to_json(const AckState& m) {
  Json j = {{"intent_id", m.intent_id}, {"in_reply_to", m.in_reply_to}, {"status", m.accepted ? "accepted" : "rejected"}};
  if (m.applied_value && !m.applied_value->is_null()) j["applied_value"] = *m.applied_value;
  if (m.version) j["version"] = *m.version;
  if (m.error) j["error"] = error_to_json(*m.error);
  return j;
}

Result<AckState> parse_ack_state(const Json& p) {
  Reader r(p, "ack.state");
  AckState m;
  std::string status;
  r.req("intent_id", &m.intent_id);
  r.req("in_reply_to", &m.in_reply_to);
  r.req("status", &status);
  r.opt("applied_value", &m.applied_value);
  r.opt("version", &m.version);
  if (!r.ok()) return r.error();
  if (status != "accepted" && status != "rejected")
    return make_error("invalid_payload", "ack.state: status must be accepted or rejected");
  m.accepted = status == "accepted";
  auto e = p.find("error");
  if (m.accepted) {
    if (!m.version) return make_error("invalid_payload", "ack.state: accepted ack needs 'version'");
    if (e != p.end() && !e->is_null()) return make_error("invalid_payload", "ack.state: accepted ack has 'error'");
  } else {
    if (e == p.end() || !e->is_object()) return make_error("invalid_payload", "ack.state: rejected ack needs 'error'");
    Reader re(*e, "ack.state.error");
    Error err;
    re.req("code", &err.code);
    re.req("message", &err.message);
    re.opt_default("details", &err.details);
    if (!re.ok()) return re.error();
    m.error = err;
  }
  return m;
}

// ---- command lane ----------------------------------------------------------------

Json to_json(const CallCommand& m) {
  Json j = {{"command", m.command}, {"args", m.args}, {"kwargs", m.kwargs}};
  if (m.origin) j["origin"] = *m.origin;
  return j;
}

Result<CallCommand> parse_call_command(const Json& p) {
  Reader r(p, "call.command");
  CallCommand m;
  r.req("command", &m.command);
  r.opt_default("args", &m.args);
  r.opt_default("kwargs", &m.kwargs);
  r.opt("origin", &m.origin);
  if (!r.ok()) return r.error();
  if (m.command.empty()) return make_error("invalid_payload", "call.command: 'command' must not be empty");
  if (!m.args.is_array()) return make_error("invalid_payload", "call.command: 'args' must be an array");
  if (!m.kwargs.is_object()) return make_error("invalid_payload", "call.command: 'kwargs' must be an object");
  return m;
}

Json to_json(const ReplyCommand& m) {
  Json j = {{"in_reply_to", m.in_reply_to}, {"status", "ok"}};
  if (m.result && !m.result->is_null()) j["result"] = *m.result;
  return j;
}

Result<ReplyCommand> parse_reply_command(const Json& p) {
  Reader r(p, "reply.command");
  ReplyCommand m;
  std::string status;
  r.req("in_reply_to", &m.in_reply_to);
  r.req("status", &status);
  r.opt("result", &m.result);
  if (!r.ok()) return r.error();
  if (status != "ok") return make_error("invalid_payload", "reply.command: status must be ok");
  return m;
}

Json to_json(const ErrorCommand& m) {
  Json j = {{"in_reply_to", m.in_reply_to}, {"status", "error"}, {"code", m.code}, {"message", m.message}};
  if (!m.details.empty()) j["details"] = m.details;
  return j;
}

Result<ErrorCommand> parse_error_command(const Json& p) {
  Reader r(p, "error.command");
  ErrorCommand m;
  std::string status;
  r.req("in_reply_to", &m.in_reply_to);
  r.req("status", &status);
  r.req("code", &m.code);
  r.req("message", &m.message);
  r.opt_default("details", &m.details);
  if (!r.ok()) return r.error();
  if (status != "error") return make_error("invalid_payload", "error.command: status must be error");
  return m;
}

// ---- notify.* --------------------------------------------------------------------

Json to_json(const NotifyStream& m) {
  return {{"codec", m.codec},
          {"format", m.format},
          {"fps", m.fps},
          {"frame_size", {m.width, m.height}},
          {"nal_length_size", m.nal_length_size},
          {"avcc", m.avcc_base64},
          {"latency_policy",
           {{"max_buffer_ms", m.latency_policy.max_buffer_ms}, {"grace_keyframe_ms", m.latency_policy.grace_keyframe_ms}}}};
}

Result<NotifyStream> parse_notify_stream(const Json& p) {
  Reader r(p, "notify.stream");
  NotifyStream m;
  std::vector<int> size;
  Json policy;
  r.req("codec", &m.codec);
  r.req("format", &m.format);
  r.req("fps", &m.fps);
  r.req("frame_size", &size);
  r.req("nal_length_size", &m.nal_length_size);
  r.req("avcc", &m.avcc_base64);
  r.req_object("latency_policy", &policy);
  if (!r.ok()) return r.error();
  if (size.size() != 2 || size[0] <= 0 || size[1] <= 0)
    return make_error("invalid_payload", "notify.stream: frame_size must be [width, height] > 0");
  if (m.nal_length_size != 1 && m.nal_length_size != 2 && m.nal_length_size != 4)
    return make_error("invalid_payload", "notify.stream: nal_length_size must be 1, 2 or 4");
  m.width = size[0];
  m.height = size[1];
  Reader rp(policy, "notify.stream.latency_policy");
  rp.opt_default("max_buffer_ms", &m.latency_policy.max_buffer_ms);
  rp.opt_default("grace_keyframe_ms", &m.latency_policy.grace_keyframe_ms);
  if (!rp.ok()) return rp.error();
  return m;
}

Json to_json(const NotifyDims& m) {
  Json levels = Json::array();
  for (const auto& l : m.levels) {
    Json e = {{"index", l.index}, {"shape", l.shape}, {"downsample", l.downsample}};
    if (l.path) e["path"] = *l.path;
    levels.push_back(e);
  }
  Json j = {{"step", m.current_step},       {"current_step", m.current_step}, {"levels", levels},
            {"current_level", m.current_level}, {"level_shapes", m.level_shapes}, {"mode", m.mode},
            {"ndisplay", m.ndisplay}};
  if (m.downgraded) j["downgraded"] = *m.downgraded;
  if (!m.axis_labels.empty()) j["axis_labels"] = m.axis_labels;
  if (!m.order.empty()) j["order"] = m.order;
  if (!m.displayed.empty()) j["displayed"] = m.displayed;
  return j;
}

Result<NotifyDims> parse_notify_dims(const Json& p) {
  Reader r(p, "notify.dims");
  NotifyDims m;
  std::vector<Json> levels;
  r.req("step", &m.current_step);
  r.opt_default("current_step", &m.current_step);
  r.req("levels", &levels);
  r.req("current_level", &m.current_level);
  r.req("level_shapes", &m.level_shapes);
  r.req("mode", &m.mode);
  r.req("ndisplay", &m.ndisplay);
  r.opt("downgraded", &m.downgraded);
  r.opt_default("axis_labels", &m.axis_labels);
  r.opt_default("order", &m.order);
  r.opt_default("displayed", &m.displayed);
  if (!r.ok()) return r.error();
  for (const auto& lj : levels) {
    Reader rl(lj, "notify.dims.levels[]");
    LevelDescriptor l;
    rl.opt_default("index", &l.index);
    rl.req("shape", &l.shape);
    rl.opt_default("downsample", &l.downsample);
    rl.opt("path", &l.path);
    if (!rl.ok()) return rl.error();
    m.levels.push_back(std::move(l));
  }
  if (m.ndisplay != 2 && m.ndisplay != 3) return make_error("invalid_payload", "notify.dims: ndisplay must be 2 or 3");
  return m;
}

Json to_json(const NotifyCamera& m) {
  Json j = {{"mode", m.mode}, {"origin", m.origin}};
  if (m.delta) j["delta"] = *m.delta;
  if (m.state) j["state"] = *m.state;
  return j;
}

Result<NotifyCamera> parse_notify_camera(const Json& p) {
  Reader r(p, "notify.camera");
  NotifyCamera m;
  r.req("mode", &m.mode);
  r.req("origin", &m.origin);
  r.opt("delta", &m.delta);
  r.opt("state", &m.state);
  if (!r.ok()) return r.error();
  if (!m.delta && !m.state) return make_error("invalid_payload", "notify.camera: one of delta / state is required");
  return m;
}

Json to_json(const NotifyLayers& m) {
  Json j = {{"layer_id", m.layer_id}};
  auto put = [&](const char* k, const std::optional<Json>& v) {
    if (v && !v->empty()) j[k] = *v;
  };
  put("controls", m.controls);
  put("metadata", m.metadata);
  put("data", m.data);
  put("thumbnail", m.thumbnail);
  if (m.removed) j["removed"] = true;
  return j;
}

Result<NotifyLayers> parse_notify_layers(const Json& p) {
  Reader r(p, "notify.layers");
  NotifyLayers m;
  r.req("layer_id", &m.layer_id);
  r.opt("controls", &m.controls);
  r.opt("metadata", &m.metadata);
  r.opt("data", &m.data);
  r.opt("thumbnail", &m.thumbnail);
  r.opt_default("removed", &m.removed);
  if (!r.ok()) return r.error();
  if (m.controls && !m.controls->is_object()) return make_error("invalid_payload", "notify.layers: controls must be an object");
  if (!m.controls && !m.metadata && !m.data && !m.thumbnail && !m.removed)
    return make_error("invalid_payload", "notify.layers: at least one section is required");
  return m;
}

Json to_json(const NotifyScene& m) {
  Json j = {{"viewer", m.viewer}, {"layers", m.layers}};
  if (m.policies) j["policies"] = *m.policies;
  if (m.metadata) j["metadata"] = *m.metadata;
  return j;
}

Result<NotifyScene> parse_notify_scene(const Json& p) {
  Reader r(p, "notify.scene");
  NotifyScene m;
  r.req_object("viewer", &m.viewer);
  r.req("layers", &m.layers);
  r.opt("policies", &m.policies);
  r.opt("metadata", &m.metadata);
  if (!r.ok()) return r.error();
  if (!m.layers.is_array()) return make_error("invalid_payload", "notify.scene: 'layers' must be an array");
  return m;
}

Json to_json(const NotifyError& m) {
  Json j = {{"domain", m.domain}, {"code", m.code}, {"message", m.message}, {"severity", m.severity}};
  if (!m.context.empty()) j["context"] = m.context;
  return j;
}

Result<NotifyError> parse_notify_error(const Json& p) {
  Reader r(p, "notify.error");
  NotifyError m;
  r.req("domain", &m.domain);
  r.req("code", &m.code);
  r.req("message", &m.message);
  r.req("severity", &m.severity);
  r.opt_default("context", &m.context);
  if (!r.ok()) return r.error();
  if (m.severity != "info" && m.severity != "warning" && m.severity != "critical")
    return make_error("invalid_payload", "notify.error: severity must be info, warning or critical");
  return m;
}

}  // namespace voxcast::protocol
