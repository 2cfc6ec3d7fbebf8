#include "voxcast/render/volume_renderer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "voxcast/core/clock.hpp"
#include "voxcast/render/ray_modes.hpp"
#include "voxcast/render/brick_store.hpp"

namespace voxcast::render {

void allocate_bricks(VolumeBlock* b, const std::array<int64_t, 3>& size) {
  b->size = size;
  for (size_t i = 0; i < 3; ++i) b->bricks[i] = (size[i] + kBrick - 1) / kBrick;
  b->values.assign(static_cast<size_t>(b->bricks[0] * b->bricks[1] * b->bricks[2]) * kBrick * kBrick * kBrick, 0.0f);
}

void build_brick_max(VolumeBlock* b) {
  b->brick_max.assign(static_cast<size_t>(b->bricks[0] * b->bricks[1] * b->bricks[2]), -INFINITY);
  // Each voxel raises the maximum of every brick whose apron it lies in.
  for (int64_t z = 0; z < b->size[2]; ++z)
    for (int64_t y = 0; y < b->size[1]; ++y)
      for (int64_t x = 0; x < b->size[0]; ++x) {
        float v = b->at(x, y, z);
        int64_t bx0 = std::max<int64_t>(0, (x - 1) / kBrick), bx1 = std::min(b->bricks[0] - 1, (x + 1) / kBrick);
        int64_t by0 = std::max<int64_t>(0, (y - 1) / kBrick), by1 = std::min(b->bricks[1] - 1, (y + 1) / kBrick);
        int64_t bz0 = std::max<int64_t>(0, (z - 1) / kBrick), bz1 = std::min(b->bricks[2] - 1, (z + 1) / kBrick);
        for (int64_t bz = bz0; bz <= bz1; ++bz)
          for (int64_t by = by0; by <= by1; ++by)
            for (int64_t bx = bx0; bx <= bx1; ++bx) {
              float& m = b->brick_max[static_cast<size_t>((bz * b->bricks[1] + by) * b->bricks[0] + bx)];
              m = std::max(m, v);
            }
      }
}

namespace {

struct LayerMarch {
  const VolumeBlock* block;
  ray::LutRef lut;
  ray::ModeParams params;
  const LayerState* layer;
};

// Field value at voxel coordinates (x, y, z), voxel centres at integers.
[[gnu::always_inline]] inline float sample(const VolumeBlock& b, double x, double y, double z, bool linear) {
  if (!linear) {
    // x, y, z >= -0.5 inside the volume: truncating x + 0.5 rounds to the nearest voxel.
    auto ix = std::min<int64_t>(static_cast<int64_t>(std::max(0.0, x + 0.5)), b.size[0] - 1);
    auto iy = std::min<int64_t>(static_cast<int64_t>(std::max(0.0, y + 0.5)), b.size[1] - 1);
    auto iz = std::min<int64_t>(static_cast<int64_t>(std::max(0.0, z + 0.5)), b.size[2] - 1);
    return b.at(ix, iy, iz);
  }
  x = std::clamp(x, 0.0, static_cast<double>(b.size[0] - 1));
  y = std::clamp(y, 0.0, static_cast<double>(b.size[1] - 1));
  z = std::clamp(z, 0.0, static_cast<double>(b.size[2] - 1));
  auto x0 = static_cast<int64_t>(x), y0 = static_cast<int64_t>(y), z0 = static_cast<int64_t>(z);
  int64_t x1 = std::min(x0 + 1, b.size[0] - 1), y1 = std::min(y0 + 1, b.size[1] - 1), z1 = std::min(z0 + 1, b.size[2] - 1);
  auto fx = static_cast<float>(x - static_cast<double>(x0)), fy = static_cast<float>(y - static_cast<double>(y0)),
       fz = static_cast<float>(z - static_cast<double>(z0));
  float v000, v100, v010, v110, v001, v101, v011, v111;
  if ((x0 & 7) != 7 && (y0 & 7) != 7 && (z0 & 7) != 7 && x1 != x0 && y1 != y0 && z1 != z0) {
    // All eight corners in one 8^3 brick (two samples in three): one offset, fixed strides.
    const float* c = &b.values[VolumeBlock::offset(b.bricks, x0, y0, z0)];
    v000 = c[0], v100 = c[1], v010 = c[8], v110 = c[9], v001 = c[64], v101 = c[65], v011 = c[72], v111 = c[73];
  } else {
    v000 = b.at(x0, y0, z0), v100 = b.at(x1, y0, z0), v010 = b.at(x0, y1, z0), v110 = b.at(x1, y1, z0);
    v001 = b.at(x0, y0, z1), v101 = b.at(x1, y0, z1), v011 = b.at(x0, y1, z1), v111 = b.at(x1, y1, z1);
  }
  float c00 = v000 + (v100 - v000) * fx;
  float c10 = v010 + (v110 - v010) * fx;
  float c01 = v001 + (v101 - v001) * fx;
  float c11 = v011 + (v111 - v011) * fx;
  float c0 = c00 + (c10 - c00) * fy;
  float c1 = c01 + (c11 - c01) * fy;
  return c0 + (c1 - c0) * fz;
}

using ray::Step;

// Marches one ray through one layer in voxel space. `o`, `d` are in voxel units
// (d scaled so t is in world units); t0..t1 is the part inside the volume.
// Specialised per mode and interpolation so the inner loop carries no mode switches.
template <RenderMode mode, bool linear>
ray::RayColor march_mode(const LayerMarch& L, const double o[3], const double d[3], double t0, double t1, double step,
                         double step_voxels, const Vec3& view_dir, const Vec3& scale) {
  const VolumeBlock& b = *L.block;
  ray::ModeParams p = L.params;
  p.mode = mode;  // a constant: the shared maths folds to this mode's case
  const ray::LutRef lut = L.lut;
  ray::RayState s = ray::start(p);
  const auto sv = static_cast<float>(step_voxels);
  float prev_v = 0;
  bool have_prev = false;
  int64_t skip_brick = -1;
  // Incremental stepping; positions stay >= -0.5 inside the volume, so +0.5 truncation
  // is a floor.
  const double sx = d[0] * step, sy = d[1] * step, sz = d[2] * step;
  // Samples sit in the middle of their intervals (midpoint rule for the integrals).
  t0 += step * 0.5;
  double x = o[0] + d[0] * t0 - sx, y = o[1] + d[1] * t0 - sy, z = o[2] + d[2] * t0 - sz;
  const int64_t nbx = b.bricks[0] - 1, nby = b.bricks[1] - 1, nbz = b.bricks[2] - 1;
  for (double t = t0; t <= t1; t += step) {
    x += sx;
    y += sy;
    z += sz;
    // Empty-space skipping: a brick whose maximum cannot change the result is stepped over.
    int64_t bx = std::min<int64_t>(static_cast<int64_t>(std::max(0.0, x + 0.5)) >> 3, nbx);
    int64_t by = std::min<int64_t>(static_cast<int64_t>(std::max(0.0, y + 0.5)) >> 3, nby);
    int64_t bz = std::min<int64_t>(static_cast<int64_t>(std::max(0.0, z + 0.5)) >> 3, nbz);
    int64_t brick = (bz * b.bricks[1] + by) * b.bricks[0] + bx;
    if (brick == skip_brick) continue;
    if (mode != RenderMode::minip && mode != RenderMode::average &&
        ray::can_skip(s, p, -INFINITY, b.brick_max[static_cast<size_t>(brick)])) {
      // Jump to the last sample inside this brick; the loop's next step leaves it.
      auto steps_inside = [](double q, double dq, int64_t bi) {
        if (dq > 0) return ((bi + 1) * kBrick - 0.5 - q) / dq;
        if (dq < 0) return (bi * kBrick - 0.5 - q) / dq;
        return 1e30;
      };
      double k = std::floor(std::min({steps_inside(x, sx, bx), steps_inside(y, sy, by), steps_inside(z, sz, bz)}));
      if (k > 0) {
        x += sx * k;
        y += sy * k;
        z += sz * k;
        t += step * k;
      }
      skip_brick = brick;
      have_prev = false;
      continue;
    }
    skip_brick = -1;
    float v = sample(b, x, y, z, linear);
    Step next = ray::accumulate(s, p, lut, v, sv);
    if (next == Step::stop) break;
    if (next == Step::hit) {
      // Place the hit between the two samples, then shade with the field's gradient.
      double th = t - step * (1.0 - ray::iso_fraction(p, have_prev, prev_v, v));
      double hx = o[0] + d[0] * th, hy = o[1] + d[1] * th, hz = o[2] + d[2] * th;
      double gx = (sample(b, hx + 1, hy, hz, true) - sample(b, hx - 1, hy, hz, true)) / scale[0];
      double gy = (sample(b, hx, hy + 1, hz, true) - sample(b, hx, hy - 1, hz, true)) / scale[1];
      double gz = (sample(b, hx, hy, hz + 1, true) - sample(b, hx, hy, hz - 1, true)) / scale[2];
      return ray::iso_shade(lut, gx, gy, gz, view_dir.data());
    }
    prev_v = v;
    have_prev = true;
  }
  return ray::finish(s, p, lut);
}

template <RenderMode mode>
ray::RayColor march_interp(const LayerMarch& L, const double o[3], const double d[3], double t0, double t1, double step,
                          double step_voxels, bool linear, const Vec3& view_dir, const Vec3& scale) {
  return linear ? march_mode<mode, true>(L, o, d, t0, t1, step, step_voxels, view_dir, scale)
                : march_mode<mode, false>(L, o, d, t0, t1, step, step_voxels, view_dir, scale);
}

ray::RayColor march(const LayerMarch& L, const double o[3], const double d[3], double t0, double t1, double step,
                   double step_voxels, bool linear, const Vec3& view_dir, const Vec3& scale) {
  switch (L.layer->rendering) {
    case RenderMode::mip: return march_interp<RenderMode::mip>(L, o, d, t0, t1, step, step_voxels, linear, view_dir, scale);
    case RenderMode::minip: return march_interp<RenderMode::minip>(L, o, d, t0, t1, step, step_voxels, linear, view_dir, scale);
    case RenderMode::average: return march_interp<RenderMode::average>(L, o, d, t0, t1, step, step_voxels, linear, view_dir, scale);
    case RenderMode::attenuated_mip:
      return march_interp<RenderMode::attenuated_mip>(L, o, d, t0, t1, step, step_voxels, linear, view_dir, scale);
    case RenderMode::iso: return march_interp<RenderMode::iso>(L, o, d, t0, t1, step, step_voxels, linear, view_dir, scale);
    case RenderMode::translucent:
      return march_interp<RenderMode::translucent>(L, o, d, t0, t1, step, step_voxels, linear, view_dir, scale);
    case RenderMode::additive: return march_interp<RenderMode::additive>(L, o, d, t0, t1, step, step_voxels, linear, view_dir, scale);
  }
  return {};
}

// Bilinear upscale of an RGBA8 image to the canvas size (8-bit weights, tables per column).
void upscale(const Frame& src, Frame* dst, ThreadPool& pool) {
  const int W = dst->width, H = dst->height;
  std::vector<int> x0s(static_cast<size_t>(W)), x1s(static_cast<size_t>(W)), wxs(static_cast<size_t>(W));
  for (int x = 0; x < W; ++x) {
    double fx = std::clamp((x + 0.5) * src.width / W - 0.5, 0.0, src.width - 1.0);
    auto ux = static_cast<size_t>(x);
    x0s[ux] = static_cast<int>(fx);
    x1s[ux] = std::min(x0s[ux] + 1, src.width - 1);
    wxs[ux] = static_cast<int>((fx - x0s[ux]) * 256.0 + 0.5);
  }
  pool.parallel_for(H, [&](int b, int e) {
    for (int y = b; y < e; ++y) {
      double fy = std::clamp((y + 0.5) * src.height / H - 0.5, 0.0, src.height - 1.0);
      int y0 = static_cast<int>(fy), y1 = std::min(y0 + 1, src.height - 1);
      int wy = static_cast<int>((fy - y0) * 256.0 + 0.5);
      const uint8_t* r0 = &src.rgba[static_cast<size_t>(y0) * static_cast<size_t>(src.width) * 4];
      const uint8_t* r1 = &src.rgba[static_cast<size_t>(y1) * static_cast<size_t>(src.width) * 4];
      uint8_t* out = &dst->rgba[static_cast<size_t>(y) * static_cast<size_t>(W) * 4];
      for (int x = 0; x < W; ++x) {
        auto ux = static_cast<size_t>(x);
        const uint8_t* a = r0 + x0s[ux] * 4;
        const uint8_t* bb = r0 + x1s[ux] * 4;
        const uint8_t* c = r1 + x0s[ux] * 4;
        const uint8_t* d = r1 + x1s[ux] * 4;
        int wx = wxs[ux];
        for (int ch = 0; ch < 4; ++ch) {
          int top = a[ch] * (256 - wx) + bb[ch] * wx;
          int bot = c[ch] * (256 - wx) + d[ch] * wx;
          out[x * 4 + ch] = static_cast<uint8_t>((top * (256 - wy) + bot * wy + 32768) >> 16);
        }
      }
    }
  });
}

}  // namespace

VolumeRenderer::VolumeRenderer(int threads, double target_ms, double budget_mb, std::string bricks)
    : pool_(threads),
      target_ms_(target_ms),
      budget_bytes_(budget_mb * 1024.0 * 1024.0),
      bricks_mode_(std::move(bricks)),
      bricks_(std::make_unique<BrickStore>()) {}

VolumeRenderer::VolumeRenderer(const VolumeBackendOptions& o)
    : VolumeRenderer(o.threads, o.frame_ms, o.cpu_mb, o.bricks) {}

VolumeRenderer::~VolumeRenderer() = default;

namespace {
std::vector<int> volume_axes(const VolumeGeometry& g) { return {g.axis[2], g.axis[1], g.axis[0]}; }
}  // namespace

VolumeGeometry base_geometry(const DimsState& dims, const data::VolumeInfo& info, int source_level) {
  VolumeGeometry g = volume_geometry(dims);
  const auto& lv = info.levels[static_cast<size_t>(source_level)];
  for (size_t i = 0; i < 3; ++i) {
    auto a = static_cast<size_t>(dims.source_axis[static_cast<size_t>(g.axis[i])]);
    g.size[i] = lv.shape[a];
    g.scale[i] *= static_cast<double>(info.shape[a]) / static_cast<double>(lv.shape[a]);
  }
  return g;
}

void replace_non_finite(std::vector<float>* values) {
  float lo = INFINITY;
  bool any = false;
  for (float v : *values) {
    if (!std::isfinite(v)) any = true;
    else lo = std::min(lo, v);
  }
  if (!any) return;
  if (std::isinf(lo)) lo = 0.0f;  // nothing finite at all
  for (float& v : *values) {
    if (std::isnan(v)) v = lo;
    else if (std::isinf(v)) v = v > 0 ? kInfinityStandIn : -kInfinityStandIn;
  }
}

std::vector<int64_t> volume_key(const Scene& scene, const LayerState& layer, const data::VolumeSource& source,
                                int source_level) {
  auto key = layer_read(scene.dims, volume_axes(volume_geometry(scene.dims)), layer, source).key;
  key.push_back(source_level);
  return key;
}

// The most one volume read may hold (4 GiB of floats, the default budget): a dataset
// without a coarse enough level is refused rather than allocated.
constexpr int64_t kMaxVolumeReadVoxels = int64_t{1} << 30;

std::optional<data::DataError> read_volume_xyz(const Scene& scene, const LayerState& layer,
                                               const data::VolumeSource& source, std::vector<float>* xyz,
                                               std::vector<int64_t>* key, int source_level) {
  const DimsState& d = scene.dims;
  VolumeGeometry g = volume_geometry(d);
  LayerRead read = layer_read(d, volume_axes(g), layer, source);
  // At a coarser source level: the level's extent on the shown axes, the steps scaled down.
  const data::VolumeInfo& info = source.info();
  const auto& lv = info.levels[static_cast<size_t>(source_level)];
  for (size_t a = 0; a < read.box.start.size(); ++a)
    if (static_cast<int>(a) != info.channel_axis)
      read.box.start[a] = std::min<int64_t>(static_cast<int64_t>(static_cast<double>(read.box.start[a]) / lv.factor[a]),
                                            lv.shape[a] - 1);
  for (size_t i = 0; i < 3; ++i) {
    auto src_axis = static_cast<size_t>(d.source_axis[static_cast<size_t>(g.axis[i])]);
    g.size[i] = lv.shape[src_axis];
    read.box.start[src_axis] = 0;
    read.box.size[src_axis] = lv.shape[src_axis];
  }
  read.key.push_back(source_level);
  if (read.box.count() > kMaxVolumeReadVoxels)
    return data::DataError{info.name, "the coarsest level holds " + std::to_string(read.box.count()) +
                                          " voxels, too many to render in 3D"};
  std::vector<float> raw(static_cast<size_t>(read.box.count()));
  if (auto err = source.read_level(source_level, read.box, raw.data())) return err;
  std::array<int64_t, 3> stride{};
  for (size_t i = 0; i < 3; ++i) {
    auto src_axis = static_cast<size_t>(d.source_axis[static_cast<size_t>(g.axis[i])]);
    int64_t s = 1;
    for (size_t a = src_axis + 1; a < read.box.size.size(); ++a) s *= read.box.size[a];
    stride[i] = s;
  }
  replace_non_finite(&raw);
  xyz->resize(raw.size());
  for (int64_t z = 0; z < g.size[2]; ++z)
    for (int64_t y = 0; y < g.size[1]; ++y)
      for (int64_t x = 0; x < g.size[0]; ++x)
        (*xyz)[static_cast<size_t>((z * g.size[1] + y) * g.size[0] + x)] =
            raw[static_cast<size_t>(x * stride[0] + y * stride[1] + z * stride[2])];
  *key = std::move(read.key);
  return std::nullopt;
}

int volume_source_level(const data::VolumeInfo& info, const DimsState& dims, size_t layers, double budget_bytes) {
  VolumeGeometry g = volume_geometry(dims);
  for (size_t l = 0; l < info.levels.size(); ++l) {
    double voxels = 1;
    for (size_t i = 0; i < 3; ++i)
      voxels *= static_cast<double>(info.levels[l].shape[static_cast<size_t>(dims.source_axis[static_cast<size_t>(g.axis[i])])]);
    if (voxels * sizeof(float) * static_cast<double>(std::max<size_t>(1, layers)) <= budget_bytes) return static_cast<int>(l);
  }
  return static_cast<int>(info.levels.size()) - 1;
}

std::array<int64_t, 3> level_size(const std::array<int64_t, 3>& size, int level) {
  std::array<int64_t, 3> s = size;
  for (int k = 0; k < level; ++k)
    for (auto& v : s) v = std::max<int64_t>(1, (v + 1) / 2);
  return s;
}

void downsample_2x(const std::vector<float>& in, const std::array<int64_t, 3>& n, std::vector<float>* out) {
  auto m = level_size(n, 1);
  out->assign(static_cast<size_t>(m[0] * m[1] * m[2]), 0.0f);
  for (int64_t z = 0; z < m[2]; ++z)
    for (int64_t y = 0; y < m[1]; ++y)
      for (int64_t x = 0; x < m[0]; ++x) {
        double sum = 0;
        int count = 0;
        for (int64_t dz = 0; dz < 2; ++dz)
          for (int64_t dy = 0; dy < 2; ++dy)
            for (int64_t dx = 0; dx < 2; ++dx) {
              int64_t sx = 2 * x + dx, sy = 2 * y + dy, sz = 2 * z + dz;
              if (sx >= n[0] || sy >= n[1] || sz >= n[2]) continue;  // odd edges average what exists
              sum += in[static_cast<size_t>((sz * n[1] + sy) * n[0] + sx)];
              ++count;
            }
        (*out)[static_cast<size_t>((z * m[1] + y) * m[0] + x)] = static_cast<float>(sum / count);
      }
}

int finest_level(const std::array<int64_t, 3>& size, size_t layers, double budget_bytes, double voxel_world,
                 double world_per_px) {
  int level = 0;
  while (level < kMaxVolumeLevel) {
    auto s = level_size(size, level);
    double bytes = static_cast<double>(s[0] * s[1] * s[2]) * sizeof(float) * static_cast<double>(std::max<size_t>(1, layers));
    bool fits = bytes <= budget_bytes;
    // Level + 1 voxels are still no bigger than a pixel: level's detail is invisible.
    bool finer_than_screen = voxel_world * std::pow(2.0, level + 1) <= world_per_px;
    if (fits && !finer_than_screen) break;
    ++level;
  }
  return level;
}

const VolumeBlock* VolumeRenderer::fetch(const Scene& scene, const LayerState& layer, const data::VolumeSource& source,
                                         int source_level, int finest, int* level, std::optional<data::DataError>* error) {
  LayerLevels& lv = levels_[layer.id];
  std::vector<int64_t> key = volume_key(scene, layer, source, source_level);
  if (lv.key != key || lv.finest > finest || lv.blocks.empty()) {
    // One read builds every level from `finest` down: a still frame after motion (or a
    // change of budget) needs no second read.
    std::vector<float> xyz;
    std::vector<int64_t> read_key;
    if (auto err = read_volume_xyz(scene, layer, source, &xyz, &read_key, source_level)) {
      *error = err;
      lv = LayerLevels{};
      return nullptr;
    }
    VolumeGeometry g = base_geometry(scene.dims, source.info(), source_level);
    lv.blocks.clear();
    lv.finest = finest;
    auto size = g.size;
    for (int k = 0; k <= kMaxVolumeLevel; ++k) {
      if (k >= finest) {
        VolumeBlock blk;
        allocate_bricks(&blk, size);
        for (int64_t z = 0; z < size[2]; ++z)
          for (int64_t y = 0; y < size[1]; ++y)
            for (int64_t x = 0; x < size[0]; ++x)
              blk.values[VolumeBlock::offset(blk.bricks, x, y, z)] = xyz[static_cast<size_t>((z * size[1] + y) * size[0] + x)];
        build_brick_max(&blk);
        lv.blocks.push_back(std::move(blk));
      }
      if (k == kMaxVolumeLevel || (size[0] <= kBrick && size[1] <= kBrick && size[2] <= kBrick)) break;
      std::vector<float> next;
      downsample_2x(xyz, size, &next);
      xyz = std::move(next);
      size = level_size(size, 1);
    }
    lv.key = std::move(key);
  }
  int index = std::clamp(*level - lv.finest, 0, static_cast<int>(lv.blocks.size()) - 1);
  *level = lv.finest + index;  // the coarsest level may be finer than asked for
  return &lv.blocks[static_cast<size_t>(index)];
}

std::optional<data::DataError> VolumeRenderer::render(const Scene& scene, const data::VolumeSource& source, Frame* out,
                                                      const std::atomic<bool>* cancel) {
  double t_start = steady_ms();
  last_.cancelled = false;
  out->width = scene.width;
  out->height = scene.height;
  out->rgba.resize(static_cast<size_t>(scene.width) * static_cast<size_t>(scene.height) * 4);
  // Adaptive resolution: while interacting, cast only as many rays as the frame budget allows.
  double scale = scene.interactive ? interactive_scale_ : 1.0;
  Frame* target = out;
  if (scale < 0.999) {
    small_.width = std::max(2, static_cast<int>(scene.width * scale));
    small_.height = std::max(2, static_cast<int>(scene.height * scale));
    small_.rgba.resize(static_cast<size_t>(small_.width) * static_cast<size_t>(small_.height) * 4);
    target = &small_;
  }
  bool stopped = false;
  const bool bricked = wants_bricks(scene, source);
  auto err = bricked ? cast_bricks(scene, source, target, cancel, &stopped)
                     : cast_block(scene, source, target, cancel, &stopped);
  if (err) return err;
  if (stopped) {
    last_.cancelled = true;
    return std::nullopt;
  }
  if (target != out) upscale(*target, out, pool_);
  last_.scale = scale;
  last_.bricked = bricked;
  if (!bricked) {
    last_.complete = true;
    last_.residency = {};
  }
  last_.ms = steady_ms() - t_start;
  if (scene.interactive) {
    // Next interactive frame: scale so the ray count fits the budget (time ~ scale^2).
    double ratio = target_ms_ / std::max(1.0, last_.ms);
    interactive_scale_ = std::clamp(scale * std::sqrt(ratio), 0.125, 1.0);
    // At the smallest resolution and still too slow: a coarser level while moving.
    if (scale <= 0.126 && ratio < 0.8) moving_bias_ = std::min(moving_bias_ + 1, 3);
    else if (ratio > 3.0 && moving_bias_ > 0) moving_bias_ -= 1;
  }
  return std::nullopt;
}

std::optional<data::DataError> VolumeRenderer::cast_block(const Scene& scene, const data::VolumeSource& source,
                                                          Frame* target, const std::atomic<bool>* cancel,
                                                          bool* stopped_out) {
  // Multiscale: the finest level that fits the budget and the screen when still; while
  // moving, coarser when even the smallest resolution missed the frame budget.
  size_t visible = 0;
  for (const LayerState& layer : scene.layers) visible += layer.visible && layer.opacity > 0 ? 1 : 0;
  // A multiscale source: its finest level that fits the budget is the base; the renderer's
  // own 2x levels go on from there.
  const int source_level = volume_source_level(source.info(), scene.dims, visible, budget_bytes_);
  VolumeGeometry full = base_geometry(scene.dims, source.info(), source_level);
  double voxel_world = std::min({full.scale[0], full.scale[1], full.scale[2]});
  int finest = finest_level(full.size, visible, budget_bytes_, voxel_world, world_per_pixel(scene.camera3d, scene.height));
  int level = std::min(kMaxVolumeLevel, finest + (scene.interactive ? moving_bias_ : 0));
  std::vector<LayerMarch> layers;
  for (const LayerState& layer : scene.layers) {
    if (!layer.visible || layer.opacity <= 0) continue;
    std::optional<data::DataError> err;
    const VolumeBlock* blk = fetch(scene, layer, source, source_level, finest, &level, &err);
    if (!blk) return err;
    layers.push_back({blk, lut_ref(luts_.get(layer), scene.interactive ? 1.0 : 0.5), mode_params(layer), &layer});
  }

  const int W = target->width, H = target->height;
  Camera3D cam = scene.camera3d;
  cam.zoom *= static_cast<double>(W) / scene.width;  // same view at fewer pixels
  CameraBasis basis = camera_basis(cam);
  // Geometry of the level drawn: its voxels are F = base factor * 2^level full-resolution
  // voxels wide, and their centres sit at (i + 0.5) * F - 0.5 in full-resolution voxels.
  VolumeGeometry g = volume_geometry(scene.dims);
  const VolumeGeometry fine = g;
  if (!layers.empty()) g.size = layers.front().block->size;
  double offset[3];
  for (size_t i = 0; i < 3; ++i) {
    g.scale[i] = full.scale[i] * std::pow(2.0, level);
    double F = g.scale[i] / fine.scale[i];
    offset[i] = 0.5 / F - 0.5;
  }
  double min_scale = std::min({g.scale[0], g.scale[1], g.scale[2]});
  // Sample every half voxel when still, every voxel while moving.
  double step_voxels = scene.interactive ? 1.0 : 0.5;
  double step = min_scale * step_voxels;
  const double extent[3] = {static_cast<double>(g.size[0]), static_cast<double>(g.size[1]), static_cast<double>(g.size[2])};

  std::atomic<bool> stopped{false};
  pool_.parallel_for(H, [&](int begin, int end) {
    for (int py = begin; py < end; ++py) {
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        stopped = true;
        return;
      }
      for (int px = 0; px < W; ++px) {
        Ray r = camera_ray(cam, basis, px, py, W, H);
        double o[3] = {r.origin[0] / g.scale[0] + offset[0], r.origin[1] / g.scale[1] + offset[1],
                       r.origin[2] / g.scale[2] + offset[2]};
        double d[3] = {r.direction[0] / g.scale[0], r.direction[1] / g.scale[1], r.direction[2] / g.scale[2]};
        float acc[3] = {0, 0, 0};
        double t0, t1;
        if (ray::clip_box(o, d, extent, &t0, &t1)) {
          t0 = std::max(t0, 0.0);
          for (const auto& L : layers) {
            ray::RayColor c = march(L, o, d, t0, t1, step, step_voxels, L.layer->interpolation == Interpolation::linear,
                                    r.direction, g.scale);
            ray::composite(acc, c, static_cast<float>(L.layer->opacity), L.layer->blending);
          }
        }
        uint8_t* p = &target->rgba[(static_cast<size_t>(py) * static_cast<size_t>(W) + static_cast<size_t>(px)) * 4];
        p[0] = ray::to_u8(acc[0]);
        p[1] = ray::to_u8(acc[1]);
        p[2] = ray::to_u8(acc[2]);
        p[3] = 255;
      }
    }
  });
  *stopped_out = stopped;
  if (!stopped) last_.level = level;
  return std::nullopt;
}

}  // namespace voxcast::render
