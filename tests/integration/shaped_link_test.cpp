// Over a real shaped link (issue 18): a client in a network namespace reaches the server
// through a veth pair at 10 Mbit/s each way and 40 ms of round trip (tc tbf, a delay
// relay), while scrubbing a stream of some 15 Mbit/s at 60 Hz. Rate control caps its
// stream, its views keep arriving, the server holds no backlog for it, and after a
// 2-second stall the picture is current again. Needs root (namespaces, tc): skips with the
// reason elsewhere. The targets (p95 <= 150 ms, current within 1 s) are the benchmark's
// (voxcast-bench link); this checks the behaviour with bounds a loaded machine keeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "fixture.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/stats.hpp"
#include "voxcast/net/shaped_link.hpp"

using namespace voxcast;
using namespace voxcast::testing;

TEST(ShapedLink, TenMegabitsFortyMsCapsTheStreamKeepsItCurrentAndRecoversFromAStall) {
  auto made = net::ShapedLink::create({10e6, 20});
  if (auto* why = std::get_if<std::string>(&made)) GTEST_SKIP() << *why;
  net::ShapedLink& link = *std::get<std::unique_ptr<net::ShapedLink>>(made);
  TestServerOptions o;
  o.make_source = [] { return make_noise_volume(); };
  TestServer srv(o);
  client::ClientConfig cc = srv.client_config();
  cc.connection.host = link.address();
  cc.connection.control_port = link.forward(srv.get().control_port());
  cc.connection.pixel_port = link.forward(srv.get().pixel_port());
  ASSERT_NE(cc.connection.control_port, 0);
  ASSERT_NE(cc.connection.pixel_port, 0);
  std::unique_ptr<client::ClientStreamLoop> c;
  std::optional<protocol::Error> err;
  ASSERT_TRUE(link.run_inside([&] {
    c = std::make_unique<client::ClientStreamLoop>(cc);
    err = c->connect();
  }));
  ASSERT_FALSE(err) << err->message;
  ASSERT_TRUE(c->wait_until([&] { return c->stats().frames_decoded >= 1; }, 15));

  // 6 s of scrubbing at 60 Hz.
  const double t0 = steady_ms();
  for (int i = 1; i <= 360; ++i) {
    const double due = t0 + i * 1000.0 / 60;
    while (steady_ms() < due) std::this_thread::sleep_for(std::chrono::microseconds(500));
    c->send_state("dims", "z", "index", i % 8);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double half = t0 + 3000;
  std::vector<double> latency;
  for (const auto& r : c->intents())
    if (r.sent_ms > half && r.presented_ms > 0) latency.push_back(r.presented_ms - r.sent_ms);
  size_t presented = 0;
  for (const auto& f : c->frames()) presented += f.presented_ms > half && f.presented_ms < half + 3000 ? 1 : 0;
  const auto stats = srv.get().stats();
  ASSERT_EQ(stats.pixel_links.size(), 1u);
  const auto& l = stats.pixel_links[0];
  std::printf("second half: %zu frames presented, %zu views answered, latency p50 %.0f p95 %.0f ms; cap %.2f Mbit/s, "
              "delivered %.2f, base %.0f ms\n",
              presented, latency.size(), percentile(latency, 50), percentile(latency, 95), l.cap_bps / 1e6,
              l.delivered_bps / 1e6, l.base_ms);
  EXPECT_GE(l.stream_step, 0) << "the stream was never capped";
  EXPECT_GT(l.cap_bps, 0.0);
  EXPECT_LT(l.cap_bps, 10e6);
  EXPECT_GE(l.base_ms, 30.0) << "the link's round trip is 40 ms";
  EXPECT_GE(presented, 30u) << "fewer than 10 frames/s got through";
  ASSERT_FALSE(latency.empty());
  EXPECT_LT(percentile(latency, 95), 1000.0) << "views queue behind the link";
  EXPECT_LE(l.in_flight, 8u) << "the server holds a backlog for this client";
  EXPECT_EQ(c->stats().decode_errors, 0u);

  // A 2-second stall (nothing moves either way), one more view at its end: shown soon after.
  link.stall(2.0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const size_t before = c->intents().size();
  c->send_state("dims", "z", "index", 5);
  const double t_view = steady_ms();
  ASSERT_TRUE(c->wait_until(
      [&] {
        auto in = c->intents();
        return in.size() > before && in[before].presented_ms > 0;
      },
      10))
      << "the view after the stall never showed";
  const double recovered_ms = c->intents()[before].presented_ms - t_view;
  std::printf("after the stall: the next view showed in %.0f ms\n", recovered_ms);
  EXPECT_LT(recovered_ms, 5000.0);
}
