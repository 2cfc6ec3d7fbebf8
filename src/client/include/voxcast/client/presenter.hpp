#pragma once
// When a decoded frame is shown. Server-timestamp mode: due = server capture time +
// clock offset + latency target, the offset being the windowed minimum of (arrival -
// server time) — the least-delayed recent frame — approached slowly so jitter does not
// move the schedule, re-seeded on reconnect. Arrival mode: due = arrival + latency target.
// A warm-up adds latency at start that ramps away. The newest due frame wins; a frame
// older than the one shown is never presented; with nothing due the last frame stays.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "voxcast/client/frame_lease.hpp"

namespace voxcast::client {

enum class PresenterMode { server_timestamp, arrival };

struct PresenterConfig {
  PresenterMode mode = PresenterMode::server_timestamp;
  double latency_ms = 5.0;         // target added to the estimated one-way delay
  double warmup_ms = 500.0;        // ramp length after start or reconnect
  double warmup_extra_ms = 20.0;   // extra latency at the start of the ramp (offset not settled yet)
  double offset_window_ms = 2000.0;
  double max_slew_ms_per_s = 5.0;  // how fast the offset may follow the window minimum
};

struct QueuedFrame {
  uint32_t seq = 0;
  double server_ms = 0;   // server capture time (wall clock, ms)
  double arrival_ms = 0;  // client wall clock, ms
  double due_ms = 0;
  std::shared_ptr<FrameLease> lease;  // may be null in tests
};

struct PresenterState {
  PresenterConfig config;
  std::deque<QueuedFrame> queue;
  std::deque<std::pair<double, double>> offsets;  // (arrival, arrival - server)
  std::optional<double> offset_ms;                // applied offset
  double last_offset_update_ms = 0;
  double started_ms = 0;
  std::optional<uint32_t> last_presented_seq;
  uint64_t presented = 0, dropped_late = 0, superseded = 0;
};

// Clears the queue and the offset estimate (start, reconnect); the warm-up restarts.
void reset_presenter(PresenterState* p, double now_ms);
// Adds a decoded frame; false (and dropped) when it is older than what was shown.
bool submit_frame(PresenterState* p, QueuedFrame f, double now_ms);
// The newest frame due at `now_ms` (older due frames are superseded); nullopt: keep showing the last.
std::optional<QueuedFrame> take_due_frame(PresenterState* p, double now_ms);
std::optional<double> next_due_ms(const PresenterState& p);
double current_offset_ms(const PresenterState& p);

}  // namespace voxcast::client
