// napari's defaults on files written by the tools labs use: contrast limits as napari's
// calc_data_range sets them, omero windows and exact colours, the built-in brain's atlas
// with its AAL names and napari's label opacity.
#include <gtest/gtest.h>

#include <filesystem>

#include "fixtures.hpp"
#include "voxcast/data/contrast.hpp"
#include "voxcast/data/label_table.hpp"
#include "voxcast/data/open_dataset.hpp"

using namespace voxcast;
using voxcast::testing::TempDir;

namespace {
void write_lab_file(const std::string& kind, const std::string& out, const std::string& spec) {
  std::string cmd = "/usr/bin/python3 " VOXCAST_TEST_DATA_DIR "/write_lab_files.py " + kind + " '" + out + "' '" + spec + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}
}  // namespace

TEST(LabDefaults, OmeroWindowsAndExactColours) {
  TempDir dir;
  write_lab_file("omero-zarr", dir / "c.zarr", "{}");
  auto src = voxcast::testing::open_or_fail(dir / "c.zarr");
  ASSERT_TRUE(src);
  const auto& ch = src->info().channels;
  ASSERT_EQ(ch.size(), 2u);
  EXPECT_EQ(ch[0].colormap, "#ff8000") << "orange stays orange";
  EXPECT_EQ(ch[1].colormap, "green");
  EXPECT_DOUBLE_EQ(ch[0].contrast_lo, 100);
  EXPECT_DOUBLE_EQ(ch[0].contrast_hi, 3000);
  EXPECT_DOUBLE_EQ(ch[0].range_lo, 0);
  EXPECT_DOUBLE_EQ(ch[0].range_hi, 4095);
  // No window: napari's data range (7 + 3y over y = 0..31), for the slider too.
  EXPECT_DOUBLE_EQ(ch[1].contrast_lo, 7);
  EXPECT_DOUBLE_EQ(ch[1].contrast_hi, 100);
  EXPECT_DOUBLE_EQ(ch[1].range_lo, 7);
  EXPECT_DOUBLE_EQ(ch[1].range_hi, 100);
}

TEST(LabDefaults, ContrastIsNapariDataRange) {
  TempDir dir;
  // uint8: the dtype's range, nothing read.
  write_lab_file("plain-tiff", dir / "u8.tif", R"({"shape": [3, 16, 16], "dtype": "uint8", "offset": 20})");
  auto u8 = voxcast::testing::open_or_fail(dir / "u8.tif");
  ASSERT_TRUE(u8);
  EXPECT_DOUBLE_EQ(u8->info().channels[0].contrast_lo, 0);
  EXPECT_DOUBLE_EQ(u8->info().channels[0].contrast_hi, 255);
  // uint16: min and max of the data (20 .. 20 + 49), not a percentile window.
  write_lab_file("plain-tiff", dir / "u16.tif", R"({"shape": [3, 40, 40], "dtype": "uint16", "offset": 20})");
  auto u16 = voxcast::testing::open_or_fail(dir / "u16.tif");
  ASSERT_TRUE(u16);
  EXPECT_DOUBLE_EQ(u16->info().channels[0].contrast_lo, 20);
  EXPECT_DOUBLE_EQ(u16->info().channels[0].contrast_hi, 69);
  // Over 1e7 voxels: first, middle and last planes only (12 x 1024 x 1024 here, uint16;
  // the planes in between hold a larger value napari's sampling does not see).
  write_lab_file("plain-tiff", dir / "big.tif", R"({"shape": [12, 1024, 1024], "dtype": "uint16", "offset": 5, "spike": true})");
  auto big = voxcast::testing::open_or_fail(dir / "big.tif");
  ASSERT_TRUE(big);
  EXPECT_DOUBLE_EQ(big->info().channels[0].contrast_lo, 5);
  EXPECT_DOUBLE_EQ(big->info().channels[0].contrast_hi, 54);
}

TEST(LabDefaults, LabelTablesFromAtlasFiles) {
  auto t = data::parse_label_table("# comment\n1 Precentral_L 2001\n2 Precentral_R 2002\n\n17 Left-Thalamus 0 118 14 0\nbad line\n");
  EXPECT_EQ(t.names.size(), 3u);
  EXPECT_EQ(t.names[1], "Precentral_L");
  EXPECT_EQ(t.names[17], "Left-Thalamus");
  ASSERT_EQ(t.colors.count(17), 1u) << "FreeSurfer colour columns";
  EXPECT_FLOAT_EQ(t.colors[17][1], 118 / 255.0f);
  EXPECT_EQ(t.colors.count(1), 0u) << "AAL's code column is not a colour";
}

TEST(LabDefaults, BrainSampleAtlasHasAalNamesAndNapariOpacity) {
  if (!data::brain_sample_available()) GTEST_SKIP() << "mricron-data is not installed";
  auto opened = data::open_dataset("brain");
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<data::VolumeSource>>(opened));
  const auto& info = std::get<std::unique_ptr<data::VolumeSource>>(opened)->info();
  ASSERT_EQ(info.channels.size(), 2u);
  const auto& atlas = info.channels[1];
  EXPECT_TRUE(atlas.labels);
  EXPECT_DOUBLE_EQ(atlas.opacity, 0.7);
  ASSERT_TRUE(atlas.label_table);
  EXPECT_EQ(atlas.label_table->names.size(), 116u);
  EXPECT_EQ(atlas.label_table->names.at(1), "Precentral_L");
  EXPECT_EQ(atlas.label_table->names.at(116), "Vermis_10");
  // The T1: napari's data range of the whole volume.
  EXPECT_DOUBLE_EQ(info.channels[0].contrast_lo, info.channels[0].range_lo);
  EXPECT_GT(info.channels[0].contrast_hi, info.channels[0].contrast_lo);
}
