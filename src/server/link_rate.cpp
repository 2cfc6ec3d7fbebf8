#include "voxcast/server/link_rate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace voxcast::server {
namespace {

constexpr double kDecrease = 0.85;  // below the delivered rate: the queue drains
constexpr double kIncrease = 1.15;
// A cap twice what the stream makes, or above any rate it reaches, limits nothing.
constexpr double kUncapAbove = 2.0;
constexpr double kUncapBps = 100e6;

template <class Window>
double window_bps(const Window& w, double now_ms) {
  if (w.size() < 2) return 0;
  double span = std::max(now_ms - w.front().ms, 1.0);
  size_t bytes = 0;
  for (size_t i = 1; i < w.size(); ++i) bytes += w[i].bytes;  // the first one opens the span
  return static_cast<double>(bytes) * 8.0 * 1000.0 / span;
}

template <class Window>
void trim(Window* w, double now_ms, double keep_ms) {
  while (w->size() > 2 && now_ms - w->front().ms > keep_ms) w->pop_front();
}

}  // namespace

std::string describe(const LinkRateState& s) {
  char b[200];
  std::snprintf(b, sizeof b, "cap %.2f Mbit/s, delivered %.2f Mbit/s, base %.1f ms, flight %.1f ms%s, -%llu +%llu",
                s.cap_bps / 1e6, s.delivered_bps / 1e6, s.base_ms, s.last_flight_ms, s.congested ? " (queue)" : "",
                static_cast<unsigned long long>(s.decreases), static_cast<unsigned long long>(s.increases));
  return b;
}

void LinkRate::on_sent(uint64_t seq, size_t bytes, double now_ms) {
  sent_.push_back({seq, bytes, now_ms});
  if (sent_.size() > 256) sent_.pop_front();  // a client that never says: bounded
  offered_.push_back({now_ms, bytes});
  trim(&offered_, now_ms, kRateWindowMs);
}

void LinkRate::on_done(uint64_t seq, double now_ms) {
  bool any = false;
  double newest_flight = 0;
  while (!sent_.empty() && sent_.front().seq <= seq) {
    const Sent& s = sent_.front();
    done_.push_back({now_ms, s.bytes});
    newest_flight = now_ms - s.sent_ms;  // the newest frame done: its own flight time
    any = true;
    sent_.pop_front();
  }
  if (!any) return;
  trim(&done_, now_ms, kRateWindowMs);
  flights_.push_back({now_ms, newest_flight});
  while (flights_.size() > 1 && now_ms - flights_.front().ms > kBaseWindowMs) flights_.pop_front();
  double base = flights_.front().flight_ms;
  for (const Flight& f : flights_) base = std::min(base, f.flight_ms);
  state_.base_ms = base;
  state_.last_flight_ms = newest_flight;
  state_.delivered_bps = window_bps(done_, now_ms);
  adapt(now_ms);
}

void LinkRate::adapt(double now_ms) {
  LinkRateState& s = state_;
  s.congested = s.last_flight_ms - s.base_ms > kQueueDelayMs;
  offered_bps_ = window_bps(offered_, now_ms);
  if (s.congested) {
    // One decrease per queue: its frames were sent before the cap took hold.
    if (now_ms - s.last_change_ms < std::max(s.base_ms + kQueueDelayMs, 50.0) && s.cap_bps > 0) return;
    double from = s.delivered_bps > 0 ? s.delivered_bps : (s.cap_bps > 0 ? s.cap_bps : offered_bps_);
    double cap = std::max(kMinCapBps, from * kDecrease);
    if (s.cap_bps > 0) cap = std::min(cap, s.cap_bps * kDecrease);
    if (cap <= 0) return;
    s.cap_bps = cap;
    s.last_change_ms = now_ms;
    s.decreases += 1;
    return;
  }
  if (s.cap_bps <= 0 || now_ms - s.last_change_ms < kIncreaseEveryMs) return;
  // Clear: probe upwards; a cap far above what the stream makes is no cap at all.
  s.cap_bps *= kIncrease;
  s.last_change_ms = now_ms;
  s.increases += 1;
  if ((offered_bps_ > 0 && s.cap_bps > kUncapAbove * offered_bps_) || s.cap_bps >= kUncapBps) s.cap_bps = 0;
}

int LinkRate::frames_in_flight(double frame_ms) const {
  if (state_.base_ms < 0 || frame_ms <= 0) return kMinFramesInFlight;
  // The frames that fit in the link's base delay, and one being made: fewer would hold
  // the frame rate below the render rate on a long link however fast it is.
  int n = static_cast<int>(std::ceil(state_.base_ms / frame_ms)) + 1;
  return std::clamp(n, kMinFramesInFlight, kMaxFramesInFlight);
}

int cap_step(double cap_bps) {
  if (cap_bps <= 0) return -1;
  // Step k is kMinCapBps * sqrt(2)^k.
  int k = static_cast<int>(std::floor(std::log2(cap_bps / kMinCapBps) * 2.0 + 1e-9));
  return std::max(0, k);
}

double cap_step_bps(int step) { return step < 0 ? 0.0 : kMinCapBps * std::pow(2.0, step / 2.0); }

}  // namespace voxcast::server
