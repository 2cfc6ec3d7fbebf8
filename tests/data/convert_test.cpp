#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fixtures.hpp"
#include "voxcast/data/convert.hpp"
#include "voxcast/data/dtype.hpp"
#include "voxcast/data/in_memory.hpp"
#include "voxcast/data/zarr.hpp"
#include "zarr3_fixtures.hpp"

using namespace voxcast::data;
using namespace voxcast::testing;
namespace fs = std::filesystem;

extern char** environ;

namespace {

// A 0.4 OME-Zarr (c, z, y, x; uint16 fixture values), written by our v2 writer.
void write_input(const std::string& dir, const std::vector<int64_t>& shape) {
  ZarrArrayMeta m;
  m.shape = shape;
  m.chunks = {1, 2, 64, 64};
  m.compressor.id = "blosc";
  auto err = write_zarr_array(dir + "/0", m, [&](const std::vector<int64_t>& start, const std::vector<int64_t>& cs,
                                                 std::vector<uint8_t>* out) {
    std::vector<int64_t> i(4, 0);
    for (size_t k = 0; k < out->size() / 2; ++k) {
      std::vector<int64_t> idx(4);
      for (size_t a = 0; a < 4; ++a) idx[a] = start[a] + i[a];
      from_float(DType::u16, fixture_value(idx, DType::u16, 4000), out->data() + 2 * k);
      for (size_t a = 4; a-- > 0;) {
        if (++i[a] < cs[a]) break;
        i[a] = 0;
      }
    }
    return true;
  });
  ASSERT_FALSE(err) << *err;
  ASSERT_FALSE(write_ngff_attrs(dir, {{"c", "channel", ""}, {"z", "space", "micrometer"}, {"y", "space", "micrometer"},
                                      {"x", "space", "micrometer"}},
                                {{1, 2, 0.5, 0.5}}, {}, {{"DAPI", "0000FF", 0, 4000}, {"GFP", "00FF00", 0, 4000}}));
}

std::unique_ptr<VolumeSource> open_dir(const std::string& dir) { return open_or_fail(dir); }

}  // namespace

TEST(Convert, ToShardedOmeZarr05WithAPyramidReadBackHereAndByZarrita) {
  TempDir tmp;
  write_input(tmp / "in.zarr", {2, 5, 300, 270});
  auto src = open_dir(tmp / "in.zarr");
  ASSERT_TRUE(src);
  ConvertOptions o;
  o.memory_bytes = size_t{64} << 20;
  o.min_level_size = 64;
  o.source_name = "in.zarr";
  auto r = convert_to_ome_zarr(*src, tmp / "out.zarr", o);
  ASSERT_TRUE(std::holds_alternative<ConvertResult>(r)) << std::get<DataError>(r).message;
  EXPECT_EQ(std::get<ConvertResult>(r).levels, 4);  // 300, 150, 75, 38
  auto out = open_dir(tmp / "out.zarr");
  ASSERT_TRUE(out);
  const auto& info = out->info();
  EXPECT_EQ(info.kind, "ome-zarr-0.5");
  ASSERT_EQ(info.levels.size(), 4u);
  EXPECT_EQ(info.levels[3].shape, (std::vector<int64_t>{2, 5, 38, 34}));
  EXPECT_DOUBLE_EQ(info.levels[2].factor[3], 4.0);
  EXPECT_DOUBLE_EQ(info.axes[1].scale, 2.0);
  EXPECT_EQ(info.channels[1].name, "GFP");
  EXPECT_EQ(info.channels[1].colormap, "green");
  expect_fixture_values(*out, 0, 4000);
  // Level 1 is the mean of 2 x 2 of level 0 (rounded to the integer type).
  std::vector<float> l0(4), l1(1);
  ASSERT_FALSE(out->read_level(0, Box{{1, 3, 20, 30}, {1, 1, 2, 2}}, l0.data()));
  ASSERT_FALSE(out->read_level(1, Box{{1, 3, 10, 15}, {1, 1, 1, 1}}, l1.data()));
  EXPECT_EQ(l1[0], std::round((l0[0] + l0[1] + l0[2] + l0[3]) / 4));
  // zarrita reads level 0 (index at the end) voxel for voxel.
  std::string cmd = std::string("node ") + kZarritaScript + " read '" + (tmp / "out.zarr/0") + "' '" + (tmp / "z.bin") + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(tmp / "z.bin", std::ios::binary);
  std::vector<uint16_t> got(2 * 5 * 300 * 270);
  f.read(reinterpret_cast<char*>(got.data()), static_cast<std::streamsize>(got.size() * 2));
  ASSERT_EQ(f.gcount(), static_cast<std::streamsize>(got.size() * 2));
  size_t bad = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    std::vector<int64_t> idx{static_cast<int64_t>(k / (5 * 300 * 270)), static_cast<int64_t>(k / (300 * 270) % 5),
                             static_cast<int64_t>(k / 270 % 300), static_cast<int64_t>(k % 270)};
    if (got[k] != fixture_value(idx, DType::u16, 4000) && bad++ < 3) ADD_FAILURE() << "zarrita voxel " << k << " " << got[k];
  }
  EXPECT_EQ(bad, 0u);
  // A second run finds everything done.
  auto again = convert_to_ome_zarr(*src, tmp / "out.zarr", o);
  ASSERT_TRUE(std::holds_alternative<ConvertResult>(again));
  EXPECT_EQ(std::get<ConvertResult>(again).shards_resumed, std::get<ConvertResult>(again).shards);
  // Another input into the same output is refused.
  o.source_name = "other.zarr";
  auto refused = convert_to_ome_zarr(*src, tmp / "out.zarr", o);
  ASSERT_TRUE(std::holds_alternative<DataError>(refused));
  EXPECT_NE(std::get<DataError>(refused).message.find("another input"), std::string::npos);
}

TEST(Convert, LabelChannelsAreDownsampledByTheMostFrequentLabel) {
  VolumeInfo info;
  info.name = "labels";
  info.dtype = DType::u32;
  info.shape = {4, 4};
  info.axes = {Axis{"y", "space", 1, 0, ""}, Axis{"x", "space", 1, 0, ""}};
  ChannelInfo ch;
  ch.labels = true;
  info.channels = {ch};
  ensure_levels(&info);
  // 2 x 2 blocks: {7, 7, 9, 1} -> 7; {5, 6, 8, 9} -> 5 (a tie: the first, nearest)
  std::vector<uint32_t> v = {7, 7, 5, 6,  9, 1, 8, 9,  3, 3, 3, 3,  3, 3, 3, 2};
  std::vector<uint8_t> bytes(v.size() * 4);
  std::memcpy(bytes.data(), v.data(), bytes.size());
  InMemoryArray src(info, bytes);
  TempDir tmp;
  ConvertOptions o;
  o.memory_bytes = size_t{64} << 20;
  o.min_level_size = 2;
  auto r = convert_to_ome_zarr(src, tmp / "l.zarr", o);
  ASSERT_TRUE(std::holds_alternative<ConvertResult>(r)) << std::get<DataError>(r).message;
  auto out = open_dir(tmp / "l.zarr");
  ASSERT_TRUE(out);
  ASSERT_EQ(out->info().levels.size(), 2u);
  std::vector<float> l1(4);
  ASSERT_FALSE(out->read_level(1, Box{{0, 0}, {2, 2}}, l1.data()));
  EXPECT_EQ(l1, (std::vector<float>{7, 5, 3, 3}));
}

TEST(Convert, ResumesAfterTheConverterIsKilled) {
  TempDir tmp;
  write_input(tmp / "in.zarr", {2, 2, 1024, 1024});  // 32 shards of 1 MB at level 0
  const std::string bin = std::string(VOXCAST_BIN_DIR) + "/voxcast-convert";
  const std::string in = tmp / "in.zarr", out = tmp / "out.zarr";
  // Slowed down to one shard per 100 ms on one thread, then killed after a few shards.
  std::vector<std::string> args = {bin, in, out, "--memory-mb", "64", "--threads", "1", "--shard-mb", "1",
                                   "--throttle-ms", "100", "--quiet"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  size_t lines = 0;
  for (int i = 0; i < 800 && lines < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::ifstream f(out + "/0/.voxcast-done");
    std::string line;
    lines = 0;
    while (std::getline(f, line)) ++lines;
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the converter finished before it was killed";
  ASSERT_GE(lines, 3u);
  std::string cmd = bin + " '" + in + "' '" + out + "' --memory-mb 64 --quiet > '" + (tmp / "log") + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream log(tmp / "log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  auto at = text.find(" resumed)");
  ASSERT_NE(at, std::string::npos) << text;
  auto open_paren = text.rfind('(', at);
  EXPECT_GE(std::stoi(text.substr(open_paren + 1)), 3) << text;
  auto result = open_dir(out);
  ASSERT_TRUE(result);
  expect_fixture_values(*result, 0, 4000);
  for (const auto& e : fs::recursive_directory_iterator(out))
    EXPECT_EQ(e.path().string().find(".partial"), std::string::npos) << "a half-written shard stayed: " << e.path();
}
