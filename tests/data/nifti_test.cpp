#include <gtest/gtest.h>

#include <fstream>

#include "fixtures.hpp"
#include "voxcast/data/nifti.hpp"
#include "voxcast/data/open_dataset.hpp"

using namespace voxcast::data;
using voxcast::testing::fixture_value;
using voxcast::testing::TempDir;
using voxcast::testing::write_with_python;

namespace {
auto open_ok(const std::string& path) { return voxcast::testing::open_or_fail(path); }
}  // namespace

// The file stores value(k, j, i) at voxel (i, j, k). With i pointing left (negative x),
// j anterior and k superior, display x (towards the right) runs i backwards, display y
// (towards posterior) runs j backwards, z runs k forwards.
TEST(Nifti, ReorientsToDisplayAxesAndAppliesTheScaling) {
  TempDir tmp;
  for (const char* name : {"a.nii.gz", "a.nii"}) {
    for (bool qform_only : {false, true}) {
      std::string path = tmp / (std::string(qform_only ? "q" : "s") + name);
      write_with_python("nifti", path,
                        std::string(R"({"shape":[10,12,8],"dtype":"int16","affine":[[-2,0,0,10],[0,2,0,-5],[0,0,3,1],[0,0,0,1]],"slope":2.0,"inter":1.0,"qform_only":)") +
                            (qform_only ? "true" : "false") + "}");
      auto src = open_ok(path);
      ASSERT_TRUE(src) << path;
      const auto& info = src->info();
      ASSERT_EQ(info.shape, (std::vector<int64_t>{8, 12, 10}));
      EXPECT_EQ(info.axes[0].name, "z");
      EXPECT_DOUBLE_EQ(info.axes[0].scale, 3.0);
      EXPECT_DOUBLE_EQ(info.axes[2].scale, 2.0);
      EXPECT_EQ(info.axes[2].unit, "millimeter");
      EXPECT_EQ(info.dtype, DType::f32);  // scl_slope turns the data into floats
      // x translation: display voxel 0 is file i = 9, at world x = 10 - 18 = -8.
      EXPECT_DOUBLE_EQ(info.axes[2].translation, -8.0);
      std::vector<float> all(static_cast<size_t>(8 * 12 * 10));
      ASSERT_FALSE(src->read_region(Box{{0, 0, 0}, info.shape}, all.data()));
      size_t bad = 0;
      for (int64_t z = 0; z < 8; ++z)
        for (int64_t y = 0; y < 12; ++y)
          for (int64_t x = 0; x < 10; ++x) {
            int64_t i = 9 - x, j = 11 - y, k = z;
            float want = static_cast<float>(fixture_value({k, j, i}, DType::i16) * 2.0 + 1.0);
            float got = all[static_cast<size_t>((z * 12 + y) * 10 + x)];
            if (got != want && bad++ < 3) ADD_FAILURE() << path << " at " << z << "," << y << "," << x << ": " << got << " vs " << want;
          }
      EXPECT_EQ(bad, 0u) << path;
    }
  }
}

TEST(Nifti, BadFilesAreErrors) {
  TempDir tmp;
  std::string path = tmp / "t.nii";
  write_with_python("nifti", path, R"({"shape":[16,16,16],"dtype":"uint8","affine":[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]})");
  std::filesystem::resize_file(path, 352 + 1000);
  auto opened = open_dataset(path);
  ASSERT_TRUE(std::holds_alternative<DataError>(opened));
  EXPECT_NE(std::get<DataError>(opened).message.find("truncated"), std::string::npos);
  std::ofstream(tmp / "x.nii") << "short";
  ASSERT_TRUE(std::holds_alternative<DataError>(open_dataset(tmp / "x.nii")));
  std::ofstream(tmp / "y.nii.gz") << "not gzip at all";
  ASSERT_TRUE(std::holds_alternative<DataError>(open_dataset(tmp / "y.nii.gz")));
}

TEST(Nifti, BrainSampleStacksTheAtlasOnTheT1Grid) {
  ASSERT_TRUE(brain_sample_available()) << "scripts/setup.sh installs Debian's mricron-data";
  auto src = open_ok("brain");
  ASSERT_TRUE(src);
  const auto& info = src->info();
  ASSERT_EQ(info.shape, (std::vector<int64_t>{2, 316, 370, 301}));
  EXPECT_EQ(info.channel_axis, 0);
  ASSERT_EQ(info.channels.size(), 2u);
  EXPECT_EQ(info.channels[0].name, "ch2better");
  EXPECT_TRUE(info.channels[1].labels);
  EXPECT_EQ(info.channels[1].colormap, "label");
  EXPECT_EQ(info.channels[1].blending, "translucent");
  // The middle axial slice: brain tissue in the T1, labelled regions in the atlas, and the
  // atlas lies inside the head (a label wherever the T1 is background would be misplaced).
  std::vector<float> t1(370 * 301), atlas(370 * 301);
  ASSERT_FALSE(src->read_region(Box{{0, 158, 0, 0}, {1, 1, 370, 301}}, t1.data()));
  ASSERT_FALSE(src->read_region(Box{{1, 158, 0, 0}, {1, 1, 370, 301}}, atlas.data()));
  size_t labelled = 0, labelled_on_background = 0;
  for (size_t i = 0; i < t1.size(); ++i) {
    if (atlas[i] > 0) {
      ++labelled;
      if (t1[i] < 5) ++labelled_on_background;
    }
  }
  EXPECT_GT(labelled, 10000u);
  EXPECT_LT(labelled_on_background, labelled / 8);  // ventricles are dark: nibabel's own resampling gives 9.6 %
  // Anterior at the top: the frontal lobe (Frontal_* labels 3..28) lies in the upper half.
  size_t frontal_top = 0, frontal_bottom = 0;
  for (size_t y = 0; y < 370; ++y)
    for (size_t x = 0; x < 301; ++x) {
      float v = atlas[y * 301 + x];
      if (v >= 3 && v <= 28) (y < 185 ? frontal_top : frontal_bottom) += 1;
    }
  EXPECT_GT(frontal_top, 4 * frontal_bottom);
}
