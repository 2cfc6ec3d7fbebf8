#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <filesystem>
#include <fstream>

#include "fixtures.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/data/zarr.hpp"

using namespace voxcast::data;
using voxcast::testing::expect_fixture_values;
using voxcast::testing::fixture_value;
using voxcast::testing::TempDir;
using voxcast::testing::write_with_python;

namespace {

std::shared_ptr<ChunkCache> small_cache() { return std::make_shared<ChunkCache>(size_t{64} << 20, 2); }

// Our own writer, filling chunks with fixture_value.
void write_fixture_array(const std::string& dir, ZarrArrayMeta m, std::function<bool(const std::vector<int64_t>&)> keep = {}) {
  auto err = write_zarr_array(dir, m, [&](const std::vector<int64_t>& start, const std::vector<int64_t>& shape,
                                          std::vector<uint8_t>* bytes) {
    if (keep && !keep(start)) return false;
    const size_t item = dtype_size(m.dtype);
    std::vector<int64_t> i(shape.size(), 0);
    for (size_t k = 0; k < bytes->size() / item; ++k) {
      std::vector<int64_t> idx(shape.size());
      for (size_t a = 0; a < shape.size(); ++a) idx[a] = start[a] + i[a];
      from_float(m.dtype, fixture_value(idx, m.dtype), bytes->data() + k * item);
      for (size_t a = shape.size(); a-- > 0;) {
        if (++i[a] < shape[a]) break;
        i[a] = 0;
      }
    }
    return true;
  });
  ASSERT_FALSE(err) << *err;
}

std::unique_ptr<VolumeSource> open_ok(const std::string& path, std::shared_ptr<ChunkCache> cache = small_cache()) {
  auto opened = open_zarr(path, std::move(cache));
  if (auto* e = std::get_if<DataError>(&opened)) {
    ADD_FAILURE() << e->source << ": " << e->message;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<VolumeSource>>(opened));
}

}  // namespace

TEST(Zarr, OurWriterEveryDtypeCompressorByteOrderAndSeparator) {
  TempDir tmp;
  int n = 0;
  for (DType t : {DType::u8, DType::u16, DType::u32, DType::i8, DType::i16, DType::i32, DType::f32, DType::f64})
    for (const char* codec : {"", "blosc", "zstd", "zlib", "gzip"})
      for (bool big : {false, true}) {
        if (big && dtype_size(t) == 1) continue;
        ZarrArrayMeta m;
        m.shape = {5, 13, 11};  // edge chunks are partial on every axis
        m.chunks = {2, 4, 8};
        m.dtype = t;
        m.big_endian = big;
        m.compressor.id = codec;
        m.separator = n % 2 ? '/' : '.';
        std::string dir = tmp / ("a" + std::to_string(n++));
        write_fixture_array(dir, m);
        auto src = open_ok(dir);
        ASSERT_TRUE(src);
        EXPECT_EQ(src->info().dtype, t);
        EXPECT_EQ(src->info().levels[0].chunks, m.chunks);
        expect_fixture_values(*src, 0);
      }
}

TEST(Zarr, BloscVariantsFromOurWriter) {
  TempDir tmp;
  int n = 0;
  for (const char* cname : {"lz4", "lz4hc", "zstd", "zlib", "blosclz"})
    for (int shuffle : {0, 1, 2}) {
      ZarrArrayMeta m;
      m.shape = {3, 20, 20};
      m.chunks = {1, 8, 8};
      m.dtype = DType::u16;
      m.compressor.id = "blosc";
      m.compressor.cname = cname;
      m.compressor.shuffle = shuffle;
      std::string dir = tmp / ("b" + std::to_string(n++));
      write_fixture_array(dir, m);
      auto src = open_ok(dir);
      ASSERT_TRUE(src);
      expect_fixture_values(*src, 0);
    }
}

TEST(Zarr, IndependentWriterEveryCodec) {
  TempDir tmp;
  int n = 0;
  for (const char* codec : {"none", "blosc-lz4", "blosc-zstd-bit", "blosc-zlib-noshuffle", "blosc-lz4hc", "blosc-blosclz",
                            "zstd", "zlib", "gzip"})
    for (const char* dtype : {"<u2", ">i2", "|u1", "<f4", ">f8", "<u4", ">i4", "|i1"}) {
      std::string dir = tmp / ("p" + std::to_string(n));
      std::string sep = n % 2 ? "/" : ".";
      ++n;
      write_with_python("zarr", dir,
                        std::string(R"({"shape":[3,17,9],"chunks":[2,8,4],"dtype":")") + dtype + R"(","codec":")" + codec +
                            R"(","separator":")" + sep + R"("})");
      auto src = open_ok(dir);
      ASSERT_TRUE(src) << codec << " " << dtype;
      expect_fixture_values(*src, 0);
    }
}

TEST(Zarr, IndependentOmeZarrPyramidWithOmero) {
  TempDir tmp;
  std::string dir = tmp / "p.zarr";
  write_with_python("ome-zarr", dir, R"({"shape":[2,4,64,48]})");
  auto opened = open_dataset("file://" + dir);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<VolumeSource>>(opened)) << std::get<DataError>(opened).message;
  auto& src = *std::get<std::unique_ptr<VolumeSource>>(opened);
  const auto& info = src.info();
  EXPECT_EQ(info.kind, "ome-zarr");
  ASSERT_EQ(info.axes.size(), 4u);
  EXPECT_EQ(info.axes[1].name, "z");
  EXPECT_EQ(info.axes[1].unit, "micrometer");
  EXPECT_DOUBLE_EQ(info.axes[1].scale, 2.0);
  EXPECT_DOUBLE_EQ(info.axes[1].translation, 10.0);
  EXPECT_DOUBLE_EQ(info.axes[3].scale, 0.5);
  EXPECT_EQ(info.channel_axis, 0);
  ASSERT_EQ(info.channels.size(), 2u);
  EXPECT_EQ(info.channels[0].name, "DAPI");
  EXPECT_EQ(info.channels[0].colormap, "blue");
  EXPECT_EQ(info.channels[1].colormap, "green");
  EXPECT_DOUBLE_EQ(info.channels[1].contrast_lo, 50);
  EXPECT_DOUBLE_EQ(info.channels[1].contrast_hi, 2000);
  ASSERT_EQ(info.levels.size(), 3u);
  EXPECT_EQ(info.levels[2].shape, (std::vector<int64_t>{2, 4, 16, 12}));
  EXPECT_DOUBLE_EQ(info.levels[2].factor[3], 4.0);
  EXPECT_DOUBLE_EQ(info.levels[2].factor[1], 1.0);
  for (int level = 0; level < 3; ++level) {
    int64_t f = int64_t{1} << level;
    expect_fixture_values(src, level, 4000, {1, 1, f, f});
  }
}

TEST(Zarr, MissingChunksReadAsFillValue) {
  TempDir tmp;
  ZarrArrayMeta m;
  m.shape = {4, 16, 16};
  m.chunks = {1, 8, 8};
  m.dtype = DType::u16;
  m.fill_value = 77;
  m.compressor.id = "zstd";
  write_fixture_array(tmp / "s", m, [](const std::vector<int64_t>& start) { return start[0] == 1; });
  auto src = open_ok(tmp / "s");
  ASSERT_TRUE(src);
  std::vector<float> plane(256);
  ASSERT_FALSE(src->read_level(0, Box{{0, 0, 0}, {1, 16, 16}}, plane.data()));
  for (float v : plane) EXPECT_EQ(v, 77);
  ASSERT_FALSE(src->read_level(0, Box{{1, 0, 0}, {1, 16, 16}}, plane.data()));
  EXPECT_EQ(plane[17], fixture_value({1, 1, 1}, DType::u16));
}

TEST(Zarr, BadDataIsAnErrorNamingTheFile) {
  TempDir tmp;
  ZarrArrayMeta m;
  m.shape = {2, 8, 8};
  m.chunks = {1, 8, 8};
  m.dtype = DType::u16;
  m.compressor.id = "blosc";
  write_fixture_array(tmp / "bad", m);
  {
    std::ofstream corrupt(tmp / "bad/1.0.0", std::ios::binary);
    corrupt << "this is not a blosc chunk at all, just text that goes on";
  }
  auto src = open_ok(tmp / "bad");
  ASSERT_TRUE(src);
  std::vector<float> plane(64);
  EXPECT_FALSE(src->read_level(0, Box{{0, 0, 0}, {1, 8, 8}}, plane.data()));
  auto err = src->read_level(0, Box{{1, 0, 0}, {1, 8, 8}}, plane.data());
  ASSERT_TRUE(err);
  EXPECT_NE(err->source.find("bad/1.0.0"), std::string::npos) << err->source;
  EXPECT_NE(err->message.find("blosc"), std::string::npos) << err->message;
  EXPECT_TRUE(err->partial);
  // The good plane still reads afterwards.
  EXPECT_FALSE(src->read_level(0, Box{{0, 0, 0}, {1, 8, 8}}, plane.data()));
  // A read over both: the good chunk is real, the bad one reads as fill, and the error says
  // the read is partial (a viewer shows it and reports the chunk).
  std::vector<float> both(128, -1.0f);
  err = src->read_level(0, Box{{0, 0, 0}, {2, 8, 8}}, both.data());
  ASSERT_TRUE(err);
  EXPECT_TRUE(err->partial);
  EXPECT_NE(err->source.find("bad/1.0.0"), std::string::npos) << err->source;
  EXPECT_EQ(both[9], fixture_value({0, 1, 1}, DType::u16));
  EXPECT_EQ(both[64 + 9], 0.0f);

  // A wrong .zarray, an unsupported codec and dtype, and a missing path are clear errors.
  auto expect_open_error = [&](const std::string& zarray, const std::string& words) {
    std::filesystem::create_directories(tmp / "meta");
    std::ofstream(tmp / "meta/.zarray") << zarray;
    auto opened = open_zarr(tmp / "meta", small_cache());
    ASSERT_TRUE(std::holds_alternative<DataError>(opened)) << zarray;
    const auto& e = std::get<DataError>(opened);
    EXPECT_NE(e.source.find(".zarray"), std::string::npos);
    EXPECT_NE(e.message.find(words), std::string::npos) << e.message;
  };
  expect_open_error("{not json", "JSON");
  expect_open_error(R"({"zarr_format":2,"shape":[4],"chunks":[2],"dtype":"<c16","compressor":null,"fill_value":0,"order":"C"})", "c16");
  expect_open_error(R"({"zarr_format":2,"shape":[4],"chunks":[2],"dtype":"<u2","compressor":{"id":"lzma"},"fill_value":0})", "lzma");
  expect_open_error(R"({"zarr_format":2,"shape":[4],"chunks":[2,2],"dtype":"<u2","compressor":null,"fill_value":0})", "chunks");
  expect_open_error(R"({"zarr_format":2,"shape":[4],"chunks":[2],"dtype":"<u2","compressor":null,"order":"F"})", "C order");
  auto remote = open_dataset("ftp://host/data.zarr");
  ASSERT_TRUE(std::holds_alternative<DataError>(remote));
  EXPECT_NE(std::get<DataError>(remote).message.find("unknown URL scheme"), std::string::npos);
  auto missing = open_dataset("file://" + (tmp / "nowhere.zarr"));
  ASSERT_TRUE(std::holds_alternative<DataError>(missing));
  EXPECT_NE(std::get<DataError>(missing).message.find("no such"), std::string::npos);
}

TEST(Zarr, SparseTenTerabyteArrayOpensAndReadsWithinTheCacheBudget) {
  TempDir tmp;
  // 4 levels (4x per level in y, x) of a 5000 x 65536 x 65536 uint16 array: 43 TB logical,
  // only the central chunks of the middle plane present.
  const int64_t Z = 5000, Y = 65536, X = 65536;
  std::vector<std::vector<double>> scales;
  for (int level = 0; level < 4; ++level) {
    int64_t f = int64_t{1} << (level * 2);
    ZarrArrayMeta m;
    m.shape = {Z, Y / f, X / f};
    m.chunks = {1, 512, 512};
    m.dtype = DType::u16;
    m.compressor.id = "blosc";
    const int64_t mid = m.shape[0] / 2;
    // Only the middle plane's central chunks exist; everything else is missing (fill).
    std::string dir = tmp / ("big.zarr/" + std::to_string(level));
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/.zarray") << zarray_json(m);
    int64_t cy = m.shape[1] / 512 / 2, cx = m.shape[2] / 512 / 2;
    for (int64_t y = std::max<int64_t>(0, cy - 2); y <= cy + 1; ++y)
      for (int64_t x = std::max<int64_t>(0, cx - 2); x <= cx + 1; ++x) {
        std::vector<uint16_t> chunk(512 * 512, static_cast<uint16_t>(1000 + level));
        auto packed = compress(m.compressor, reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size() * 2, 2);
        std::ofstream(dir + "/" + std::to_string(mid) + "." + std::to_string(y) + "." + std::to_string(x), std::ios::binary)
            .write(reinterpret_cast<const char*>(packed.data()), static_cast<std::streamsize>(packed.size()));
      }
    scales.push_back({1.0, static_cast<double>(f), static_cast<double>(f)});
  }
  ASSERT_FALSE(write_ngff_attrs(tmp / "big.zarr", {{"z", "space", "micrometer"}, {"y", "space", "micrometer"},
                                                   {"x", "space", "micrometer"}}, scales, {}, {}));
  auto cache = std::make_shared<ChunkCache>(size_t{64} << 20, 2);
  auto src = open_ok(tmp / "big.zarr", cache);
  ASSERT_TRUE(src);
  const auto& shape = src->info().shape;
  double bytes = 2.0 * static_cast<double>(shape[0]) * static_cast<double>(shape[1]) * static_cast<double>(shape[2]);
  EXPECT_GT(bytes, 10e12) << "logical size must exceed 10 TB";
  // A 1920x1080 view at the middle plane of the finest level: data where chunks exist.
  const auto& l0 = src->info().levels[0].shape;
  Box view{{l0[0] / 2, l0[1] / 2 - 540, l0[2] / 2 - 960}, {1, 1080, 1920}};
  std::vector<float> plane(static_cast<size_t>(view.count()));
  ASSERT_FALSE(src->read_level(0, view, plane.data()));
  EXPECT_EQ(plane[540 * 1920 + 960], 1000);
  EXPECT_EQ(plane[0], 1000);
  std::vector<float> corner(512 * 512);
  ASSERT_FALSE(src->read_level(0, Box{{l0[0] / 2, 0, 0}, {1, 512, 512}}, corner.data()));
  EXPECT_EQ(corner[0], 0);  // a missing chunk reads as fill
  EXPECT_LE(cache->stats().resident_bytes, cache->stats().budget_bytes);
}

TEST(ChunkCache, EvictsLeastRecentlyUsedWithinTheBudget) {
  ChunkCache cache(10 * 1100, 2);  // about ten 1 KB chunks
  int loads = 0;
  std::mutex m;
  auto req = [&](uint64_t i) {
    return ChunkRequest{{1, 0, i}, [&, i]() -> ChunkResult {
                          std::lock_guard lock(m);
                          ++loads;
                          auto c = std::make_shared<Chunk>();
                          c->bytes.assign(1000, static_cast<uint8_t>(i));
                          return std::shared_ptr<const Chunk>(c);
                        }};
  };
  for (uint64_t i = 0; i < 30; ++i) {
    auto got = cache.get_all({req(i)});
    ASSERT_TRUE(std::holds_alternative<std::vector<std::shared_ptr<const Chunk>>>(got));
    EXPECT_EQ(std::get<0>(got)[0]->bytes[0], static_cast<uint8_t>(i));
  }
  auto s = cache.stats();
  EXPECT_LE(s.resident_bytes, s.budget_bytes);
  EXPECT_GE(s.evictions, 19u);
  int before = loads;
  cache.get_all({req(29)});  // recent: a hit
  EXPECT_EQ(loads, before);
  cache.get_all({req(0)});  // evicted long ago: loaded again
  EXPECT_EQ(loads, before + 1);
}

// A source going away (File > Open, a reconnect to another dataset) closes its array: its
// queued loads never run and its running load is waited for (each reads the source:
// TSan caught a load reading a ZarrSource being destroyed).
TEST(ChunkCache, ClosingAnArrayDropsItsQueuedLoadsAndWaitsForTheRunningOne) {
  ChunkCache cache(size_t{1} << 20, 1);  // one worker: the first load blocks the rest
  std::mutex m;
  std::condition_variable cv;
  bool started = false, release = false;
  std::atomic<int> ran{0};
  auto chunk = [] {
    auto c = std::make_shared<Chunk>();
    c->bytes.assign(1000, 1);
    return std::shared_ptr<const Chunk>(c);
  };
  std::vector<ChunkRequest> reqs;
  reqs.push_back({{9, 0, 0}, [&]() -> ChunkResult {
                    std::unique_lock lock(m);
                    started = true;
                    cv.notify_all();
                    cv.wait(lock, [&] { return release; });
                    ran += 1;
                    return chunk();
                  }});
  for (uint64_t i = 1; i <= 5; ++i) reqs.push_back({{9, 0, i}, [&]() -> ChunkResult {
                                                      ran += 1;
                                                      return chunk();
                                                    }});
  cache.request(reqs, {1, 0, false});
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return started; }));
  }
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    cache.close_array(9);
    closed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(closed.load());  // the running load still reads the source
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  closer.join();
  EXPECT_EQ(ran.load(), 1);  // the five queued loads never ran
  EXPECT_EQ(cache.stats().resident_bytes, 0u);  // and the loaded chunk left the cache
  EXPECT_EQ(cache.stats().queued, 0u);
  // Other arrays are unaffected.
  auto got = cache.get_all({ChunkRequest{{10, 0, 0}, [&]() -> ChunkResult { return chunk(); }}});
  EXPECT_TRUE(std::holds_alternative<std::vector<std::shared_ptr<const Chunk>>>(got));
}

// Loads run below the caller's priority: the render and encode threads come first.
TEST(ChunkCache, WorkersRunNicerThanTheirCaller) {
  ChunkCache cache(size_t{1} << 20, 1);
  std::atomic<int> worker_nice{-100};
  auto got = cache.get_all({ChunkRequest{{1, 0, 7}, [&]() -> ChunkResult {
                                           worker_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
                                           return std::shared_ptr<const Chunk>(std::make_shared<Chunk>());
                                         }}});
  ASSERT_TRUE(std::holds_alternative<std::vector<std::shared_ptr<const Chunk>>>(got));
  const int mine = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  EXPECT_EQ(worker_nice.load(), std::min(19, mine + kWorkerNiceness));
}

TEST(ChunkCache, LatestRequestOfALaneCancelsQueuedLoads) {
  ChunkCache cache(size_t{1} << 20, 1);
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::vector<uint64_t> loaded;
  auto req = [&](uint64_t i) {
    return ChunkRequest{{2, 0, i}, [&, i]() -> ChunkResult {
                          std::unique_lock lock(m);
                          cv.wait(lock, [&] { return release; });  // the first load holds the only worker
                          loaded.push_back(i);
                          return std::shared_ptr<const Chunk>(std::make_shared<Chunk>());
                        }};
  };
  std::vector<ChunkRequest> first;
  for (uint64_t i = 0; i < 10; ++i) first.push_back(req(i));
  EXPECT_FALSE(cache.request(first, {7, 0}));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the worker takes chunk 0
  EXPECT_FALSE(cache.request({req(100), req(101)}, {7, 0}));  // the view moved on
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  auto got = cache.get_all({req(100), req(101)});
  ASSERT_TRUE(std::holds_alternative<std::vector<std::shared_ptr<const Chunk>>>(got));
  EXPECT_TRUE(cache.request({req(100), req(101)}, {7, 0}));
  std::lock_guard lock(m);
  EXPECT_LE(loaded.size(), 3u) << "stale chunks were loaded";
  EXPECT_GE(cache.stats().cancelled, 8u);
}

TEST(ChunkCache, FailuresReachEveryWaiter) {
  ChunkCache cache(1 << 20, 2);
  ChunkRequest bad{{3, 0, 1}, []() -> ChunkResult { return DataError{"file-x", "corrupt"}; }};
  auto got = cache.get_all({bad});
  ASSERT_TRUE(std::holds_alternative<DataError>(got));
  EXPECT_EQ(std::get<DataError>(got).source, "file-x");
  EXPECT_TRUE(cache.request({bad}, {1, 0}));  // settled: a read reports the error, no retry loop
}
