#include <gtest/gtest.h>

#include "voxcast/client/dims_intent.hpp"

using namespace voxcast::client;

TEST(DimsIntent, ADragSendsTheLeadingEdgeThrottledUpdatesAndTheFinalValue) {
  DimsIntentTracker t;
  std::vector<int64_t> sent;
  double now = 1000;
  // 100 slider events in 200 ms (every 2 ms), values 1..100; the loop flushes every 1 ms.
  for (int i = 1; i <= 100; ++i) {
    for (int k = 0; k < 2; ++k) {
      for (const auto& s : flush_dims_updates(&t, now)) sent.push_back(s.value);
      now += 1;
    }
    if (auto v = queue_dims_update(&t, "z", i, now)) sent.push_back(*v);
  }
  // Let the trailing edge come.
  for (int k = 0; k < 40; ++k, now += 1)
    for (const auto& s : flush_dims_updates(&t, now)) sent.push_back(s.value);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.front(), 1) << "the leading edge goes out at once";
  EXPECT_EQ(sent.back(), 100) << "the final value is always sent";
  EXPECT_LE(sent.size(), 13u);
  EXPECT_GE(sent.size(), 10u) << "a drag keeps updating the server at about 60 Hz";
  EXPECT_TRUE(std::is_sorted(sent.begin(), sent.end()));
  EXPECT_FALSE(next_dims_flush_ms(t));
}

TEST(DimsIntent, AxesAreThrottledIndependentlyAndRepeatsAreNotResent) {
  DimsIntentTracker t;
  EXPECT_EQ(queue_dims_update(&t, "z", 5, 0), 5);
  EXPECT_EQ(queue_dims_update(&t, "t", 2, 1), 2);  // another axis is not held back
  EXPECT_FALSE(queue_dims_update(&t, "z", 6, 2));
  ASSERT_TRUE(next_dims_flush_ms(t));
  EXPECT_NEAR(*next_dims_flush_ms(t), 1000.0 / 60.0, 1e-9);
  EXPECT_TRUE(flush_dims_updates(&t, 10).empty());  // not yet
  auto due = flush_dims_updates(&t, 17);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].axis, "z");
  EXPECT_EQ(due[0].value, 6);
  // Back and forth within one interval ends where it started: nothing to send.
  EXPECT_FALSE(queue_dims_update(&t, "z", 7, 20));
  EXPECT_FALSE(queue_dims_update(&t, "z", 6, 25));
  EXPECT_TRUE(flush_dims_updates(&t, 40).empty());
  // After a quiet period a new value leads again.
  EXPECT_EQ(queue_dims_update(&t, "z", 9, 500), 9);
}
