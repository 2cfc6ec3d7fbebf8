#include "voxcast/client/presenter.hpp"

#include <algorithm>

namespace voxcast::client {
namespace {
// seq is uint32 and wraps: a is newer than b when it is ahead by less than half the space.
bool newer(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }
}  // namespace

void reset_presenter(PresenterState* p, double now_ms) {
  for (auto& f : p->queue)
    if (f.lease) f.lease->release(LeaseRole::presenter);
  p->queue.clear();
  p->offsets.clear();
  p->offset_ms.reset();
  p->started_ms = now_ms;
  p->last_offset_update_ms = now_ms;
  p->last_presented_seq.reset();
}

double current_offset_ms(const PresenterState& p) { return p.offset_ms.value_or(0.0); }

namespace {
void update_offset(PresenterState* p, double server_ms, double arrival_ms, double now_ms) {
  const auto& c = p->config;
  p->offsets.emplace_back(arrival_ms, arrival_ms - server_ms);
  while (!p->offsets.empty() && p->offsets.front().first < arrival_ms - c.offset_window_ms) p->offsets.pop_front();
  double window_min = p->offsets.front().second;
  for (const auto& o : p->offsets) window_min = std::min(window_min, o.second);
  if (!p->offset_ms) {
    p->offset_ms = window_min;  // seed
  } else {
    // A smaller minimum (a faster path) is taken at once; growth is slewed slowly, so a
    // burst of late frames does not push every later frame back.
    double dt_s = std::max(0.0, (now_ms - p->last_offset_update_ms) / 1000.0);
    double step = c.max_slew_ms_per_s * dt_s;
    if (window_min < *p->offset_ms) p->offset_ms = window_min;
    else p->offset_ms = std::min(window_min, *p->offset_ms + step);
  }
  p->last_offset_update_ms = now_ms;
}
}  // namespace

bool submit_frame(PresenterState* p, QueuedFrame f, double now_ms) {
  if (p->last_presented_seq && !newer(f.seq, *p->last_presented_seq)) {
    p->dropped_late += 1;
    if (f.lease) f.lease->release(LeaseRole::presenter);
    return false;
  }
  const auto& c = p->config;
  double warm = c.warmup_ms > 0 ? c.warmup_extra_ms * std::max(0.0, 1.0 - (now_ms - p->started_ms) / c.warmup_ms) : 0.0;
  if (c.mode == PresenterMode::server_timestamp) {
    update_offset(p, f.server_ms, f.arrival_ms, now_ms);
    f.due_ms = f.server_ms + *p->offset_ms + c.latency_ms + warm;
  } else {
    f.due_ms = f.arrival_ms + c.latency_ms + warm;
  }
  // Keep the queue in seq order (frames arrive in order; a reordered one slots in).
  auto at = std::find_if(p->queue.begin(), p->queue.end(), [&](const QueuedFrame& q) { return newer(q.seq, f.seq); });
  p->queue.insert(at, std::move(f));
  return true;
}

std::optional<QueuedFrame> take_due_frame(PresenterState* p, double now_ms) {
  // The newest frame whose time has come; anything before it is superseded.
  std::optional<size_t> pick;
  for (size_t i = 0; i < p->queue.size(); ++i)
    if (p->queue[i].due_ms <= now_ms) pick = i;
  if (!pick) return std::nullopt;
  for (size_t i = 0; i < *pick; ++i) {
    if (p->queue[i].lease) p->queue[i].lease->release(LeaseRole::presenter);
    p->superseded += 1;
  }
  QueuedFrame f = std::move(p->queue[*pick]);
  p->queue.erase(p->queue.begin(), p->queue.begin() + static_cast<long>(*pick) + 1);
  p->last_presented_seq = f.seq;
  p->presented += 1;
  return f;
}

std::optional<double> next_due_ms(const PresenterState& p) {
  std::optional<double> next;
  for (const auto& f : p.queue) next = std::min(next.value_or(1e300), f.due_ms);
  return next;
}

}  // namespace voxcast::client
