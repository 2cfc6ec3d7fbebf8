#include <gtest/gtest.h>

#include <fstream>

#include "fixtures.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/data/tiff.hpp"

using namespace voxcast::data;
using voxcast::testing::expect_fixture_values;
using voxcast::testing::TempDir;
using voxcast::testing::write_with_python;

namespace {
auto open_ok(const std::string& path) { return voxcast::testing::open_or_fail(path); }
}  // namespace

TEST(Tiff, MultiPageStacksStripedTiledBigTiffAndDtypes) {
  TempDir tmp;
  struct Case {
    const char* name;
    const char* spec;
    DType dtype;
  } cases[] = {
      {"u8.tif", R"({"shape":[5,33,20],"dtype":"uint8"})", DType::u8},
      {"u16-strips.tif", R"({"shape":[4,37,21],"dtype":"uint16","rowsperstrip":5})", DType::u16},
      {"u16-tiles.tif", R"({"shape":[3,40,50],"dtype":"uint16","tile":[16,32]})", DType::u16},
      {"f32-big.tif", R"({"shape":[3,20,24],"dtype":"float32","bigtiff":true})", DType::f32},
      {"u16-deflate.tif", R"({"shape":[2,30,30],"dtype":"uint16","compression":"zlib","tile":[16,16]})", DType::u16},
      {"single.tif", R"({"shape":[30,31],"dtype":"uint16"})", DType::u16},
      {"tzyx.tif", R"({"shape":[2,3,16,16],"dtype":"uint16"})", DType::u16},
  };
  for (const auto& c : cases) {
    std::string path = tmp / c.name;
    write_with_python("tiff", path, c.spec);
    auto src = open_ok(path);
    ASSERT_TRUE(src) << c.name;
    EXPECT_EQ(src->info().dtype, c.dtype) << c.name;
    expect_fixture_values(*src, 0);
  }
  auto tzyx = open_ok(tmp / "tzyx.tif");
  ASSERT_EQ(tzyx->info().axes.size(), 4u);
  EXPECT_EQ(tzyx->info().axes[0].name, "t");
  EXPECT_EQ(tzyx->info().shape, (std::vector<int64_t>{2, 3, 16, 16}));
  auto single = open_ok(tmp / "single.tif");
  EXPECT_EQ(single->info().shape, (std::vector<int64_t>{30, 31}));
}

TEST(Tiff, OmeTiffAxesChannelsScaleAndPyramid) {
  TempDir tmp;
  std::string path = tmp / "cells.ome.tif";
  write_with_python("tiff", path,
                    R"({"shape":[2,3,4,40,30],"dtype":"uint16","ome":true,"axes":"TCZYX","levels":3,"tile":[16,16],"channels":["dapi","gfp","rfp"]})");
  auto src = open_ok(path);
  ASSERT_TRUE(src);
  const auto& info = src->info();
  EXPECT_EQ(info.kind, "ome-tiff");
  ASSERT_EQ(info.axes.size(), 5u);
  EXPECT_EQ(info.axes[0].name, "t");
  EXPECT_EQ(info.axes[1].name, "c");
  EXPECT_EQ(info.channel_axis, 1);
  EXPECT_DOUBLE_EQ(info.axes[2].scale, 1.5);
  EXPECT_DOUBLE_EQ(info.axes[4].scale, 0.25);
  ASSERT_EQ(info.channels.size(), 3u);
  EXPECT_EQ(info.channels[1].name, "gfp");
  ASSERT_EQ(info.levels.size(), 3u);
  EXPECT_EQ(info.levels[1].shape, (std::vector<int64_t>{2, 3, 4, 20, 15}));
  EXPECT_DOUBLE_EQ(info.levels[2].factor[3], 4.0);
  expect_fixture_values(*src, 0);
  expect_fixture_values(*src, 1, 251, {1, 1, 1, 2, 2});
  expect_fixture_values(*src, 2, 251, {1, 1, 1, 4, 4});
}

TEST(Tiff, TruncatedOrForeignFilesAreErrors) {
  TempDir tmp;
  std::string path = tmp / "t.tif";
  write_with_python("tiff", path, R"({"shape":[4,64,64],"dtype":"uint16"})");
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 3);
  auto opened = open_dataset(path);
  if (auto* src = std::get_if<std::unique_ptr<VolumeSource>>(&opened)) {
    // The header survived: the missing pixels must be an error, not zeros or a crash.
    std::vector<float> all(static_cast<size_t>(4 * 64 * 64));
    auto err = (*src)->read_level(0, Box{{0, 0, 0}, (*src)->info().shape}, all.data());
    EXPECT_TRUE(err);
  } else {
    EXPECT_NE(std::get<DataError>(opened).source.find("t.tif"), std::string::npos);
  }
  std::ofstream(tmp / "text.tif") << "not a tiff";
  auto bad = open_dataset(tmp / "text.tif");
  ASSERT_TRUE(std::holds_alternative<DataError>(bad));
}

TEST(Tiff, ParsesOmePixels) {
  auto px = parse_ome_pixels(
      R"(<OME><Image><Pixels DimensionOrder="XYCZT" SizeX="8" SizeY="4" SizeZ="5" SizeC="2" SizeT="1" PhysicalSizeZ="2.5"><Channel ID="c0" Name="a" Color="-16776961"/><Channel ID="c1" Name="b"/></Pixels></Image></OME>)");
  ASSERT_TRUE(px);
  EXPECT_EQ(px->dimension_order, "XYCZT");
  EXPECT_EQ(px->size_z, 5);
  EXPECT_EQ(px->size_c, 2);
  EXPECT_DOUBLE_EQ(px->physical_z, 2.5);
  ASSERT_EQ(px->channel_names.size(), 2u);
  EXPECT_EQ(px->channel_colors[0], -16776961);
}

// Found by fuzz_tiff: a header claiming a 553648144 x 16 tile (17.7 GB decoded) made the
// first read allocate it. Refused when the file is opened, with the size in the message.
TEST(Tiff, ATileLargerThanAChunkMayTakeIsRefused) {
  auto opened = open_dataset(std::string(VOXCAST_TEST_DATA_DIR) + "/huge_tile.tif");
  ASSERT_TRUE(std::holds_alternative<DataError>(opened));
  const std::string& msg = std::get<DataError>(opened).message;
  EXPECT_NE(msg.find("553648144 x 16"), std::string::npos) << msg;
  EXPECT_NE(msg.find("larger than the 1024 MB"), std::string::npos) << msg;
}

