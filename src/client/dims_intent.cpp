#include "voxcast/client/dims_intent.hpp"

#include <algorithm>

namespace voxcast::client {

std::optional<int64_t> queue_dims_update(DimsIntentTracker* t, const std::string& axis, int64_t value, double now_ms) {
  AxisThrottle& a = t->axes[axis];
  if (now_ms - a.last_sent_ms >= t->interval_ms && !a.pending) {
    if (a.last_sent == value && now_ms - a.last_sent_ms < 10 * t->interval_ms) return std::nullopt;  // no change
    a.last_sent_ms = now_ms;
    a.last_sent = value;
    return value;
  }
  a.pending = value;
  return std::nullopt;
}

std::vector<DimsSend> flush_dims_updates(DimsIntentTracker* t, double now_ms) {
  std::vector<DimsSend> out;
  for (auto& [axis, a] : t->axes) {
    if (!a.pending || now_ms - a.last_sent_ms < t->interval_ms) continue;
    if (a.last_sent != *a.pending) out.push_back({axis, *a.pending});
    a.last_sent = *a.pending;
    a.last_sent_ms = now_ms;
    a.pending.reset();
  }
  return out;
}

std::optional<double> next_dims_flush_ms(const DimsIntentTracker& t) {
  std::optional<double> next;
  for (const auto& [axis, a] : t.axes)
    if (a.pending) next = std::min(next.value_or(1e300), a.last_sent_ms + t.interval_ms);
  return next;
}

}  // namespace voxcast::client
