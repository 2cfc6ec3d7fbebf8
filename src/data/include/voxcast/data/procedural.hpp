#pragma once
// A volume of any size computed chunk by chunk on demand (nothing stored): sparse cells
// on a jittered lattice over a dim background, uint16, axes z, y, x, a pyramid of
// `levels` levels halving every axis, read through the chunk cache like stored data.
// For benchmarks and tests of out-of-core rendering (a 4096^3 volume is 128 GB logical).
#include <memory>

#include "voxcast/data/chunk_cache.hpp"
#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

struct ProceduralOptions {
  int64_t size = 1024;  // voxels along each axis at level 0
  int levels = 4;
  int64_t chunk = 64;   // chunk edge at every level
  uint64_t seed = 7;
};

std::unique_ptr<VolumeSource> make_procedural_cells(const ProceduralOptions& options, std::shared_ptr<ChunkCache> cache);

}  // namespace voxcast::data
