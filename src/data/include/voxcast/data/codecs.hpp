#pragma once
// Chunk compressors of Zarr v2 (numcodecs ids) and TIFF-independent byte codecs.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace voxcast::data {

struct Compressor {
  std::string id;            // "" (none), "blosc", "zstd", "zlib", "gzip"
  std::string cname = "lz4"; // blosc: lz4, lz4hc, zstd, zlib, blosclz
  int clevel = 5;            // blosc clevel, zstd/zlib/gzip level
  int shuffle = 1;           // blosc: 0 none, 1 byte, 2 bit
  int blocksize = 0;
};

// From a .zarray "compressor" value (null or an object); an error names what is unsupported.
std::optional<std::string> parse_compressor(const nlohmann::json& j, Compressor* out);
nlohmann::json to_json(const Compressor& c);
std::string describe(const Compressor& c);  // "blosc/lz4 shuffle=byte", "zstd", "none"

// Decodes `in` into `out`, which must end up exactly `expected` bytes; an error when
// the stream is corrupt, truncated or of another size.
std::optional<std::string> decompress(const Compressor& c, const uint8_t* in, size_t n, size_t expected,
                                      std::vector<uint8_t>* out);
// As decompress, for streams whose decoded size is not known ahead (a whole shard
// compressed as one): at most `limit` bytes.
std::optional<std::string> decompress_bounded(const Compressor& c, const uint8_t* in, size_t n, size_t limit,
                                              std::vector<uint8_t>* out);
// Encodes for our own writers (tests, benchmarks); `itemsize` feeds blosc's shuffle.
std::vector<uint8_t> compress(const Compressor& c, const uint8_t* in, size_t n, size_t itemsize);

// Whole-stream gzip/zlib inflate of unknown size (NIfTI .nii.gz), bounded by `limit`.
std::optional<std::string> gunzip(const uint8_t* in, size_t n, size_t limit, std::vector<uint8_t>* out);

// CRC-32C (Castagnoli), as Zarr v3's crc32c codec stores it.
uint32_t crc32c(const uint8_t* data, size_t n);

}  // namespace voxcast::data
