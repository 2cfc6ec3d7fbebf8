// The files labs have, written at test time by the tools they use: Fiji hyperstacks
// (tifffile imagej=True), OME-TIFF with TimeIncrement, RGB(A) TIFF, PNG and JPEG
// (tifffile, Pillow), 16-bit grey PNG.
#include <gtest/gtest.h>

#include <fstream>

#include "fixtures.hpp"
#include "voxcast/data/tiff.hpp"

using namespace voxcast;
using voxcast::testing::TempDir;

namespace {
void write_lab_file(const std::string& kind, const std::string& out, const std::string& spec) {
  std::string cmd = "/usr/bin/python3 " VOXCAST_TEST_DATA_DIR "/write_lab_files.py " + kind + " '" + out + "' '" + spec + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}
std::vector<float> read_all(const data::VolumeSource& s) {
  data::Box box{std::vector<int64_t>(s.info().shape.size(), 0), s.info().shape};
  std::vector<float> v(static_cast<size_t>(box.count()));
  auto err = s.read_region(box, v.data());
  EXPECT_FALSE(err) << (err ? err->message : "");
  return v;
}
}  // namespace

TEST(LabFiles, FijiHyperstackIsTZCYXWithCalibration) {
  TempDir dir;
  write_lab_file("imagej", dir / "h.tif", R"({"shape": [3, 4, 2, 20, 24]})");
  auto src = voxcast::testing::open_or_fail(dir / "h.tif");
  ASSERT_TRUE(src);
  const auto& info = src->info();
  EXPECT_EQ(info.kind, "imagej-tiff");
  ASSERT_EQ(info.shape, (std::vector<int64_t>{3, 4, 2, 20, 24}));
  ASSERT_EQ(info.axes.size(), 5u);
  EXPECT_EQ(info.axes[0].name, "t");
  EXPECT_EQ(info.axes[0].type, "time");
  EXPECT_DOUBLE_EQ(info.axes[0].scale, 2.5);
  EXPECT_EQ(info.axes[0].unit, "second");
  EXPECT_EQ(info.axes[1].name, "z");
  EXPECT_DOUBLE_EQ(info.axes[1].scale, 1.5);
  EXPECT_EQ(info.axes[1].unit, "micrometer");
  EXPECT_EQ(info.axes[2].name, "c");
  EXPECT_EQ(info.channel_axis, 2);
  EXPECT_DOUBLE_EQ(info.axes[3].scale, 0.25);
  EXPECT_DOUBLE_EQ(info.axes[4].scale, 0.25);
  EXPECT_EQ(info.axes[4].unit, "micrometer");
  EXPECT_EQ(info.channels.size(), 2u);
  // Every voxel where Fiji put it: t * 1000 + z * 100 + c * 10 + (y + x) % 10.
  auto v = read_all(*src);
  size_t k = 0, bad = 0;
  for (int t = 0; t < 3; ++t)
    for (int z = 0; z < 4; ++z)
      for (int c = 0; c < 2; ++c)
        for (int y = 0; y < 20; ++y)
          for (int x = 0; x < 24; ++x, ++k)
            if (v[k] != static_cast<float>(t * 1000 + z * 100 + c * 10 + (y + x) % 10) && bad++ < 3)
              ADD_FAILURE() << "t" << t << " z" << z << " c" << c << " y" << y << " x" << x << ": " << v[k];
  EXPECT_EQ(bad, 0u);
}

TEST(LabFiles, ParsesImageJDescriptionsAndUnits) {
  auto m = data::parse_imagej("ImageJ=1.53t\nimages=24\nchannels=2\nslices=4\nframes=3\nhyperstack=true\nunit=\\u00B5m\nspacing=0.5\nfinterval=0.1\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->channels, 2);
  EXPECT_EQ(m->slices, 4);
  EXPECT_EQ(m->frames, 3);
  EXPECT_DOUBLE_EQ(m->spacing, 0.5);
  EXPECT_DOUBLE_EQ(m->finterval, 0.1);
  EXPECT_EQ(data::unit_name(m->unit), "micrometer");
  EXPECT_EQ(data::unit_name("micron"), "micrometer");
  EXPECT_EQ(data::unit_name("pixel"), "");
  EXPECT_FALSE(data::parse_imagej("{\"shape\": [2, 3]}"));
  auto bad = data::parse_imagej("ImageJ=\nchannels=x\nslices=-3\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->channels, 1);
  EXPECT_EQ(bad->slices, 1);
}

TEST(LabFiles, OmeTimeIncrementScalesTime) {
  TempDir dir;
  write_lab_file("ome-time", dir / "t.ome.tif", R"({"shape": [3, 2, 16, 16]})");
  auto src = voxcast::testing::open_or_fail(dir / "t.ome.tif");
  ASSERT_TRUE(src);
  const auto& info = src->info();
  ASSERT_EQ(info.shape, (std::vector<int64_t>{3, 2, 16, 16}));
  EXPECT_EQ(info.axes[0].name, "t");
  EXPECT_DOUBLE_EQ(info.axes[0].scale, 0.5);
  EXPECT_EQ(info.axes[0].unit, "second");
  EXPECT_DOUBLE_EQ(info.axes[1].scale, 2.0);
  EXPECT_DOUBLE_EQ(info.axes[3].scale, 0.2);
}

TEST(LabFiles, RgbTiffPngAndJpegAreOneColourLayer) {
  TempDir dir;
  struct Case {
    const char* file;
    const char* spec;
    int samples;
    data::DType dtype;
    bool exact;
  } cases[] = {{"rgb.tif", R"({"format": "tiff", "samples": 3})", 3, data::DType::u8, true},
               {"rgba.tif", R"({"format": "tiff", "samples": 4})", 4, data::DType::u8, true},
               {"rgb16.tif", R"({"format": "tiff", "samples": 3, "dtype": "uint16"})", 3, data::DType::u16, true},
               {"rgb.png", R"({"format": "png", "samples": 3})", 3, data::DType::u8, true},
               {"rgba.png", R"({"format": "png", "samples": 4})", 4, data::DType::u8, true},
               {"rgb.jpg", R"({"format": "jpeg"})", 3, data::DType::u8, false}};
  for (const Case& c : cases) {
    write_lab_file("rgb", dir / c.file, c.spec);
    auto src = voxcast::testing::open_or_fail(dir / c.file);
    ASSERT_TRUE(src) << c.file;
    const auto& info = src->info();
    EXPECT_TRUE(info.rgb) << c.file;
    ASSERT_EQ(info.shape, (std::vector<int64_t>{12, 20, c.samples})) << c.file;
    EXPECT_EQ(info.channel_axis, 2) << c.file;
    EXPECT_EQ(info.dtype, c.dtype) << c.file;
    if (c.dtype == data::DType::u8) {
      EXPECT_DOUBLE_EQ(info.channels[0].contrast_lo, 0) << c.file << ": napari's uint8 range";
      EXPECT_DOUBLE_EQ(info.channels[0].contrast_hi, 255) << c.file;
    }
    auto v = read_all(*src);
    const double scale = c.dtype == data::DType::u16 ? 256 : 1, tol = c.exact ? 0 : 6;
    for (int y : {0, 5, 11})
      for (int x : {0, 7, 19}) {
        const float* p = &v[static_cast<size_t>((y * 20 + x) * c.samples)];
        EXPECT_NEAR(p[0], (10 * x) % 256 * scale, tol * scale) << c.file << " red at " << y << "," << x;
        EXPECT_NEAR(p[1], (10 * y) % 256 * scale, tol * scale) << c.file << " green";
        EXPECT_NEAR(p[2], 200 * scale, tol * scale) << c.file << " blue";
        if (c.samples == 4) {
          EXPECT_EQ(p[3], 128 * scale) << c.file << " alpha";
        }
      }
  }
}

TEST(LabFiles, GreyPicturesAndBadOnes) {
  TempDir dir;
  write_lab_file("grey16-png", dir / "g.png", R"({"size": [10, 14]})");
  auto g = voxcast::testing::open_or_fail(dir / "g.png");
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->info().rgb);
  EXPECT_EQ(g->info().dtype, data::DType::u16);
  ASSERT_EQ(g->info().shape, (std::vector<int64_t>{10, 14}));
  auto v = read_all(*g);
  EXPECT_EQ(v[0], 1000);
  EXPECT_EQ(v[3 * 14 + 5], 1000 + 37 * 8);
  EXPECT_DOUBLE_EQ(g->info().channels[0].contrast_lo, 1000);
  EXPECT_DOUBLE_EQ(g->info().channels[0].contrast_hi, 1000 + 37 * 22);
  write_lab_file("rgb", dir / "grey.jpg", R"({"format": "jpeg", "grey": true})");
  auto gj = voxcast::testing::open_or_fail(dir / "grey.jpg");
  ASSERT_TRUE(gj);
  EXPECT_EQ(gj->info().shape, (std::vector<int64_t>{12, 20}));
  // Not a picture at all: a typed error naming the file, no crash.
  {
    std::ofstream(dir / "fake.png") << "not a png";
    std::ofstream(dir / "fake.jpg") << "not a jpeg";
  }
  for (const char* name : {"fake.png", "fake.jpg"}) {
    auto opened = data::open_dataset(dir / name);
    ASSERT_TRUE(std::holds_alternative<data::DataError>(opened)) << name;
    EXPECT_NE(std::get<data::DataError>(opened).message.find("not a readable"), std::string::npos) << name;
  }
}
