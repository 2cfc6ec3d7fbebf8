#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "fixtures.hpp"
#include "voxcast/data/codecs.hpp"
#include "voxcast/data/dtype.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/data/zarr3.hpp"
#include "zarr3_fixtures.hpp"

using namespace voxcast::data;
using namespace voxcast::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<ChunkCache> small_cache() { return std::make_shared<ChunkCache>(size_t{64} << 20, 2); }

DType dtype_of(const std::string& name) {
  for (DType t : {DType::b1, DType::i8, DType::u8, DType::i16, DType::u16, DType::i32, DType::u32, DType::i64, DType::u64,
                  DType::f16, DType::f32, DType::f64})
    if (name == zarr3_data_type(t)) return t;
  ADD_FAILURE() << "no dtype " << name;
  return DType::u8;
}

std::string full_region(const std::vector<int64_t>& shape) {
  std::string r;
  for (size_t a = 0; a < shape.size(); ++a) r += a ? ",:" : ":";
  return r;
}

std::vector<int64_t> shape_of(const json& spec) { return spec["shape"].get<std::vector<int64_t>>(); }

json bytes(const char* endian = "little") { return {{"name", "bytes"}, {"configuration", {{"endian", endian}}}}; }

std::unique_ptr<VolumeSource> open_ok(const std::string& path, std::shared_ptr<ChunkCache> cache = small_cache()) {
  auto opened = open_zarr(path, std::move(cache));
  if (auto* e = std::get_if<DataError>(&opened)) {
    ADD_FAILURE() << e->source << ": " << e->message;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<VolumeSource>>(opened));
}

// Fixture values written by our own writer (sharded or not).
void write_ours(const std::string& dir, Zarr3ArrayMeta m) {
  ASSERT_FALSE(prepare_zarr3_array(&m)) << dir;
  auto err = write_zarr3_array(dir, m, [&](const std::vector<int64_t>& start, const std::vector<int64_t>& shape,
                                           std::vector<uint8_t>* out) {
    const size_t item = dtype_size(m.dtype);
    std::vector<int64_t> i(shape.size(), 0);
    for (size_t k = 0; k < out->size() / item; ++k) {
      std::vector<int64_t> idx(shape.size());
      bool inside = true;
      for (size_t a = 0; a < shape.size(); ++a) {
        idx[a] = start[a] + i[a];
        inside = inside && idx[a] < m.shape[a];
      }
      if (inside) from_float(m.dtype, fixture_value(idx, m.dtype), out->data() + k * item);
      for (size_t a = shape.size(); a-- > 0;) {
        if (++i[a] < shape[a]) break;
        i[a] = 0;
      }
    }
    return true;
  });
  ASSERT_FALSE(err) << *err;
}

}  // namespace

TEST(Zarr3, ZarritaEveryCodecAndDataTypeReadsVoxelForVoxel) {
  TempDir tmp;
  const std::vector<std::string> dtypes = {"bool", "int8", "uint8", "int16", "uint16", "int32",
                                           "uint32", "int64", "uint64", "float32", "float64"};
  const std::vector<json> chains = {
      json::array({bytes()}),
      json::array({bytes("big")}),
      json::array({{{"name", "transpose"}, {"configuration", {{"order", {2, 0, 1}}}}}, bytes()}),
      json::array({bytes(), {{"name", "blosc"}, {"configuration", {{"cname", "lz4"}, {"clevel", 5}, {"shuffle", 1}, {"blocksize", 0}}}}}),
      json::array({bytes("big"), {{"name", "blosc"}, {"configuration", {{"cname", "zstd"}, {"clevel", 3}, {"shuffle", 2}, {"blocksize", 0}}}}}),
      json::array({bytes(), {{"name", "blosc"}, {"configuration", {{"cname", "zlib"}, {"clevel", 4}, {"shuffle", 0}, {"blocksize", 0}}}}}),
      json::array({bytes(), {{"name", "zstd"}, {"configuration", {{"level", 3}, {"checksum", false}}}}}),
      json::array({bytes(), {{"name", "gzip"}, {"configuration", {{"level", 5}}}}}),
      json::array({bytes("big"), {{"name", "zlib"}, {"configuration", {{"level", 5}}}}}),
  };
  // Every data type with both byte orders, every codec with a few data types.
  json specs = json::array();
  int n = 0;
  auto add = [&](const std::string& dtype, const json& codecs) {
    json s = {{"out", tmp / ("a" + std::to_string(n))}, {"shape", {3, 17, 9}}, {"chunks", {2, 8, 4}}, {"dtype", dtype},
              {"codecs", codecs}, {"separator", n % 2 ? "." : "/"}};
    if (n % 3 == 0) s["dims"] = {"z", "y", "x"};
    specs.push_back(s);
    ++n;
  };
  for (const auto& d : dtypes) {
    add(d, chains[0]);
    if (d != "bool" && d != "int8" && d != "uint8") add(d, chains[1]);
  }
  for (size_t c = 2; c < chains.size(); ++c)
    for (const char* d : {"uint16", "int32", "float32"}) add(d, chains[c]);
  write_with_zarrita(specs, tmp.path());
  for (const auto& s : specs) {
    const std::string dir = s["out"];
    const DType t = dtype_of(s["dtype"]);
    const std::string what = dir + " " + s["dtype"].get<std::string>() + " " + s["codecs"].dump();
    Npy npy = voxcast_info_region(dir, full_region(shape_of(s)), dir + ".npy");
    EXPECT_EQ(npy.dtype, t) << what;
    EXPECT_EQ(npy.shape, shape_of(s)) << what;
    expect_npy(npy, {0, 0, 0}, [&](const std::vector<int64_t>& idx) { return fixture_value(idx, t); }, what);
  }
  // A region inside: only its voxels, at their place.
  const std::string dir = specs[5]["out"];
  Npy part = voxcast_info_region(dir, "1:3,5:14,2:7", tmp / "part.npy");
  EXPECT_EQ(part.shape, (std::vector<int64_t>{2, 9, 5}));
  expect_npy(part, {1, 5, 2}, [&](const std::vector<int64_t>& idx) { return fixture_value(idx, dtype_of(specs[5]["dtype"])); }, "region");
  // dimension_names name the axes of a plain array.
  auto src = open_ok(specs[0]["out"]);
  ASSERT_TRUE(src);
  EXPECT_EQ(src->info().axes[1].name, "y");
  EXPECT_EQ(src->info().kind, "zarr3");
}

TEST(Zarr3, ShardedEveryLayoutEmptyInnerChunksAndMissingShards) {
  TempDir tmp;
  json index_crc = json::array({bytes(), {{"name", "crc32c"}}});
  auto sharding = [&](json inner_codecs, const char* where, json index = nullptr) {
    return json::array({{{"name", "sharding_indexed"},
                         {"configuration",
                          {{"chunk_shape", {1, 4, 4}},
                           {"codecs", inner_codecs},
                           {"index_codecs", index.is_null() ? index_crc : index},
                           {"index_location", where}}}}});
  };
  const json blosc_spec = {{"name", "blosc"}, {"configuration", {{"cname", "lz4"}, {"clevel", 5}, {"shuffle", "shuffle"}, {"typesize", 2}, {"blocksize", 0}}}};
  struct Case {
    const char* dtype;
    json codecs;
    json fill;
    const char* keys;
    const char* sep;
  };
  const std::vector<Case> cases = {
      {"uint16", sharding(json::array({bytes()}), "end"), 0, "default", "/"},
      {"uint16", sharding(json::array({bytes(), {{"name", "zstd"}, {"configuration", {{"level", 3}}}}}), "start"), 7, "default", "."},
      {"uint16", sharding(json::array({bytes(), blosc_spec, {{"name", "crc32c"}}}), "end"), 3, "v2", "."},
      {"float32", sharding(json::array({bytes("big"), {{"name", "gzip"}, {"configuration", {{"level", 5}}}}, {{"name", "crc32c"}}}), "start"), "NaN", "v2", "/"},
      {"float16", sharding(json::array({{{"name", "transpose"}, {"configuration", {{"order", {2, 1, 0}}}}}, bytes(), {{"name", "crc32c"}}}), "end", json::array({bytes("big")})), "0x7c00", "default", "/"},
      {"uint64", sharding(json::array({bytes("big"), {{"name", "zstd"}, {"configuration", {{"level", 1}}}}}), "end"), 18446744073709551615ull, "default", "/"},
      {"bool", sharding(json::array({bytes()}), "start"), true, "default", "/"},
      {"float64", json::array({bytes("big"), {{"name", "crc32c"}}}), "-Infinity", "default", "/"},
      {"int64", json::array({{{"name", "transpose"}, {"configuration", {{"order", {1, 2, 0}}}}}, bytes(), {{"name", "gzip"}, {"configuration", {{"level", 1}}}}, {{"name", "crc32c"}}}), -5, "v2", "."},
  };
  json specs = json::array();
  // Shards of 2 x 8 x 8 over an array of 4 x 13 x 11 (edge shards are partial); inner chunk
  // (0, 4, 4) left empty, shard (1, 0, 1) missing.
  for (size_t c = 0; c < cases.size(); ++c)
    specs.push_back({{"out", tmp / ("s" + std::to_string(c))}, {"writer", "hand"}, {"shape", {4, 13, 11}},
                     {"chunks", {2, 8, 8}}, {"dtype", cases[c].dtype}, {"codecs", cases[c].codecs},
                     {"fillJson", cases[c].fill}, {"fill", 0}, {"keys", cases[c].keys}, {"separator", cases[c].sep},
                     {"skipInner", json::array({{0, 4, 4}})}, {"skipShards", json::array({{1, 0, 1}})}});
  write_with_zarrita(specs, tmp.path());
  for (size_t c = 0; c < cases.size(); ++c) {
    const std::string dir = specs[c]["out"];
    const DType t = dtype_of(cases[c].dtype);
    auto meta_text = [&] {
      std::ifstream f(dir + "/zarr.json");
      return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    }();
    auto meta = parse_zarr3_array(meta_text);
    ASSERT_TRUE(std::holds_alternative<Zarr3ArrayMeta>(meta)) << std::get<std::string>(meta);
    const double fill = std::get<Zarr3ArrayMeta>(meta).fill;
    const bool sharded = cases[c].codecs[0]["name"] == "sharding_indexed";
    const std::string what = dir + " " + cases[c].dtype + " " + cases[c].codecs.dump();
    Npy npy = voxcast_info_region(dir, "0:4,0:13,0:11", dir + ".npy");
    EXPECT_EQ(npy.dtype, t) << what;
    expect_npy(npy, {0, 0, 0}, [&](const std::vector<int64_t>& i) {
      bool empty_inner = sharded && i[0] == 0 && i[1] >= 4 && i[1] < 8 && i[2] >= 4 && i[2] < 8;
      bool missing_shard = i[0] >= 2 && i[1] < 8 && i[2] >= 8;
      return empty_inner || missing_shard ? fill : fixture_value(i, t);
    }, what);
    auto src = open_ok(dir);
    ASSERT_TRUE(src);
    // Sharded levels are chunked by their inner chunks: the cache holds those, not whole shards.
    EXPECT_EQ(src->info().levels[0].chunks, sharded ? (std::vector<int64_t>{1, 4, 4}) : (std::vector<int64_t>{2, 8, 8})) << what;
  }
}

TEST(Zarr3, OmeZarr05GroupFromZarritaWithOmero) {
  TempDir tmp;
  const std::string dir = tmp / "img.ome.zarr";
  json spec = {{"out", dir}, {"shape", {2, 3, 20, 16}}, {"chunks", {1, 2, 8, 8}}, {"dtype", "uint16"},
               {"codecs", json::array({bytes(), {{"name", "zstd"}, {"configuration", {{"level", 3}}}}})},
               {"ome",
                {{"axes", json::array({{{"name", "c"}, {"type", "channel"}},
                                       {{"name", "z"}, {"type", "space"}, {"unit", "micrometer"}},
                                       {{"name", "y"}, {"type", "space"}, {"unit", "micrometer"}},
                                       {{"name", "x"}, {"type", "space"}, {"unit", "micrometer"}}})},
                 {"scale", {1.0, 2.0, 0.5, 0.5}},
                 {"omero", {{"channels", json::array({{{"label", "DAPI"}, {"color", "0000FF"}, {"window", {{"start", 0}, {"end", 200}, {"min", 0}, {"max", 255}}}},
                                                      {{"label", "GFP"}, {"color", "00FF00"}, {"window", {{"start", 10}, {"end", 150}, {"min", 0}, {"max", 255}}}}})}}}}}};
  write_with_zarrita(json::array({spec}), tmp.path());
  auto src = open_or_fail("file://" + dir);
  ASSERT_TRUE(src);
  const auto& info = src->info();
  EXPECT_EQ(info.kind, "ome-zarr-0.5");
  ASSERT_EQ(info.axes.size(), 4u);
  EXPECT_EQ(info.channel_axis, 0);
  EXPECT_EQ(info.axes[1].unit, "micrometer");
  EXPECT_DOUBLE_EQ(info.axes[1].scale, 2.0);
  EXPECT_DOUBLE_EQ(info.axes[3].scale, 0.5);
  ASSERT_EQ(info.channels.size(), 2u);
  EXPECT_EQ(info.channels[0].name, "DAPI");
  EXPECT_EQ(info.channels[1].colormap, "green");
  EXPECT_DOUBLE_EQ(info.channels[1].contrast_lo, 10);
  EXPECT_DOUBLE_EQ(info.channels[1].contrast_hi, 150);
  expect_fixture_values(*src, 0);
  Npy npy = voxcast_info_region(dir, "1,:,3:17,:", tmp / "c1.npy");
  EXPECT_EQ(npy.shape, (std::vector<int64_t>{1, 3, 14, 16}));
  expect_npy(npy, {1, 0, 3, 0}, [](const std::vector<int64_t>& i) { return fixture_value(i, DType::u16); }, "ome 0.5");
}

namespace {
// Counts the bytes a reader takes from the store.
class CountingStore final : public Store {
 public:
  explicit CountingStore(std::shared_ptr<const Store> inner) : inner_(std::move(inner)) {}
  std::optional<StoreError> read(const std::string& key, StoreRead* out) const override {
    auto e = inner_->read(key, out);
    if (key.find("zarr.json") == std::string::npos) whole_reads += 1;
    bytes += out->bytes.size();
    return e;
  }
  std::optional<StoreError> read_range(const std::string& key, ByteRange range, StoreRead* out) const override {
    auto e = inner_->read_range(key, range, out);
    bytes += out->bytes.size();
    return e;
  }
  bool exists(const std::string& key) const override { return inner_->exists(key); }
  std::vector<std::string> list(const std::string& prefix) const override { return inner_->list(prefix); }
  std::string where(const std::string& key) const override { return inner_->where(key); }
  mutable std::atomic<uint64_t> bytes{0}, whole_reads{0};

 private:
  std::shared_ptr<const Store> inner_;
};
}  // namespace

TEST(Zarr3, AnInnerChunkIsReadWithoutReadingItsShard) {
  TempDir tmp;
  Zarr3ArrayMeta m;
  m.shape = {1, 256, 256};
  m.chunk_shape = {1, 256, 256};  // one shard of 64 inner chunks of 32 x 32
  m.dtype = DType::u16;
  m.codecs = zarr3_sharding_codecs({1, 32, 32}, Compressor{}, true, true);
  write_ours(tmp / "a", m);
  const auto shard_size = fs::file_size(tmp / "a/c/0/0/0");
  auto counting = std::make_shared<CountingStore>(open_local_store(tmp / "a"));
  auto opened = open_zarr3(counting, "a", small_cache());
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<VolumeSource>>(opened)) << std::get<DataError>(opened).message;
  auto& src = *std::get<std::unique_ptr<VolumeSource>>(opened);
  const uint64_t after_open = counting->bytes;  // metadata and the contrast estimate
  std::vector<float> v(16 * 16);
  ASSERT_FALSE(src.read_level(0, Box{{0, 200, 8}, {1, 16, 16}}, v.data()));
  EXPECT_EQ(v[0], fixture_value({0, 200, 8}, DType::u16));
  EXPECT_EQ(counting->whole_reads, 0u) << "the shard was read whole";
  EXPECT_LT(counting->bytes - after_open, shard_size / 8) << "more than an inner chunk and the index";
}

TEST(Zarr3, OurWriterEveryDataTypeShardedOrNot) {
  TempDir tmp;
  int n = 0;
  for (DType t : {DType::b1, DType::i8, DType::u8, DType::i16, DType::u16, DType::i32, DType::u32, DType::i64, DType::u64,
                  DType::f16, DType::f32, DType::f64})
    for (int layout = 0; layout < 4; ++layout) {
      Zarr3ArrayMeta m;
      m.shape = {5, 13, 11};
      m.dtype = t;
      Compressor zstd;
      zstd.id = "zstd";
      if (layout == 0) {
        m.chunk_shape = {2, 4, 8};
        m.codecs = zarr3_codecs(zstd, true, true);
      } else if (layout == 3) {
        // transpose before bytes: our encoder's transpose is undone by our decoder's
        m.chunk_shape = {2, 4, 8};
        m.codecs = zarr3_codecs(zstd);
        m.codecs.insert(m.codecs.begin(), json{{"name", "transpose"}, {"configuration", {{"order", {2, 0, 1}}}}});
      } else {
        m.chunk_shape = {2, 8, 8};
        m.codecs = zarr3_sharding_codecs({1, 4, 4}, layout == 1 ? zstd : Compressor{}, layout == 1, layout == 2);
        m.v2_keys = layout == 2;
        m.separator = layout == 2 ? '.' : '/';
      }
      std::string dir = tmp / ("o" + std::to_string(n++));
      write_ours(dir, m);
      auto src = open_ok(dir);
      ASSERT_TRUE(src);
      EXPECT_EQ(src->info().dtype, t);
      expect_fixture_values(*src, 0);
    }
}

TEST(Zarr3, FillValueSpellings) {
  auto fill_of = [](const char* dtype, const json& fv, std::vector<uint8_t>* fill_bytes = nullptr) {
    json j = {{"zarr_format", 3}, {"node_type", "array"}, {"shape", {4}}, {"data_type", dtype},
              {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", {2}}}}}},
              {"chunk_key_encoding", {{"name", "default"}}}, {"fill_value", fv},
              {"codecs", json::array({bytes()})}};
    auto m = parse_zarr3_array(j.dump());
    if (auto* e = std::get_if<std::string>(&m)) {
      ADD_FAILURE() << dtype << " " << fv.dump() << ": " << *e;
      return 0.0;
    }
    if (fill_bytes) *fill_bytes = std::get<Zarr3ArrayMeta>(m).fill_bytes;
    return std::get<Zarr3ArrayMeta>(m).fill;
  };
  EXPECT_TRUE(std::isnan(fill_of("float32", "NaN")));
  EXPECT_EQ(fill_of("float64", "Infinity"), INFINITY);
  EXPECT_EQ(fill_of("float16", "-Infinity"), -INFINITY);
  EXPECT_EQ(fill_of("float32", "0x3f800000"), 1.0);
  EXPECT_EQ(fill_of("float64", "0x4000000000000000"), 2.0);
  EXPECT_EQ(fill_of("float16", "0x3c00"), 1.0);
  EXPECT_TRUE(std::isnan(fill_of("float32", "0x7fc00001")));
  EXPECT_EQ(fill_of("float32", 2.5), 2.5);
  EXPECT_EQ(fill_of("bool", true), 1.0);
  EXPECT_EQ(fill_of("int8", -3), -3.0);
  std::vector<uint8_t> b;
  fill_of("uint64", 18446744073709551615ull, &b);
  EXPECT_EQ(b, std::vector<uint8_t>(8, 0xff));
  fill_of("int64", -2, &b);
  int64_t i64;
  std::memcpy(&i64, b.data(), 8);
  EXPECT_EQ(i64, -2);
  EXPECT_EQ(fill_of("uint16", nullptr), 0.0);
}

TEST(Zarr3, UnsupportedMetadataNamesWhatAndWhichArray) {
  TempDir tmp;
  auto expect_error = [&](json patch, const std::string& words) {
    json j = {{"zarr_format", 3}, {"node_type", "array"}, {"shape", {4, 4}}, {"data_type", "uint16"},
              {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", {2, 2}}}}}},
              {"chunk_key_encoding", {{"name", "default"}}}, {"fill_value", 0},
              {"codecs", json::array({bytes()})}};
    j.merge_patch(patch);
    fs::create_directories(tmp / "bad.zarr");
    std::ofstream(tmp / "bad.zarr/zarr.json") << j.dump();
    auto opened = open_dataset(tmp / "bad.zarr");
    ASSERT_TRUE(std::holds_alternative<DataError>(opened)) << patch.dump();
    const auto& e = std::get<DataError>(opened);
    EXPECT_NE(e.source.find("bad.zarr/zarr.json"), std::string::npos) << e.source;
    EXPECT_NE(e.message.find(words), std::string::npos) << e.message;
  };
  expect_error({{"codecs", json::array({bytes(), {{"name", "lzma"}}})}}, "unsupported codec 'lzma'");
  expect_error({{"data_type", "complex64"}}, "unsupported data type 'complex64'");
  expect_error({{"data_type", "r16"}}, "'r16'");
  expect_error({{"chunk_grid", {{"name", "rectilinear"}}}}, "rectilinear");
  expect_error({{"chunk_key_encoding", {{"name", "fancy"}}}}, "fancy");
  expect_error({{"codecs", json::array({{{"name", "zstd"}}, bytes()})}}, "before the array→bytes codec");
  expect_error({{"codecs", json::array({{{"name", "sharding_indexed"}, {"configuration", {{"chunk_shape", {3, 2}}, {"codecs", json::array({bytes()})}}}}})}},
               "does not divide");
  expect_error({{"codecs", json::array({{{"name", "sharding_indexed"}, {"configuration", {{"chunk_shape", {1, 1}}, {"codecs", json::array({bytes()})},
                                                                                            {"index_codecs", json::array({bytes(), {{"name", "zstd"}}})}}}}})}},
               "no fixed size");
  expect_error({{"fill_value", "purple"}}, "fill_value");
  expect_error({{"storage_transformers", json::array({{{"name", "x"}}})}}, "storage transformers");
}

TEST(Zarr3, CorruptShardsAreTypedErrorsAndTheRestStillReads) {
  TempDir tmp;
  Zarr3ArrayMeta m;
  m.shape = {4, 16, 16};
  m.chunk_shape = {1, 16, 16};  // a shard per plane, 16 inner chunks of 4 x 4
  m.dtype = DType::u16;
  m.codecs = zarr3_sharding_codecs({1, 4, 4}, Compressor{}, true, true);
  write_ours(tmp / "c", m);
  const std::string plane1 = tmp / "c/c/1/0/0", plane2 = tmp / "c/c/2/0/0", plane3 = tmp / "c/c/3/0/0";
  fs::resize_file(plane1, 20);  // truncated: smaller than its index (16 * 16 + 4 bytes)
  {
    std::fstream f(plane2, std::ios::in | std::ios::out | std::ios::binary);  // a flipped bit in inner chunk 0
    f.seekg(3);
    char c;
    f.get(c);
    f.seekp(3);
    f.put(static_cast<char>(c ^ 0x10));
  }
  {
    // Inner chunk 5's offset moved past the end, the index's own checksum made right again.
    std::vector<uint8_t> bytes(fs::file_size(plane3));
    std::ifstream(plane3, std::ios::binary).read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    const size_t index_at = bytes.size() - (16 * 16 + 4);
    uint64_t off = bytes.size() + 1000;
    std::memcpy(bytes.data() + index_at + 5 * 16, &off, 8);
    uint32_t crc = crc32c(bytes.data() + index_at, 16 * 16);
    std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
    std::ofstream(plane3, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  auto src = open_ok(tmp / "c");
  ASSERT_TRUE(src);
  std::vector<float> v(16 * 16);
  auto read_plane = [&](int64_t z) { return src->read_level(0, Box{{z, 0, 0}, {1, 16, 16}}, v.data()); };
  auto expect = [&](int64_t z, const std::string& file, const std::string& words) {
    auto err = read_plane(z);
    ASSERT_TRUE(err) << "plane " << z << " read without error";
    EXPECT_EQ(err->source, file);
    EXPECT_NE(err->message.find(words), std::string::npos) << err->message;
  };
  expect(1, plane1, "truncated shard");
  expect(2, plane2, "crc32c checksum mismatch");
  expect(3, plane3, "past the end");
  ASSERT_FALSE(read_plane(0));
  EXPECT_EQ(v[17], fixture_value({0, 1, 1}, DType::u16));
}

TEST(Labels, Ome04LabelsGroupBecomesALabelLayerOnEveryLevel) {
  TempDir tmp;
  const std::string dir = tmp / "img.zarr";
  // Image c, z, y, x with two levels (2x in y, x); labels/cells z, y, x on the same grid.
  for (int level = 0; level < 2; ++level) {
    ZarrArrayMeta m;
    m.shape = {2, 4, 16 >> level, 16 >> level};
    m.chunks = {1, 2, 8, 8};
    m.compressor.id = "zstd";
    auto err = write_zarr_array(dir + "/" + std::to_string(level), m, [&](const std::vector<int64_t>& start,
        const std::vector<int64_t>& shape, std::vector<uint8_t>* out) {
      for (size_t k = 0; k < out->size() / 2; ++k) {
        std::vector<int64_t> idx(4);
        size_t r = k;
        for (size_t a = 4; a-- > 0;) {
          idx[a] = start[a] + static_cast<int64_t>(r % static_cast<size_t>(shape[a]));
          r /= static_cast<size_t>(shape[a]);
        }
        from_float(DType::u16, fixture_value(idx, DType::u16), out->data() + 2 * k);
      }
      return true;
    });
    ASSERT_FALSE(err) << *err;
    ZarrArrayMeta lm;
    lm.shape = {4, 16 >> level, 16 >> level};
    lm.chunks = {2, 8, 8};
    lm.dtype = DType::u32;
    err = write_zarr_array(dir + "/labels/cells/" + std::to_string(level), lm, [&](const std::vector<int64_t>& start,
        const std::vector<int64_t>&, std::vector<uint8_t>* out) {
      for (size_t k = 0; k < out->size() / 4; ++k) from_float(DType::u32, static_cast<double>(start[0] + 1000), out->data() + 4 * k);
      return true;
    });
    ASSERT_FALSE(err) << *err;
  }
  ASSERT_FALSE(write_ngff_attrs(dir, {{"c", "channel", ""}, {"z", "space", ""}, {"y", "space", ""}, {"x", "space", ""}},
                                {{1, 1, 1, 1}, {1, 1, 2, 2}}, {}, {}));
  ASSERT_FALSE(write_ngff_attrs(dir + "/labels/cells", {{"z", "space", ""}, {"y", "space", ""}, {"x", "space", ""}},
                                {{1, 1, 1}, {1, 2, 2}}, {}, {}));
  std::ofstream(dir + "/labels/.zgroup") << R"({"zarr_format": 2})";
  std::ofstream(dir + "/labels/.zattrs") << R"({"labels": ["cells", "missing"]})";
  {
    std::ifstream f(dir + "/labels/cells/.zattrs");
    json attrs = json::parse(f);
    attrs["image-label"] = {{"version", "0.4"},
                            {"colors", json::array({{{"label-value", 1000}, {"rgba", {255, 0, 0, 255}}},
                                                    {{"label-value", 1002}, {"rgba", {0, 0, 255, 128}}}})},
                            {"properties", json::array({{{"label-value", 1000}, {"class", "nucleus"}, {"area", 12}}})}};
    std::ofstream(dir + "/labels/cells/.zattrs") << attrs.dump();
  }
  auto src = open_or_fail(dir);
  ASSERT_TRUE(src);
  const auto& info = src->info();
  ASSERT_EQ(info.shape, (std::vector<int64_t>{3, 4, 16, 16}));
  ASSERT_EQ(info.channels.size(), 3u);
  ASSERT_EQ(info.levels.size(), 2u);
  EXPECT_EQ(info.levels[1].shape, (std::vector<int64_t>{3, 4, 8, 8}));
  const auto& ch = info.channels[2];
  EXPECT_EQ(ch.name, "cells");
  EXPECT_TRUE(ch.labels);
  EXPECT_FALSE(info.channels[0].labels);
  ASSERT_TRUE(ch.label_table);
  ASSERT_EQ(ch.label_table->colors.size(), 2u);
  ASSERT_TRUE(ch.label_table->colors.count(1002));
  EXPECT_EQ(ch.label_table->colors.at(1002), (std::array<float, 4>{0, 0, 1, 128 / 255.0f}));
  ASSERT_EQ(ch.label_table->properties.size(), 1u);
  EXPECT_EQ(ch.label_table->properties.begin()->second,
            (std::vector<std::pair<std::string, std::string>>{{"area", "12"}, {"class", "nucleus"}}));
  EXPECT_EQ(ch.label_table->names.begin()->second, "nucleus");
  // Every level reads the image channels and the label layer at their places.
  for (int level = 0; level < 2; ++level) {
    const auto& shape = info.levels[static_cast<size_t>(level)].shape;
    std::vector<float> v(static_cast<size_t>(3 * 4 * shape[2] * shape[3]));
    ASSERT_FALSE(src->read_level(level, Box{{0, 0, 0, 0}, shape}, v.data()));
    const size_t plane = static_cast<size_t>(shape[2] * shape[3]);
    EXPECT_EQ(v[0], fixture_value({0, 0, 0, 0}, DType::u16)) << level;
    EXPECT_EQ(v[4 * plane + plane + 5], fixture_value({1, 1, 0, 5}, DType::u16)) << level;
    EXPECT_EQ(v[2 * 4 * plane + 3 * plane + 7], 1002) << level;  // z 3 is in the chunk of z 2..3
    EXPECT_TRUE(src->request(level, Box{{2, 0, 0, 0}, {1, 1, shape[2], shape[3]}}, RequestHint{}));
  }
}

TEST(Labels, Ome05LabelsFromZarritaBesideAnImageWithoutChannels) {
  TempDir tmp;
  const std::string dir = tmp / "img.ome.zarr";
  json axes = json::array({{{"name", "z"}, {"type", "space"}}, {{"name", "y"}, {"type", "space"}}, {{"name", "x"}, {"type", "space"}}});
  json spec = {{"out", dir}, {"shape", {3, 12, 10}}, {"chunks", {1, 8, 8}}, {"dtype", "uint8"},
               {"codecs", json::array({bytes()})},
               {"ome", {{"axes", axes}, {"scale", {1.0, 1.0, 1.0}}}},
               {"labels", json::array({{{"name", "nuclei"}, {"shape", {3, 12, 10}}, {"chunks", {3, 4, 4}}, {"dtype", "uint16"},
                                        {"axes", axes}, {"scale", {1.0, 1.0, 1.0}},
                                        {"imageLabel", {{"colors", json::array({{{"label-value", 3}, {"rgba", {1, 2, 3, 4}}}})},
                                                        {"properties", json::array({{{"label-value", 3}, {"name", "cell three"}}})}}}}})}};
  write_with_zarrita(json::array({spec}), tmp.path());
  auto src = open_or_fail(dir);
  ASSERT_TRUE(src);
  const auto& info = src->info();
  ASSERT_EQ(info.shape, (std::vector<int64_t>{2, 3, 12, 10}));
  EXPECT_EQ(info.channel_axis, 0);
  ASSERT_EQ(info.channels.size(), 2u);
  EXPECT_TRUE(info.channels[1].labels);
  EXPECT_EQ(info.channels[1].name, "nuclei");
  const auto& table = info.channels[1].label_table;
  ASSERT_TRUE(table);
  ASSERT_TRUE(table->colors.count(3));
  EXPECT_EQ(table->colors.at(3), (std::array<float, 4>{1 / 255.0f, 2 / 255.0f, 3 / 255.0f, 4 / 255.0f}));
  ASSERT_TRUE(table->names.count(3));
  EXPECT_EQ(table->names.at(3), "cell three");
  Npy npy = voxcast_info_region(dir, ":,1,2:9,:", tmp / "l.npy");
  expect_npy(npy, {0, 1, 2, 0}, [](const std::vector<int64_t>& i) {
    std::vector<int64_t> zyx(i.begin() + 1, i.end());
    return i[0] == 0 ? fixture_value(zyx, DType::u8) : fixture_value(zyx, DType::u16);
  }, "image + labels");
}
