#include "voxcast/data/open_dataset.hpp"

#include <cstdio>
#include <filesystem>
#include <mutex>

#include "voxcast/data/nifti.hpp"
#include "voxcast/data/picture.hpp"
#include "voxcast/data/stack.hpp"
#include "voxcast/data/procedural.hpp"
#include "voxcast/data/synthetic.hpp"
#include "voxcast/data/tiff.hpp"
#include "voxcast/data/zarr.hpp"

namespace voxcast::data {
namespace fs = std::filesystem;

std::shared_ptr<ChunkCache> shared_chunk_cache() {
  static std::mutex m;
  static std::shared_ptr<ChunkCache> cache;
  std::lock_guard lock(m);
  if (!cache) cache = std::make_shared<ChunkCache>(default_cache_bytes(), 0);
  return cache;
}

const char* dataset_kinds() {
  return "'synthetic', 'synthetic:CxZxYxX', 'procedural:SIZE:LEVELS', 'brain', an OME-Zarr/Zarr directory (v2 or v3), a .tif/.tiff/.ome.tif file, "
         "a .nii/.nii.gz file, a .png/.jpg picture, an http(s):// or s3:// URL of an OME-Zarr, or A+B to overlay images";
}

bool brain_sample_available() {
  std::error_code ec;
  return fs::exists(fs::path(kBrainDir) / "ch2better.nii.gz", ec) && fs::exists(fs::path(kBrainDir) / "aal.nii.gz", ec);
}

namespace {

constexpr int kRemoteReadWorkers = 32;

std::variant<std::unique_ptr<VolumeSource>, DataError> open_synthetic(const std::string& spec) {
  if (spec.empty() || spec == "synthetic") return make_synthetic_cells(SyntheticOptions{});
  SyntheticOptions o;
  long long c = 0, z = 0, y = 0, x = 0;
  char tail = 0;
  if (std::sscanf(spec.c_str() + 10, "%lldx%lldx%lldx%lld%c", &c, &z, &y, &x, &tail) != 4 || c < 1 || c > 4 || z < 1 ||
      y < 2 || x < 2 || z * y * x > (1LL << 31))
    return DataError{spec, "expected synthetic:CxZxYxX with 1 <= C <= 4 and at most 2^31 voxels per channel"};
  o.channels = static_cast<int>(c);
  o.depth = z;
  o.height = y;
  o.width = x;
  return make_synthetic_cells(o);
}

std::variant<std::unique_ptr<VolumeSource>, DataError> open_one(const std::string& spec, const OpenOptions& o) {
  // URLs: file:// names a local path; http(s):// and s3:// a remote store.
  std::string path = spec;
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  auto cache = o.cache ? o.cache : shared_chunk_cache();
  if (is_remote_url(path)) {
    if (!o.confine_root.empty()) return DataError{"", "a remote URL cannot be opened from inside the data root"};
    auto remote = o.remote ? o.remote : std::make_shared<const RemoteOptions>(remote_options_from_environment());
    auto store = open_remote_store(path, *remote);
    if (auto* err = std::get_if<DataError>(&store)) return *err;
    // Remote reads wait on the network, not the CPU: more of them in flight hide latency.
    cache->ensure_workers(kRemoteReadWorkers);
    std::string name = std::get<StoreLocation>(parse_store_url(path, *remote)).name;
    return open_zarr_store(std::get<std::shared_ptr<const Store>>(store), name, cache);
  }
  auto scheme = path.find("://");
  if (scheme != std::string::npos && scheme < 10)
    return DataError{spec, "unknown URL scheme " + path.substr(0, scheme) + ":// (file://, http://, https:// and s3:// are known)"};
  if (path.empty() || path == "synthetic" || path.rfind("synthetic:", 0) == 0) return open_synthetic(path);
  if (path.rfind("procedural:", 0) == 0) {
    long long size = 0, levels = 0;
    char tail = 0;
    if (std::sscanf(path.c_str() + 11, "%lld:%lld%c", &size, &levels, &tail) != 2 || size < 64 || size > (1LL << 20) ||
        levels < 1 || levels > 12 || (size >> (levels - 1)) < 1)
      return DataError{spec, "expected procedural:SIZE:LEVELS with 64 <= SIZE <= 2^20 and 1 <= LEVELS <= 12"};
    ProceduralOptions po;
    po.size = size;
    po.levels = static_cast<int>(levels);
    return make_procedural_cells(po, cache);
  }
  std::error_code ec;
  if (!fs::exists(path, ec)) return DataError{path, "no such file or directory"};
  if (fs::is_directory(path, ec)) {
    if (looks_like_zarr(path)) return open_zarr(path, cache, o.confine_root);
    return DataError{path, "a directory without Zarr metadata (.zarray/.zgroup/.zattrs)"};
  }
  if (looks_like_nifti(path)) return open_nifti(path);
  if (looks_like_tiff(path)) return open_tiff(path, cache);
  if (looks_like_png(path)) return open_png(path);
  if (looks_like_jpeg(path)) return open_jpeg(path);
  return DataError{path, std::string("unknown format; voxcast opens ") + dataset_kinds()};
}

}  // namespace

std::variant<std::unique_ptr<VolumeSource>, DataError> open_dataset(const std::string& spec, const OpenOptions& options) {
  if (spec == "brain") {
    if (!brain_sample_available()) return open_synthetic("synthetic");
    // The atlas file says it holds labels (NIfTI intent 1002): it gets the label colormap.
    return open_dataset(std::string(kBrainDir) + "/ch2better.nii.gz+" + kBrainDir + "/aal.nii.gz", options);
  }
  if (spec.find('+') == std::string::npos) return open_one(spec, options);
  std::vector<std::shared_ptr<const VolumeSource>> images;
  size_t begin = 0;
  while (begin <= spec.size()) {
    size_t end = spec.find('+', begin);
    if (end == std::string::npos) end = spec.size();
    auto one = open_one(spec.substr(begin, end - begin), options);
    if (auto* err = std::get_if<DataError>(&one)) return *err;
    images.push_back(std::move(std::get<std::unique_ptr<VolumeSource>>(one)));
    begin = end + 1;
  }
  std::string name;
  for (const auto& i : images) name += (name.empty() ? "" : "+") + i->info().name;
  return stack_channels(std::move(images), name);
}

}  // namespace voxcast::data
