// Bricks copied between frames while the view moves: a moving frame copies only the
// coarsest level itself, the next frame adopts the copier's bricks (the same values as a
// synchronous copy), a still copies what it wants, and a copy of data no longer shown is
// never adopted. Also run under TSan (the copier's workers against the frames).
#include <gtest/gtest.h>

#include <memory>

#include "scene3d.hpp"
#include "test_volume.hpp"
#include "voxcast/render/brick_copier.hpp"
#include "voxcast/render/brick_store.hpp"
#include "voxcast/render/camera3d.hpp"

using namespace voxcast;
using namespace voxcast::render;

namespace {

Scene zoomed_moving_scene(const std::shared_ptr<const data::VolumeSource>& vol) {
  Scene s = voxcast::testing::oblique_scene3d(*vol, 128, 128);
  s.source = vol;
  s.camera3d = fit_camera3d(s.dims, 128, 128);
  s.camera3d.zoom *= 4;  // level 0 wanted at the centre
  for (auto& l : s.layers) l.rendering = RenderMode::mip;
  s.interactive = true;
  return s;
}

struct Frame3 {
  std::optional<data::DataError> err;
  BrickFrame frame;
};

Frame3 frame(BrickStore* st, const Scene& s, BrickCopier* copier, double load_ms = 1000) {
  Frame3 f;
  bool stopped = false;
  f.err = update_bricks(st, s, *s.source, s.camera3d, 128, 128, size_t{512} << 20, load_ms, nullptr, &stopped, &f.frame,
                        nullptr, 1.0, copier);
  return f;
}

int resident_finer_than_coarsest(const BrickFrame& f) {
  int n = 0;
  for (size_t l = 0; l + 1 < f.residency.resident.size(); ++l) n += f.residency.resident[l];
  return n;
}

}  // namespace

TEST(BrickCopier, AMovingFrameCopiesTheCoarsestLevelAndTheNextAdoptsTheRest) {
  auto vol = std::make_shared<voxcast::testing::FieldPyramid>(128, 3);
  vol->ready = {0, 1, 2};  // everything in memory: only the copies are left to do
  const Scene s = zoomed_moving_scene(vol);
  BrickStore st;
  BrickCopier copier(2);
  Frame3 first = frame(&st, s, &copier);
  ASSERT_FALSE(first.err);
  EXPECT_FALSE(first.frame.complete);
  EXPECT_EQ(resident_finer_than_coarsest(first.frame), 0);  // not copied by the frame
  EXPECT_GT(first.frame.residency.resident.back(), 0);     // the stand-in is
  EXPECT_GT(first.frame.residency.wanted[0], 0);

  copier.wait_idle();
  Frame3 second = frame(&st, s, &copier);
  ASSERT_FALSE(second.err);
  EXPECT_TRUE(second.frame.complete);
  EXPECT_EQ(second.frame.residency.resident, second.frame.residency.wanted);

  // The copier's bricks hold what a synchronous copy (no copier) reads.
  BrickStore sync;
  Frame3 direct = frame(&sync, s, nullptr);
  ASSERT_FALSE(direct.err);
  ASSERT_TRUE(direct.frame.complete);
  ASSERT_EQ(sync.bricks.size(), st.bricks.size());
  for (const auto& [key, brick] : sync.bricks) {
    auto it = st.bricks.find(key);
    ASSERT_NE(it, st.bricks.end());
    EXPECT_EQ(it->second->values, brick->values);
    EXPECT_EQ(it->second->min, brick->min);
    EXPECT_EQ(it->second->max, brick->max);
  }
}

TEST(BrickCopier, BricksNotInMemoryWaitForTheirChunksAndAStillCopiesThemItself) {
  auto vol = std::make_shared<voxcast::testing::FieldPyramid>(128, 3);
  vol->ready = {2};  // the finer levels are still loading
  const Scene s = zoomed_moving_scene(vol);
  BrickStore st;
  BrickCopier copier(2);
  ASSERT_FALSE(frame(&st, s, &copier).err);
  copier.wait_idle();
  Frame3 again = frame(&st, s, &copier);
  ASSERT_FALSE(again.err);
  EXPECT_FALSE(again.frame.complete);  // nothing copied before its chunks are there
  EXPECT_EQ(resident_finer_than_coarsest(again.frame), 0);
  copier.wait_idle();
  vol->ready = {0, 1, 2};  // the loads arrive
  Scene still = s;
  still.interactive = false;
  Frame3 full = frame(&st, still, &copier, INFINITY);
  ASSERT_FALSE(full.err);
  EXPECT_TRUE(full.frame.complete);
  EXPECT_EQ(full.frame.residency.resident, full.frame.residency.wanted);
}

TEST(BrickCopier, ACopyOfDataNoLongerShownIsNotAdopted) {
  auto a = std::make_shared<voxcast::testing::FieldPyramid>(128, 3);
  auto b = std::make_shared<voxcast::testing::FieldPyramid>(128, 3);  // same pyramid, other data
  a->ready = b->ready = {0, 1, 2};
  BrickStore st;
  BrickCopier copier(2);
  ASSERT_FALSE(frame(&st, zoomed_moving_scene(a), &copier).err);
  copier.wait_idle();  // a's bricks are copied, not yet adopted
  // The layer shows b now (a frame without the copier: nothing adopted, the table is b's).
  const Scene sb = zoomed_moving_scene(b);
  ASSERT_FALSE(frame(&st, sb, nullptr, 0).err);
  Frame3 next = frame(&st, sb, &copier);
  ASSERT_FALSE(next.err);
  EXPECT_EQ(resident_finer_than_coarsest(next.frame), 0);  // a's copies were dropped
  copier.wait_idle();
  Frame3 last = frame(&st, sb, &copier);
  ASSERT_FALSE(last.err);
  EXPECT_TRUE(last.frame.complete);  // b's own copies
}

namespace {
// Level 0 cannot be read (a corrupt chunk); the coarser levels can.
class Level0Fails final : public data::VolumeSource {
 public:
  Level0Fails() : inner_(128, 3) { inner_.ready = {0, 1, 2}; }
  const data::VolumeInfo& info() const override { return inner_.info(); }
  std::optional<data::DataError> read_level(int level, const data::Box& box, float* out) const override {
    if (level == 0) return data::DataError{"field", "chunk 0/0/0 of level 0 is corrupt"};
    return inner_.read_level(level, box, out);
  }
  bool request(int level, const data::Box& box, data::RequestHint hint) const override {
    return inner_.request(level, box, hint);
  }

 private:
  voxcast::testing::FieldPyramid inner_;
};
}  // namespace

TEST(BrickCopier, ACopyErrorReachesTheNextFrameAndTheOtherBricksStillArrive) {
  auto vol = std::make_shared<Level0Fails>();
  const Scene s = zoomed_moving_scene(vol);
  BrickStore st;
  BrickCopier copier(1);
  ASSERT_FALSE(frame(&st, s, &copier).err);  // the frame itself copies only level 2
  copier.wait_idle();
  Frame3 next = frame(&st, s, &copier);
  ASSERT_TRUE(next.err);
  EXPECT_NE(next.err->message.find("corrupt"), std::string::npos);
  Frame3 after = frame(&st, s, &copier);  // reported once; level 1's bricks were adopted
  ASSERT_FALSE(after.err);
  EXPECT_GT(after.frame.residency.resident[1], 0);
  EXPECT_EQ(after.frame.residency.resident[0], 0);
}
