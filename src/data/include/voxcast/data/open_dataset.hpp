#pragma once
#include <memory>
#include <string>
#include <variant>

#include "voxcast/data/chunk_cache.hpp"
#include "voxcast/data/remote_store.hpp"
#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

struct OpenOptions {
  std::shared_ptr<ChunkCache> cache;  // null: the process-wide cache (default size)
  std::string confine_root;           // canonical; when set, every file read resolves inside it
  // How http(s):// and s3:// datasets are reached; null: from the environment at this call.
  // With confine_root set, URLs are refused (a client's request names files in the root).
  std::shared_ptr<const RemoteOptions> remote;
};

// The built-in brain sample (Colin27 T1 + AAL atlas from Debian's mricron-data).
inline constexpr const char* kBrainDir = "/usr/share/mricron/templates";
bool brain_sample_available();

// Opens what the user named:
//   "synthetic" (or "") / "synthetic:CxZxYxX"  generated cells
//   "brain"                                   the built-in brain sample (falls back to synthetic when absent)
//   DIR (Zarr v2/v3 array or OME-Zarr group), FILE.tif/.tiff/.ome.tif, FILE.nii/.nii.gz,
//   each also as a file:// URL
//   http(s)://HOST/PATH.zarr, s3://BUCKET/KEY.zarr   OME-Zarr / Zarr in a remote store
//   A+B                                        images stacked as channels on A's grid
std::variant<std::unique_ptr<VolumeSource>, DataError> open_dataset(const std::string& spec,
                                                                    const OpenOptions& options = {});
// The cache used when OpenOptions names none.
std::shared_ptr<ChunkCache> shared_chunk_cache();
// A short description of what can be opened (for --help and errors).
const char* dataset_kinds();

}  // namespace voxcast::data
