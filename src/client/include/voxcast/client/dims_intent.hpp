#pragma once
// Throttles dims intents per axis with a leading and a trailing edge: the first change
// after a quiet period goes out at once, changes within the interval coalesce, and the
// final value is always sent when the interval ends (a drag never "sends nothing", and
// never floods the server). The reference's restart-on-every-event debounce is the bug
// this replaces.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace voxcast::client {

struct AxisThrottle {
  double last_sent_ms = -1e18;  // when a value last went out
  std::optional<int64_t> last_sent;
  std::optional<int64_t> pending;  // newest value not yet sent
};

struct DimsIntentTracker {
  double interval_ms = 1000.0 / 60.0;  // at most 60 updates per second per axis
  std::map<std::string, AxisThrottle> axes;
};

struct DimsSend {
  std::string axis;
  int64_t value = 0;
};

// A local change of `axis` to `value` at `now_ms`: the value to send now (leading edge),
// or nullopt when it waits for the trailing edge.
std::optional<int64_t> queue_dims_update(DimsIntentTracker* t, const std::string& axis, int64_t value, double now_ms);
// The trailing edges due at `now_ms` (call from the loop's timer).
std::vector<DimsSend> flush_dims_updates(DimsIntentTracker* t, double now_ms);
// When the next trailing edge is due (nullopt: nothing pending).
std::optional<double> next_dims_flush_ms(const DimsIntentTracker& t);

}  // namespace voxcast::client
