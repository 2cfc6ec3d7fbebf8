#include <gtest/gtest.h>

#include "voxcast/data/codecs.hpp"
#include "voxcast/data/dtype.hpp"

using namespace voxcast::data;

TEST(Codecs, EveryCompressorRoundTrips) {
  std::vector<uint8_t> in(40000);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>((i * 7) % 13 + (i / 1000));
  std::vector<Compressor> all;
  for (const char* cname : {"lz4", "lz4hc", "zstd", "zlib", "blosclz"})
    for (int shuffle : {0, 1, 2}) {
      Compressor c;
      c.id = "blosc";
      c.cname = cname;
      c.shuffle = shuffle;
      all.push_back(c);
    }
  for (const char* id : {"", "zstd", "zlib", "gzip"}) {
    Compressor c;
    c.id = id;
    all.push_back(c);
  }
  for (const auto& c : all) {
    auto packed = compress(c, in.data(), in.size(), 2);
    ASSERT_FALSE(packed.empty()) << describe(c);
    if (!c.id.empty()) {
      EXPECT_LT(packed.size(), in.size()) << describe(c);
    }
    std::vector<uint8_t> out;
    auto err = decompress(c, packed.data(), packed.size(), in.size(), &out);
    ASSERT_FALSE(err) << describe(c) << ": " << *err;
    EXPECT_EQ(out, in) << describe(c);
  }
}

TEST(Codecs, CorruptTruncatedAndWrongSizeAreErrors) {
  std::vector<uint8_t> in(5000, 7);
  for (const char* id : {"blosc", "zstd", "zlib", "gzip"}) {
    Compressor c;
    c.id = id;
    auto packed = compress(c, in.data(), in.size(), 1);
    std::vector<uint8_t> out;
    auto truncated = packed;
    truncated.resize(packed.size() / 2);
    EXPECT_TRUE(decompress(c, truncated.data(), truncated.size(), in.size(), &out)) << id;
    std::vector<uint8_t> garbage(64, 0xAB);
    EXPECT_TRUE(decompress(c, garbage.data(), garbage.size(), in.size(), &out)) << id;
    EXPECT_TRUE(decompress(c, packed.data(), packed.size(), in.size() + 10, &out)) << id << " wrong size";
  }
}

TEST(Codecs, ParsesZarrCompressorJson) {
  Compressor c;
  EXPECT_FALSE(parse_compressor(nlohmann::json::parse(R"({"id":"blosc","cname":"zstd","clevel":3,"shuffle":2,"blocksize":0})"), &c));
  EXPECT_EQ(describe(c), "blosc/zstd shuffle=bit");
  EXPECT_FALSE(parse_compressor(nullptr, &c));
  EXPECT_EQ(describe(c), "none");
  auto err = parse_compressor(nlohmann::json::parse(R"({"id":"lzma"})"), &c);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("lzma"), std::string::npos);
  EXPECT_TRUE(parse_compressor(nlohmann::json::parse(R"({"id":"blosc","cname":"snappy"})"), &c));
}

TEST(Codecs, NumpyTypestrings) {
  bool big = false;
  EXPECT_EQ(parse_numpy_dtype("<u2", &big), DType::u16);
  EXPECT_FALSE(big);
  EXPECT_EQ(parse_numpy_dtype(">f4", &big), DType::f32);
  EXPECT_TRUE(big);
  EXPECT_EQ(parse_numpy_dtype("|u1", &big), DType::u8);
  EXPECT_FALSE(parse_numpy_dtype("<c8", &big));
  uint8_t be[2] = {0x01, 0x02};
  byteswap(be, 1, 2);
  float f = 0;
  to_float(DType::u16, be, 1, &f);
  EXPECT_EQ(f, 0x0102);
}

TEST(Codecs, GunzipRejectsTruncatedStreams) {
  std::vector<uint8_t> in(100000, 3);
  Compressor gz;
  gz.id = "gzip";
  auto packed = compress(gz, in.data(), in.size(), 1);
  std::vector<uint8_t> out;
  EXPECT_FALSE(gunzip(packed.data(), packed.size(), 1 << 20, &out));
  EXPECT_EQ(out, in);
  EXPECT_TRUE(gunzip(packed.data(), packed.size() - 10, 1 << 20, &out));
  EXPECT_TRUE(gunzip(packed.data(), packed.size(), 1000, &out));  // over the limit
}
