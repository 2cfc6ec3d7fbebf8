#pragma once
// Throttles intents per key with a leading and a trailing edge: the first change after a
// quiet period goes out at once, changes within the interval coalesce, and the final
// value is always sent when the interval ends (a drag never "sends nothing", and never
// floods the server). The reference's restart-on-every-event debounce is the bug this
// replaces. Dims sliders are keyed by axis (int64 values); camera and layer controls by
// property ("camera:main:set", "layer:layer-0:opacity") with JSON values.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace voxcast::client {

template <class V>
struct ThrottleSlot {
  double last_sent_ms = -1e18;  // when a value last went out
  std::optional<V> last_sent;
  std::optional<V> pending;  // newest value not yet sent
};

template <class V>
struct IntentThrottle {
  double interval_ms = 1000.0 / 60.0;  // at most 60 updates per second per key
  std::map<std::string, ThrottleSlot<V>> axes;  // keyed by axis (dims) or property
};

template <class V>
struct ThrottledSend {
  std::string axis;  // the key: an axis name or a property
  V value{};
};

using DimsIntentTracker = IntentThrottle<int64_t>;
using DimsSend = ThrottledSend<int64_t>;
using PropertyIntentTracker = IntentThrottle<nlohmann::json>;
using PropertySend = ThrottledSend<nlohmann::json>;

// A local change of `key` to `value` at `now_ms`: the value to send now (leading edge),
// or nullopt when it waits for the trailing edge.
template <class V>
std::optional<V> queue_update(IntentThrottle<V>* t, const std::string& key, V value, double now_ms) {
  ThrottleSlot<V>& a = t->axes[key];
  if (now_ms - a.last_sent_ms >= t->interval_ms && !a.pending) {
    if (a.last_sent == value && now_ms - a.last_sent_ms < 10 * t->interval_ms) return std::nullopt;  // no change
    a.last_sent_ms = now_ms;
    a.last_sent = value;
    return value;
  }
  a.pending = std::move(value);
  return std::nullopt;
}

// The trailing edges due at `now_ms` (call from the loop's timer).
template <class V>
std::vector<ThrottledSend<V>> flush_updates(IntentThrottle<V>* t, double now_ms) {
  std::vector<ThrottledSend<V>> out;
  for (auto& [key, a] : t->axes) {
    if (!a.pending || now_ms - a.last_sent_ms < t->interval_ms) continue;
    if (a.last_sent != *a.pending) out.push_back({key, *a.pending});
    a.last_sent = std::move(a.pending);
    a.last_sent_ms = now_ms;
    a.pending.reset();
  }
  return out;
}

// When the next trailing edge is due (nullopt: nothing pending).
template <class V>
std::optional<double> next_flush_ms(const IntentThrottle<V>& t) {
  std::optional<double> next;
  for (const auto& [key, a] : t.axes)
    if (a.pending) next = std::min(next.value_or(1e300), a.last_sent_ms + t.interval_ms);
  return next;
}

inline std::optional<int64_t> queue_dims_update(DimsIntentTracker* t, const std::string& axis, int64_t value, double now_ms) {
  return queue_update(t, axis, value, now_ms);
}
inline std::vector<DimsSend> flush_dims_updates(DimsIntentTracker* t, double now_ms) { return flush_updates(t, now_ms); }
inline std::optional<double> next_dims_flush_ms(const DimsIntentTracker& t) { return next_flush_ms(t); }

}  // namespace voxcast::client
