#pragma once
#include <memory>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

struct SyntheticOptions {
  int channels = 2;
  int64_t depth = 64;
  int64_t height = 512;
  int64_t width = 512;
  uint64_t seed = 27;
};

// A deterministic two-channel fluorescence-like volume (axes c, z, y, x; uint16):
// channel 0 nuclei with chromatin texture, channel 1 cell membranes, camera-like
// background and noise. Held in memory; generated once.
std::unique_ptr<VolumeSource> make_synthetic_cells(const SyntheticOptions& options);

}  // namespace voxcast::data
