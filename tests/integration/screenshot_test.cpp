// napari.screenshot: the server's still render of the current view, as PNG, at 1x/2x/4x.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "fixture.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/protocol/base64.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;

namespace {
std::optional<Picture> decode(const client::CommandResult& r) { return screenshot_picture(r); }
}  // namespace

TEST(Screenshot, TheStillMatchesTheStreamAndScalesUp) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  c.send_state("dims", "z", "index", 3);
  ASSERT_TRUE(c.wait_until([&] {
    auto f = c.frames();
    return !f.empty() && f.back().decoded && f.back().scene_version >= 1 && c.mirror().current_step[0] == 3;
  }, 5));
  // Let the refined (still-quality) frame arrive, then compare it with the screenshot.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  std::vector<uint8_t> shown;
  int w = 0, h = 0;
  ASSERT_TRUE(c.latest_rgba(&shown, &w, &h));
  auto one = c.call("napari.screenshot", Json::object(), 20).get();
  ASSERT_TRUE(one.ok) << one.code << ": " << one.message;
  auto p1 = decode(one);
  ASSERT_TRUE(p1);
  EXPECT_EQ(p1->width, w);
  EXPECT_EQ(p1->height, h);
  double psnr = codec::psnr_rgba(shown.data(), p1->rgba.data(), w, h);
  EXPECT_GE(psnr, 30.0) << "the video frame and the still show the same view";

  auto two = c.call("napari.screenshot", Json{{"scale", 2}}, 20).get();
  auto p2 = decode(two);
  ASSERT_TRUE(p2) << two.code << ": " << two.message;
  EXPECT_EQ(p2->width, 2 * w);
  EXPECT_EQ(p2->height, 2 * h);
  EXPECT_EQ(two.result["scale"], 2);
  // The same view: the 2x picture shrunk back matches the 1x one.
  std::vector<uint8_t> shrunk(static_cast<size_t>(w) * static_cast<size_t>(h) * 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < 4; ++ch) {
        int sum = 0;
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx)
            sum += p2->rgba[(static_cast<size_t>(2 * y + dy) * static_cast<size_t>(2 * w) + static_cast<size_t>(2 * x + dx)) * 4 +
                            static_cast<size_t>(ch)];
        shrunk[(static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)) * 4 + static_cast<size_t>(ch)] =
            static_cast<uint8_t>(sum / 4);
      }
  EXPECT_GE(codec::psnr_rgba(shrunk.data(), p1->rgba.data(), w, h), 25.0);

  auto bad = c.call("napari.screenshot", Json{{"scale", 3}}, 5).get();
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.code, "command.invalid");
}

TEST(Screenshot, Works3D) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  c.send_state("view", "main", "ndisplay", 3);
  ASSERT_TRUE(c.wait_until([&] { return c.mirror().ndisplay == 3; }, 5));
  // The refined 3D frame (full resolution, still quality) is what the screenshot renders.
  ASSERT_TRUE(c.wait_until([&] {
    auto f = c.frames();
    return std::any_of(f.begin(), f.end(), [](const client::FrameRecord& r) { return r.refined; }) &&
           (f.back().refined || f.back().still);
  }, 10));
  std::vector<uint8_t> shown;
  int w = 0, h = 0;
  ASSERT_TRUE(c.latest_rgba(&shown, &w, &h));
  auto r = c.call("napari.screenshot", Json{{"scale", 1}}, 30).get();
  auto p = decode(r);
  ASSERT_TRUE(p) << r.code << ": " << r.message;
  ASSERT_EQ(p->width, w);
  EXPECT_GE(codec::psnr_rgba(shown.data(), p->rgba.data(), w, h), 30.0);
  EXPECT_EQ(r.result["scale"], 1);
  EXPECT_GT(r.result.value("render_ms", 0.0), 0.0);
}

// A canvas of another aspect (a portrait window half the video's width): the picture has
// the canvas's size times the scale, the video's view fitted in the middle at the size the
// canvas shows it, and the data beyond the video's edges filled in instead of black bars.
TEST(Screenshot, CanvasSizedAtTheCanvasAspect) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.mirror().have_scene; }, 5));
  auto one = c.call("napari.screenshot", Json::object(), 20).get();
  auto still = decode(one);
  ASSERT_TRUE(still) << one.code << ": " << one.message;
  const int w = still->width, h = still->height, cw = w / 2, ch = h;
  auto r = c.call("napari.screenshot", Json{{"scale", 2}, {"width", cw}, {"height", ch}}, 20).get();
  auto p = decode(r);
  ASSERT_TRUE(p) << r.code << ": " << r.message;
  ASSERT_EQ(p->width, 2 * cw);
  ASSERT_EQ(p->height, 2 * ch);
  // fit = 1/2: the video's view occupies w/2 x h/2 canvas pixels (w x h at 2x), centred.
  const int top = (2 * ch - h) / 2;
  std::vector<uint8_t> band(static_cast<size_t>(w) * static_cast<size_t>(h) * 4);
  for (int y = 0; y < h; ++y)
    std::memcpy(&band[static_cast<size_t>(y) * static_cast<size_t>(w) * 4],
                &p->rgba[(static_cast<size_t>(top + y) * static_cast<size_t>(2 * cw)) * 4], static_cast<size_t>(w) * 4);
  EXPECT_GE(codec::psnr_rgba(band.data(), still->rgba.data(), w, h), 25.0) << "the same view at the canvas's size";
  auto bad = c.call("napari.screenshot", Json{{"width", 1}, {"height", 100}}, 5).get();
  EXPECT_EQ(bad.code, "command.invalid");
  auto huge = c.call("napari.screenshot", Json{{"scale", 4}, {"width", 8000}, {"height", 8000}}, 5).get();
  EXPECT_EQ(huge.code, "command.invalid");
}
