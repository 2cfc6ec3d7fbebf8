#include "voxcast/protocol/envelope.hpp"

#include <array>

#include "voxcast/protocol/json.hpp"

namespace voxcast::protocol {
namespace {

enum class Rule { required, forbidden, optional };

struct TypeRules {
  const char* type;
  Rule session;
  Rule frame_id;
  Rule seq;  // seq and delta_token together
  Rule intent_id;
  bool id_or_intent = false;  // at least one of frame_id / intent_id
};

constexpr auto R = Rule::required;
constexpr auto F = Rule::forbidden;
constexpr auto O = Rule::optional;

constexpr std::array<TypeRules, 17> kRules{{
    {type::kSessionHello, F, R, F, F},
    {type::kSessionWelcome, R, R, F, F},
    {type::kSessionReject, F, R, F, F},
    {type::kSessionHeartbeat, R, R, F, F},
    {type::kSessionAck, R, R, F, F},
    {type::kSessionGoodbye, R, R, F, F},
    {type::kNotifyScene, R, O, R, O},
    {type::kNotifyLayers, R, O, R, O},
    {type::kNotifyStream, R, O, R, O},
    {type::kNotifyDims, R, O, F, O, true},
    {type::kNotifyCamera, R, O, F, O, true},
    {type::kNotifyError, R, O, F, O},
    {type::kStateUpdate, R, R, F, R},
    {type::kAckState, R, R, F, F},
    {type::kCallCommand, R, R, F, F},
    {type::kReplyCommand, R, R, F, F},
    {type::kErrorCommand, R, R, F, F},
}};

const TypeRules* find_rules(std::string_view t) {
  for (const auto& r : kRules)
    if (t == r.type) return &r;
  return nullptr;
}

Error bad(std::string message) { return make_error("invalid_envelope", std::move(message)); }

std::optional<Error> check(Rule rule, bool present, const char* field, const std::string& type) {
  if (rule == Rule::required && !present) return bad(type + ": '" + field + "' is required");
  if (rule == Rule::forbidden && present) return bad(type + ": '" + field + "' is not allowed");
  return std::nullopt;
}

std::optional<Error> read_string(const nlohmann::json& j, const char* key, std::optional<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return bad(std::string("'") + key + "' must be a string");
  if (it->get_ref<const std::string&>().size() > kMaxIdBytes)
    return bad(std::string("'") + key + "' is longer than " + std::to_string(kMaxIdBytes) + " bytes");
  *out = it->get<std::string>();
  return std::nullopt;
}

}  // namespace

bool is_known_type(std::string_view t) { return find_rules(t) != nullptr; }

std::optional<Error> validate_envelope(const Envelope& e) {
  if (e.version != kProtocolVersion)
    return make_error("invalid_envelope", "version must be 2", {{"received", e.version}});
  const TypeRules* r = find_rules(e.type);
  if (!r) return std::nullopt;
  if (auto err = check(r->session, e.session.has_value(), "session", e.type)) return err;
  if (auto err = check(r->frame_id, e.frame_id.has_value(), "frame_id", e.type)) return err;
  if (auto err = check(r->seq, e.seq.has_value(), "seq", e.type)) return err;
  if (auto err = check(r->seq, e.delta_token.has_value(), "delta_token", e.type)) return err;
  if (auto err = check(r->intent_id, e.intent_id.has_value(), "intent_id", e.type)) return err;
  if (r->id_or_intent && !e.frame_id && !e.intent_id)
    return bad(e.type + ": one of frame_id / intent_id is required");
  if (e.seq && *e.seq < 0) return bad("seq must be >= 0");
  if (e.type == type::kNotifyScene && e.seq && *e.seq != 0) return bad("notify.scene seq must be 0");
  return std::nullopt;
}

Result<Envelope> envelope_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return bad("frame must be a JSON object");
  Envelope e;
  auto t = j.find("type");
  if (t == j.end() || !t->is_string() || t->get_ref<const std::string&>().empty())
    return bad("'type' must be a non-empty string");
  if (t->get_ref<const std::string&>().size() > kMaxIdBytes)
    return bad("'type' is longer than " + std::to_string(kMaxIdBytes) + " bytes");
  e.type = t->get<std::string>();
  auto v = j.find("version");
  if (v == j.end() || !v->is_number_integer()) return bad("'version' must be an integer");
  auto version = json_int64(*v);
  if (!version || *version != kProtocolVersion)
    return make_error("invalid_envelope", "version must be 2", {{"received", *v}});
  e.version = kProtocolVersion;
  auto ts = j.find("timestamp");
  if (ts == j.end() || !ts->is_number()) return bad("'timestamp' must be a number");
  e.timestamp = ts->get<double>();
  auto p = j.find("payload");
  if (p == j.end() || !p->is_object()) return bad("'payload' must be an object");
  e.payload = *p;
  if (auto err = read_string(j, "session", &e.session)) return *err;
  if (auto err = read_string(j, "frame_id", &e.frame_id)) return *err;
  if (auto err = read_string(j, "delta_token", &e.delta_token)) return *err;
  if (auto err = read_string(j, "intent_id", &e.intent_id)) return *err;
  auto s = j.find("seq");
  if (s != j.end() && !s->is_null()) {
    auto seq = json_int64(*s);
    if (!seq) return bad("'seq' must be an integer that fits in 64 bits");
    e.seq = *seq;
  }
  if (auto err = validate_envelope(e)) return *err;
  return e;
}

Result<Envelope> parse_envelope(std::string_view text) {
  auto j = parse_json(text);
  if (!j) return make_error(j.error().code, "frame: " + j.error().message, j.error().details);
  return envelope_from_json(j.value());
}

nlohmann::json envelope_to_json(const Envelope& e) {
  nlohmann::json j = {{"type", e.type}, {"version", e.version}, {"timestamp", e.timestamp}, {"payload", e.payload}};
  if (e.session) j["session"] = *e.session;
  if (e.frame_id) j["frame_id"] = *e.frame_id;
  if (e.seq) j["seq"] = *e.seq;
  if (e.delta_token) j["delta_token"] = *e.delta_token;
  if (e.intent_id) j["intent_id"] = *e.intent_id;
  return j;
}

std::string serialize(const Envelope& e) {
  return envelope_to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace voxcast::protocol
