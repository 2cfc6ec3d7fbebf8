#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "test_volume.hpp"
#include "voxcast/render/camera2d.hpp"
#include "voxcast/render/slice_renderer.hpp"

using namespace voxcast;
using namespace voxcast::render;

namespace {
const uint8_t* px(const Frame& f, int x, int y) { return &f.rgba[(static_cast<size_t>(y) * f.width + x) * 4]; }

// A scene that maps data pixels 1:1 onto a canvas of the data's size.
Scene one_to_one(const data::VolumeInfo& info, int w, int h) {
  Scene s = make_initial_scene(info, w, h);
  s.camera = Camera2D{(w - 1) / 2.0, (h - 1) / 2.0, 1.0};
  for (auto& l : s.layers) {
    l.contrast_limits = {0, 100};
    l.blending = Blending::additive;
  }
  return s;
}
}  // namespace

TEST(SliceRenderer, DataRowZeroIsAtTheTopAndColumnZeroAtTheLeft) {
  // One bright voxel at (y=0, x=W-1): it must land in the top-right corner.
  voxcast::testing::FunctionVolume vol(1, 1, 6, 8, [](int, int, int y, int x) { return (y == 0 && x == 7) ? 100.0f : 0.0f; });
  Scene s = one_to_one(vol.info(), 8, 6);
  s.layers[0].colormap = "gray";
  SliceRenderer r(2);
  Frame f;
  ASSERT_FALSE(r.render(s, vol, &f));
  EXPECT_EQ(px(f, 7, 0)[0], 255);
  EXPECT_EQ(px(f, 0, 0)[0], 0);
  EXPECT_EQ(px(f, 7, 5)[0], 0);
  EXPECT_EQ(px(f, 7, 0)[3], 255);
}

TEST(SliceRenderer, MatchesAPlainReferenceForContrastGammaAndColormap) {
  voxcast::testing::FunctionVolume vol(1, 3, 4, 4, [](int, int z, int y, int x) { return static_cast<float>(z * 20 + y * 4 + x); });
  Scene s = one_to_one(vol.info(), 4, 4);
  s.dims.current_step[0] = 2;
  s.layers[0].colormap = "gray";
  s.layers[0].contrast_limits = {40, 60};
  s.layers[0].gamma = 2.0;
  SliceRenderer r(1);
  Frame f;
  ASSERT_FALSE(r.render(s, vol, &f));
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      double v = 2 * 20 + y * 4 + x;
      double t = std::clamp((v - 40) / 20.0, 0.0, 1.0);
      double expect = std::pow(t, 2.0) * 255.0;
      EXPECT_NEAR(px(f, x, y)[0], expect, 2.0) << x << "," << y;
    }
}

TEST(SliceRenderer, ChannelsCompositeAdditively) {
  voxcast::testing::FunctionVolume vol(2, 1, 2, 2, [](int c, int, int, int x) { return (c == 0 || x == 1) ? 100.0f : 0.0f; });
  Scene s = one_to_one(vol.info(), 2, 2);
  s.layers[0].colormap = "red";
  s.layers[1].colormap = "green";
  SliceRenderer r(1);
  Frame f;
  ASSERT_FALSE(r.render(s, vol, &f));
  EXPECT_EQ(px(f, 0, 0)[0], 255);
  EXPECT_EQ(px(f, 0, 0)[1], 0);
  EXPECT_EQ(px(f, 1, 0)[0], 255);  // red + green = yellow
  EXPECT_EQ(px(f, 1, 0)[1], 255);
  s.layers[1].visible = false;
  ASSERT_FALSE(r.render(s, vol, &f));
  EXPECT_EQ(px(f, 1, 0)[1], 0);
  s.layers[1].visible = true;
  s.layers[1].opacity = 0.5;
  ASSERT_FALSE(r.render(s, vol, &f));
  EXPECT_NEAR(px(f, 1, 0)[1], 128, 1);
}

TEST(SliceRenderer, LinearInterpolationBlendsNeighbours) {
  voxcast::testing::FunctionVolume vol(1, 1, 1, 2, [](int, int, int, int x) { return x == 0 ? 0.0f : 100.0f; });
  Scene s = make_initial_scene(vol.info(), 8, 2);
  s.layers[0].colormap = "gray";
  s.layers[0].contrast_limits = {0, 100};
  s.layers[0].interpolation = Interpolation::linear;
  s.camera = Camera2D{0.5, 0.0, 4.0};  // canvas x spans world [-0.5, 1.5]
  SliceRenderer r(1);
  Frame f;
  ASSERT_FALSE(r.render(s, vol, &f));
  // Canvas pixel centres map to world x = -0.375 ... 1.375: the ramp rises left to right.
  for (int x = 1; x < 8; ++x) EXPECT_GE(px(f, x, 0)[0], px(f, x - 1, 0)[0]);
  EXPECT_NEAR(px(f, 3, 0)[0], 0.375 * 255, 3);  // world 0.375
  s.layers[0].interpolation = Interpolation::nearest;
  ASSERT_FALSE(r.render(s, vol, &f));
  EXPECT_EQ(px(f, 3, 0)[0], 0);
  EXPECT_EQ(px(f, 4, 0)[0], 255);
}

TEST(SliceRenderer, OutsideTheDataIsBlackAndErrorsPropagate) {
  voxcast::testing::FunctionVolume vol(1, 1, 2, 2, [](int, int, int, int) { return 100.0f; });
  Scene s = one_to_one(vol.info(), 2, 2);
  s.layers[0].colormap = "gray";
  s.camera = pan_by(s.camera, 10, 0);  // data moved off to the right
  SliceRenderer r(1);
  Frame f;
  ASSERT_FALSE(r.render(s, vol, &f));
  EXPECT_EQ(px(f, 0, 0)[0], 0);
  // A source that fails to read: the error comes back, naming the source.
  struct Broken final : voxcast::data::VolumeSource {
    const voxcast::testing::FunctionVolume& inner;
    explicit Broken(const voxcast::testing::FunctionVolume& v) : inner(v) {}
    const voxcast::data::VolumeInfo& info() const override { return inner.info(); }
    std::optional<voxcast::data::DataError> read_level(int, const voxcast::data::Box&, float*) const override {
      return voxcast::data::DataError{"broken.zarr/0/0.0.0", "corrupt chunk"};
    }
  } broken(vol);
  s.camera = fit_camera(s.dims, 2, 2);
  auto err = r.render(s, broken, &f);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->source, "broken.zarr/0/0.0.0");
}
