// Rate control per link: a simulated link (a FIFO of given rate and one-way delay) in
// front of a frame source that honours the cap; the estimator must find the link's
// rate, keep the queue short, and let go of the cap once the link is fast again.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "voxcast/server/link_rate.hpp"
#include "voxcast/server/stream_encoders.hpp"

using namespace voxcast::server;

namespace {

struct SimLink {
  double rate_bps;
  double delay_ms;      // one way; the receipt comes back after another delay_ms
  double busy_until = 0;
  // When the frame sent at `t` of `bytes` is done with at the client, plus the way back.
  double done_at(double t, size_t bytes) {
    double start = std::max(t, busy_until);
    busy_until = start + static_cast<double>(bytes) * 8.0 * 1000.0 / rate_bps;
    return busy_until + 2 * delay_ms;
  }
};

struct SimRun {
  double max_flight_ms = 0;  // over the second half
  double cap_end = 0;
  double sent_bps = 0;       // over the second half
};

// 60 frames/s of `natural` bytes each unless capped (then cap / 60 bytes), for `seconds`;
// a frame is only made when fewer than the link's window are in flight (receipts), as the
// server does.
SimRun simulate(LinkRate* lr, SimLink* link, size_t natural, double seconds, double t0 = 0) {
  SimRun r;
  struct InFlight {
    uint64_t seq;
    double done;
  };
  std::vector<InFlight> flying;
  uint64_t seq = 0;
  double half = t0 + seconds * 500, bytes_half = 0;
  for (double t = t0; t < t0 + seconds * 1000; t += 1000.0 / 60) {
    for (auto it = flying.begin(); it != flying.end();) {
      if (it->done <= t) {
        lr->on_done(it->seq, it->done);
        it = flying.erase(it);
      } else {
        ++it;
      }
    }
    if (flying.size() >= static_cast<size_t>(lr->frames_in_flight(1000.0 / 60))) continue;
    size_t bytes = natural;
    if (lr->cap_bps() > 0) bytes = std::min(bytes, static_cast<size_t>(lr->cap_bps() / 8 / 60));
    lr->on_sent(seq, bytes, t);
    double done = link->done_at(t, bytes);
    flying.push_back({seq++, done});
    if (t > half) {
      r.max_flight_ms = std::max(r.max_flight_ms, done - t);
      bytes_half += static_cast<double>(bytes);
    }
  }
  r.cap_end = lr->cap_bps();
  r.sent_bps = bytes_half * 8 / (seconds / 2);
  return r;
}

}  // namespace

TEST(LinkRate, AFastLinkIsNeverCapped) {
  LinkRate lr;
  SimLink link{1e9, 0.1};
  SimRun r = simulate(&lr, &link, 40000, 5);  // 19 Mbit/s on a gigabit link
  EXPECT_EQ(r.cap_end, 0.0);
  EXPECT_EQ(lr.state().decreases, 0u);
}

TEST(LinkRate, TenMegabitsWithFortyMsRoundTripFindsTheRateAndKeepsTheQueueShort) {
  LinkRate lr;
  SimLink link{10e6, 20};
  SimRun r = simulate(&lr, &link, 40000, 10);  // the stream would be 19 Mbit/s
  std::printf("10 Mbit/s, 40 ms: %s; sent %.2f Mbit/s, flight max %.0f ms, window %d\n", describe(lr.state()).c_str(),
              r.sent_bps / 1e6, r.max_flight_ms, lr.frames_in_flight(1000.0 / 60));
  EXPECT_GT(lr.state().decreases, 0u);
  EXPECT_GT(r.cap_end, 4e6) << describe(lr.state());
  EXPECT_LT(r.cap_end, 12e6) << describe(lr.state());
  EXPECT_GT(r.sent_bps, 5e6);   // most of the link is used
  EXPECT_LE(r.sent_bps, 10e6);  // and not more than it carries
  // Flight time: 40 ms round trip plus about a frame's serialisation and a short queue.
  EXPECT_LT(r.max_flight_ms, 150.0) << describe(lr.state());
}

TEST(LinkRate, TheCapGoesAwayWhenTheLinkGetsFast) {
  LinkRate lr;
  SimLink slow{5e6, 10};
  simulate(&lr, &slow, 40000, 5);
  ASSERT_GT(lr.cap_bps(), 0.0);
  SimLink fast{1e9, 1};
  fast.busy_until = slow.busy_until;
  SimRun r = simulate(&lr, &fast, 40000, 10, 5000);
  EXPECT_EQ(r.cap_end, 0.0) << describe(lr.state());
}

TEST(LinkRate, ReceiptsThatSkipFramesCountEveryFrameUpToThem) {
  LinkRate lr;
  for (uint64_t s = 0; s < 10; ++s) lr.on_sent(s, 10000, s * 10.0);
  lr.on_done(9, 100);  // the native client writes only the newest receipt
  lr.on_sent(10, 10000, 100);
  lr.on_done(10, 110);
  EXPECT_GT(lr.state().delivered_bps, 0.0);
  EXPECT_DOUBLE_EQ(lr.state().last_flight_ms, 10.0);
  lr.on_done(3, 120);  // old and already counted: nothing changes
  EXPECT_DOUBLE_EQ(lr.state().last_flight_ms, 10.0);
}

TEST(LinkRate, CapStepsAreALadderAndUncappedIsMinusOne) {
  EXPECT_EQ(cap_step(0), -1);
  EXPECT_EQ(cap_step_bps(-1), 0.0);
  for (int k = 0; k < 20; ++k) {
    EXPECT_EQ(cap_step(cap_step_bps(k)), k);
    EXPECT_EQ(cap_step(cap_step_bps(k) * 1.3), k);  // below the next step
  }
  EXPECT_EQ(cap_step(1), 0);  // below the floor: the lowest step
}

TEST(StreamSteps, UncappedFirstThenTheLowestCapsWithinTheBound) {
  EXPECT_EQ(stream_steps_for({}), std::vector<int>{-1});
  EXPECT_EQ(stream_steps_for({-1, -1}), std::vector<int>{-1});
  EXPECT_EQ(stream_steps_for({7, -1, 3, 7}), (std::vector<int>{-1, 3, 7}));
  std::vector<int> many = {9, 1, 8, 2, 7, 3, -1};
  std::vector<int> steps = stream_steps_for(many);
  ASSERT_EQ(steps.size(), 1 + kMaxCappedStreams);
  EXPECT_EQ(steps, (std::vector<int>{-1, 1, 2, 3, 7}));  // the slowest links are served first
  EXPECT_EQ(stream_steps_for({5, 6}), (std::vector<int>{5, 6}));  // nobody uncapped: no uncapped encode
}

TEST(StreamSteps, AClientGetsItsStepOrTheNearestEncodedOneBelow) {
  const std::vector<int> steps = {-1, 2, 5, 9};
  EXPECT_EQ(served_step(steps, -1), -1);
  EXPECT_EQ(served_step(steps, 5), 5);
  EXPECT_EQ(served_step(steps, 7), 5);   // not encoded: the next cap below
  EXPECT_EQ(served_step(steps, 1), 2);   // below every cap: the lowest
  EXPECT_EQ(served_step({3, 4}, -1), 4);  // uncapped not encoded: the highest cap
}
