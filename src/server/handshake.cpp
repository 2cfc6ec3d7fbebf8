#include "voxcast/server/handshake.hpp"

#include <algorithm>
#include <cctype>

#include "voxcast/protocol/envelope.hpp"
#include "voxcast/protocol/json.hpp"

namespace voxcast::server {

bool token_matches(std::string_view expected, std::string_view given) {
  unsigned diff = expected.size() == given.size() ? 0u : 1u;
  for (size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned>(expected[i]) ^ static_cast<unsigned>(i < given.size() ? given[i] : 0);
  return diff == 0 && !expected.empty();
}

HandshakeOutcome evaluate_hello(std::string_view text, const HandshakePolicy& policy) {
  HandshakeOutcome out;
  auto reject = [&](std::string code, std::string message, protocol::Json details = protocol::Json::object()) {
    out.reject = protocol::SessionReject{std::move(code), std::move(message), std::move(details)};
    return out;
  };
  auto parsed = protocol::parse_json(text);
  if (!parsed)
    return reject(parsed.error().code, "session.hello: " + parsed.error().message, parsed.error().details);
  const protocol::Json& j = parsed.value();
  std::string type = j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
  std::string lowered = type;
  for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lowered != protocol::type::kSessionHello)
    return reject("unexpected_message", "expected session.hello", {{"received", protocol::quote_prefix(lowered)}});
  auto env = protocol::envelope_from_json(j);
  if (!env) return reject("invalid_payload", "session.hello payload rejected", {{"error", env.error().message}});
  auto hello = protocol::parse_session_hello(env->payload);
  if (!hello) return reject("invalid_payload", "session.hello payload rejected", {{"error", hello.error().message}});
  out.hello = hello.value();
  const auto& protocols = out.hello.protocols;
  if (std::find(protocols.begin(), protocols.end(), protocol::kProtocolVersion) == protocols.end())
    return reject("protocol_mismatch", "server requires protocol 2", {{"client_protocols", protocols}});
  if (policy.require_token) {
    std::string given = out.hello.auth && out.hello.auth->token ? *out.hello.auth->token : "";
    if (!token_matches(policy.token, given))
      return reject("unauthorized", given.empty() ? "this server requires a token (session.hello.auth.token)"
                                                  : "invalid token");
  }
  for (const char* required : {"notify.scene", "notify.layers", "notify.stream"}) {
    auto it = out.hello.features.find(required);
    if (it == out.hello.features.end() || !it->second)
      return reject("unsupported_features", std::string(required) + " must be enabled", {{"feature", required}});
    out.features.insert(required);
  }
  for (const char* opt_in : kOptInFeatures) {
    auto it = out.hello.features.find(opt_in);
    if (it != out.hello.features.end() && it->second) out.features.insert(opt_in);
  }
  // The command lane is on unless the peer turns it off (the reference client never
  // names it but relies on it).
  auto cmd = out.hello.features.find("call.command");
  if (cmd == out.hello.features.end() || cmd->second) out.features.insert("call.command");
  return out;
}

protocol::SessionWelcome make_welcome(const std::string& session_id, const std::set<std::string>& features,
                                      const HandshakePolicy& policy) {
  protocol::SessionWelcome w;
  w.session_id = session_id;
  w.heartbeat_s = policy.heartbeat_s;
  w.ack_timeout_ms = 250;
  auto toggle = [&](const char* name, bool resumable) {
    protocol::FeatureToggle t;
    t.enabled = features.count(name) > 0;
    if (t.enabled) {
      t.version = 1;
      t.resume = resumable;
    }
    w.features[name] = t;
  };
  toggle("notify.scene", true);
  toggle("notify.layers", true);
  toggle("notify.stream", true);
  toggle("notify.dims", false);
  toggle("notify.camera", false);
  if (features.count("notify.error")) toggle("notify.error", false);  // only for peers that asked
  if (features.count("pixel.exact_still")) toggle("pixel.exact_still", false);
  if (features.count("pixel.receipts")) toggle("pixel.receipts", false);
  w.features["notify.telemetry"] = protocol::FeatureToggle{};
  toggle("call.command", false);
  if (features.count("call.command")) w.features["call.command"].commands = policy.commands;
  return w;
}

}  // namespace voxcast::server
