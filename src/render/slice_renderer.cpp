#include "voxcast/render/slice_renderer.hpp"

#include <algorithm>
#include <cmath>
#include <climits>
#include <cstring>
#include <thread>

#include "voxcast/core/clock.hpp"

#include "voxcast/render/camera2d.hpp"

namespace voxcast::render {

// The most one plane read may hold (256 MiB of floats): a 4x still of a 4K view fits.
constexpr int64_t kMaxPlaneVoxels = int64_t{1} << 26;

void clamp_infinities(float* values, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (std::isinf(values[i])) values[i] = values[i] > 0 ? kInfinityStandIn : -kInfinityStandIn;
}

SliceRenderer::SliceRenderer(int threads, double wait_ms) : pool_(threads), wait_ms_(wait_ms) {}

namespace {

// Sample positions of the canvas columns (or rows) in voxel coordinates.
struct Axis1D {
  std::vector<int32_t> nearest;  // -1 outside the data
  std::vector<int32_t> i0;       // linear: lower neighbour (clamped), -1 outside
  std::vector<float> t;          // linear weight of the upper neighbour
};

struct LayerPass {
  const float* values;
  int64_t rows, cols, stride_row, stride_col;
  int channels;  // > 1: an RGB(A) layer, samples stride_channel apart
  int64_t stride_channel;
  const LayerLut* lut;
  float opacity;
  Blending blending;
  Interpolation interpolation;
  const Axis1D* col_axis;
  const Axis1D* row_axis;
};

Axis1D sample_axis(int pixels, double first_world, double world_per_px, double scale, int64_t extent) {
  Axis1D a;
  a.nearest.resize(static_cast<size_t>(pixels));
  a.i0.resize(static_cast<size_t>(pixels));
  a.t.resize(static_cast<size_t>(pixels));
  for (int p = 0; p < pixels; ++p) {
    double f = (first_world + (p + 0.5) * world_per_px) / scale;  // voxel centres at integers
    auto up = static_cast<size_t>(p);
    bool inside = f >= -0.5 && f < static_cast<double>(extent) - 0.5;
    a.nearest[up] = inside ? static_cast<int32_t>(std::floor(f + 0.5)) : -1;
    if (!inside) {
      a.i0[up] = -1;
      a.t[up] = 0;
      continue;
    }
    double fl = std::floor(f);
    double t = f - fl;
    auto i0 = static_cast<int64_t>(fl);
    if (i0 < 0) {
      i0 = 0;
      t = 0;
    }
    if (i0 >= extent - 1) {
      i0 = extent - 1;
      t = 0;
    }
    a.i0[up] = static_cast<int32_t>(i0);
    a.t[up] = static_cast<float>(t);
  }
  return a;
}

// LUT entry of a value; -1 for NaN, which is not drawn (napari shows NaN transparent).
// NaN fails every comparison, so it must be caught before the clamps: cast to int it
// would index far outside the table.
inline int lut_index(const LayerLut& lut, float v) {
  float x = (v - lut.lo) * lut.scale;
  if (std::isnan(x)) return -1;
  x = x < 0.0f ? 0.0f : (x > kLutSize - 1 ? static_cast<float>(kLutSize - 1) : x);
  return static_cast<int>(x + 0.5f);
}
// Whether a LUT entry is drawn: not NaN, and not a label image's background.
inline bool drawn(const LayerLut& lut, int index) { return index > 0 || (index == 0 && !lut.transparent_zero); }

inline void blend(float* acc, const Rgb& c, float a, Blending mode) {
  switch (mode) {
    case Blending::opaque:
      acc[0] = c.r;
      acc[1] = c.g;
      acc[2] = c.b;
      break;
    case Blending::translucent:
      acc[0] += (c.r - acc[0]) * a;
      acc[1] += (c.g - acc[1]) * a;
      acc[2] += (c.b - acc[2]) * a;
      break;
    case Blending::additive:
      acc[0] += c.r * a;
      acc[1] += c.g * a;
      acc[2] += c.b * a;
      break;
    case Blending::minimum:
      acc[0] += (std::min(acc[0], c.r) - acc[0]) * a;
      acc[1] += (std::min(acc[1], c.g) - acc[1]) * a;
      acc[2] += (std::min(acc[2], c.b) - acc[2]) * a;
      break;
  }
}

// Colour and opacity of one sample of a layer, its first channel at `v` and the others
// `stride` apart (RGB layers); false when it is not drawn (NaN, a label's background).
inline bool sample_color(const LayerPass& L, const float* v, int64_t stride, Rgb* c, float* alpha) {
  const LayerLut& lut = *L.lut;
  if (lut.labels) {
    auto rgba = label_rgba(lut, *v);
    *c = {rgba[0], rgba[1], rgba[2]};
    *alpha = L.opacity * rgba[3];
    return rgba[3] > 0;
  }
  if (L.channels > 1) {
    // napari's rgb=True: each sample through the same contrast and gamma, alpha from the 4th.
    float out[4] = {0, 0, 0, 1};
    for (int k = 0; k < L.channels && k < 4; ++k) {
      int i = lut_index(lut, v[k * stride]);
      if (i < 0) return false;
      out[k] = lut.table[static_cast<size_t>(i)].r;
    }
    *c = {out[0], out[1], out[2]};
    *alpha = L.opacity * out[3];
    return true;
  }
  int i = lut_index(lut, *v);
  if (!drawn(lut, i)) return false;
  *c = lut.table[static_cast<size_t>(i)];
  *alpha = L.opacity;
  return true;
}

// Composites one layer's contribution to canvas row `py` into `acc` (3 floats/pixel).
void draw_layer_row(const LayerPass& L, int py, int width, float* acc) {
  const Axis1D& cols = *L.col_axis;
  const Axis1D& rows = *L.row_axis;
  auto upy = static_cast<size_t>(py);
  Rgb c;
  float alpha = 0;
  if (L.interpolation == Interpolation::nearest) {
    int32_t iy = rows.nearest[upy];
    if (iy < 0) return;
    const float* src = L.values + static_cast<int64_t>(iy) * L.stride_row;
    for (int px = 0; px < width; ++px) {
      int32_t ix = cols.nearest[static_cast<size_t>(px)];
      if (ix < 0 || !sample_color(L, src + ix * L.stride_col, L.stride_channel, &c, &alpha)) continue;
      blend(acc + px * 3, c, alpha, L.blending);
    }
    return;
  }
  int32_t y0 = rows.i0[upy];
  if (y0 < 0) return;
  float ty = rows.t[upy];
  int32_t y1 = std::min<int32_t>(y0 + 1, static_cast<int32_t>(L.rows - 1));
  const float* r0 = L.values + static_cast<int64_t>(y0) * L.stride_row;
  const float* r1 = L.values + static_cast<int64_t>(y1) * L.stride_row;
  const int channels = std::min(L.channels, 4);
  float v[4];
  for (int px = 0; px < width; ++px) {
    auto upx = static_cast<size_t>(px);
    int32_t x0 = cols.i0[upx];
    if (x0 < 0) continue;
    int64_t x1 = std::min<int64_t>(x0 + 1, L.cols - 1);
    float tx = cols.t[upx];
    for (int k = 0; k < channels; ++k) {
      const int64_t o = k * L.stride_channel;
      float a = r0[x0 * L.stride_col + o] + (r0[x1 * L.stride_col + o] - r0[x0 * L.stride_col + o]) * tx;
      float b = r1[x0 * L.stride_col + o] + (r1[x1 * L.stride_col + o] - r1[x0 * L.stride_col + o]) * tx;
      v[k] = a + (b - a) * ty;
    }
    if (!sample_color(L, v, 1, &c, &alpha)) continue;
    blend(acc + px * 3, c, alpha, L.blending);
  }
}

inline uint8_t to_u8(float v) {
  v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
  return static_cast<uint8_t>(v * 255.0f + 0.5f);
}

inline uint32_t pack_rgba(const float* c) {
  return uint32_t{to_u8(c[0])} | (uint32_t{to_u8(c[1])} << 8) | (uint32_t{to_u8(c[2])} << 16) | 0xFF000000u;
}

// All layers nearest: they sample the same data row and columns, so composite once per
// visible data column and spread the packed colours over the canvas row (an upsampled
// view touches each data column once instead of once per canvas pixel).
void composite_nearest_row(const std::vector<LayerPass>& passes, const Axis1D& cols, int32_t iy, int32_t c0, int32_t c1,
                           int width, std::vector<float>* acc, std::vector<uint32_t>* packed, uint8_t* dst) {
  auto* out = reinterpret_cast<uint32_t*>(dst);  // RGBA8 in memory order on little-endian
  if (iy < 0 || c1 < c0) {
    std::fill(out, out + width, 0xFF000000u);
    return;
  }
  const auto n = static_cast<size_t>(c1 - c0 + 1);
  acc->assign(n * 3, 0.0f);
  packed->resize(n);
  Rgb c;
  float alpha = 0;
  for (const LayerPass& L : passes) {
    const float* src = L.values + static_cast<int64_t>(iy) * L.stride_row;
    for (int32_t x = c0; x <= c1; ++x) {
      if (!sample_color(L, src + x * L.stride_col, L.stride_channel, &c, &alpha)) continue;
      blend(acc->data() + static_cast<size_t>(x - c0) * 3, c, alpha, L.blending);
    }
  }
  for (size_t i = 0; i < n; ++i) (*packed)[i] = pack_rgba(acc->data() + i * 3);
  const uint32_t* comp = packed->data();
  for (int px = 0; px < width; ++px) {
    int32_t ix = cols.nearest[static_cast<size_t>(px)];
    out[px] = ix >= 0 ? comp[ix - c0] : 0xFF000000u;
  }
}

}  // namespace

int level_for_view(const data::VolumeInfo& info, int source_y, int source_x, double scale_y, double scale_x,
                   double world_per_px) {
  int best = 0;
  for (size_t l = 1; l < info.levels.size(); ++l) {
    const auto& f = info.levels[l].factor;
    if (scale_x * f[static_cast<size_t>(source_x)] <= world_per_px * 1.001 &&
        scale_y * f[static_cast<size_t>(source_y)] <= world_per_px * 1.001)
      best = static_cast<int>(l);
  }
  return best;
}

namespace {

// Where a layer's plane comes from at one level: the source box (visible region of the
// displayed axes, the step on the others) and the level's voxel size.
struct PlanePlan {
  data::Box box;
  double scale_y = 1, scale_x = 1;
  int64_t row0 = 0, col0 = 0, rows = 0, cols = 0;
};

// Visible voxel range [lo, hi) of one displayed axis at a level, padded for linear
// sampling and rounded out to 64 voxels so small pans reuse the plane read.
bool visible_range(int pixels, double first_world, double world_per_px, double scale, int64_t extent, int64_t* lo,
                   int64_t* hi) {
  double a = first_world / scale - 0.5, b = (first_world + pixels * world_per_px) / scale + 0.5;
  auto l = static_cast<int64_t>(std::floor(a)) - 1, h = static_cast<int64_t>(std::ceil(b)) + 2;
  l = std::max<int64_t>(0, (l >> 6) << 6);
  h = std::min<int64_t>(extent, ((h + 63) >> 6) << 6);
  *lo = l;
  *hi = h;
  return h > l;
}

bool plan_plane(const Scene& scene, const LayerState& layer, const data::VolumeInfo& info, int level, PlanePlan* p) {
  const DimsState& d = scene.dims;
  auto disp = displayed_axes(d);
  auto ay = static_cast<size_t>(disp[0]), ax = static_cast<size_t>(disp[1]);
  auto sy = static_cast<size_t>(d.source_axis[ay]), sx = static_cast<size_t>(d.source_axis[ax]);
  const auto& lv = info.levels[static_cast<size_t>(level)];
  p->scale_y = d.scale[ay] * lv.factor[sy];
  p->scale_x = d.scale[ax] * lv.factor[sx];
  ViewRect rect = view_rect(scene.camera, scene.width, scene.height);
  double wpp = 1.0 / scene.camera.zoom;
  int64_t r0, r1, c0, c1;
  if (!visible_range(scene.height, rect.top, wpp, p->scale_y, lv.shape[sy], &r0, &r1)) return false;
  if (!visible_range(scene.width, rect.left, wpp, p->scale_x, lv.shape[sx], &c0, &c1)) return false;
  p->box.start.assign(lv.shape.size(), 0);
  p->box.size.assign(lv.shape.size(), 1);
  for (size_t a = 0; a < d.shape.size(); ++a) {
    auto src = static_cast<size_t>(d.source_axis[a]);
    if (a == ay || a == ax) continue;
    auto step = static_cast<int64_t>(std::floor(static_cast<double>(d.current_step[a]) / lv.factor[src]));
    p->box.start[src] = std::clamp<int64_t>(step, 0, lv.shape[src] - 1);
  }
  if (info.channel_axis >= 0) {
    const auto ca = static_cast<size_t>(info.channel_axis);
    p->box.start[ca] = layer.rgb ? 0 : layer.channel;
    p->box.size[ca] = layer.rgb ? std::min<int64_t>(lv.shape[ca], 4) : 1;
  }
  p->box.start[sy] = r0;
  p->box.size[sy] = r1 - r0;
  p->box.start[sx] = c0;
  p->box.size[sx] = c1 - c0;
  p->row0 = r0;
  p->rows = r1 - r0;
  p->col0 = c0;
  p->cols = c1 - c0;
  return true;
}

}  // namespace

const SliceRenderer::Plane* SliceRenderer::fetch_plane(const Scene& scene, const LayerState& layer, int lane,
                                                       const data::VolumeSource& source, double deadline_ms,
                                                       std::optional<data::DataError>* error) {
  const data::VolumeInfo& info = source.info();
  const DimsState& d = scene.dims;
  auto disp = displayed_axes(d);
  auto ay = static_cast<size_t>(disp[0]), ax = static_cast<size_t>(disp[1]);
  const int wanted = level_for_view(info, d.source_axis[ay], d.source_axis[ax], d.scale[ay], d.scale[ax],
                                    1.0 / scene.camera.zoom);
  last_.wanted_level = std::max(last_.wanted_level, wanted);
  PlanePlan plan;
  if (!plan_plane(scene, layer, info, wanted, &plan)) return nullptr;  // nothing of it on screen
  // No level is coarse enough (a single-level acquisition zoomed out): sample the plane at
  // about screen resolution instead of reading every voxel of it.
  if (wanted == static_cast<int>(info.levels.size()) - 1 &&
      (plan.scale_y * 2 <= 1.0 / scene.camera.zoom || plan.scale_x * 2 <= 1.0 / scene.camera.zoom))
    return fetch_sampled(scene, layer, source, wanted, plan.box, deadline_ms - wait_ms_, error);
  if (plan.box.count() > kMaxPlaneVoxels) {
    // Without a coarse enough level the view would need the whole plane at full resolution
    // (the chunk requests alone would be billions).
    *error = data::DataError{info.name, "the view needs " + std::to_string(plan.rows) + " x " + std::to_string(plan.cols) +
                                            " voxels; zoom in (the dataset has no coarser level)"};
    return nullptr;
  }
  int level = wanted;
  bool ready = source.request(wanted, plan.box, {lane, 0, false});
  while (!ready && steady_ms() < deadline_ms) {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    ready = source.request(wanted, plan.box, {lane, 0, true});
  }
  if (!ready) {
    // Stand in with the finest coarser level already in memory, else the coarsest (small).
    pending_.push_back({wanted, plan.box});
    last_.complete = false;
    level = static_cast<int>(info.levels.size()) - 1;
    for (int l = wanted + 1; l < static_cast<int>(info.levels.size()); ++l) {
      PlanePlan p;
      if (plan_plane(scene, layer, info, l, &p) && p.box.count() <= kMaxPlaneVoxels &&
          source.request(l, p.box, {lane, 0, true})) {
        level = l;
        break;
      }
    }
    if (!plan_plane(scene, layer, info, level, &plan)) return nullptr;
  }
  last_.level = std::max(last_.level, level);
  Plane& p = planes_[layer.id];
  std::vector<int64_t> key = {static_cast<int64_t>(reinterpret_cast<intptr_t>(&source)), layer.channel, level};
  key.insert(key.end(), plan.box.start.begin(), plan.box.start.end());
  key.insert(key.end(), plan.box.size.begin(), plan.box.size.end());
  if (p.key == key && !p.values.empty()) return &p;
  p.values.resize(static_cast<size_t>(plan.box.count()));
  if (auto err = source.read_level(level, plan.box, p.values.data())) {
    *error = err;
    if (!err->partial) {
      p.values.clear();
      p.key.clear();
      return nullptr;
    }
    // Failed chunks read as missing: the plane is shown (and kept, so the failure is
    // reported once, not on every frame) and the error goes to the users.
  }
  clamp_infinities(p.values.data(), p.values.size());
  last_.voxels += plan.box.count();
  p.key = std::move(key);
  p.level = level;
  p.row0 = plan.row0;
  p.col0 = plan.col0;
  p.rows = plan.rows;
  p.cols = plan.cols;
  p.scale_y = plan.scale_y;
  p.scale_x = plan.scale_x;
  // The box is in source axis order (the displayed y axis may come after x, an RGB axis
  // anywhere): strides from its sizes.
  std::vector<int64_t> stride(plan.box.size.size(), 1);
  for (size_t a = stride.size() - 1; a-- > 0;) stride[a] = stride[a + 1] * plan.box.size[a + 1];
  p.stride_row = stride[static_cast<size_t>(d.source_axis[ay])];
  p.stride_col = stride[static_cast<size_t>(d.source_axis[ax])];
  p.channels = 1;
  p.stride_channel = 0;
  if (layer.rgb && info.channel_axis >= 0) {
    p.channels = static_cast<int>(plan.box.size[static_cast<size_t>(info.channel_axis)]);
    p.stride_channel = stride[static_cast<size_t>(info.channel_axis)];
  }
  return &p;
}

const SliceRenderer::Plane* SliceRenderer::fetch_sampled(const Scene& scene, const LayerState& layer,
                                                          const data::VolumeSource& source, int level, const data::Box& view,
                                                          double t0, std::optional<data::DataError>* error) {
  const DimsState& d = scene.dims;
  auto disp = displayed_axes(d);
  auto sy = static_cast<size_t>(d.source_axis[static_cast<size_t>(disp[0])]);
  auto sx = static_cast<size_t>(d.source_axis[static_cast<size_t>(disp[1])]);
  const auto& lv = source.info().levels[static_cast<size_t>(level)];
  const double wpp = 1.0 / scene.camera.zoom;
  const double scale_y = d.scale[static_cast<size_t>(disp[0])] * lv.factor[sy];
  const double scale_x = d.scale[static_cast<size_t>(disp[1])] * lv.factor[sx];
  std::vector<int64_t> step(view.size.size(), 1);
  step[sy] = std::max<int64_t>(1, static_cast<int64_t>(std::floor(wpp / scale_y)));
  step[sx] = std::max<int64_t>(1, static_cast<int64_t>(std::floor(wpp / scale_x)));
  // Box origins on the sampling grid, so a sampled row lands on one world position.
  data::Box box = view;
  for (size_t a : {sy, sx}) {
    int64_t end = box.start[a] + box.size[a];
    box.start[a] = box.start[a] / step[a] * step[a];
    box.size[a] = end - box.start[a];
  }
  Plane& p = planes_[layer.id];
  std::vector<int64_t> key = {static_cast<int64_t>(reinterpret_cast<intptr_t>(&source)), layer.channel, level, -step[sy],
                              -step[sx]};
  key.insert(key.end(), box.start.begin(), box.start.end());
  key.insert(key.end(), box.size.begin(), box.size.end());
  const bool fresh = p.key != key || !p.sampled;
  if (fresh) p.sampled = std::make_shared<data::SampledRead>(data::make_sampled_read(level, box, step));
  data::SampledRead& r = *p.sampled;
  if (!r.complete) {
    // A new view shows its first picture soon; a continuing one streams for a while per frame.
    const uint64_t before = r.chunks_done;
    if (auto err = source.sample(&r, t0 + (fresh ? wait_ms_ : std::max(wait_ms_, 200.0)))) {
      *error = err;
      p.key.clear();
      p.sampled.reset();
      return nullptr;
    }
    last_.voxels += static_cast<int64_t>(r.chunks_done - before);
  }
  if (!r.complete) {
    last_.complete = false;
    sampling_ = true;
  }
  last_.level = std::max(last_.level, level);
  p.key = std::move(key);
  p.values = r.values;
  p.level = level;
  p.rows = r.shape[sy];
  p.cols = r.shape[sx];
  p.row0 = box.start[sy] / step[sy];
  p.col0 = box.start[sx] / step[sx];
  p.scale_y = scale_y * static_cast<double>(step[sy]);
  p.scale_x = scale_x * static_cast<double>(step[sx]);
  const bool y_first = sy < sx;
  p.stride_row = y_first ? p.cols : 1;
  p.stride_col = y_first ? 1 : p.rows;
  return &p;
}

bool SliceRenderer::refinement_ready(const data::VolumeSource& source) const {
  if (sampling_) return true;  // render again: each frame samples more of the plane
  for (const auto& w : pending_)
    if (!source.request(w.level, w.box, {0, 0, true})) return false;
  return true;
}

std::optional<data::DataError> SliceRenderer::render(const Scene& scene, const data::VolumeSource& source, Frame* out) {
  const double t0 = steady_ms();
  const int W = scene.width, H = scene.height;
  out->width = W;
  out->height = H;
  out->rgba.resize(static_cast<size_t>(W) * static_cast<size_t>(H) * 4);
  last_ = SliceRenderStats{};
  pending_.clear();
  sampling_ = false;

  ViewRect rect = view_rect(scene.camera, W, H);
  double world_per_px = 1.0 / scene.camera.zoom;
  std::vector<LayerPass> passes;
  std::vector<std::pair<Axis1D, Axis1D>> axes;  // per pass: columns, rows
  axes.reserve(scene.layers.size());
  bool all_nearest = true, shared_geometry = true;
  const Plane* first = nullptr;
  std::optional<data::DataError> partial_error;  // chunks that failed and are drawn as missing
  for (size_t i = 0; i < scene.layers.size(); ++i) {
    const LayerState& layer = scene.layers[i];
    if (!layer.visible || layer.opacity <= 0.0) continue;
    std::optional<data::DataError> err;
    const Plane* plane = fetch_plane(scene, layer, static_cast<int>(i), source, t0 + wait_ms_, &err);
    if (err && !err->partial) return err;
    if (err && !partial_error) partial_error = err;
    if (!plane) continue;
    axes.emplace_back(sample_axis(W, rect.left - static_cast<double>(plane->col0) * plane->scale_x, world_per_px,
                                  plane->scale_x, plane->cols),
                      sample_axis(H, rect.top - static_cast<double>(plane->row0) * plane->scale_y, world_per_px,
                                  plane->scale_y, plane->rows));
    const data::VolumeInfo& info = source.info();
    const auto ci = static_cast<size_t>(std::max(0, layer.channel));
    auto label_table = ci < info.channels.size() ? info.channels[ci].label_table : nullptr;
    const LayerLut& lut = luts_.get(layer, label_table);
    // Labels are ids: never interpolated (napari draws them nearest).
    Interpolation interp = lut.labels ? Interpolation::nearest : layer.interpolation;
    passes.push_back({plane->values.data(), plane->rows, plane->cols, plane->stride_row, plane->stride_col,
                      plane->channels, plane->stride_channel, &lut, static_cast<float>(layer.opacity),
                      layer.blending, interp, &axes.back().first, &axes.back().second});
    all_nearest = all_nearest && interp == Interpolation::nearest;
    if (first && (first->level != plane->level || first->row0 != plane->row0 || first->col0 != plane->col0))
      shared_geometry = false;
    if (!first) first = plane;
  }
  prefetch_neighbours(scene, source);
  // Nearest layers that share one grid composite once per data column (the fast path).
  const bool fast = all_nearest && shared_geometry && !passes.empty();
  const Axis1D* cols = fast ? passes[0].col_axis : nullptr;
  const Axis1D* rows = fast ? passes[0].row_axis : nullptr;
  int32_t c0 = INT32_MAX, c1 = -1;  // visible data columns
  if (fast)
    for (int32_t ix : cols->nearest) {
      if (ix < 0) continue;
      c0 = std::min(c0, ix);
      c1 = std::max(c1, ix);
    }
  uint8_t* rgba = out->rgba.data();
  const size_t row_bytes = static_cast<size_t>(W) * 4;
  pool_.parallel_for(H, [&](int begin, int end) {
    std::vector<float> acc(static_cast<size_t>(W) * 3);
    std::vector<uint32_t> packed;
    for (int py = begin; py < end; ++py) {
      uint8_t* dst = rgba + static_cast<size_t>(py) * row_bytes;
      if (fast) {
        // Upsampled nearest rows repeat: copy the row above when it samples the same data row.
        int32_t iy = rows->nearest[static_cast<size_t>(py)];
        if (py > begin && iy == rows->nearest[static_cast<size_t>(py - 1)]) {
          std::memcpy(dst, dst - row_bytes, row_bytes);
        } else {
          composite_nearest_row(passes, *cols, iy, c0, c1, W, &acc, &packed, dst);
        }
        continue;
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (const LayerPass& L : passes) draw_layer_row(L, py, W, acc.data());
      for (int px = 0; px < W; ++px) {
        dst[px * 4 + 0] = to_u8(acc[static_cast<size_t>(px) * 3 + 0]);
        dst[px * 4 + 1] = to_u8(acc[static_cast<size_t>(px) * 3 + 1]);
        dst[px * 4 + 2] = to_u8(acc[static_cast<size_t>(px) * 3 + 2]);
        dst[px * 4 + 3] = 255;
      }
    }
  });
  last_.ms = steady_ms() - t0;
  return partial_error;  // the frame is complete; what could not be read is drawn as missing
}

void SliceRenderer::prefetch_neighbours(const Scene& scene, const data::VolumeSource& source) {
  // The slider's direction: the first non-displayed axis whose step moved since last frame.
  const DimsState& d = scene.dims;
  auto disp = displayed_axes(d);
  std::vector<int64_t> step = d.current_step;
  std::vector<int64_t> previous = last_step_;
  last_step_ = step;
  if (previous.size() != step.size() || !last_.complete) return;
  for (size_t a = 0; a < step.size(); ++a) {
    if (std::find(disp.begin(), disp.end(), static_cast<int>(a)) != disp.end()) continue;
    int64_t dir = step[a] > previous[a] ? 1 : (step[a] < previous[a] ? -1 : 0);
    if (dir == 0) continue;
    // The next three slices: the planes one and three steps ahead bound them (same level
    // and view region, so their union along this axis is the box to load).
    auto ay = static_cast<size_t>(disp[0]), ax = static_cast<size_t>(disp[1]);
    const int level = level_for_view(source.info(), d.source_axis[ay], d.source_axis[ax], d.scale[ay], d.scale[ax],
                                     1.0 / scene.camera.zoom);
    Scene near = scene, far = scene;
    near.dims.current_step[a] = std::clamp<int64_t>(step[a] + dir, 0, d.shape[a] - 1);
    far.dims.current_step[a] = std::clamp<int64_t>(step[a] + 3 * dir, 0, d.shape[a] - 1);
    for (size_t i = 0; i < scene.layers.size(); ++i) {
      const LayerState& layer = scene.layers[i];
      if (!layer.visible) continue;
      PlanePlan p1, p3;
      if (!plan_plane(near, layer, source.info(), level, &p1) || !plan_plane(far, layer, source.info(), level, &p3))
        continue;
      data::Box all = p1.box;
      for (size_t x = 0; x < all.start.size(); ++x) {
        int64_t e = std::max(all.start[x] + all.size[x], p3.box.start[x] + p3.box.size[x]);
        all.start[x] = std::min(all.start[x], p3.box.start[x]);
        all.size[x] = e - all.start[x];
      }
      // One lane per layer for prefetch, behind the view's own requests (priority 1).
      source.request(level, all, {1000 + static_cast<int>(i), 1, false});
    }
    break;
  }
}

}  // namespace voxcast::render
