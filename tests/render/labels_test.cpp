// Label images in 2D: napari's cyclic colours for ids of any size, explicit colours
// (OME-Zarr image-label, an atlas table) with their alpha, background transparent,
// never interpolated.
#include <gtest/gtest.h>

#include <cmath>

#include "test_volume.hpp"
#include "voxcast/render/slice_renderer.hpp"

using namespace voxcast;
using namespace voxcast::render;

namespace {
const uint8_t* px(const Frame& f, int x, int y) { return &f.rgba[(static_cast<size_t>(y) * f.width + x) * 4]; }
uint8_t u8(float v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); }

// A label volume whose x column holds ids[x] (the value a float can hold exactly).
class LabelVolume final : public data::VolumeSource {
 public:
  LabelVolume(std::vector<float> ids, std::shared_ptr<const data::LabelTable> table) : ids_(std::move(ids)) {
    info_.name = "labels";
    info_.axes = {{"y", "space", 1, 0, ""}, {"x", "space", 1, 0, ""}};
    info_.shape = {2, static_cast<int64_t>(ids_.size())};
    info_.dtype = data::DType::u32;
    data::ChannelInfo ch = data::make_channel("labels", "label", 0, 255);
    ch.labels = true;
    ch.label_table = std::move(table);
    info_.channels = {ch};
    data::ensure_levels(&info_);
  }
  const data::VolumeInfo& info() const override { return info_; }
  std::optional<data::DataError> read_level(int, const data::Box& b, float* out) const override {
    for (int64_t y = 0; y < b.size[0]; ++y)
      for (int64_t x = 0; x < b.size[1]; ++x) *out++ = ids_[static_cast<size_t>(b.start[1] + x)];
    return std::nullopt;
  }

 private:
  std::vector<float> ids_;
  data::VolumeInfo info_;
};

Frame render_labels(const data::VolumeSource& v, Interpolation interp, double opacity = 1.0) {
  Scene s = make_initial_scene(v.info(), static_cast<int>(v.info().shape[1]), 2);
  s.camera = Camera2D{(s.width - 1) / 2.0, 0.5, 1.0};
  s.layers[0].opacity = opacity;
  s.layers[0].blending = Blending::translucent;
  s.layers[0].interpolation = interp;
  SliceRenderer r(1);
  Frame f;
  EXPECT_FALSE(r.render(s, v, &f));
  return f;
}
}  // namespace

TEST(Labels, IdsOfAnySizeTakeNapariCyclicColours) {
  // Cellpose masks and FreeSurfer ids run past 255; each id keeps its own colour.
  std::vector<float> ids = {0, 1, 2, 255, 256, 1000, 2001, 70000, 16777216};
  LabelVolume vol(ids, nullptr);
  for (Interpolation interp : {Interpolation::nearest, Interpolation::linear}) {
    Frame f = render_labels(vol, interp);
    EXPECT_EQ(px(f, 0, 0)[0] + px(f, 0, 0)[1] + px(f, 0, 0)[2], 0) << "background transparent over black";
    for (size_t x = 1; x < ids.size(); ++x) {
      Rgb want = label_color(static_cast<int64_t>(ids[x]));
      EXPECT_NEAR(px(f, static_cast<int>(x), 1)[0], u8(want.r), 1) << "id " << ids[x];
      EXPECT_NEAR(px(f, static_cast<int>(x), 1)[1], u8(want.g), 1) << "id " << ids[x];
      EXPECT_NEAR(px(f, static_cast<int>(x), 1)[2], u8(want.b), 1) << "id " << ids[x];
    }
    // 255 and 256 differ (they used to share one colour).
    EXPECT_NE(std::vector<uint8_t>(px(f, 3, 0), px(f, 3, 0) + 3), std::vector<uint8_t>(px(f, 4, 0), px(f, 4, 0) + 3));
  }
}

TEST(Labels, ExplicitColoursWinWithTheirAlpha) {
  auto table = std::make_shared<data::LabelTable>();
  table->colors[2] = {1.0f, 0.5f, 0.0f, 1.0f};
  table->colors[100000] = {0.0f, 0.0f, 1.0f, 0.5f};  // beyond the dense table
  LabelVolume vol({0, 2, 3, 100000}, table);
  Frame f = render_labels(vol, Interpolation::nearest);
  EXPECT_EQ(px(f, 1, 0)[0], 255);
  EXPECT_EQ(px(f, 1, 0)[1], 128);
  EXPECT_EQ(px(f, 1, 0)[2], 0);
  Rgb three = label_color(3);  // no explicit colour: the cycle
  EXPECT_NEAR(px(f, 2, 0)[1], u8(three.g), 1);
  EXPECT_EQ(px(f, 3, 0)[2], 128) << "alpha 0.5 over black";
  // The layer's opacity multiplies (napari's labels default: 0.7).
  Frame g = render_labels(vol, Interpolation::nearest, 0.7);
  EXPECT_NEAR(g.rgba[4 * 1 + 0], 0.7 * 255, 1);
}
