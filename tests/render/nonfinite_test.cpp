// NaN and ±inf through every render path: 2D (nearest fast path, linear, several layers,
// a pyramid's coarse level), 3D on the CPU in every mode, contrast estimation. NaN is
// drawn transparent as napari does; contrast comes from the finite values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "../data/fixtures.hpp"
#include "test_volume.hpp"
#include "voxcast/data/contrast.hpp"
#include "voxcast/render/camera3d.hpp"
#include "voxcast/render/slice_renderer.hpp"
#include "voxcast/render/volume_renderer.hpp"

using namespace voxcast;
using namespace voxcast::render;

namespace {
const uint8_t* px(const Frame& f, int x, int y) { return &f.rgba[(static_cast<size_t>(y) * f.width + x) * 4]; }

// 8 x 8 planes: NaN where x < 4 and y < 4, +inf at (7, 7), -inf at (6, 7), 50 elsewhere.
float nan_value(int, int, int y, int x) {
  if (x < 4 && y < 4) return NAN;
  if (y == 7 && x == 7) return INFINITY;
  if (y == 7 && x == 6) return -INFINITY;
  return 50.0f;
}

Scene one_to_one(const data::VolumeInfo& info, int w, int h) {
  Scene s = make_initial_scene(info, w, h);
  s.camera = Camera2D{(w - 1) / 2.0, (h - 1) / 2.0, 1.0};
  for (auto& l : s.layers) {
    l.colormap = "gray";
    l.contrast_limits = {0, 100};
    l.blending = Blending::additive;
  }
  return s;
}
}  // namespace

TEST(NonFinite, NanIsTransparentAndInfinitiesSaturateIn2D) {
  voxcast::testing::FunctionVolume vol(1, 2, 8, 8, nan_value);
  for (Interpolation interp : {Interpolation::nearest, Interpolation::linear}) {
    Scene s = one_to_one(vol.info(), 8, 8);
    s.layers[0].interpolation = interp;
    SliceRenderer r(2);
    Frame f;
    ASSERT_FALSE(r.render(s, vol, &f));
    EXPECT_EQ(px(f, 0, 0)[0], 0) << "NaN shows the black background";
    EXPECT_EQ(px(f, 3, 3)[0], 0);
    EXPECT_NEAR(px(f, 5, 2)[0], 128, 1) << "finite values as usual";
    EXPECT_EQ(px(f, 7, 7)[0], 255) << "+inf is the top of the colormap";
    EXPECT_EQ(px(f, 6, 7)[0], 0) << "-inf is the bottom";
    EXPECT_EQ(px(f, 0, 0)[3], 255);
  }
}

TEST(NonFinite, NanShowsTheLayerBeneath) {
  // Channel 0: 100 everywhere (red); channel 1: NaN block (green). Where channel 1 is NaN
  // only red shows; elsewhere both add up. Both the shared-grid fast path and the
  // per-layer path (one layer linear) must agree.
  voxcast::testing::FunctionVolume vol(2, 1, 8, 8, [](int c, int z, int y, int x) {
    return c == 0 ? 100.0f : nan_value(c, z, y, x);
  });
  for (Interpolation second : {Interpolation::nearest, Interpolation::linear}) {
    Scene s = one_to_one(vol.info(), 8, 8);
    s.layers[0].colormap = "red";
    s.layers[1].colormap = "green";
    s.layers[1].interpolation = second;
    SliceRenderer r(2);
    Frame f;
    ASSERT_FALSE(r.render(s, vol, &f));
    EXPECT_EQ(px(f, 1, 1)[0], 255);
    EXPECT_EQ(px(f, 1, 1)[1], 0) << "NaN adds nothing";
    EXPECT_EQ(px(f, 5, 5)[0], 255);
    EXPECT_NEAR(px(f, 5, 5)[1], 128, 1);
  }
}

TEST(NonFinite, LabelLayerNanIsTransparentToo) {
  voxcast::testing::FunctionVolume vol(1, 1, 8, 8, nan_value);
  Scene s = one_to_one(vol.info(), 8, 8);
  s.layers[0].colormap = "label";
  s.layers[0].contrast_limits = {0, 255};
  SliceRenderer r(1);
  Frame f;
  ASSERT_FALSE(r.render(s, vol, &f));
  EXPECT_EQ(px(f, 0, 0)[0] + px(f, 0, 0)[1] + px(f, 0, 0)[2], 0);
  EXPECT_GT(px(f, 5, 5)[0] + px(f, 5, 5)[1] + px(f, 5, 5)[2], 0);
}

TEST(NonFinite, ReplaceNonFiniteForTheRayCasters) {
  std::vector<float> v = {NAN, 3.0f, INFINITY, -2.0f, -INFINITY};
  replace_non_finite(&v);
  EXPECT_EQ(v[0], -2.0f) << "NaN becomes the smallest finite value";
  EXPECT_EQ(v[2], kInfinityStandIn);
  EXPECT_EQ(v[4], -kInfinityStandIn);
  EXPECT_TRUE(std::isfinite(v[2] - v[4])) << "interpolating between the two stays finite";
  std::vector<float> all_nan = {NAN, NAN};
  replace_non_finite(&all_nan);
  EXPECT_EQ(all_nan[0], 0.0f);
}

TEST(NonFinite, EveryThreeDModeRendersNanVolumes) {
  // A 16^3 volume: NaN in the half x < 8, a bright cube at its centre elsewhere.
  voxcast::testing::FunctionVolume vol(1, 16, 16, 16, [](int, int z, int y, int x) {
    if (x < 8) return NAN;
    if (x == 15 && y == 0) return INFINITY;
    if (x == 15 && y == 1) return -INFINITY;
    return (z > 4 && z < 12 && y > 4 && y < 12 && x > 9 && x < 14) ? 90.0f : 10.0f;
  });
  for (RenderMode mode : {RenderMode::mip, RenderMode::minip, RenderMode::average, RenderMode::attenuated_mip,
                          RenderMode::iso, RenderMode::translucent, RenderMode::additive}) {
    for (Interpolation interp : {Interpolation::nearest, Interpolation::linear}) {
      Scene s = make_initial_scene(vol.info(), 64, 64);
      s.dims.ndisplay = 3;
      s.camera3d = fit_camera3d(s.dims, 64, 64);
      s.layers[0].colormap = "gray";
      s.layers[0].contrast_limits = {10, 90};
      s.layers[0].iso_threshold = 50;
      s.layers[0].rendering = mode;
      s.layers[0].interpolation = interp;
      VolumeRenderer r(2, 1000);
      Frame f;
      ASSERT_FALSE(r.render(s, vol, &f)) << render_mode_name(mode);
      // Looking down z: the left half of the picture sees only NaN (dark: nothing drawn,
      // or the bottom of the colormap); the cube shows on the right (not in minip).
      const int lx = 32 - 20, rx = 32 + 12;
      EXPECT_LE(px(f, lx, 32)[0], 2) << render_mode_name(mode) << " NaN half";
      if (mode == RenderMode::mip || mode == RenderMode::iso || mode == RenderMode::translucent ||
          mode == RenderMode::attenuated_mip || mode == RenderMode::average) {
        EXPECT_GT(px(f, rx, 32)[0], 20) << render_mode_name(mode) << " finite half";
      }
    }
  }
}

TEST(NonFinite, ContrastComesFromFiniteValues) {
  voxcast::testing::FunctionVolume vol(1, 3, 8, 8, [](int, int, int y, int x) {
    if (x < 4 && y < 4) return NAN;
    if (x == 7) return y % 2 ? INFINITY : -INFINITY;
    return static_cast<float>(20 + x + y);
  });
  auto est = data::estimate_contrast(vol);
  using Limits = std::vector<std::array<double, 2>>;
  ASSERT_TRUE(std::holds_alternative<Limits>(est));
  auto lim = std::get<std::vector<std::array<double, 2>>>(est)[0];
  EXPECT_TRUE(std::isfinite(lim[0]) && std::isfinite(lim[1]));
  EXPECT_GE(lim[0], 20);
  EXPECT_LE(lim[1], 34);
  EXPECT_LT(lim[0], lim[1]);
  // Only NaN: no usable limits from the data, the dtype's range stays (finite).
  voxcast::testing::FunctionVolume nan_only(1, 1, 4, 4, [](int, int, int, int) { return NAN; });
  auto est2 = data::estimate_contrast(nan_only);
  auto lim2 = std::get<std::vector<std::array<double, 2>>>(est2)[0];
  EXPECT_TRUE(std::isfinite(lim2[0]) && std::isfinite(lim2[1]));
}

// The file a lab has: a float32 OME-Zarr pyramid written by python3-zarr with NaN outside
// a mask and a few infinities, shown in 2D at full resolution, through its coarsest level
// and in 3D.
TEST(NonFinite, NanOmeZarrPyramidFromPythonRendersIn2DAnd3D) {
  voxcast::testing::TempDir dir;
  const std::string path = dir / "nan.zarr";
  std::string cmd = "/usr/bin/python3 " VOXCAST_TEST_DATA_DIR "/write_lab_files.py nan-ome-zarr '" + path +
                    "' '{\"shape\": [16, 64, 64], \"levels\": 3}'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto src = voxcast::testing::open_or_fail(path);
  ASSERT_TRUE(src);
  ASSERT_EQ(src->info().levels.size(), 3u);
  ASSERT_EQ(src->info().dtype, data::DType::f32);
  Scene s = make_initial_scene(src->info(), 64, 64);
  const auto& lim = s.layers[0].contrast_limits;
  EXPECT_TRUE(std::isfinite(lim[0]) && std::isfinite(lim[1])) << lim[0] << " " << lim[1];
  EXPECT_GE(lim[0], 10);
  EXPECT_LE(lim[1], 99);
  s.layers[0].colormap = "gray";
  s.layers[0].contrast_limits = {0, 100};
  s.layers[0].blending = Blending::additive;
  // Full resolution (z = 8 is inside the NaN block's z range).
  s.camera = Camera2D{31.5, 31.5, 1.0};
  SliceRenderer r(2, 10000);  // waits for the wanted level: no stand-in
  Frame f;
  ASSERT_FALSE(r.render(s, *src, &f));
  EXPECT_EQ(r.last().level, 0);
  EXPECT_EQ(px(f, 5, 5)[0], 0);
  EXPECT_GT(px(f, 50, 50)[0], 0);
  EXPECT_EQ(px(f, 63, 63)[0], 255);  // +inf
  // Zoomed out 4x: the coarsest level (16 x 16), NaN still transparent.
  s.camera = Camera2D{31.5, 31.5, 0.25};
  ASSERT_FALSE(r.render(s, *src, &f));
  EXPECT_EQ(r.last().level, 2);
  EXPECT_EQ(px(f, 32 - 4, 32 - 4)[0], 0) << "NaN quadrant";
  EXPECT_GT(px(f, 32 + 4, 32 + 4)[0], 0) << "finite quadrant";
  // 3D, every voxel read once.
  s.dims.ndisplay = 3;
  s.camera3d = fit_camera3d(s.dims, 64, 64);
  VolumeRenderer vr(2, 1000);
  ASSERT_FALSE(vr.render(s, *src, &f));
  EXPECT_GT(px(f, 48, 48)[0], 0);
}
