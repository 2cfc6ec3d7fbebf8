// RGB(A) images as one layer drawn in colour (napari's rgb=True): a Pillow PNG with the
// samples last, and a channel-first colour array (zarr/OME-Zarr c, y, x) in memory.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "../data/fixtures.hpp"
#include "voxcast/data/in_memory.hpp"
#include "voxcast/render/slice_renderer.hpp"

using namespace voxcast;
using namespace voxcast::render;

namespace {
const uint8_t* px(const Frame& f, int x, int y) { return &f.rgba[(static_cast<size_t>(y) * f.width + x) * 4]; }

Frame render_one_to_one(const data::VolumeSource& v, Interpolation interp = Interpolation::nearest) {
  const auto& info = v.info();
  const int h = static_cast<int>(info.shape[info.channel_axis == 0 ? 1 : 0]);
  const int w = static_cast<int>(info.shape[info.channel_axis == 0 ? 2 : 1]);
  Scene s = make_initial_scene(info, w, h);
  s.camera = Camera2D{(w - 1) / 2.0, (h - 1) / 2.0, 1.0};
  for (auto& l : s.layers) l.interpolation = interp;
  SliceRenderer r(2);
  Frame f;
  EXPECT_FALSE(r.render(s, v, &f));
  return f;
}
}  // namespace

TEST(Rgb, PillowPngIsOneLayerInColour) {
  voxcast::testing::TempDir dir;
  for (int samples : {3, 4}) {
    const std::string path = dir / ("rgb" + std::to_string(samples) + ".png");
    std::string cmd = "/usr/bin/python3 " VOXCAST_TEST_DATA_DIR "/write_lab_files.py rgb '" + path +
                      "' '{\"format\": \"png\", \"samples\": " + std::to_string(samples) + "}'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    auto src = voxcast::testing::open_or_fail(path);
    ASSERT_TRUE(src);
    Scene s = make_initial_scene(src->info(), 20, 12);
    ASSERT_EQ(s.layers.size(), 1u) << "one layer, not one per sample";
    EXPECT_TRUE(s.layers[0].rgb);
    EXPECT_EQ(s.layers[0].contrast_limits, (std::array<double, 2>{0, 255}));
    for (Interpolation interp : {Interpolation::nearest, Interpolation::linear}) {
      Frame f = render_one_to_one(*src, interp);
      const double a = samples == 4 ? 128 / 255.0 : 1.0;  // alpha over the black canvas
      for (int y : {0, 6, 11})
        for (int x : {0, 9, 19}) {
          EXPECT_NEAR(px(f, x, y)[0], (10 * x) % 256 * a, 1.5) << samples << " red " << x << "," << y;
          EXPECT_NEAR(px(f, x, y)[1], (10 * y) % 256 * a, 1.5) << samples << " green";
          EXPECT_NEAR(px(f, x, y)[2], 200 * a, 1.5) << samples << " blue";
        }
    }
  }
}

TEST(Rgb, ZarrAndOmeZarrColourArrays) {
  voxcast::testing::TempDir dir;
  for (const char* spec : {R"({"ome": false})", R"({"ome": true})"}) {
    const std::string path = dir / (std::string(spec).find("true") != std::string::npos ? "ome.zarr" : "plain.zarr");
    std::string cmd = "/usr/bin/python3 " VOXCAST_TEST_DATA_DIR "/write_lab_files.py rgb-zarr '" + path + "' '" + spec + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    auto src = voxcast::testing::open_or_fail(path);
    ASSERT_TRUE(src);
    EXPECT_TRUE(src->info().rgb) << spec;
    Scene s = make_initial_scene(src->info(), 20, 12);
    ASSERT_EQ(s.layers.size(), 1u) << spec;
    EXPECT_EQ(s.dims.labels, (std::vector<std::string>{"y", "x"})) << spec;
    Frame f = render_one_to_one(*src);
    EXPECT_EQ(px(f, 7, 5)[0], 70) << spec;
    EXPECT_EQ(px(f, 7, 5)[1], 50) << spec;
    EXPECT_EQ(px(f, 7, 5)[2], 200) << spec;
  }
}

TEST(Rgb, ChannelFirstColourArrayAndNan) {
  // c, y, x = 3 x 2 x 3 float32: red ramps along x, green is 0.5, blue 1; one NaN sample.
  data::VolumeInfo info;
  info.name = "rgb";
  info.axes = {{"c", "channel", 1, 0, ""}, {"y", "space", 1, 0, ""}, {"x", "space", 1, 0, ""}};
  info.shape = {3, 2, 3};
  info.dtype = data::DType::f32;
  info.channel_axis = 0;
  info.rgb = true;
  for (int c = 0; c < 3; ++c) info.channels.push_back(data::make_channel("rgb", "gray", 0, 1));
  data::ensure_levels(&info);
  std::vector<float> v = {0, 0.5f, 1, 0, 0.5f, 1,  0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f,  1, 1, 1, 1, 1, NAN};
  std::vector<uint8_t> bytes(v.size() * 4);
  std::memcpy(bytes.data(), v.data(), bytes.size());
  data::InMemoryArray src(info, bytes);
  Frame f = render_one_to_one(src);
  EXPECT_EQ(px(f, 0, 0)[0], 0);
  EXPECT_NEAR(px(f, 1, 0)[0], 128, 1);
  EXPECT_EQ(px(f, 2, 0)[0], 255);
  EXPECT_NEAR(px(f, 2, 0)[1], 128, 1);
  EXPECT_EQ(px(f, 2, 0)[2], 255);
  EXPECT_EQ(px(f, 2, 1)[0] + px(f, 2, 1)[1] + px(f, 2, 1)[2], 0) << "a NaN sample: the pixel is not drawn";
}
