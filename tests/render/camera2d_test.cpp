#include <gtest/gtest.h>

#include "voxcast/render/camera2d.hpp"

using namespace voxcast::render;

namespace {
DimsState dims_2d(int64_t h, int64_t w) {
  DimsState d;
  d.labels = {"y", "x"};
  d.shape = {h, w};
  d.scale = {1, 1};
  d.source_axis = {0, 1};
  d.current_step = {0, 0};
  d.order = {0, 1};
  return d;
}
}  // namespace

TEST(Camera2D, FitCentresThePlaneWithAMargin) {
  auto c = fit_camera(dims_2d(100, 200), 400, 400);
  EXPECT_DOUBLE_EQ(c.center_x, 99.5);
  EXPECT_DOUBLE_EQ(c.center_y, 49.5);
  EXPECT_DOUBLE_EQ(c.zoom, 0.95 * 2.0);
  auto r = view_rect(c, 400, 400);
  EXPECT_LT(r.left, -0.5);
  EXPECT_GT(r.left + r.width, 199.5);
}

TEST(Camera2D, ZoomKeepsTheAnchorFixed) {
  Camera2D c{50, 50, 2};
  // World point under canvas pixel (30, 70).
  auto world = [](const Camera2D& cam, double px, double py) {
    return std::pair{cam.center_x + (px - 50) / cam.zoom, cam.center_y + (py - 50) / cam.zoom};
  };
  auto before = world(c, 30, 70);
  auto z = zoom_about(c, 0.5, 30, 70, 100, 100);
  EXPECT_DOUBLE_EQ(z.zoom, 4);
  auto after = world(z, 30, 70);
  EXPECT_NEAR(before.first, after.first, 1e-9);
  EXPECT_NEAR(before.second, after.second, 1e-9);
}

TEST(Camera2D, PanFollowsThePointerAndRectRoundTrips) {
  Camera2D c{10, 10, 2};
  auto p = pan_by(c, 4, -2);
  EXPECT_DOUBLE_EQ(p.center_x, 8);
  EXPECT_DOUBLE_EQ(p.center_y, 11);
  auto r = view_rect(c, 200, 100);
  auto back = camera_from_rect(r, 200, 100);
  EXPECT_DOUBLE_EQ(back.center_x, c.center_x);
  EXPECT_DOUBLE_EQ(back.zoom, c.zoom);
}
