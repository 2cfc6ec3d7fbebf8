// The 2D renderer over a multiscale source: level choice, view-only reads, a coarser
// stand-in while the wanted level loads, refinement and prefetch.
#include <gtest/gtest.h>

#include <mutex>
#include <set>

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
