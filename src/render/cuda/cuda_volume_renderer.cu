// CUDA implementation of the 3D modes: the per-mode maths is ray_modes.hpp, shared with
// the CPU renderer (midpoint sampling, the same transfer functions and compositing), so
// both agree within the tolerance the tests state.
#include "cuda_volume_renderer.hpp"

#include <cuda_runtime.h>

#include <cmath>
#include <cstring>
#include <array>
#include <map>
#include <vector>

#include "voxcast/core/clock.hpp"
#include "voxcast/core/thread_pool.hpp"
#include "voxcast/render/brick_copier.hpp"
#include "voxcast/render/camera3d.hpp"
#include "voxcast/render/colormap.hpp"
#include "voxcast/render/lut.hpp"
#include "voxcast/render/ray_modes.hpp"
#include "cuda_bricks.cuh"
#include "cuda_common.cuh"

namespace voxcast::render {
namespace {

__device__ inline float fetch(const DeviceLayer& L, double x, double y, double z) {
  // Unnormalised texture coordinates: voxel i's centre is at i + 0.5.
  return tex3D<float>(L.linear ? L.linear_tex : L.point_tex, static_cast<float>(x + 0.5), static_cast<float>(y + 0.5),
                      static_cast<float>(z + 0.5));
}

// One layer along one ray, the maths shared with the CPU renderer (ray_modes.hpp).
__device__ ray::RayColor march(const DeviceLayer& L, const DeviceView& v, const double o[3], const double d[3],
                               double t0, double t1, const double dir[3]) {
  const ray::ModeParams& p = L.params;
  ray::RayState s = ray::start(p);
  float prev = 0;
  bool have_prev = false;
  const float sv = static_cast<float>(v.step_voxels);
  for (double t = t0 + v.step * 0.5; t <= t1; t += v.step) {
    double x = o[0] + d[0] * t, y = o[1] + d[1] * t, z = o[2] + d[2] * t;
    float val = fetch(L, x, y, z);
    ray::Step next = ray::accumulate(s, p, L.lut, val, sv);
    if (next == ray::Step::stop) break;
    if (next == ray::Step::hit) {
      double th = t - v.step * (1.0 - ray::iso_fraction(p, have_prev, prev, val));
      double hx = o[0] + d[0] * th, hy = o[1] + d[1] * th, hz = o[2] + d[2] * th;
      DeviceLayer lin = L;
      lin.linear = 1;
      double gx = (fetch(lin, hx + 1, hy, hz) - fetch(lin, hx - 1, hy, hz)) / v.sx;
      double gy = (fetch(lin, hx, hy + 1, hz) - fetch(lin, hx, hy - 1, hz)) / v.sy;
      double gz = (fetch(lin, hx, hy, hz + 1) - fetch(lin, hx, hy, hz - 1)) / v.sz;
      return ray::iso_shade(L.lut, gx, gy, gz, dir);
    }
    prev = val;
    have_prev = true;
  }
  return ray::finish(s, p, L.lut);
}

__global__ void raycast(DeviceView v, uchar4* out) {
  int px = blockIdx.x * blockDim.x + threadIdx.x, py = blockIdx.y * blockDim.y + threadIdx.y;
  if (px >= v.width || py >= v.height) return;
  double origin[3], dir[3];
  view_ray(v, px, py, origin, dir);
  double o[3] = {origin[0] / v.sx + v.ox, origin[1] / v.sy + v.oy, origin[2] / v.sz + v.oz};
  double d[3] = {dir[0] / v.sx, dir[1] / v.sy, dir[2] / v.sz};
  float acc[3] = {0, 0, 0};
  double t0, t1;
  const double n[3] = {static_cast<double>(v.nx), static_cast<double>(v.ny), static_cast<double>(v.nz)};
  if (ray::clip_box(o, d, n, &t0, &t1)) {
    t0 = fmax(t0, 0.0);
    for (int i = 0; i < v.layers; ++i) {
      const DeviceLayer& L = v.layer[i];
      ray::composite(acc, march(L, v, o, d, t0, t1, dir), L.opacity, L.blending);
    }
  }
  out[py * v.width + px] = make_uchar4(ray::to_u8(acc[0]), ray::to_u8(acc[1]), ray::to_u8(acc[2]), 255);
}

// BT.709 limited range, the same fixed-point arithmetic as codec::rgba_to_i420.
__global__ void to_i420(const uchar4* rgba, int w, int h, unsigned char* y, unsigned char* u, unsigned char* v) {
  int cx = blockIdx.x * blockDim.x + threadIdx.x, cy = blockIdx.y * blockDim.y + threadIdx.y;
  if (cx >= w / 2 || cy >= h / 2) return;
  int r = 0, g = 0, b = 0;
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 2; ++i) {
      uchar4 p = rgba[(cy * 2 + j) * w + cx * 2 + i];
      y[(cy * 2 + j) * w + cx * 2 + i] = static_cast<unsigned char>((11966 * p.x + 40254 * p.y + 4064 * p.z + (16 << 16) + 32768) >> 16);
      r += p.x;
      g += p.y;
      b += p.z;
    }
  u[cy * (w / 2) + cx] = static_cast<unsigned char>((-6596 * r - 22189 * g + 28784 * b + (128 << 18) + (1 << 17)) >> 18);
  v[cy * (w / 2) + cx] = static_cast<unsigned char>((28784 * r - 26145 * g - 2639 * b + (128 << 18) + (1 << 17)) >> 18);
}

struct DeviceVolume {
  std::vector<int64_t> key;
  cudaArray_t array = nullptr;
  cudaTextureObject_t linear_tex = 0, point_tex = 0;
  ~DeviceVolume() {
    if (linear_tex) cudaDestroyTextureObject(linear_tex);
    if (point_tex) cudaDestroyTextureObject(point_tex);
    if (array) cudaFreeArray(array);
  }
};

}  // namespace

struct CudaVolumeRenderer::Impl {
  std::map<std::string, std::unique_ptr<DeviceVolume>> volumes;
  std::map<std::string, float4*> luts;
  uchar4* rgba = nullptr;
  size_t rgba_pixels = 0;
  unsigned char* yuv = nullptr;
  size_t yuv_bytes = 0;
  double budget_bytes = 16.0 * 1024 * 1024 * 1024;  // volume textures or the brick pool on the GPU
  double host_bytes = 4096.0 * 1024 * 1024;         // bricks kept on the host (read, then uploaded)
  double frame_ms = 33.0;
  std::string bricks_mode = "auto";
  BrickStore host_bricks;
  ThreadPool brick_loaders{0};  // copies bricks out of the source on every core (a still's)
  BrickCopier brick_copier{0};  // copies a moving view's bricks between frames
  std::unique_ptr<CudaBrickPool> pool;
  VolumeRenderStats stats;  // level, completeness and residency of the last cast
  int last_level = 0;
  LutCache lut_cache;  // host tables; a rebuilt one is uploaded
  ~Impl() {
    for (auto& [k, p] : luts) cudaFree(p);
    cudaFree(rgba);
    cudaFree(yuv);
  }

  std::optional<data::DataError> upload(const Scene& scene, const LayerState& layer, const data::VolumeSource& source,
                                        int source_level, int level, DeviceVolume** out) {
    auto& slot = volumes[layer.id];
    std::vector<int64_t> want = volume_key(scene, layer, source, source_level);
    want.push_back(level);
    if (slot && slot->key == want) {
      *out = slot.get();
      return std::nullopt;
    }
    std::vector<float> xyz;
    std::vector<int64_t> key;
    if (auto err = read_volume_xyz(scene, layer, source, &xyz, &key, source_level)) return err;
    VolumeGeometry g = base_geometry(scene.dims, source.info(), source_level);
    for (int k = 0; k < level; ++k) {  // multiscale: upload the level that fits
      std::vector<float> next;
      downsample_2x(xyz, g.size, &next);
      xyz = std::move(next);
      g.size = level_size(g.size, 1);
    }
    key.push_back(level);
    auto vol = std::make_unique<DeviceVolume>();
    vol->key = key;
    cudaChannelFormatDesc desc = cudaCreateChannelDesc<float>();
    cudaExtent extent = make_cudaExtent(static_cast<size_t>(g.size[0]), static_cast<size_t>(g.size[1]), static_cast<size_t>(g.size[2]));
    VOXCAST_CUDA_CHECK(cudaMalloc3DArray(&vol->array, &desc, extent), "3D array");
    cudaMemcpy3DParms copy{};
    copy.srcPtr = make_cudaPitchedPtr(xyz.data(), static_cast<size_t>(g.size[0]) * sizeof(float), static_cast<size_t>(g.size[0]),
                                      static_cast<size_t>(g.size[1]));
    copy.dstArray = vol->array;
    copy.extent = extent;
    copy.kind = cudaMemcpyHostToDevice;
    VOXCAST_CUDA_CHECK(cudaMemcpy3D(&copy), "volume upload");
    VOXCAST_CUDA_CHECK(make_array_textures(vol->array, &vol->point_tex, &vol->linear_tex), "texture");
    slot = std::move(vol);
    *out = slot.get();
    return std::nullopt;
  }

  // A layer's transfer function (uploaded when it changed) and constants.
  std::optional<data::DataError> layer_constants(const LayerState& layer, DeviceLayer* L) {
    float4*& dl = luts[layer.id];
    bool rebuilt = false;
    const LayerLut& lut = lut_cache.get(layer, &rebuilt);
    if (!dl || rebuilt) {
      std::vector<float4> table(kLutSize);
      for (size_t i = 0; i < static_cast<size_t>(kLutSize); ++i)
        table[i] = make_float4(lut.table[i].r, lut.table[i].g, lut.table[i].b, 1.f);
      if (!dl) VOXCAST_CUDA_CHECK(cudaMalloc(&dl, sizeof(float4) * kLutSize), "lut");
      VOXCAST_CUDA_CHECK(cudaMemcpy(dl, table.data(), sizeof(float4) * kLutSize, cudaMemcpyHostToDevice), "lut upload");
    }
    *L = DeviceLayer{};
    L->lut = {&dl->x, 4};
    L->params = mode_params(layer);
    L->opacity = static_cast<float>(layer.opacity);
    L->blending = layer.blending;
    L->linear = layer.interpolation == Interpolation::linear ? 1 : 0;
    return std::nullopt;
  }

  bool wants_bricks(const Scene& scene, const data::VolumeSource& source) const {
    if (bricks_mode == "always") return true;
    if (bricks_mode == "never") return false;
    size_t visible = 0;
    for (const LayerState& layer : scene.layers) visible += layer.visible && layer.opacity > 0 ? 1 : 0;
    return volume_source_level(source.info(), scene.dims, visible, budget_bytes) > 0;  // out of core
  }

  // The multiresolution path: the host store's bricks of this view, the GPU pool's cast.
  std::optional<data::DataError> cast_bricks(const Scene& scene, const data::VolumeSource& source, DeviceView v,
                                             const Camera3D& cam) {
    std::optional<data::DataError> err;
    if (!pool && !(pool = CudaBrickPool::create(static_cast<size_t>(budget_bytes), &err))) return err;
    BrickFrame frame;
    bool stopped = false;
    size_t wanted_bytes = std::min(pool->bytes(), static_cast<size_t>(host_bytes));
    const double load_ms = scene.interactive ? frame_ms * 0.4 : INFINITY;
    if ((err = update_bricks(&host_bricks, scene, source, cam, v.width, v.height, wanted_bytes, load_ms, nullptr,
                             &stopped, &frame, &brick_loaders, 1.0, &brick_copier)))
      return err;
    const BrickPyramid& P = host_bricks.pyramid;
    v.sx = P.scale0[0];
    v.sy = P.scale0[1];
    v.sz = P.scale0[2];
    v.ox = v.oy = v.oz = 0;
    v.nx = static_cast<int>(P.levels[0].size[0]);
    v.ny = static_cast<int>(P.levels[0].size[1]);
    v.nz = static_cast<int>(P.levels[0].size[2]);
    v.layers = 0;
    for (const LayerState* layer : frame.layers) {
      if (v.layers == kMaxLayers) break;
      if ((err = layer_constants(*layer, &v.layer[v.layers++]))) return err;
    }
    if ((err = frame_buffer(v))) return err;
    std::vector<int64_t> samples;
    double place_ms = 0;
    if ((err = pool->cast(host_bricks, frame, v, scene.interactive ? 1.0 : 0.5, rgba, &samples, &place_ms,
                             &brick_loaders)))
      return err;
    stats.bricked = true;
    stats.complete = frame.complete;
    stats.level = frame.choice.finest_level;
    stats.residency = std::move(frame.residency);
    stats.residency.samples = std::move(samples);
    stats.residency.budget_bytes = pool->bytes();
    stats.residency.place_ms = place_ms;
    last_level = stats.level;
    return std::nullopt;
  }

  std::optional<data::DataError> frame_buffer(const DeviceView& v) {
    size_t pixels = static_cast<size_t>(v.width) * static_cast<size_t>(v.height);
    if (pixels > rgba_pixels) {
      cudaFree(rgba);
      VOXCAST_CUDA_CHECK(cudaMalloc(&rgba, pixels * sizeof(uchar4)), "frame buffer");
      rgba_pixels = pixels;
    }
    return std::nullopt;
  }

  std::optional<data::DataError> cast(const Scene& scene, const data::VolumeSource& source, int* out_w, int* out_h) {
    DeviceView v{};
    // At GPU rates every frame is cast at full resolution; while moving the step is one
    // voxel, the still frame re-renders at half a voxel.
    v.width = std::max(2, scene.width) & ~1;
    v.height = std::max(2, scene.height) & ~1;
    Camera3D cam = scene.camera3d;
    cam.zoom *= static_cast<double>(v.width) / scene.width;
    CameraBasis b = camera_basis(cam);
    v.cx = cam.center[0]; v.cy = cam.center[1]; v.cz = cam.center[2];
    v.rx = b.right[0]; v.ry = b.right[1]; v.rz = b.right[2];
    v.dx = b.down[0]; v.dy = b.down[1]; v.dz = b.down[2];
    v.fx = b.forward[0]; v.fy = b.forward[1]; v.fz = b.forward[2];
    v.zoom = cam.zoom; v.fov = cam.fov; v.distance = cam.distance;
    *out_w = v.width;
    *out_h = v.height;
    if (wants_bricks(scene, source)) return cast_bricks(scene, source, v, cam);
    stats.bricked = false;
    stats.complete = true;
    stats.residency = {};
    // Multiscale: the source's finest level that fits the GPU budget is the base, then the
    // finest 2x level of it that fits the budget and the screen.
    size_t visible = 0;
    for (const LayerState& layer : scene.layers) visible += layer.visible && layer.opacity > 0 ? 1 : 0;
    const int source_level = volume_source_level(source.info(), scene.dims, visible, budget_bytes);
    const VolumeGeometry fine = volume_geometry(scene.dims);
    VolumeGeometry g = base_geometry(scene.dims, source.info(), source_level);
    int level = finest_level(g.size, visible, budget_bytes, std::min({g.scale[0], g.scale[1], g.scale[2]}),
                             world_per_pixel(cam, v.height));
    double f = std::pow(2.0, level);
    g.size = level_size(g.size, level);
    for (auto& sc : g.scale) sc *= f;
    v.ox = 0.5 * fine.scale[0] / g.scale[0] - 0.5;
    v.oy = 0.5 * fine.scale[1] / g.scale[1] - 0.5;
    v.oz = 0.5 * fine.scale[2] / g.scale[2] - 0.5;
    last_level = level;
    stats.level = level;
    v.sx = g.scale[0]; v.sy = g.scale[1]; v.sz = g.scale[2];
    v.nx = static_cast<int>(g.size[0]); v.ny = static_cast<int>(g.size[1]); v.nz = static_cast<int>(g.size[2]);
    v.step_voxels = scene.interactive ? 1.0 : 0.5;
    v.step = std::min({g.scale[0], g.scale[1], g.scale[2]}) * v.step_voxels;
    for (const LayerState& layer : scene.layers) {
      if (!layer.visible || layer.opacity <= 0 || v.layers == kMaxLayers) continue;
      DeviceVolume* vol = nullptr;
      if (auto err = upload(scene, layer, source, source_level, level, &vol)) return err;
      DeviceLayer& L = v.layer[v.layers++];
      if (auto err = layer_constants(layer, &L)) return err;
      L.linear_tex = vol->linear_tex;
      L.point_tex = vol->point_tex;
    }
    if (auto err = frame_buffer(v)) return err;
    dim3 block(16, 8), grid((v.width + 15) / 16, (v.height + 7) / 8);
    raycast<<<grid, block>>>(v, rgba);
    VOXCAST_CUDA_CHECK(cudaGetLastError(), "ray cast launch");
    return std::nullopt;
  }
};

bool CudaVolumeRenderer::available(std::string* why) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    if (why) *why = e != cudaSuccess ? cudaGetErrorString(e) : "no CUDA device";
    return false;
  }
  return true;
}

CudaVolumeRenderer::CudaVolumeRenderer() : impl_(std::make_unique<Impl>()) {}
CudaVolumeRenderer::CudaVolumeRenderer(const VolumeBackendOptions& o) : impl_(std::make_unique<Impl>()) {
  impl_->budget_bytes = o.gpu_mb * 1024.0 * 1024.0;
  impl_->host_bytes = o.cpu_mb * 1024.0 * 1024.0;
  impl_->frame_ms = o.frame_ms;
  impl_->bricks_mode = o.bricks;
}

bool CudaVolumeRenderer::refinement_ready(const data::VolumeSource& source) const {
  return impl_->stats.complete || !impl_->stats.bricked || bricks_arrived(impl_->host_bricks, source);
}

void CudaVolumeRenderer::take_stats(double t0) {
  last_.level = impl_->last_level;
  last_.complete = impl_->stats.complete;
  last_.bricked = impl_->stats.bricked;
  last_.residency = impl_->stats.residency;
  last_.scale = 1.0;
  last_.ms = steady_ms() - t0;
  last_.cancelled = false;
}
CudaVolumeRenderer::~CudaVolumeRenderer() = default;

std::optional<data::DataError> CudaVolumeRenderer::render(const Scene& scene, const data::VolumeSource& source, Frame* out,
                                                          const std::atomic<bool>*) {
  double t0 = steady_ms();
  Scene full = scene;
  full.interactive = false;  // the RGBA path is for stills and tests
  int w = 0, h = 0;
  if (auto err = impl_->cast(full, source, &w, &h)) return err;
  out->width = w;
  out->height = h;
  out->rgba.resize(static_cast<size_t>(w) * static_cast<size_t>(h) * 4);
  VOXCAST_CUDA_CHECK(cudaMemcpy(out->rgba.data(), impl_->rgba, out->rgba.size(), cudaMemcpyDeviceToHost), "read back");
  take_stats(t0);
  return std::nullopt;
}

std::optional<data::DataError> CudaVolumeRenderer::render_i420(const Scene& scene, const data::VolumeSource& source,
                                                               const codec::YuvPlanes& out) {
  double t0 = steady_ms();
  int w = 0, h = 0;
  if (auto err = impl_->cast(scene, source, &w, &h)) return err;
  size_t ybytes = static_cast<size_t>(w) * static_cast<size_t>(h), cbytes = ybytes / 4;
  if (ybytes + 2 * cbytes > impl_->yuv_bytes) {
    cudaFree(impl_->yuv);
    VOXCAST_CUDA_CHECK(cudaMalloc(&impl_->yuv, ybytes + 2 * cbytes), "yuv buffer");
    impl_->yuv_bytes = ybytes + 2 * cbytes;
  }
  dim3 block(16, 8), grid((w / 2 + 15) / 16, (h / 2 + 7) / 8);
  to_i420<<<grid, block>>>(impl_->rgba, w, h, impl_->yuv, impl_->yuv + ybytes, impl_->yuv + ybytes + cbytes);
  VOXCAST_CUDA_CHECK(cudaGetLastError(), "i420 launch");
  VOXCAST_CUDA_CHECK(cudaMemcpy2D(out.y, static_cast<size_t>(out.y_stride), impl_->yuv, static_cast<size_t>(w),
                                  static_cast<size_t>(w), static_cast<size_t>(h), cudaMemcpyDeviceToHost), "y read back");
  VOXCAST_CUDA_CHECK(cudaMemcpy2D(out.u, static_cast<size_t>(out.u_stride), impl_->yuv + ybytes, static_cast<size_t>(w / 2),
                                  static_cast<size_t>(w / 2), static_cast<size_t>(h / 2), cudaMemcpyDeviceToHost), "u read back");
  VOXCAST_CUDA_CHECK(cudaMemcpy2D(out.v, static_cast<size_t>(out.v_stride), impl_->yuv + ybytes + cbytes,
                                  static_cast<size_t>(w / 2), static_cast<size_t>(w / 2), static_cast<size_t>(h / 2),
                                  cudaMemcpyDeviceToHost), "v read back");
  take_stats(t0);
  return std::nullopt;
}

}  // namespace voxcast::render
