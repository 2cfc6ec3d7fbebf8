// The CUDA renderer against the CPU renderer on the same scenes. Needs a GPU: on
// machines without one the tests are skipped (and say why).
#include <gtest/gtest.h>

#include <cmath>

#include "cuda_volume_renderer.hpp"
#include "scene3d.hpp"
#include "test_volume.hpp"
#include "voxcast/codec/yuv.hpp"
#include "voxcast/render/camera3d.hpp"

using namespace voxcast;
using namespace voxcast::render;

TEST(CudaRenderer, EveryModeMatchesTheCpuRenderer) {
  std::string why;
  if (!CudaVolumeRenderer::available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  voxcast::testing::FunctionVolume vol(2, 40, 48, 56, [](int c, int z, int y, int x) {
    return static_cast<float>(50 + 40 * std::sin(0.3 * x + c) * std::cos(0.25 * y) * std::sin(0.35 * z + 0.3));
  });
  for (RenderMode mode : {RenderMode::mip, RenderMode::minip, RenderMode::average, RenderMode::attenuated_mip,
                          RenderMode::iso, RenderMode::translucent, RenderMode::additive}) {
    for (bool perspective : {false, true}) {
      Scene s = voxcast::testing::oblique_scene3d(vol, 320, 240);
      if (perspective) s.camera3d.fov = 40;
      for (auto& l : s.layers) l.rendering = mode;
      VolumeRenderer cpu(4, 33);
      CudaVolumeRenderer gpu;
      Frame a, b;
      ASSERT_FALSE(cpu.render(s, vol, &a));
      auto err = gpu.render(s, vol, &b);
      ASSERT_FALSE(err) << err->message;
      ASSERT_EQ(a.rgba.size(), b.rgba.size());
      double psnr = codec::psnr_rgba(a.rgba.data(), b.rgba.data(), a.width, a.height);
      std::printf("cuda vs cpu %-15s %s PSNR %.1f dB\n", render_mode_name(mode), perspective ? "persp" : "ortho", psnr);
      EXPECT_GE(psnr, 40.0) << render_mode_name(mode) << (perspective ? " perspective" : " orthographic");
    }
  }
}

TEST(CudaRenderer, GpuColourConversionMatchesTheCpuOne) {
  std::string why;
  if (!CudaVolumeRenderer::available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  voxcast::testing::FunctionVolume vol(1, 16, 16, 16, [](int, int z, int y, int x) { return static_cast<float>((x * 7 + y * 3 + z) % 100); });
  Scene s = voxcast::testing::oblique_scene3d(vol, 64, 48);
  CudaVolumeRenderer gpu;
  Frame f;
  ASSERT_FALSE(gpu.render(s, vol, &f));
  codec::YuvImage cpu_yuv, gpu_yuv;
  cpu_yuv.resize(64, 48);
  gpu_yuv.resize(64, 48);
  codec::rgba_to_i420(f.rgba.data(), 64, 48, 64 * 4, cpu_yuv.planes(), nullptr);
  ASSERT_FALSE(gpu.render_i420(s, vol, gpu_yuv.planes()));
  EXPECT_EQ(cpu_yuv.y, gpu_yuv.y);
  EXPECT_EQ(cpu_yuv.u, gpu_yuv.u);
  EXPECT_EQ(cpu_yuv.v, gpu_yuv.v);
}

TEST(CudaRenderer, MultiscaleLevelFollowsTheScreenFootprint) {
  std::string why;
  if (!CudaVolumeRenderer::available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  voxcast::testing::FunctionVolume vol(1, 64, 64, 64, [](int, int z, int y, int x) {
    return static_cast<float>(50 + 40 * std::sin(0.15 * x) * std::cos(0.12 * y) * std::sin(0.1 * z));
  });
  // A 64^3 volume on a 16x16 canvas: 4 voxels per pixel, level 2 holds all visible detail.
  Scene small = voxcast::testing::oblique_scene3d(vol, 16, 16);
  CudaVolumeRenderer gpu;
  Frame f;
  ASSERT_FALSE(gpu.render(small, vol, &f));
  EXPECT_EQ(gpu.last().level, 2);
  Scene big = voxcast::testing::oblique_scene3d(vol, 256, 256);
  ASSERT_FALSE(gpu.render(big, vol, &f));
  EXPECT_EQ(gpu.last().level, 0);
  // The CPU renderer picks the same level and draws the same picture.
  VolumeRenderer cpu(2, 33);
  Frame c, g;
  ASSERT_FALSE(cpu.render(small, vol, &c));
  ASSERT_FALSE(gpu.render(small, vol, &g));
  EXPECT_EQ(cpu.last().level, 2);
  EXPECT_GE(codec::psnr_rgba(c.rgba.data(), g.rgba.data(), c.width, c.height), 40.0);
}

// NaN outside a mask and ±inf: the GPU sees what the CPU sees (replace_non_finite in the
// shared read), so every mode matches the CPU renderer and nothing reads outside the LUT.
TEST(CudaRenderer, NanAndInfinitiesMatchTheCpuRenderer) {
  std::string why;
  if (!CudaVolumeRenderer::available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  voxcast::testing::FunctionVolume vol(1, 24, 32, 40, [](int, int z, int y, int x) {
    if (x < 20 && y < 16) return NAN;
    if (x == 39 && y == 31) return z % 2 ? INFINITY : -INFINITY;
    return static_cast<float>(50 + 40 * std::sin(0.3 * x) * std::cos(0.25 * y) * std::sin(0.35 * z + 0.3));
  });
  for (RenderMode mode : {RenderMode::mip, RenderMode::minip, RenderMode::average, RenderMode::attenuated_mip,
                          RenderMode::iso, RenderMode::translucent, RenderMode::additive}) {
    Scene s = voxcast::testing::oblique_scene3d(vol, 160, 120);
    s.layers[0].rendering = mode;
    VolumeRenderer cpu(4, 33);
    CudaVolumeRenderer gpu;
    Frame a, b;
    ASSERT_FALSE(cpu.render(s, vol, &a));
    auto err = gpu.render(s, vol, &b);
    ASSERT_FALSE(err) << err->message;
    ASSERT_EQ(a.rgba.size(), b.rgba.size());
    double psnr = codec::psnr_rgba(a.rgba.data(), b.rgba.data(), a.width, a.height);
    std::printf("cuda vs cpu with NaN %-15s PSNR %.1f dB\n", render_mode_name(mode), psnr);
    EXPECT_GE(psnr, 40.0) << render_mode_name(mode);
  }
}

namespace {
CudaVolumeRenderer bricked_gpu(const char* bricks) {
  VolumeBackendOptions o;
  o.bricks = bricks;
  o.gpu_mb = 256;
  o.cpu_mb = 256;
  return CudaVolumeRenderer(o);
}
}  // namespace

TEST(CudaBricks, AVolumeThatFitsRendersAsTheSingleTexture) {
  std::string why;
  if (!CudaVolumeRenderer::available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  voxcast::testing::FunctionVolume vol(2, 72, 80, 96, [](int c, int z, int y, int x) {
    return static_cast<float>(50 + 40 * std::sin(0.3 * x + c) * std::cos(0.25 * y) * std::sin(0.35 * z + 0.3));
  });
  for (RenderMode mode : {RenderMode::mip, RenderMode::minip, RenderMode::average, RenderMode::attenuated_mip,
                          RenderMode::iso, RenderMode::translucent, RenderMode::additive}) {
    for (bool perspective : {false, true}) {
      Scene s = voxcast::testing::oblique_scene3d(vol, 320, 240);
      if (perspective) s.camera3d.fov = 40;
      for (auto& l : s.layers) l.rendering = mode;
      CudaVolumeRenderer single = bricked_gpu("never"), bricks = bricked_gpu("always");
      VolumeRenderer cpu_bricks(4, 33, 4096, "always");
      Frame a, b, c;
      ASSERT_FALSE(single.render(s, vol, &a));
      auto err = bricks.render(s, vol, &b);
      ASSERT_FALSE(err) << err->message;
      ASSERT_FALSE(cpu_bricks.render(s, vol, &c));
      EXPECT_TRUE(bricks.last().bricked);
      EXPECT_TRUE(bricks.last().complete);
      double q = codec::psnr_rgba(a.rgba.data(), b.rgba.data(), a.width, a.height);
      double qc = codec::psnr_rgba(c.rgba.data(), b.rgba.data(), a.width, a.height);
      std::printf("cuda bricks vs texture %-15s %s PSNR %.1f dB (vs cpu bricks %.1f dB)\n", render_mode_name(mode),
                  perspective ? "persp" : "ortho", q, qc);
      EXPECT_GE(q, 45.0) << render_mode_name(mode) << (perspective ? " perspective" : " orthographic");
      EXPECT_GE(qc, 40.0) << render_mode_name(mode) << (perspective ? " perspective" : " orthographic");
    }
  }
}

TEST(CudaBricks, AGradientShowsNoSeamsAtBrickBorders) {
  std::string why;
  if (!CudaVolumeRenderer::available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  voxcast::testing::FunctionVolume vol(1, 64, 64, 128, [](int, int z, int y, int x) {
    return static_cast<float>(0.5 * x + 0.3 * y + 0.2 * z);
  });
  for (Interpolation interp : {Interpolation::linear, Interpolation::nearest}) {
    Scene s = voxcast::testing::oblique_scene3d(vol, 256, 128);
    s.camera3d = fit_camera3d(s.dims, 256, 128);
    for (auto& l : s.layers) {
      l.rendering = RenderMode::average;
      l.contrast_limits = {0, 100};
      l.interpolation = interp;
    }
    CudaVolumeRenderer single = bricked_gpu("never"), bricks = bricked_gpu("always");
    Frame a, b;
    ASSERT_FALSE(single.render(s, vol, &a));
    ASSERT_FALSE(bricks.render(s, vol, &b));
    int worst = 0;
    for (size_t i = 0; i < a.rgba.size(); ++i) worst = std::max(worst, std::abs(int{a.rgba[i]} - int{b.rgba[i]}));
    std::printf("cuda bricks gradient %s: worst difference %d\n", interp == Interpolation::linear ? "linear" : "nearest",
                worst);
    EXPECT_LE(worst, 2);
  }
}

TEST(CudaBricks, CoarserBricksStandInThenTheStillRefines) {
  std::string why;
  if (!CudaVolumeRenderer::available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  voxcast::testing::FieldPyramid vol(256, 4);
  vol.ready = {3};
  Scene s = voxcast::testing::oblique_scene3d(vol, 256, 256);
  s.camera3d = fit_camera3d(s.dims, 256, 256);
  s.camera3d.zoom *= 4;
  s.interactive = true;
  CudaVolumeRenderer gpu = bricked_gpu("always");
  codec::YuvImage yuv;
  yuv.resize(256, 256);
  ASSERT_FALSE(gpu.render_i420(s, vol, yuv.planes()));
  EXPECT_FALSE(gpu.last().complete);
  EXPECT_GT(gpu.last().residency.samples[3], 0);
  EXPECT_EQ(gpu.last().residency.samples[0], 0);
  vol.ready = {0, 1, 2, 3};
  EXPECT_TRUE(gpu.refinement_ready(vol));
  Frame still;
  ASSERT_FALSE(gpu.render(s, vol, &still));  // the RGBA path renders the still
  EXPECT_TRUE(gpu.last().complete);
  EXPECT_EQ(gpu.last().level, 0);
  EXPECT_GT(gpu.last().residency.samples[0], 0);
}

// A layer that shows other data (another channel, time point) keeps its id: the GPU pool
// must not draw its previous data from the slots it still holds.
TEST(CudaBricks, ALayerShowingOtherDataDrawsTheNewData) {
  std::string why;
  if (!CudaVolumeRenderer::available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  voxcast::testing::FunctionVolume vol(2, 48, 56, 64, [](int c, int z, int y, int x) {
    return static_cast<float>(c == 0 ? 20 + 0.5 * x : 90 - 0.4 * y + 0.2 * z);
  });
  Scene s = voxcast::testing::oblique_scene3d(vol, 160, 120);
  for (auto& l : s.layers) l.rendering = RenderMode::mip;
  s.layers[1].visible = false;
  CudaVolumeRenderer kept = bricked_gpu("always");
  Frame before, after, fresh_frame;
  ASSERT_FALSE(kept.render(s, vol, &before));
  s.layers[0].channel = 1;  // same layer id, the other channel's data
  ASSERT_FALSE(kept.render(s, vol, &after));
  CudaVolumeRenderer fresh = bricked_gpu("always");
  ASSERT_FALSE(fresh.render(s, vol, &fresh_frame));
  EXPECT_TRUE(kept.last().complete);
  EXPECT_EQ(after.rgba, fresh_frame.rgba);
  EXPECT_NE(before.rgba, after.rgba);
}
