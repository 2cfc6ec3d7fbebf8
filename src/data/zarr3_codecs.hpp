#pragma once
// Zarr v3 codec chains (internal): array→array (transpose), one array→bytes (bytes,
// sharding_indexed), bytes→bytes (blosc, zstd, gzip, zlib, crc32c).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "voxcast/data/codecs.hpp"

namespace voxcast::data {

struct Zarr3Codec;

// Codecs in the order they encode; parse_zarr3_codecs checks the kinds come in that order.
struct Zarr3Chain {
  std::vector<Zarr3Codec> codecs;
};

struct ShardingSpec {
  std::vector<int64_t> chunk_shape;  // inner chunks
  std::vector<int64_t> per_shard;    // inner chunks per shard along each axis
  Zarr3Chain codecs;                 // inner chunks'
  Zarr3Chain index_codecs;
  bool index_at_end = true;
  uint64_t inner_count = 0;
  uint64_t index_bytes = 0;  // encoded size of the index
};

struct Zarr3Codec {
  enum class Kind { transpose, bytes, sharding, compressor, crc32c };
  Kind kind = Kind::bytes;
  std::string name;
  std::vector<size_t> order;    // transpose
  bool big_endian = false;      // bytes
  Compressor compressor;        // blosc, zstd, gzip, zlib
  std::shared_ptr<const ShardingSpec> sharding;
};

// `list` is a "codecs" array for chunks of `chunk_shape` and items of `itemsize` bytes.
// An error names the codec that is unknown or misconfigured.
std::optional<std::string> parse_zarr3_codecs(const nlohmann::json& list, const std::vector<int64_t>& chunk_shape,
                                              size_t itemsize, Zarr3Chain* out);

// Decodes one chunk of `shape` into native-order C-order items (`out`). A sharded chunk
// whose inner chunks are all empty leaves `out` empty (all fill: nothing materialised);
// otherwise missing inner chunks read as `fill` (one item, native order).
std::optional<std::string> decode_zarr3_chunk(const Zarr3Chain& chain, const uint8_t* in, size_t n,
                                              const std::vector<int64_t>& shape, size_t itemsize,
                                              const std::vector<uint8_t>& fill, std::vector<uint8_t>* out);
// Encodes native-order C-order items of `shape`; inner chunks of a shard that are all
// `fill` are left out of it.
std::vector<uint8_t> encode_zarr3_chunk(const Zarr3Chain& chain, const uint8_t* in, const std::vector<int64_t>& shape,
                                        size_t itemsize, const std::vector<uint8_t>& fill);

// A decoded shard index: (offset, nbytes) per inner chunk in C order; both 2^64-1 = empty.
inline constexpr uint64_t kEmptyInner = ~uint64_t{0};
std::optional<std::string> decode_shard_index(const ShardingSpec& spec, const uint8_t* in, size_t n,
                                              std::vector<uint64_t>* out);

// True when the chain is a lone sharding_indexed codec: inner chunks can then be read by
// byte range without reading the whole shard.
const ShardingSpec* byte_range_sharding(const Zarr3Chain& chain);

}  // namespace voxcast::data
