#include "voxcast/client/backoff.hpp"

#include <algorithm>

namespace voxcast::client {
namespace {
double grown(double delay_ms, const BackoffPolicy& p) {
  return std::clamp(delay_ms <= 0 ? p.min_ms : delay_ms * 2, p.min_ms, std::max(p.min_ms, p.max_ms));
}
}  // namespace

void backoff_session_up(Backoff* b, double now_ms) {
  b->up_since_ms = now_ms;
  b->frames_seen = false;
}

double backoff_link_lost(Backoff* b, const BackoffPolicy& p, double now_ms, bool frames_expected) {
  const bool healthy = b->up_since_ms >= 0 && now_ms - b->up_since_ms >= p.healthy_after_ms &&
                       (b->frames_seen || !frames_expected);
  b->up_since_ms = -1;
  b->delay_ms = healthy ? 0 : grown(b->delay_ms, p);
  return b->delay_ms;
}

double backoff_attempt_failed(Backoff* b, const BackoffPolicy& p) {
  b->delay_ms = grown(b->delay_ms, p);
  return b->delay_ms;
}

double backoff_jittered(double delay_ms, const BackoffPolicy& p, double u) {
  return delay_ms * (1.0 - std::clamp(p.jitter, 0.0, 1.0) * std::clamp(u, 0.0, 1.0));
}

}  // namespace voxcast::client
