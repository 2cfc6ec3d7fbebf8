// Writing Zarr v3 arrays and groups (tests, benchmarks, voxcast-convert).
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <mutex>

#include "chunk_grid.hpp"
#include "file_io.hpp"
#include "voxcast/core/thread_pool.hpp"
#include "voxcast/data/dtype.hpp"
#include "voxcast/data/zarr3.hpp"
#include "zarr3_codecs.hpp"

namespace voxcast::data {
namespace fs = std::filesystem;

namespace {
// Written under a temporary name in the same directory, then renamed: readers and a
// resumed writer see either the whole value or none.
std::optional<std::string> write_atomically(const fs::path& file, const void* data, size_t n) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return "cannot create " + file.parent_path().string() + ": " + ec.message();
  fs::path tmp = file;
  tmp += ".partial-" + std::to_string(::getpid());
  if (auto err = write_whole_file(tmp.string(), data, n)) return err;
  fs::rename(tmp, file, ec);
  if (ec) return "cannot rename " + tmp.string() + ": " + ec.message();
  return std::nullopt;
}
}  // namespace

std::optional<std::string> write_zarr3_chunk(const std::string& dir, const Zarr3ArrayMeta& meta,
                                             const std::vector<int64_t>& coords, const std::vector<uint8_t>& bytes) {
  if (!meta.chain) return std::string("array meta not prepared (prepare_zarr3_array)");
  const size_t itemsize = dtype_size(meta.dtype);
  bool all_fill = true;
  for (size_t i = 0; all_fill && i < bytes.size(); i += itemsize) all_fill = !std::memcmp(bytes.data() + i, meta.fill_bytes.data(), itemsize);
  fs::path file = fs::path(dir) / zarr3_chunk_key(meta, coords);
  if (all_fill) {  // a missing cell reads as fill; an older copy must not stay
    std::error_code ec;
    fs::remove(file, ec);
    return std::nullopt;
  }
  auto packed = encode_zarr3_chunk(*meta.chain, bytes.data(), meta.chunk_shape, itemsize, meta.fill_bytes);
  return write_atomically(file, packed.data(), packed.size());
}

std::optional<std::string> write_zarr3_array(const std::string& dir, const Zarr3ArrayMeta& meta_in, const ChunkFiller& fill,
                                             int threads) {
  Zarr3ArrayMeta meta = meta_in;
  if (!meta.chain)
    if (auto e = prepare_zarr3_array(&meta)) return e;
  std::string text = zarr3_array_json(meta);
  if (auto err = write_atomically(fs::path(dir) / "zarr.json", text.data(), text.size())) return err;
  size_t items = 1;
  for (auto c : meta.chunk_shape) items *= static_cast<size_t>(c);
  const size_t itemsize = dtype_size(meta.dtype);
  return for_each_grid_cell(meta.shape, meta.chunk_shape, threads,
                            [&](const std::vector<int64_t>& coords, const std::vector<int64_t>& start) -> std::optional<std::string> {
                              std::vector<uint8_t> bytes(items * itemsize);
                              for (size_t i = 0; i < items; ++i)
                                std::memcpy(bytes.data() + i * itemsize, meta.fill_bytes.data(), itemsize);
                              if (!fill(start, meta.chunk_shape, &bytes)) return std::nullopt;
                              return write_zarr3_chunk(dir, meta, coords, bytes);
                            });
}

std::optional<std::string> write_zarr3_group(const std::string& dir, const nlohmann::json& attributes) {
  nlohmann::json j = {{"zarr_format", 3}, {"node_type", "group"}, {"attributes", attributes}};
  std::string text = j.dump(2);
  return write_atomically(fs::path(dir) / "zarr.json", text.data(), text.size());
}

}  // namespace voxcast::data
