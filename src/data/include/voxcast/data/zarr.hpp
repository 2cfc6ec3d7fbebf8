#pragma once
// Zarr v2 arrays and OME-NGFF 0.4 multiscale groups, read through a Store.
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "voxcast/data/chunk_cache.hpp"
#include "voxcast/data/codecs.hpp"
#include "voxcast/data/store.hpp"
#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

// What a .zarray says (the subset of Zarr v2 we read: C order, no filters).
struct ZarrArrayMeta {
  std::vector<int64_t> shape;
  std::vector<int64_t> chunks;
  DType dtype = DType::u16;
  bool big_endian = false;
  Compressor compressor;
  double fill_value = 0.0;
  char separator = '.';
};
std::variant<ZarrArrayMeta, std::string> parse_zarray(const std::string& text);
std::string zarray_json(const ZarrArrayMeta& m);

// Opens the Zarr array or OME-Zarr group (its first multiscale image) at `path`: Zarr v2 /
// OME-NGFF 0.4, or Zarr v3 / OME-Zarr 0.5 (zarr.json, see zarr3.hpp). With `confine_root`
// (canonical), every file read must resolve inside it (symlinks too).
std::variant<std::unique_ptr<VolumeSource>, DataError> open_zarr(const std::string& path,
                                                                 std::shared_ptr<ChunkCache> cache,
                                                                 const std::string& confine_root = {});
// The Zarr array or OME-Zarr group at the root of any store (local, HTTP, S3), v2 or v3,
// with its labels/; `name` names the dataset.
std::variant<std::unique_ptr<VolumeSource>, DataError> open_zarr_store(std::shared_ptr<const Store> store, const std::string& name,
                                                                       std::shared_ptr<ChunkCache> cache);
// The Zarr v2 / OME-NGFF 0.4 reader over any store; `name` names the dataset.
std::variant<std::unique_ptr<VolumeSource>, DataError> open_zarr2(std::shared_ptr<const Store> store, const std::string& name,
                                                                  std::shared_ptr<ChunkCache> cache);
// True when `path` is a directory holding Zarr metadata (.zarray, .zgroup, .zattrs, zarr.json).
bool looks_like_zarr(const std::string& path);

// Writing, for tests and benchmarks. `fill(chunk_start, chunk_shape, bytes)` writes the
// chunk's elements (native order, full chunk shape) and returns false to leave the chunk
// out (a sparse array); big-endian arrays are swapped on the way out.
using ChunkFiller = std::function<bool(const std::vector<int64_t>& start, const std::vector<int64_t>& shape,
                                       std::vector<uint8_t>* bytes)>;
std::optional<std::string> write_zarr_array(const std::string& dir, const ZarrArrayMeta& meta, const ChunkFiller& fill,
                                            int threads = 1);

struct NgffAxis {
  std::string name, type, unit;
};
struct NgffChannel {
  std::string label, color;  // color as "RRGGBB"
  double start = 0, end = 1;
};
// .zgroup + .zattrs of an OME-NGFF 0.4 image whose levels are the arrays "0", "1", ...
// with `scales[level]` per axis (and `translation` for all levels).
std::optional<std::string> write_ngff_attrs(const std::string& dir, const std::vector<NgffAxis>& axes,
                                            const std::vector<std::vector<double>>& scales,
                                            const std::vector<double>& translation,
                                            const std::vector<NgffChannel>& channels);

}  // namespace voxcast::data
