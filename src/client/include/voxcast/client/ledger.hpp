#pragma once
// The client ledger: per property, the value the server confirmed (with its version) and
// the local intents not yet acknowledged. What the UI shows is the newest local intent,
// else the confirmed value, so a server echo of an older state never snaps a slider
// back; a rejection or an ack time-out drops the intent and the confirmed value shows.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace voxcast::client {

// A property's name is "scope:target:key" (the target may itself contain ':').
struct PropertyPath {
  std::string scope, target, key;
};
inline std::string property_name(const std::string& scope, const std::string& target, const std::string& key) {
  return scope + ":" + target + ":" + key;
}
inline std::optional<PropertyPath> split_property(const std::string& name) {
  auto first = name.find(':'), last = name.rfind(':');
  if (first == std::string::npos || first == last) return std::nullopt;
  return PropertyPath{name.substr(0, first), name.substr(first + 1, last - first - 1), name.substr(last + 1)};
}

struct PendingIntent {
  std::string intent_id;
  nlohmann::json value;
  double sent_ms = 0;
};

struct PropertyState {
  nlohmann::json confirmed;        // null until the server said
  int64_t confirmed_version = -1;  // ledger version of `confirmed`
  std::vector<PendingIntent> pending;  // oldest first
};

struct ClientLedger {
  double ack_timeout_ms = 1000;  // the server advertises 250; allow for a busy link
  std::map<std::string, PropertyState> properties;   // "dims:z:index", "layer:layer-0:opacity", ...
  std::map<std::string, std::string> intent_property;  // intent id -> property
  uint64_t rejected = 0, expired = 0, stale_notifies = 0;
};

// What the UI should show for `property` (null when nothing is known).
nlohmann::json displayed_value(const ClientLedger& l, const std::string& property);
bool has_pending(const ClientLedger& l, const std::string& property);

// A local change was sent as `intent_id`.
void record_intent(ClientLedger* l, const std::string& property, const std::string& intent_id, nlohmann::json value,
                   double now_ms);
// ack.state: accepted -> the applied value is confirmed at `version` and this intent and
// older ones of the property are settled; rejected -> the intent is dropped (the
// confirmed value shows again). Unknown intents are ignored. Returns the property.
std::optional<std::string> apply_ack(ClientLedger* l, const std::string& intent_id, bool accepted,
                                     const nlohmann::json& applied_value, int64_t version);
// A notify carrying `value` at `version`: confirmed when newer than what we have; a
// notify older than the confirmed version is counted as stale and ignored.
void apply_notify(ClientLedger* l, const std::string& property, const nlohmann::json& value, int64_t version);
// Drops intents unanswered for longer than the ack time-out; returns their properties.
std::vector<std::string> expire_intents(ClientLedger* l, double now_ms);
// After a reconnect: the intents to replay (newest per property), oldest property first.
std::vector<std::pair<std::string, nlohmann::json>> intents_to_replay(const ClientLedger& l);

}  // namespace voxcast::client
