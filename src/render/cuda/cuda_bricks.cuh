#pragma once
// The CUDA backend's multiresolution path: a brick pool in GPU memory (one 3D texture
// atlas of apron'd bricks), a page table per layer and level, uploads on a stream, LRU
// within the pool, and the ray cast that samples the finest brick drawn from at each step.
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "cuda_common.cuh"
#include "voxcast/render/brick_store.hpp"

namespace voxcast {
class ThreadPool;
}

namespace voxcast::render {

class CudaBrickPool {
 public:
  // A pool of about `bytes` of GPU memory; `error` when it cannot be had.
  static std::unique_ptr<CudaBrickPool> create(size_t bytes, std::optional<data::DataError>* error);
  ~CudaBrickPool();
  CudaBrickPool(const CudaBrickPool&) = delete;
  CudaBrickPool& operator=(const CudaBrickPool&) = delete;

  size_t slots() const { return slots_; }
  size_t bytes() const { return slots_ * kBrickBytes; }
  // Draws `frame` (the host's bricks of this view, update_bricks) into `out` (v.width x
  // v.height): uploads the bricks the frame draws from that the pool lacks, then casts.
  // `samples` gets the ray samples per level, `place_ms` the host time spent before the
  // cast (slots, uploads, page tables).
  // `copiers` (optional) copies the new bricks into the staging buffers in parallel.
  std::optional<data::DataError> cast(const BrickStore& host, const BrickFrame& frame, const DeviceView& view,
                                      double step_voxels, uchar4* out, std::vector<int64_t>* samples,
                                      double* place_ms, ThreadPool* copiers = nullptr);

 private:
  CudaBrickPool() = default;
  struct Slot {
    std::string layer;
    BrickId id;
    uint64_t used = 0;
  };
  struct Upload {
    int slot;
    const HostBrick* brick;
  };
  // Copies `uploads` into the atlas on the stream: batches through the two halves of the
  // pinned staging buffer (one filled while the other's copies run), min/max with them.
  std::optional<data::DataError> upload(const std::vector<Upload>& uploads, ThreadPool* copiers);
  std::optional<data::DataError> sync_tables(const BrickPyramid& p, const std::vector<const LayerState*>& layers);

  size_t slots_ = 0;
  int sx_ = 0, sy_ = 0, sz_ = 0;  // slots along each atlas axis
  cudaArray_t atlas_ = nullptr;
  cudaTextureObject_t linear_ = 0, point_ = 0;
  cudaStream_t stream_ = nullptr;
  float* staging_ = nullptr;   // pinned, 2 x kStagingHalf bricks
  cudaEvent_t staged_[2] = {nullptr, nullptr};  // a half's copies are done
  float2* minmax_ = nullptr;   // per slot, device
  std::vector<float2> host_minmax_;  // per slot
  size_t minmax_lo_ = SIZE_MAX, minmax_hi_ = 0;  // slots [lo, hi) differ from the device's
  unsigned char* flags_ = nullptr;  // per slot, device: 1 drawn this frame, 2 finer bricks inside
  std::vector<unsigned char> host_flags_;
  int64_t* samples_ = nullptr;  // per level, device
  std::vector<Slot> slot_;
  std::vector<int> free_;
  uint64_t frame_ = 0;
  // Page tables: per layer id, all levels in one buffer (host mirror + device copy; the
  // mirror also says where a resident brick is). Only the changed span is uploaded: a
  // 4096^3 pyramid's table is 9.6 MB, and a frame changes a few entries of it.
  struct Table {
    std::vector<int> host;
    int* device = nullptr;
    size_t dirty_lo = SIZE_MAX, dirty_hi = 0;  // entries [lo, hi) differ from the device's
    uint64_t generation = 0;                    // the host layer's (LayerBricks::generation)
    void set(size_t i, int slot) {
      host[i] = slot;
      dirty_lo = std::min(dirty_lo, i);
      dirty_hi = std::max(dirty_hi, i + 1);
    }
  };
  std::map<std::string, Table> tables_;
  std::vector<int64_t> level_offset_;
  BrickPyramid pyramid_;
};

}  // namespace voxcast::render
