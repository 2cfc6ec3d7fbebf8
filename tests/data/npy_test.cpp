#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "voxcast/data/npy.hpp"

using namespace voxcast::data;
using voxcast::testing::TempDir;
using voxcast::testing::write_with_python;

TEST(Npy, ParsesRegions) {
  auto b = parse_region("1:3, :, 5, -4:", {10, 20, 30, 40});
  ASSERT_TRUE(std::holds_alternative<Box>(b)) << std::get<std::string>(b);
  const Box& box = std::get<Box>(b);
  EXPECT_EQ(box.start, (std::vector<int64_t>{1, 0, 5, 36}));
  EXPECT_EQ(box.size, (std::vector<int64_t>{2, 20, 1, 4}));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_region("0:5,0:5", {10, 20, 30})));  // too few axes
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_region("0:50,:,:", {10, 20, 30})));  // outside
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_region("a:b,:,:", {10, 20, 30})));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_region("5:5,:,:", {10, 20, 30})));  // empty
}

// voxcast-info writes a region of a level; NumPy and python3-zarr read the same region
// from the same store: they must agree voxel for voxel.
TEST(Npy, VoxcastInfoRegionMatchesZarrPython) {
  TempDir tmp;
  std::string store = tmp / "p.zarr";
  write_with_python("ome-zarr", store, R"({"shape":[2,4,64,48]})");
  std::string npy = tmp / "region.npy";
  std::string cmd = std::string(VOXCAST_BIN_DIR) + "/voxcast-info '" + store + "' --level 1 --region '1,0:3,5:29,-7:' --out '" +
                    npy + "' > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::string check = "/usr/bin/python3 -c \"import sys, numpy, zarr; a = numpy.load('" + npy + "'); z = zarr.open('" +
                      store + "/1', mode='r')[1:2, 0:3, 5:29, -7:]; sys.exit(0 if a.dtype == z.dtype and a.shape == z.shape and (a == z).all() else 1)\"";
  EXPECT_EQ(std::system(check.c_str()), 0) << "voxcast-info's region differs from python3-zarr's";
  // Metadata printing works on the same store and names its levels.
  std::string info = std::string(VOXCAST_BIN_DIR) + "/voxcast-info '" + store + "' | grep -q 'downsample 1 x 1 x 4 x 4'";
  EXPECT_EQ(std::system(info.c_str()), 0);
  std::string bad = std::string(VOXCAST_BIN_DIR) + "/voxcast-info '" + store + "' --region '0:1' --out x.npy 2> /dev/null";
  EXPECT_NE(std::system(bad.c_str()), 0);
}
