// The brick pool on the GPU and its ray cast. Bricks arrive from the host store (read
// through the chunk cache there), are copied into free atlas slots on the pool's stream
// (a pinned staging ring), and the page tables say which slot holds which brick; every
// mode samples, at each step, the finest brick the frame draws from (the maths of
// ray_modes.hpp), with the hardware's trilinear filter inside the apron'd slot.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "cuda_bricks.cuh"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/thread_pool.hpp"

namespace voxcast::render {
namespace {

constexpr int kMaxBrickLevels = 12;
constexpr int kStagingHalf = 128;  // bricks in each half of the pinned staging buffer (20 MB)
constexpr int S = kBrickStored;

struct BrickView {
  int levels, finest;
  long long offset[kMaxBrickLevels];  // of each level in a page table
  double inv_factor[kMaxBrickLevels][3];
  double max_coord[kMaxBrickLevels][3];
  double edge_lo[kMaxBrickLevels][3];  // level-0 coordinate of a level's voxel edge 0 (-0.5)
  double factor[kMaxBrickLevels][3];
  double world_scale[kMaxBrickLevels][3];
  double step[kMaxBrickLevels];
  int bricks[kMaxBrickLevels][3];
  long long size[kMaxBrickLevels][3];
  const int* page[kMaxLayers];
  const unsigned char* flags;
  const float2* minmax;
  cudaTextureObject_t linear, point;
  int sx, sy;
  float step_voxels;
};

struct Found {
  int slot = -1, level = 0;
  double q[3];
  int b[3];
  unsigned char flags = 0;  // the slot's: 1 drawn this frame, 2 finer bricks drawn inside
  float2 minmax;
};

__device__ bool find(const BrickView& B, int layer, const double p[3], Found* f) {
  for (int l = B.finest; l < B.levels; ++l) {
    double q[3];
    int b[3];
    for (int i = 0; i < 3; ++i) {
      q[i] = fmin(fmax((p[i] + 0.5) * B.inv_factor[l][i] - 0.5, 0.0), B.max_coord[l][i]);
      b[i] = min(static_cast<int>(q[i]) / kBrickEdge, B.bricks[l][i] - 1);
    }
    long long idx = B.offset[l] + (static_cast<long long>(b[2]) * B.bricks[l][1] + b[1]) * B.bricks[l][0] + b[0];
    int s = B.page[layer][idx];
    if (s >= 0 && (B.flags[s] & 1)) {
      f->slot = s;
      f->level = l;
      f->flags = B.flags[s];
      f->minmax = B.minmax[s];
      for (int i = 0; i < 3; ++i) {
        f->q[i] = q[i];
        f->b[i] = b[i];
      }
      return true;
    }
  }
  return false;
}

// `f` again at `p` when p lies in the same brick and no finer brick is drawn inside it
// (then find() would return it): one level's arithmetic instead of a page-table walk from
// the finest level (most steps of a ray stay in the brick of the step before).
__device__ bool same_brick(const BrickView& B, const double p[3], Found* f) {
  if (f->slot < 0 || (f->flags & 2)) return false;
  const int l = f->level;
  double q[3];
  for (int i = 0; i < 3; ++i) {
    q[i] = fmin(fmax((p[i] + 0.5) * B.inv_factor[l][i] - 0.5, 0.0), B.max_coord[l][i]);
    if (min(static_cast<int>(q[i]) / kBrickEdge, B.bricks[l][i] - 1) != f->b[i]) return false;
  }
  for (int i = 0; i < 3; ++i) f->q[i] = q[i];
  return true;
}

__device__ float brick_sample(const BrickView& B, const Found& f, bool linear) {
  int ax = f.slot % B.sx, ay = (f.slot / B.sx) % B.sy, az = f.slot / (B.sx * B.sy);
  // Texel centres at + 0.5; local coordinate 1 is the brick's first voxel (after the apron).
  float x = static_cast<float>(ax * S + (f.q[0] - (f.b[0] * kBrickEdge - kBrickApron)) + 0.5);
  float y = static_cast<float>(ay * S + (f.q[1] - (f.b[1] * kBrickEdge - kBrickApron)) + 0.5);
  float z = static_cast<float>(az * S + (f.q[2] - (f.b[2] * kBrickEdge - kBrickApron)) + 0.5);
  return tex3D<float>(linear ? B.linear : B.point, x, y, z);
}

__device__ double brick_exit(const BrickView& B, const Found& f, const double o[3], const double d[3]) {
  double t = 1e300;
  for (int i = 0; i < 3; ++i) {
    double lo = f.b[i] * static_cast<double>(kBrickEdge) * B.factor[f.level][i] - 0.5;
    double hi = fmin(static_cast<double>((f.b[i] + 1) * kBrickEdge), static_cast<double>(B.size[f.level][i])) *
                    B.factor[f.level][i] - 0.5;
    if (d[i] > 1e-15) t = fmin(t, (hi - o[i]) / d[i]);
    else if (d[i] < -1e-15) t = fmin(t, (lo - o[i]) / d[i]);
  }
  return t;
}

__device__ ray::RayColor march_bricks(const BrickView& B, const DeviceLayer& L, int layer, const double o[3],
                                      const double d[3], double t0, double t1, const double dir[3],
                                      unsigned int* samples) {
  const ray::ModeParams& p = L.params;
  const bool linear = L.linear != 0;
  ray::RayState s = ray::start(p);
  float prev = 0;
  bool have_prev = false;
  Found f;
  double pos[3] = {o[0] + d[0] * t0, o[1] + d[1] * t0, o[2] + d[2] * t0};
  double step = B.step[find(B, layer, pos, &f) ? f.level : B.finest];
  unsigned int count[kMaxBrickLevels] = {};
  for (double t = t0 + step * 0.5; t <= t1; t += step) {
    pos[0] = o[0] + d[0] * t;
    pos[1] = o[1] + d[1] * t;
    pos[2] = o[2] + d[2] * t;
    if (!same_brick(B, pos, &f) && !find(B, layer, pos, &f)) {
      f.slot = -1;
      step = B.step[B.finest];
      have_prev = false;
      continue;
    }
    step = B.step[f.level];
    if (!(f.flags & 2) && ray::can_skip(s, p, f.minmax.x, f.minmax.y)) {
      double k = floor((brick_exit(B, f, o, d) - t) / step);
      if (k > 0) t += step * k;
      have_prev = false;
      continue;
    }
    ++count[f.level];
    float v = brick_sample(B, f, linear);
    ray::Step next = ray::accumulate(s, p, L.lut, v, B.step_voxels);
    if (next == ray::Step::stop) break;
    if (next == ray::Step::hit) {
      double th = t - step * (1.0 - ray::iso_fraction(p, have_prev, prev, v));
      double h[3] = {o[0] + d[0] * th, o[1] + d[1] * th, o[2] + d[2] * th};
      double g[3];
      for (int i = 0; i < 3; ++i) {
        double a[3] = {h[0], h[1], h[2]}, b[3] = {h[0], h[1], h[2]};
        a[i] += B.factor[f.level][i];
        b[i] -= B.factor[f.level][i];
        Found fa, fb;
        float va = find(B, layer, a, &fa) ? brick_sample(B, fa, true) : v;
        float vb = find(B, layer, b, &fb) ? brick_sample(B, fb, true) : v;
        g[i] = (va - vb) / B.world_scale[f.level][i];
      }
      for (int l = 0; l < B.levels; ++l) samples[l] += count[l];
      return ray::iso_shade(L.lut, g[0], g[1], g[2], dir);
    }
    prev = v;
    have_prev = true;
  }
  for (int l = 0; l < B.levels; ++l) samples[l] += count[l];
  return ray::finish(s, p, L.lut);
}

__global__ void raycast_bricks(DeviceView v, BrickView B, uchar4* out, unsigned long long* samples) {
  __shared__ unsigned int block_samples[kMaxBrickLevels];
  int tid = threadIdx.y * blockDim.x + threadIdx.x;
  if (tid < kMaxBrickLevels) block_samples[tid] = 0;
  __syncthreads();
  int px = blockIdx.x * blockDim.x + threadIdx.x, py = blockIdx.y * blockDim.y + threadIdx.y;
  if (px < v.width && py < v.height) {
    unsigned int mine[kMaxBrickLevels] = {};
    double origin[3], dir[3];
    view_ray(v, px, py, origin, dir);
    double o[3] = {origin[0] / v.sx, origin[1] / v.sy, origin[2] / v.sz};
    double d[3] = {dir[0] / v.sx, dir[1] / v.sy, dir[2] / v.sz};
    float acc[3] = {0, 0, 0};
    double t0, t1;
    const double n[3] = {static_cast<double>(v.nx), static_cast<double>(v.ny), static_cast<double>(v.nz)};
    if (ray::clip_box(o, d, n, &t0, &t1)) {
      t0 = fmax(t0, 0.0);
      for (int i = 0; i < v.layers; ++i)
        ray::composite(acc, march_bricks(B, v.layer[i], i, o, d, t0, t1, dir, mine), v.layer[i].opacity,
                       v.layer[i].blending);
    }
    out[py * v.width + px] = make_uchar4(ray::to_u8(acc[0]), ray::to_u8(acc[1]), ray::to_u8(acc[2]), 255);
    for (int l = 0; l < B.levels; ++l)
      if (mine[l]) atomicAdd(&block_samples[l], mine[l]);
  }
  __syncthreads();
  if (tid < B.levels && block_samples[tid]) atomicAdd(&samples[tid], static_cast<unsigned long long>(block_samples[tid]));
}

}  // namespace

std::unique_ptr<CudaBrickPool> CudaBrickPool::create(size_t bytes, std::optional<data::DataError>* error) {
  auto fail = [&](const char* what, cudaError_t e) {
    *error = data::DataError{"cuda", std::string(what) + ": " + cudaGetErrorString(e)};
    return nullptr;
  };
  std::unique_ptr<CudaBrickPool> p(new CudaBrickPool());
  size_t want = std::max<size_t>(8, bytes / kBrickBytes);
  int edge = static_cast<int>(std::ceil(std::cbrt(static_cast<double>(want))));
  p->sx_ = p->sy_ = std::min(edge, 16384 / S);
  p->sz_ = static_cast<int>(std::min<size_t>((want + p->sx_ * p->sy_ - 1) / (p->sx_ * p->sy_), 16384 / S));
  p->slots_ = std::min(want, static_cast<size_t>(p->sx_) * p->sy_ * p->sz_);
  cudaChannelFormatDesc desc = cudaCreateChannelDesc<float>();
  cudaExtent extent = make_cudaExtent(static_cast<size_t>(p->sx_) * S, static_cast<size_t>(p->sy_) * S,
                                      static_cast<size_t>(p->sz_) * S);
  if (auto e = cudaMalloc3DArray(&p->atlas_, &desc, extent); e != cudaSuccess) return fail("brick atlas", e);
  if (auto e = make_array_textures(p->atlas_, &p->point_, &p->linear_); e != cudaSuccess) return fail("brick texture", e);
  if (auto e = cudaStreamCreateWithFlags(&p->stream_, cudaStreamNonBlocking); e != cudaSuccess) return fail("stream", e);
  if (auto e = cudaMallocHost(&p->staging_, kBrickBytes * 2 * kStagingHalf); e != cudaSuccess) return fail("staging", e);
  for (auto& ev : p->staged_)
    if (auto e = cudaEventCreateWithFlags(&ev, cudaEventDisableTiming); e != cudaSuccess) return fail("event", e);
  if (auto e = cudaMalloc(&p->minmax_, sizeof(float2) * p->slots_); e != cudaSuccess) return fail("min/max", e);
  if (auto e = cudaMalloc(&p->flags_, p->slots_); e != cudaSuccess) return fail("flags", e);
  if (auto e = cudaMalloc(&p->samples_, sizeof(int64_t) * kMaxBrickLevels); e != cudaSuccess) return fail("samples", e);
  p->slot_.resize(p->slots_);
  p->host_flags_.assign(p->slots_, 0);
  p->host_minmax_.assign(p->slots_, make_float2(0, 0));
  for (size_t i = p->slots_; i-- > 0;) p->free_.push_back(static_cast<int>(i));
  return p;
}

CudaBrickPool::~CudaBrickPool() {
  if (stream_) cudaStreamSynchronize(stream_);
  for (auto& [id, t] : tables_) cudaFree(t.device);
  if (linear_) cudaDestroyTextureObject(linear_);
  if (point_) cudaDestroyTextureObject(point_);
  if (atlas_) cudaFreeArray(atlas_);
  cudaFreeHost(staging_);
  for (auto& ev : staged_)
    if (ev) cudaEventDestroy(ev);
  cudaFree(minmax_);
  cudaFree(flags_);
  cudaFree(samples_);
  if (stream_) cudaStreamDestroy(stream_);
}

std::optional<data::DataError> CudaBrickPool::upload(const std::vector<Upload>& uploads, ThreadPool* copiers) {
  constexpr size_t kFloats = kBrickBytes / sizeof(float);
  for (size_t begin = 0, batch = 0; begin < uploads.size(); begin += kStagingHalf, ++batch) {
    const size_t n = std::min<size_t>(kStagingHalf, uploads.size() - begin);
    const size_t half = batch % 2;
    float* stage = staging_ + half * kStagingHalf * kFloats;
    VOXCAST_CUDA_CHECK(cudaEventSynchronize(staged_[half]), "staging");  // its previous copies are done
    auto fill = [&](int lo, int hi) {
      for (int k = lo; k < hi; ++k)
        std::memcpy(stage + static_cast<size_t>(k) * kFloats, uploads[begin + static_cast<size_t>(k)].brick->values.data(),
                    kBrickBytes);
    };
    if (copiers && n > 8) copiers->parallel_for(static_cast<int>(n), fill);
    else fill(0, static_cast<int>(n));
    for (size_t k = 0; k < n; ++k) {
      const int slot = uploads[begin + k].slot;
      cudaMemcpy3DParms copy{};
      copy.srcPtr = make_cudaPitchedPtr(stage + k * kFloats, S * sizeof(float), S, S);
      copy.dstArray = atlas_;
      copy.dstPos = make_cudaPos(static_cast<size_t>(slot % sx_) * S, static_cast<size_t>((slot / sx_) % sy_) * S,
                                 static_cast<size_t>(slot / (sx_ * sy_)) * S);
      copy.extent = make_cudaExtent(S, S, S);
      copy.kind = cudaMemcpyHostToDevice;
      VOXCAST_CUDA_CHECK(cudaMemcpy3DAsync(&copy, stream_), "brick upload");
      const HostBrick& b = *uploads[begin + k].brick;
      host_minmax_[static_cast<size_t>(slot)] = make_float2(b.min, b.max);
      minmax_lo_ = std::min(minmax_lo_, static_cast<size_t>(slot));
      minmax_hi_ = std::max(minmax_hi_, static_cast<size_t>(slot) + 1);
    }
    VOXCAST_CUDA_CHECK(cudaEventRecord(staged_[half], stream_), "staging");
  }
  if (minmax_lo_ < minmax_hi_)
    VOXCAST_CUDA_CHECK(cudaMemcpyAsync(minmax_ + minmax_lo_, host_minmax_.data() + minmax_lo_,
                                       sizeof(float2) * (minmax_hi_ - minmax_lo_), cudaMemcpyHostToDevice, stream_),
                       "brick min/max");
  minmax_lo_ = SIZE_MAX;
  minmax_hi_ = 0;
  return std::nullopt;
}

std::optional<data::DataError> CudaBrickPool::sync_tables(const BrickPyramid& p,
                                                          const std::vector<const LayerState*>& layers) {
  for (const LayerState* layer : layers) {
    Table& t = tables_[layer->id];
    if (t.host.size() != static_cast<size_t>(level_offset_.back())) {
      cudaFree(t.device);
      t.device = nullptr;
      t.host.assign(static_cast<size_t>(level_offset_.back()), -1);
      VOXCAST_CUDA_CHECK(cudaMalloc(&t.device, sizeof(int) * t.host.size()), "page table");
      t.dirty_lo = 0;
      t.dirty_hi = t.host.size();
    }
    if (t.dirty_lo < t.dirty_hi)
      VOXCAST_CUDA_CHECK(cudaMemcpyAsync(t.device + t.dirty_lo, t.host.data() + t.dirty_lo,
                                         sizeof(int) * (t.dirty_hi - t.dirty_lo), cudaMemcpyHostToDevice, stream_),
                         "page table upload");
    t.dirty_lo = SIZE_MAX;
    t.dirty_hi = 0;
  }
  (void)p;
  return std::nullopt;
}

std::optional<data::DataError> CudaBrickPool::cast(const BrickStore& host, const BrickFrame& frame, const DeviceView& v,
                                                   double step_voxels, uchar4* out, std::vector<int64_t>* samples,
                                                   double* place_ms, ThreadPool* copiers) {
  const double t_start = steady_ms();
  const BrickPyramid& P = host.pyramid;
  if (P.levels.size() > static_cast<size_t>(kMaxBrickLevels))
    return data::DataError{"cuda", "more pyramid levels than the brick pool handles"};
  bool same = P.levels.size() == pyramid_.levels.size();
  for (size_t l = 0; same && l < P.levels.size(); ++l) same = P.levels[l].size == pyramid_.levels[l].size;
  if (!same) {  // another volume: every slot is free again
    pyramid_ = P;
    slot_.assign(slots_, {});
    free_.clear();
    for (size_t i = slots_; i-- > 0;) free_.push_back(static_cast<int>(i));
    for (auto& [id, t] : tables_) cudaFree(t.device);
    tables_.clear();
    level_offset_.assign(1, 0);
    for (const auto& l : P.levels) level_offset_.push_back(level_offset_.back() + l.count());
  }
  frame_ += 1;
  std::fill(host_flags_.begin(), host_flags_.end(), 0);
  VOXCAST_CUDA_CHECK(cudaStreamSynchronize(stream_), "previous frame");
  std::vector<Upload> uploads;
  if (auto err = sync_tables(P, frame.layers)) return err;
  // Slots of bricks no frame wants any more, least recently used first.
  std::vector<int> evictable;
  for (size_t li = 0; li < frame.layers.size(); ++li) {
    const LayerState& layer = *frame.layers[li];
    const LayerBricks& lb = host.layers.at(layer.id);
    Table& table = tables_[layer.id];
    if (table.generation != lb.generation) {  // the layer shows other data: its slots are stale
      for (size_t s = 0; s < slots_; ++s) {
        if (slot_[s].layer != layer.id || slot_[s].used == 0) continue;
        slot_[s] = {};
        free_.push_back(static_cast<int>(s));
      }
      std::fill(table.host.begin(), table.host.end(), -1);
      table.dirty_lo = 0;
      table.dirty_hi = table.host.size();
      table.generation = lb.generation;
      evictable.clear();
    }
    for (const BrickId& id : frame.choice.wanted) {
      const HostBrick* b = drawn_brick(host, lb, id, frame.epoch);
      if (!b) continue;
      const auto entry = static_cast<size_t>(level_offset_[static_cast<size_t>(id.level)] +
                                             P.levels[static_cast<size_t>(id.level)].index(id.b));
      int slot = table.host[entry];
      if (slot < 0) {
        if (free_.empty() && evictable.empty()) {
          for (size_t s = 0; s < slots_; ++s)
            if (slot_[s].used != frame_) evictable.push_back(static_cast<int>(s));
          std::sort(evictable.begin(), evictable.end(), [&](int a, int c) { return slot_[a].used > slot_[c].used; });
        }
        if (free_.empty() && evictable.empty()) continue;  // the pool is full of this frame's bricks
        if (!free_.empty()) {
          slot = free_.back();
          free_.pop_back();
        } else {
          slot = evictable.back();
          evictable.pop_back();
          if (slot_[slot].used == frame_) continue;
          const Slot& old = slot_[slot];
          Table& ot = tables_[old.layer];
          if (!ot.host.empty())
            ot.set(static_cast<size_t>(level_offset_[static_cast<size_t>(old.id.level)] +
                                       P.levels[static_cast<size_t>(old.id.level)].index(old.id.b)),
                   -1);
        }
        uploads.push_back({slot, b});
        slot_[static_cast<size_t>(slot)] = {layer.id, id, frame_};
        table.set(entry, slot);
      }
      slot_[static_cast<size_t>(slot)].used = frame_;
      host_flags_[static_cast<size_t>(slot)] = static_cast<unsigned char>(1 | (b->finer_epoch == frame.epoch ? 2 : 0));
    }
  }
  if (auto err = upload(uploads, copiers)) return err;
  if (auto err = sync_tables(P, frame.layers)) return err;
  VOXCAST_CUDA_CHECK(cudaMemcpyAsync(flags_, host_flags_.data(), slots_, cudaMemcpyHostToDevice, stream_), "flags");

  BrickView B{};
  B.levels = static_cast<int>(P.levels.size());
  B.finest = frame.choice.finest_level;
  for (size_t l = 0; l < P.levels.size(); ++l) {
    const BrickLevel& lv = P.levels[l];
    B.offset[l] = level_offset_[l];
    double min_scale = 1e300;
    for (size_t i = 0; i < 3; ++i) {
      B.inv_factor[l][i] = 1.0 / lv.factor[i];
      B.factor[l][i] = lv.factor[i];
      B.max_coord[l][i] = static_cast<double>(lv.size[i] - 1);
      B.bricks[l][i] = static_cast<int>(lv.bricks[i]);
      B.size[l][i] = lv.size[i];
      B.world_scale[l][i] = P.scale0[i] * lv.factor[i];
      min_scale = std::min(min_scale, B.world_scale[l][i]);
    }
    B.step[l] = min_scale * step_voxels;
  }
  for (size_t li = 0; li < frame.layers.size() && li < static_cast<size_t>(kMaxLayers); ++li)
    B.page[li] = tables_[frame.layers[li]->id].device;
  B.flags = flags_;
  B.minmax = minmax_;
  B.linear = linear_;
  B.point = point_;
  B.sx = sx_;
  B.sy = sy_;
  B.step_voxels = static_cast<float>(step_voxels);
  *place_ms = steady_ms() - t_start;
  VOXCAST_CUDA_CHECK(cudaMemsetAsync(samples_, 0, sizeof(int64_t) * kMaxBrickLevels, stream_), "samples");
  dim3 block(16, 8), grid((v.width + 15) / 16, (v.height + 7) / 8);
  raycast_bricks<<<grid, block, 0, stream_>>>(v, B, out, reinterpret_cast<unsigned long long*>(samples_));
  VOXCAST_CUDA_CHECK(cudaGetLastError(), "brick ray cast launch");
  std::vector<int64_t> counts(kMaxBrickLevels);
  VOXCAST_CUDA_CHECK(cudaMemcpyAsync(counts.data(), samples_, sizeof(int64_t) * kMaxBrickLevels, cudaMemcpyDeviceToHost,
                                     stream_),
                     "samples read back");
  VOXCAST_CUDA_CHECK(cudaStreamSynchronize(stream_), "brick ray cast");
  counts.resize(P.levels.size());
  *samples = std::move(counts);
  return std::nullopt;
}

}  // namespace voxcast::render
