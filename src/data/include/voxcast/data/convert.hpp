#pragma once
// Any VolumeSource → OME-Zarr 0.5 (Zarr v3, sharded) with a multiscale pyramid, in bounded
// memory, on all cores, resumable (what voxcast-convert runs).
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "voxcast/data/codecs.hpp"
#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

struct ConvertOptions {
  size_t memory_bytes = size_t{1} << 30;  // decoded data in flight + the reading cache
  int threads = 0;                        // 0: every core (fewer when memory is short)
  Compressor compressor = [] {
    Compressor c;
    c.id = "zstd";
    c.clevel = 3;
    return c;
  }();
  size_t max_shard_bytes = 0;    // decoded size of a shard at most (0: as memory allows)
  int64_t min_level_size = 256;  // stop the pyramid once y and x fit this
  std::string source_name;       // recorded in the output, to refuse resuming another input
  const std::atomic<bool>* stop = nullptr;  // set: finish the shards in flight and return
  int throttle_ms = 0;                      // a pause per shard (tests of interruption)
};

struct ConvertProgress {
  int level = 0, levels = 0;
  uint64_t shards_done = 0, shards_total = 0;  // over all levels
  uint64_t shards_resumed = 0;                 // found done by an earlier run
  uint64_t bytes_done = 0;                     // decoded bytes written this run
};

struct ConvertResult {
  int levels = 0;
  uint64_t shards = 0, shards_resumed = 0, bytes = 0;
  int threads = 0;
  std::vector<int64_t> inner_chunk, shard;  // of level 0
  bool interrupted = false;
};

// Writes `source` (level 0; the pyramid is computed: mean for images, mode for label
// channels) to `out`. Running it again on the same `out` resumes where it stopped.
std::variant<ConvertResult, DataError> convert_to_ome_zarr(const VolumeSource& source, const std::string& out,
                                                           const ConvertOptions& options,
                                                           const std::function<void(const ConvertProgress&)>& progress = {});

}  // namespace voxcast::data
