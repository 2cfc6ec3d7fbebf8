#include "voxcast/client/ledger.hpp"

#include <algorithm>

namespace voxcast::client {

nlohmann::json displayed_value(const ClientLedger& l, const std::string& property) {
  auto it = l.properties.find(property);
  if (it == l.properties.end()) return nullptr;
  if (!it->second.pending.empty()) return it->second.pending.back().value;
  return it->second.confirmed;
}

bool has_pending(const ClientLedger& l, const std::string& property) {
  auto it = l.properties.find(property);
  return it != l.properties.end() && !it->second.pending.empty();
}

void record_intent(ClientLedger* l, const std::string& property, const std::string& intent_id, nlohmann::json value,
                   double now_ms) {
  l->properties[property].pending.push_back({intent_id, std::move(value), now_ms});
  l->intent_property[intent_id] = property;
}

std::optional<std::string> apply_ack(ClientLedger* l, const std::string& intent_id, bool accepted,
                                     const nlohmann::json& applied_value, int64_t version) {
  auto ip = l->intent_property.find(intent_id);
  if (ip == l->intent_property.end()) return std::nullopt;
  std::string property = ip->second;
  l->intent_property.erase(ip);
  PropertyState& p = l->properties[property];
  auto it = std::find_if(p.pending.begin(), p.pending.end(), [&](const PendingIntent& x) { return x.intent_id == intent_id; });
  if (it == p.pending.end()) return property;
  if (!accepted) {
    l->rejected += 1;
    p.pending.erase(it);
    return property;
  }
  if (version >= p.confirmed_version) {
    p.confirmed = applied_value;
    p.confirmed_version = version;
  }
  // This intent and the ones sent before it are settled (acks come in order).
  for (auto k = p.pending.begin(); k != it + 1; ++k) l->intent_property.erase(k->intent_id);
  p.pending.erase(p.pending.begin(), it + 1);
  return property;
}

void apply_notify(ClientLedger* l, const std::string& property, const nlohmann::json& value, int64_t version) {
  PropertyState& p = l->properties[property];
  if (version < p.confirmed_version) {
    l->stale_notifies += 1;
    return;
  }
  p.confirmed = value;
  p.confirmed_version = version;
}

std::vector<std::string> expire_intents(ClientLedger* l, double now_ms) {
  std::vector<std::string> out;
  for (auto& [property, p] : l->properties) {
    auto old = std::remove_if(p.pending.begin(), p.pending.end(), [&](const PendingIntent& x) {
      bool late = now_ms - x.sent_ms > l->ack_timeout_ms;
      if (late) l->intent_property.erase(x.intent_id);
      return late;
    });
    if (old != p.pending.end()) {
      l->expired += static_cast<uint64_t>(p.pending.end() - old);
      p.pending.erase(old, p.pending.end());
      out.push_back(property);
    }
  }
  return out;
}

std::vector<std::pair<std::string, nlohmann::json>> intents_to_replay(const ClientLedger& l) {
  std::vector<std::tuple<double, std::string, nlohmann::json>> items;
  for (const auto& [property, p] : l.properties)
    if (!p.pending.empty()) items.emplace_back(p.pending.back().sent_ms, property, p.pending.back().value);
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (auto& [t, property, value] : items) out.emplace_back(property, value);
  return out;
}

}  // namespace voxcast::client
