#pragma once
// Zarr v3 arrays (zarr.json) and OME-Zarr 0.5 groups: every data type, the regular chunk
// grid, both chunk key encodings, and the codecs bytes, transpose, blosc, zstd, gzip,
// zlib, crc32c and sharding_indexed (inner chunks read by byte range).
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "voxcast/data/chunk_cache.hpp"
#include "voxcast/data/codecs.hpp"
#include "voxcast/data/store.hpp"
#include "voxcast/data/volume_source.hpp"
#include "voxcast/data/zarr.hpp"

namespace voxcast::data {

struct Zarr3Chain;  // parsed codecs (internal)

struct Zarr3ArrayMeta {
  std::vector<int64_t> shape;
  std::vector<int64_t> chunk_shape;  // of the chunk grid: a whole shard when sharded
  DType dtype = DType::u16;
  nlohmann::json fill_value = 0;     // as written
  double fill = 0.0;                 // as a number
  std::vector<uint8_t> fill_bytes;   // one item, native order
  bool v2_keys = false;              // chunk_key_encoding "v2" ("0.1.2"); else "default" ("c/0/1/2")
  char separator = '/';
  std::vector<std::string> dimension_names;  // empty, or one per axis ("" for null)
  nlohmann::json codecs = nlohmann::json::array();
  nlohmann::json attributes = nlohmann::json::object();
  std::shared_ptr<const Zarr3Chain> chain;  // set by parse_zarr3_array / prepare_zarr3_array
};

// A zarr.json of node_type "array"; an error names what is unsupported (codec, data type,
// grid, key encoding).
std::variant<Zarr3ArrayMeta, std::string> parse_zarr3_array(const std::string& text);
// Checks and completes a meta built in code (fill bytes, parsed codecs), for writers.
std::optional<std::string> prepare_zarr3_array(Zarr3ArrayMeta* meta);
std::string zarr3_array_json(const Zarr3ArrayMeta& m);
// The key of chunk-grid cell `coords`, relative to the array.
std::string zarr3_chunk_key(const Zarr3ArrayMeta& m, const std::vector<int64_t>& coords);
// The data_type name of `t` ("uint16", "bool", "float16").
const char* zarr3_data_type(DType t);

// Codec lists for writers: bytes (little-endian) + an optional compressor + optional crc32c;
// and the same inside sharding_indexed with inner chunks of `inner` and a crc32c'd index.
nlohmann::json zarr3_codecs(const Compressor& c, bool crc32c = false, bool big_endian = false);
nlohmann::json zarr3_sharding_codecs(const std::vector<int64_t>& inner, const Compressor& c, bool index_at_end = true,
                                     bool crc32c = false);

// Opens the zarr.json at the root of `store`: an array, or an OME-Zarr 0.5 group (its
// first multiscale image); `name` names it in messages.
std::variant<std::unique_ptr<VolumeSource>, DataError> open_zarr3(std::shared_ptr<const Store> store,
                                                                  const std::string& name,
                                                                  std::shared_ptr<ChunkCache> cache);

// The same without estimating contrast limits: opening reads no chunk (voxcast-convert
// reading back the level it wrote).
std::variant<std::unique_ptr<VolumeSource>, DataError> open_zarr3_array(std::shared_ptr<const Store> store,
                                                                        const std::string& name,
                                                                        std::shared_ptr<ChunkCache> cache);

// Writes zarr.json and every chunk-grid cell that `fill` produces (skipping cells that are
// all fill) under `dir`; each cell is written to a temporary name and renamed, so an
// interrupted writer never leaves a half-written chunk. `skip(coords)` (optional) leaves
// cells that exist already (resuming).
std::optional<std::string> write_zarr3_array(const std::string& dir, const Zarr3ArrayMeta& meta, const ChunkFiller& fill,
                                             int threads = 1);
// One encoded cell, for writers that produce cells themselves (voxcast-convert).
std::optional<std::string> write_zarr3_chunk(const std::string& dir, const Zarr3ArrayMeta& meta,
                                             const std::vector<int64_t>& coords, const std::vector<uint8_t>& bytes);
// A group's zarr.json with `attributes` (an OME-Zarr 0.5 image puts its metadata under "ome").
std::optional<std::string> write_zarr3_group(const std::string& dir, const nlohmann::json& attributes);

}  // namespace voxcast::data
