#include <gtest/gtest.h>

#include "voxcast/client/backoff.hpp"

using namespace voxcast::client;

TEST(Backoff, AWelcomeAloneDoesNotResetIt) {
  BackoffPolicy p;  // 50 .. 1000 ms, healthy after 3 s
  Backoff b;
  double now = 0;
  std::vector<double> delays;
  for (int i = 0; i < 8; ++i) {
    backoff_session_up(&b, now);
    now += 5;  // welcomed, then dropped at once
    delays.push_back(backoff_link_lost(&b, p, now, true));
    now += delays.back();
  }
  EXPECT_EQ(delays, (std::vector<double>{50, 100, 200, 400, 800, 1000, 1000, 1000}));
}

TEST(Backoff, AHealthySessionStartsOver) {
  BackoffPolicy p;
  Backoff b;
  backoff_session_up(&b, 0);
  EXPECT_EQ(backoff_link_lost(&b, p, 10, true), 50);
  EXPECT_EQ(backoff_attempt_failed(&b, p), 100);
  backoff_session_up(&b, 1000);
  // Up long enough but no frame ever arrived: not healthy.
  EXPECT_EQ(backoff_link_lost(&b, p, 5000, true), 200);
  backoff_session_up(&b, 6000);
  backoff_frame(&b);
  EXPECT_EQ(backoff_link_lost(&b, p, 9500, true), 0);  // retried at once
  // Without a pixel channel, time up is enough.
  backoff_session_up(&b, 10000);
  EXPECT_EQ(backoff_link_lost(&b, p, 13500, false), 0);
}

TEST(Backoff, WaitsAreJitteredWithinHalfToAll) {
  BackoffPolicy p;
  EXPECT_DOUBLE_EQ(backoff_jittered(1000, p, 0.0), 1000);
  EXPECT_DOUBLE_EQ(backoff_jittered(1000, p, 0.999), 1000 * (1 - 0.5 * 0.999));
  EXPECT_GE(backoff_jittered(1000, p, 1.5), 500);
}
