// The client loop's API for GUIs: throttled control drags, the presented frame by lease,
// the present callback, bounded history.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fixture.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;

TEST(ClientLoop, ACameraDragOf100EventsSendsAFewUpdatesAndTheLastOne) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.mirror().have_scene; }, 5));
  const size_t before = c.intents().size();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i <= 100; ++i) {
    double zoom = 1.0 + i * 0.02;
    c.set_property("camera", "main", "set", Json{{"zoom", zoom}});
    EXPECT_EQ(c.displayed("camera:main:set"), (Json{{"zoom", zoom}})) << "the control shows its value at once";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double drag_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(c.wait_until([&] { return std::abs(c.mirror().camera.value("zoom", 0.0) - 3.0) < 1e-9; }, 5))
      << "the final value reaches the server";
  const size_t sent = c.intents().size() - before;
  EXPECT_GE(sent, 2u);
  // <= 60 updates/s over the drag (a slow sanitizer build drags for longer), plus the final one.
  EXPECT_LE(static_cast<double>(sent), drag_ms / (1000.0 / 60.0) + 2) << drag_ms << " ms drag";
  EXPECT_LT(sent, 100u / 2) << "coalesced";
}

TEST(ClientLoop, ThePresentedFrameIsLentToTheRendererAndTheCallbackFires) {
  TestServer srv;
  std::atomic<int> presented{0};
  client::ClientStreamLoop c(srv.client_config());
  c.set_present_callback([&] { presented++; });
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return presented.load() > 0; }, 5));
  auto lease = c.acquire_presented();
  ASSERT_TRUE(lease);
  auto frame = lease->frame(client::LeaseRole::renderer);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->width, 320);
  // A second acquire by the same role is refused while held; release exactly once.
  EXPECT_EQ(lease->acquire(client::LeaseRole::renderer), client::LeaseResult::already_held);
  EXPECT_EQ(lease->release(client::LeaseRole::renderer), client::LeaseResult::ok);
  EXPECT_EQ(lease->release(client::LeaseRole::renderer), client::LeaseResult::not_held);
  // A lease still held by the renderer when the session stops keeps its frame alive.
  auto held = c.acquire_presented();
  ASSERT_TRUE(held);
  c.stop();
  EXPECT_TRUE(held->frame(client::LeaseRole::renderer));
  EXPECT_EQ(held->release(client::LeaseRole::renderer), client::LeaseResult::ok);
  EXPECT_TRUE(held->closed());
}

TEST(ClientLoop, AskingForGpuFramesLeavesSoftwarePicturesInSystemMemory) {
  // A display that imports GPU pictures asks for them; a software decoder has none to
  // keep, so its pictures still arrive with their planes, and the stream goes on.
  TestServer srv;
  auto config = srv.client_config();
  config.decoder = "software";
  client::ClientStreamLoop c(config);
  c.keep_frames_on_device(true);
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.stats().frames_decoded >= 1; }, 5));
  c.set_dims_index("z", 2);
  ASSERT_TRUE(c.wait_until([&] { return c.metrics().frames_presented >= 2; }, 5));
  auto lease = c.acquire_presented();
  ASSERT_TRUE(lease);
  auto frame = lease->frame(client::LeaseRole::renderer);
  ASSERT_TRUE(frame);
  EXPECT_FALSE(frame->device);
  EXPECT_EQ(frame->y.size(), static_cast<size_t>(frame->width) * static_cast<size_t>(frame->height));
  EXPECT_EQ(lease->release(client::LeaseRole::renderer), client::LeaseResult::ok);
  auto pic = c.latest_picture();
  ASSERT_TRUE(pic);
  EXPECT_FALSE(pic->device);
  c.keep_frames_on_device(false);
  c.stop();
  EXPECT_EQ(client::FrameLease::live_leases(), 0);
}

TEST(ClientLoop, HistoryStaysBoundedOnALongSession) {
  TestServer srv;
  client::ClientConfig cc = srv.client_config();
  cc.history_limit = 32;
  client::ClientStreamLoop c(cc);
  ASSERT_FALSE(c.connect());
  // Bounded by progress and a deadline, not a fixed number of sends: under TSan on two
  // cores a frame can take longer than the send interval, and the test is about the
  // bounds on the records, not the frame rate.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int i = 0; c.stats().frames_decoded < 80 && std::chrono::steady_clock::now() < deadline; ++i) {
    const auto before = c.stats().frames_decoded;
    c.send_state("dims", "z", "index", i % 8);
    c.wait_until([&] { return c.stats().frames_decoded > before; }, 2);
  }
  EXPECT_GE(c.stats().frames_decoded, 80u);
  EXPECT_LE(c.frames().size(), 32u);
  EXPECT_LE(c.intents().size(), 32u);
  EXPECT_LE(c.received().size(), 32u);
  EXPECT_GT(c.metrics().frames_presented, 32u) << "metrics keep counting past the trimmed records";
}

TEST(ClientLoop, AutoContrastMeasuresWhatTheLayerShows) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.mirror().have_scene && !c.mirror().layers.empty(); }, 5));
  const auto layer = c.mirror().layers.front();
  auto r = c.call("napari.auto_contrast", Json{{"layer", layer.id}}, 10).get();
  ASSERT_TRUE(r.ok) << r.code << ": " << r.message;
  auto limits = r.result["contrast_limits"];
  ASSERT_TRUE(limits.is_array());
  const double lo = limits[0], hi = limits[1];
  EXPECT_LT(lo, hi);
  auto range = layer.metadata["contrast_range"];
  EXPECT_GE(lo, range[0].get<double>());
  EXPECT_LE(hi, range[1].get<double>());
  // Another plane holds other values: the limits follow the view.
  c.send_state("dims", "z", "index", 0);
  ASSERT_TRUE(c.wait_until([&] { return c.mirror().current_step[0] == 0; }, 5));
  auto other = c.call("napari.auto_contrast", Json{{"layer", layer.id}}, 10).get();
  ASSERT_TRUE(other.ok);
  EXPECT_NE(other.result["contrast_limits"], limits);
  auto bad = c.call("napari.auto_contrast", Json{{"layer", "nope"}}, 5).get();
  EXPECT_EQ(bad.code, "command.invalid");
}
