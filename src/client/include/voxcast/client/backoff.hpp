#pragma once
// Reconnect back-off that survives a welcome: a server that accepts and then drops every
// session must not get a reconnect storm. The delay resets only after a session has been
// healthy (up for a few seconds, with frames flowing); otherwise it keeps growing across
// sessions, capped, and each wait is jittered so many clients do not retry in step.
namespace voxcast::client {

struct BackoffPolicy {
  double min_ms = 50;
  double max_ms = 1000;
  double healthy_after_ms = 3000;  // up this long (with frames, where expected) = healthy
  double jitter = 0.5;             // a wait is delay * (1 - jitter * u), u in [0, 1)
};

struct Backoff {
  double delay_ms = 0;      // before the next attempt; 0: at once
  double up_since_ms = -1;  // steady clock when the current session came up; -1: down
  bool frames_seen = false;
};

// The session came up (both channels) at `now_ms`.
void backoff_session_up(Backoff* b, double now_ms);
// A frame arrived on the current session.
inline void backoff_frame(Backoff* b) { b->frames_seen = true; }
// The link dropped at `now_ms`: the delay before the first attempt (0 after a healthy
// session, else the grown delay). `frames_expected`: the session had a pixel channel.
double backoff_link_lost(Backoff* b, const BackoffPolicy& p, double now_ms, bool frames_expected);
// An attempt failed: the delay before the next one.
double backoff_attempt_failed(Backoff* b, const BackoffPolicy& p);
// What to actually wait for `delay_ms`, given `u` uniform in [0, 1).
double backoff_jittered(double delay_ms, const BackoffPolicy& p, double u);

}  // namespace voxcast::client
