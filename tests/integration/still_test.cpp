// Exact stills (issue 18): when the view rests the server sends its render losslessly to
// the clients that asked; the picture they show is the server's, bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "fixture.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/data/procedural.hpp"
#include "voxcast/protocol/base64.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;

namespace {
// The server's own still render of the current view (napari.screenshot at the stream's size).
std::optional<Picture> server_render(client::ClientStreamLoop& c) {
  return screenshot_picture(c.call("napari.screenshot", Json{{"scale", 1}}, 30).get());
}

// Bytes of RGB that differ (alpha is not sent: the picture is opaque).
size_t rgb_differences(const Picture& a, const Picture& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.rgba.size(); i += 4)
    n += (a.rgba[i] != b.rgba[i]) + (a.rgba[i + 1] != b.rgba[i + 1]) + (a.rgba[i + 2] != b.rgba[i + 2]);
  return n;
}

bool showing_exact(const client::ClientStreamLoop& c, uint64_t version) {
  auto f = c.last_frame();
  return c.stats().shown_quality == "exact" && f && f->still && f->presented_ms > 0 && f->scene_version >= version;
}

uint64_t acked_version(const client::ClientStreamLoop& c) {
  auto in = c.intents();
  return in.empty() || in.back().acked_ms == 0 ? 0 : static_cast<uint64_t>(in.back().version);
}
}  // namespace

TEST(ExactStill, TheShownStillIsTheServersRenderBitForBit) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  EXPECT_TRUE(c.loop_state().exact_stills) << "the welcome enables pixel.exact_still for a client that asks";
  c.send_state("dims", "z", "index", 3);
  ASSERT_TRUE(c.wait_until([&] { return acked_version(c) > 0; }, 5));
  const uint64_t version = acked_version(c);
  ASSERT_TRUE(c.wait_until([&] { return showing_exact(c, version); }, 10))
      << "quality " << c.stats().shown_quality << ", stills " << c.stats().stills_received;
  Picture shown;
  ASSERT_TRUE(c.latest_rgba(&shown.rgba, &shown.width, &shown.height));
  auto server = server_render(c);
  ASSERT_TRUE(server);
  ASSERT_EQ(shown.width, server->width);
  ASSERT_EQ(shown.height, server->height);
  EXPECT_EQ(rgb_differences(shown, *server), 0u) << "an exact still is the server's render, every byte";
  // The video before it was not (H.264 is lossy): the still is what made it exact.
  auto frames = c.frames();
  auto video = std::find_if(frames.rbegin(), frames.rend(), [](const auto& f) { return f.decoded && !f.still; });
  ASSERT_NE(video, frames.rend());
  EXPECT_EQ(c.stats().stills_invalid, 0u);
  EXPECT_GE(srv.get().stats().stills_sent, 1u);
}

TEST(ExactStill, MotionGoesStraightBackToVideoAndRestBringsTheNextStill) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  c.send_state("dims", "z", "index", 2);
  ASSERT_TRUE(c.wait_until([&] { return acked_version(c) > 0 && showing_exact(c, acked_version(c)); }, 10));
  const uint64_t stills_before = c.stats().stills_shown;
  c.send_state("dims", "z", "index", 5);
  ASSERT_TRUE(c.wait_until([&] { return acked_version(c) > 0 && c.mirror().current_step[0] == 5; }, 5));
  const uint64_t moved = acked_version(c);
  // The first picture of the new view is video (lossy or partial), not the old still.
  ASSERT_TRUE(c.wait_until([&] {
    auto f = c.last_frame();
    return f && !f->still && f->scene_version >= moved && f->presented_ms > 0;
  }, 5));
  EXPECT_NE(c.stats().shown_quality, "exact");
  ASSERT_TRUE(c.wait_until([&] { return showing_exact(c, moved); }, 10));
  EXPECT_EQ(c.stats().stills_shown, stills_before + 1);
  Picture shown;
  ASSERT_TRUE(c.latest_rgba(&shown.rgba, &shown.width, &shown.height));
  auto server = server_render(c);
  ASSERT_TRUE(server);
  EXPECT_EQ(rgb_differences(shown, *server), 0u);
}

TEST(ExactStill, AClientThatDoesNotAskNeverReceivesOne) {
  TestServer srv;
  client::ClientConfig plain_config = srv.client_config();
  plain_config.exact_stills = false;  // as napari-cuda's client: video only
  client::ClientStreamLoop plain(plain_config);
  client::ClientStreamLoop asks(srv.client_config());
  ASSERT_FALSE(plain.connect());
  ASSERT_FALSE(asks.connect());
  EXPECT_FALSE(plain.loop_state().exact_stills);
  auto welcome = plain.received().front();
  EXPECT_FALSE(welcome.payload["features"].contains("pixel.exact_still"));
  asks.send_state("dims", "z", "index", 4);
  ASSERT_TRUE(asks.wait_until([&] { return acked_version(asks) > 0 && showing_exact(asks, acked_version(asks)); }, 10));
  // Both saw the same refinement; only one got the still.
  ASSERT_TRUE(plain.wait_until([&] {
    auto f = plain.last_frame();
    return f && f->refined && f->scene_version >= acked_version(asks);
  }, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(plain.stats().stills_received, 0u);
  EXPECT_EQ(plain.stats().gaps, 0u) << "seq counts what each socket was sent";
  EXPECT_EQ(plain.stats().shown_quality, "lossy");
  EXPECT_GE(asks.stats().stills_received, 1u);
}

TEST(ExactStill, Works3D) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  c.send_state("view", "main", "ndisplay", 3);
  ASSERT_TRUE(c.wait_until([&] { return acked_version(c) > 0 && c.mirror().ndisplay == 3; }, 5));
  const uint64_t version = acked_version(c);
  ASSERT_TRUE(c.wait_until([&] { return showing_exact(c, version); }, 20));
  Picture shown;
  ASSERT_TRUE(c.latest_rgba(&shown.rgba, &shown.width, &shown.height));
  auto server = server_render(c);
  ASSERT_TRUE(server);
  ASSERT_EQ(shown.width, server->width);
  EXPECT_EQ(rgb_differences(shown, *server), 0u) << "the 3D still is the full-resolution render";
}

// 3D from bricks: the frames tell which levels they drew from and what is loading; the
// still that ends the refinement shows the residency of the picture it makes exact
// (what the viewers' status bars read from the last frame).
TEST(ExactStill, BrickResidencyReachesTheClientAndStaysOnTheStill) {
  TestServerOptions o;
  o.bricks = "always";
  o.make_source = [] {
    data::ProceduralOptions p;
    p.size = 128;
    p.levels = 2;
    p.chunk = 32;
    return data::make_procedural_cells(p, std::make_shared<data::ChunkCache>(64u << 20, 2));
  };
  TestServer srv(o);
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  c.send_state("view", "main", "ndisplay", 3);
  ASSERT_TRUE(c.wait_until([&] { return acked_version(c) > 0 && c.mirror().ndisplay == 3; }, 5));
  const uint64_t version = acked_version(c);
  ASSERT_TRUE(c.wait_until([&] { return showing_exact(c, version); }, 30));
  const auto frames = c.frames();
  const client::FrameRecord* video = nullptr;  // the last 3D video frame before the still
  for (const auto& f : frames)
    if (!f.still && f.scene_version >= version) video = &f;
  ASSERT_NE(video, nullptr);
  EXPECT_NE(video->levels_drawn, 0) << "a frame drawn from bricks names its levels";
  const auto still = c.last_frame();
  ASSERT_TRUE(still && still->still);
  EXPECT_EQ(still->levels_drawn, video->levels_drawn);
  EXPECT_EQ(still->bricks_loading, 0u) << "the exact still comes once everything wanted is resident";
}
