// The 2D renderer over a multiscale source: level choice, view-only reads, a coarser
// stand-in while the wanted level loads, refinement and prefetch.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "voxcast/data/zarr.hpp"

#include <cmath>

#include "voxcast/render/camera2d.hpp"
#include "voxcast/render/slice_renderer.hpp"

using namespace voxcast;
using namespace voxcast::render;

namespace {

// z, y, x; three levels halving y and x. Level L reads as 10 * (L + 1) everywhere.
class Pyramid final : public data::VolumeSource {
 public:
  Pyramid(int64_t z, int64_t y, int64_t x) {
    info_.name = "pyramid";
    info_.axes = {{"z", "space", 1, 0, ""}, {"y", "space", 1, 0, ""}, {"x", "space", 1, 0, ""}};
    info_.shape = {z, y, x};
    info_.dtype = data::DType::u16;
    info_.channels = {data::make_channel("p", "gray", 0, 40)};
    for (int l = 0; l < 3; ++l) {
      double f = 1 << l;
      info_.levels.push_back({{z, y >> l, x >> l}, {1, f, f}, {1, 64, 64}});
    }
  }
  const data::VolumeInfo& info() const override { return info_; }
  std::optional<data::DataError> read_level(int level, const data::Box& box, float* out) const override {
    if (auto why = data::check_box(box, info_.levels[static_cast<size_t>(level)].shape)) return data::DataError{"p", *why};
    std::lock_guard lock(m_);
    reads.push_back({level, box});
    std::fill(out, out + box.count(), 10.0f * static_cast<float>(level + 1));
    return std::nullopt;
  }
  bool request(int level, const data::Box& box, data::RequestHint hint) const override {
    std::lock_guard lock(m_);
    if (!hint.check_only) requests.push_back({level, box, hint.lane});
    return ready.count(level) > 0;
  }
  struct Read {
    int level;
    data::Box box;
  };
  struct Request {
    int level;
    data::Box box;
    int lane;
  };
  mutable std::set<int> ready{0, 1, 2};
  mutable std::vector<Read> reads;
  mutable std::vector<Request> requests;

 private:
  data::VolumeInfo info_;
  mutable std::mutex m_;
};

Scene scene_for(const Pyramid& p, int w, int h) {
  Scene s = make_initial_scene(p.info(), w, h);
  s.layers[0].contrast_limits = {0, 40};
  return s;
}

int centre_value(const Frame& f) { return f.rgba[(static_cast<size_t>(f.height / 2) * f.width + f.width / 2) * 4]; }

}  // namespace

TEST(Multiscale2D, PicksTheLevelWhoseVoxelMatchesAPixel) {
  Pyramid p(4, 1024, 1024);
  SliceRenderer r(1, 0);
  Frame f;
  Scene s = scene_for(p, 256, 256);  // fitted: ~4.4 level-0 voxels per pixel
  ASSERT_FALSE(r.render(s, p, &f));
  EXPECT_EQ(r.last().level, 2);
  EXPECT_TRUE(r.last().complete);
  EXPECT_EQ(centre_value(f), static_cast<int>(30 * 255 / 40.0 + 0.5));
  s.camera.zoom = 1.0;  // one voxel per pixel: full resolution
  ASSERT_FALSE(r.render(s, p, &f));
  EXPECT_EQ(r.last().level, 0);
  s.camera.zoom = 0.5;  // two voxels per pixel: level 1
  ASSERT_FALSE(r.render(s, p, &f));
  EXPECT_EQ(r.last().level, 1);
}

TEST(Multiscale2D, ReadsOnlyTheVisibleRegion) {
  Pyramid p(4, 4096, 4096);
  SliceRenderer r(1, 0);
  Frame f;
  Scene s = scene_for(p, 200, 100);
  s.camera.zoom = 2.0;  // 100 x 50 voxels of level 0 on screen
  s.camera.center_x = 1000;
  s.camera.center_y = 3000;
  ASSERT_FALSE(r.render(s, p, &f));
  ASSERT_FALSE(p.reads.empty());
  const auto& box = p.reads.back().box;
  EXPECT_EQ(p.reads.back().level, 0);
  EXPECT_LE(box.size[1], 256);
  EXPECT_LE(box.size[2], 256);
  EXPECT_LE(box.start[2], 950);
  EXPECT_GE(box.start[2] + box.size[2], 1050);
  EXPECT_LE(box.start[1], 2975);
  EXPECT_GE(box.start[1] + box.size[1], 3025);
  // The same view again reuses the plane: no new read.
  size_t reads = p.reads.size();
  ASSERT_FALSE(r.render(s, p, &f));
  EXPECT_EQ(p.reads.size(), reads);
}

TEST(Multiscale2D, ACoarserLevelStandsInUntilTheWantedOneArrives) {
  Pyramid p(4, 1024, 1024);
  p.ready = {2};  // only the coarsest level is in memory
  SliceRenderer r(1, 5.0);
  Frame f;
  Scene s = scene_for(p, 256, 256);
  s.camera.zoom = 1.0;  // wants level 0
  ASSERT_FALSE(r.render(s, p, &f));
  EXPECT_EQ(r.last().wanted_level, 0);
  EXPECT_EQ(r.last().level, 2);
  EXPECT_FALSE(r.last().complete);
  EXPECT_EQ(centre_value(f), static_cast<int>(30 * 255 / 40.0 + 0.5));
  EXPECT_FALSE(r.refinement_ready(p));
  // The wanted level was requested (in the layer's lane) before standing in.
  bool asked = false;
  for (const auto& q : p.requests) asked = asked || (q.level == 0 && q.lane == 0);
  EXPECT_TRUE(asked);
  p.ready.insert(1);  // a finer stand-in: still not the wanted level
  EXPECT_FALSE(r.refinement_ready(p));
  p.ready.insert(0);
  EXPECT_TRUE(r.refinement_ready(p));
  ASSERT_FALSE(r.render(s, p, &f));
  EXPECT_TRUE(r.last().complete);
  EXPECT_EQ(r.last().level, 0);
  EXPECT_EQ(centre_value(f), static_cast<int>(10 * 255 / 40.0 + 0.5));
}

TEST(Multiscale2D, PrefetchesTheNextSlicesInTheSliderDirection) {
  Pyramid p(20, 256, 256);
  SliceRenderer r(1, 0);
  Frame f;
  Scene s = scene_for(p, 256, 256);
  s.camera.zoom = 1.0;
  s.dims.current_step[0] = 5;
  ASSERT_FALSE(r.render(s, p, &f));
  p.requests.clear();
  s.dims.current_step[0] = 6;
  ASSERT_FALSE(r.render(s, p, &f));
  bool ahead = false, behind = false;
  for (const auto& q : p.requests) {
    if (q.lane < 1000) continue;
    int64_t z0 = q.box.start[0], z1 = z0 + q.box.size[0];
    ahead = ahead || (z0 <= 7 && z1 >= 10);
    behind = behind || z0 < 6;
  }
  EXPECT_TRUE(ahead);
  EXPECT_FALSE(behind);
}

TEST(Multiscale2D, ASingleLevelPlaneLargerThanTheCacheStreamsThroughItsChunks) {
  // One level of 4096 x 4096 in 1024 chunks of 128 x 128 (each one value), a 4 MB cache
  // (about 120 of them): a fitted view needs every chunk, sampled every 16 voxels.
  char tmpl[] = "/tmp/voxcast-stream-XXXXXX";
  const std::string dir = std::string(mkdtemp(tmpl)) + "/big.zarr";
  data::ZarrArrayMeta m;
  m.shape = {1, 4096, 4096};
  m.chunks = {1, 128, 128};
  m.compressor.id = "blosc";
  auto value = [](int64_t y, int64_t x) { return static_cast<uint16_t>(1 + (y / 128 * 32 + x / 128) % 200); };
  ASSERT_FALSE(data::write_zarr_array(dir, m, [&](const std::vector<int64_t>& s, const std::vector<int64_t>& shape,
                                                  std::vector<uint8_t>* bytes) {
    std::fill_n(reinterpret_cast<uint16_t*>(bytes->data()), shape[1] * shape[2], value(s[1], s[2]));
    return true;
  }, 2));
  auto cache = std::make_shared<data::ChunkCache>(size_t{4} << 20, 2);
  auto opened = data::open_zarr(dir, cache);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<data::VolumeSource>>(opened)) << std::get<data::DataError>(opened).message;
  auto& src = *std::get<std::unique_ptr<data::VolumeSource>>(opened);
  SliceRenderer r(1, 1.0);
  Frame f;
  Scene s = make_initial_scene(src.info(), 256, 256);
  s.layers[0].contrast_limits = {0, 255};
  s.layers[0].colormap = "gray";
  ASSERT_FALSE(r.render(s, src, &f));
  EXPECT_FALSE(r.last().complete) << "all 1024 chunks in the first millisecond";
  EXPECT_TRUE(r.refinement_ready(src));
  // The centre came first.
  EXPECT_EQ(centre_value(f), value(2048, 2048));
  int frames = 1;
  while (!r.last().complete && frames < 500) {
    ASSERT_FALSE(r.render(s, src, &f));
    EXPECT_LE(cache->stats().resident_bytes, cache->stats().budget_bytes);
    ++frames;
  }
  ASSERT_TRUE(r.last().complete) << frames << " frames";
  EXPECT_GT(frames, 1);
  // Every pixel shows the value of the chunk its sample falls in (black outside the data).
  const ViewRect rect = view_rect(s.camera, 256, 256);
  const double wpp = 1.0 / s.camera.zoom;
  const auto step = static_cast<int64_t>(std::floor(wpp));
  auto sampled = [&](double first, int p) {
    double w = first + (p + 0.5) * wpp;
    return static_cast<int64_t>(std::floor(w / static_cast<double>(step))) * step;
  };
  int bad = 0;
  for (int py = 0; py < 256; py += 17)
    for (int px = 0; px < 256; px += 13) {
      int got = f.rgba[(static_cast<size_t>(py) * 256 + static_cast<size_t>(px)) * 4];
      int64_t y = sampled(rect.top, py), x = sampled(rect.left, px);
      int want = y < 0 || x < 0 || y >= 4096 || x >= 4096 ? 0 : value(y, x);
      if (got != want && bad++ < 3) ADD_FAILURE() << "pixel " << px << "," << py << ": " << got << " want " << want;
    }
  EXPECT_EQ(bad, 0);
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path(), ec);
}
