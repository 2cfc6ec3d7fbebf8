#include <gtest/gtest.h>

#include "voxcast/client/frame_lease.hpp"
#include "voxcast/client/metrics.hpp"
#include "voxcast/client/presenter.hpp"

using namespace voxcast::client;

TEST(FrameLease, RolesAcquireOnceReleaseOnceAndTheLastReleaseFreesTheFrame) {
  int64_t live = FrameLease::live_leases();
  int64_t errors = FrameLease::release_errors();
  auto frame = std::make_shared<voxcast::codec::YuvImage>();
  std::weak_ptr<voxcast::codec::YuvImage> watch = frame;
  auto lease = FrameLease::create(std::move(frame), LeaseRole::decoder, 7);
  EXPECT_EQ(FrameLease::live_leases(), live + 1);
  EXPECT_EQ(lease->acquire(LeaseRole::presenter), LeaseResult::ok);
  EXPECT_EQ(lease->acquire(LeaseRole::presenter), LeaseResult::already_held);
  EXPECT_EQ(lease->release(LeaseRole::decoder), LeaseResult::ok);
  EXPECT_EQ(lease->release(LeaseRole::decoder), LeaseResult::not_held) << "a lease released twice is an error";
  EXPECT_EQ(FrameLease::release_errors(), errors + 1);
  ASSERT_TRUE(lease->frame(LeaseRole::presenter));
  EXPECT_FALSE(lease->frame(LeaseRole::renderer)) << "only holders see the frame";
  EXPECT_EQ(lease->release(LeaseRole::presenter), LeaseResult::ok);
  EXPECT_TRUE(lease->closed());
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(lease->acquire(LeaseRole::renderer), LeaseResult::closed) << "acquiring from a closed lease fails";
  EXPECT_EQ(FrameLease::live_leases(), live);
}

TEST(FrameLease, RevokingKeepsAFrameAliveForADrawInProgress) {
  auto lease = FrameLease::create(std::make_shared<voxcast::codec::YuvImage>(), LeaseRole::renderer);
  auto drawing = lease->frame(LeaseRole::renderer);  // the renderer holds a reference while it draws
  lease->revoke();                                    // the session ends meanwhile
  EXPECT_TRUE(drawing);
  EXPECT_FALSE(lease->frame(LeaseRole::renderer));
  EXPECT_EQ(lease->release(LeaseRole::renderer), LeaseResult::not_held);
}

namespace {
QueuedFrame frame(uint32_t seq, double server_ms, double arrival_ms) {
  QueuedFrame f;
  f.seq = seq;
  f.server_ms = server_ms;
  f.arrival_ms = arrival_ms;
  return f;
}
}  // namespace

TEST(Presenter, ServerTimestampsScheduleFramesAtAStableDelay) {
  PresenterState p;
  p.config.latency_ms = 10;
  p.config.warmup_ms = 0;
  reset_presenter(&p, 0);
  // Network delay 20 ms with jitter up to 15 ms: the offset follows the minimum.
  double jitter[] = {5, 0, 15, 2, 9, 0, 12};
  for (uint32_t i = 0; i < 7; ++i) {
    double server = 1000 + i * 16.0;
    ASSERT_TRUE(submit_frame(&p, frame(i, server, server + 20 + jitter[i]), server + 20 + jitter[i]));
  }
  EXPECT_NEAR(current_offset_ms(p), 20, 1e-9);
  // Due = server + 20 + 10: at 1000 + 16*3 + 30 = 1078 frame 3 is the newest due.
  auto shown = take_due_frame(&p, 1078);
  ASSERT_TRUE(shown);
  EXPECT_EQ(shown->seq, 3u);
  EXPECT_EQ(p.superseded, 3u) << "latest due wins";
  EXPECT_FALSE(take_due_frame(&p, 1079)) << "nothing due: the last frame stays";
  EXPECT_EQ(take_due_frame(&p, 2000)->seq, 6u);
  // A frame older than the one shown is never presented.
  EXPECT_FALSE(submit_frame(&p, frame(5, 1080, 1110), 1110));
  EXPECT_EQ(p.dropped_late, 1u);
}

TEST(Presenter, OffsetGrowsSlowlyAndReseedsOnReconnect) {
  PresenterState p;
  p.config.warmup_ms = 0;
  p.config.offset_window_ms = 100;
  p.config.max_slew_ms_per_s = 5;
  reset_presenter(&p, 0);
  submit_frame(&p, frame(1, 0, 20), 20);
  EXPECT_NEAR(current_offset_ms(p), 20, 1e-9);
  // The path gets 30 ms slower for good: the offset creeps up, 5 ms per second.
  for (uint32_t i = 2; i < 100; ++i) submit_frame(&p, frame(i, i * 10.0, i * 10.0 + 50), i * 10.0 + 50);
  EXPECT_GT(current_offset_ms(p), 20);
  EXPECT_LT(current_offset_ms(p), 26);
  reset_presenter(&p, 5000);  // reconnect: the new connection's delay is taken at once
  submit_frame(&p, frame(1, 5000, 5050), 5050);
  EXPECT_NEAR(current_offset_ms(p), 50, 1e-9);
}

TEST(Presenter, ArrivalModeAndWarmupRamp) {
  PresenterState p;
  p.config.mode = PresenterMode::arrival;
  p.config.latency_ms = 5;
  p.config.warmup_ms = 1000;
  p.config.warmup_extra_ms = 40;
  reset_presenter(&p, 0);
  submit_frame(&p, frame(1, 0, 0), 0);
  EXPECT_NEAR(*next_due_ms(p), 45, 1e-9);  // full warm-up extra at start
  take_due_frame(&p, 100);
  submit_frame(&p, frame(2, 0, 500), 500);
  EXPECT_NEAR(*next_due_ms(p), 525, 1e-9);  // half way through the ramp
  take_due_frame(&p, 600);
  submit_frame(&p, frame(3, 0, 2000), 2000);
  EXPECT_NEAR(*next_due_ms(p), 2005, 1e-9);  // ramp done
}

TEST(Presenter, ReleasesItsLeasesWhenFramesAreSupersededOrCleared) {
  int64_t live = FrameLease::live_leases();
  PresenterState p;
  p.config.mode = PresenterMode::arrival;
  p.config.warmup_ms = 0;
  reset_presenter(&p, 0);
  for (uint32_t i = 1; i <= 4; ++i) {
    auto f = frame(i, 0, i);
    f.lease = FrameLease::create(std::make_shared<voxcast::codec::YuvImage>(), LeaseRole::presenter, i);
    submit_frame(&p, std::move(f), i);
  }
  auto shown = take_due_frame(&p, 100);
  ASSERT_TRUE(shown);
  EXPECT_EQ(FrameLease::live_leases(), live + 1) << "superseded frames were released";
  shown->lease->release(LeaseRole::presenter);
  auto f = frame(9, 0, 200);
  f.lease = FrameLease::create(std::make_shared<voxcast::codec::YuvImage>(), LeaseRole::presenter, 9);
  submit_frame(&p, std::move(f), 200);
  reset_presenter(&p, 300);
  EXPECT_EQ(FrameLease::live_leases(), live) << "no lease leaks";
}

TEST(ClientMetrics, HistogramsAndJson) {
  ClientMetrics m;
  for (int i = 1; i <= 100; ++i) record(&m.decode_ms, i * 0.1);
  record(&m.decode_ms, -1);  // ignored
  EXPECT_EQ(m.decode_ms.count, 100u);
  EXPECT_NEAR(histogram_percentile(m.decode_ms, 50), 5.0, 0.11);
  auto j = to_json(m);
  EXPECT_EQ(j["decode_ms"]["count"], 100);
  EXPECT_NEAR(j["decode_ms"]["max"].get<double>(), 10.0, 1e-9);
  uint64_t in_buckets = 0;
  for (const auto& b : j["decode_ms"]["buckets"]) in_buckets += b["count"].get<uint64_t>();
  EXPECT_EQ(in_buckets, 100u);
  EXPECT_NE(describe(m).find("decode"), std::string::npos);
}
