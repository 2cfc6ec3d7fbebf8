#pragma once
// A VolumeSource over chunked storage: formats decode single chunks; this assembles
// regions from them through the shared ChunkCache.
#include <memory>

#include "voxcast/data/chunk_cache.hpp"
#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

class ChunkedSource : public VolumeSource {
 public:
  const VolumeInfo& info() const override { return info_; }
  std::optional<DataError> read_level(int level, const Box& box, float* out) const override;
  bool request(int level, const Box& box, RequestHint hint) const override;
  std::optional<DataError> sample(SampledRead* read, double deadline_ms) const override;
  bool request_all(const std::vector<LevelBox>& boxes, RequestHint hint) const override;
  size_t resident_bytes() const override { return cache_->stats().resident_bytes; }
  bool loads_pending() const override {
    ChunkCacheStats s = cache_->stats();
    return s.queued + s.loading > 0;
  }
  void set_channels(std::vector<ChannelInfo> channels) { info_.channels = std::move(channels); }
  // Default contrast of a channel, set once after opening (before the source is shared).
  void set_contrast(size_t channel, double lo, double hi) {
    info_.channels[channel].contrast_lo = lo;
    info_.channels[channel].contrast_hi = hi;
  }

 protected:
  explicit ChunkedSource(std::shared_ptr<ChunkCache> cache) : cache_(std::move(cache)), array_id_(next_array_id()) {}
  ~ChunkedSource() override { close_loads(); }
  // Drops this source's queued loads and waits for its running ones. Queued loads call
  // load_chunk on a cache thread: every subclass calls this first in its destructor,
  // before its own members (what load_chunk reads) are destroyed.
  void close_loads() {
    if (!loads_closed_) cache_->close_array(array_id_);  // the base destructor calls it again
    loads_closed_ = true;
  }
  // Decodes chunk `coords` (chunk-grid coordinates) of `level`: native-order elements of
  // the full chunk shape (edge chunks padded), or a fill chunk. Called on cache threads.
  virtual ChunkResult load_chunk(int level, const std::vector<int64_t>& coords) const = 0;
  // Called by subclasses once info_ (levels with chunk shapes included) is complete.
  void finish_info();

  VolumeInfo info_;

 private:
  std::vector<ChunkRequest> chunks_for(int level, const Box& box) const;
  void chunk_keys_for(int level, const Box& box, std::vector<ChunkKey>* out) const;
  std::vector<int64_t> chunk_coords(int level, uint64_t index) const;
  template <typename F>
  void for_each_chunk(int level, const Box& box, F&& f) const;

  std::shared_ptr<ChunkCache> cache_;
  uint64_t array_id_;
  bool loads_closed_ = false;
  std::vector<std::vector<int64_t>> grids_;  // chunks per axis, per level
};

}  // namespace voxcast::data
