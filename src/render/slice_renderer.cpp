#include "voxcast/render/slice_renderer.hpp"

#include <algorithm>
#include <cmath>
#include <climits>
#include <cstring>

#include "voxcast/render/camera2d.hpp"

namespace voxcast::render {

LayerLut build_layer_lut(const LayerState& layer, const Colormap& cmap) {
  LayerLut lut;
  lut.table.resize(kLutSize);
  double lo = layer.contrast_limits[0], hi = layer.contrast_limits[1];
  if (hi <= lo) hi = lo + 1e-6;
  lut.lo = static_cast<float>(lo);
  lut.scale = static_cast<float>((kLutSize - 1) / (hi - lo));
  for (int i = 0; i < kLutSize; ++i) {
    double t = static_cast<double>(i) / (kLutSize - 1);
    double g = layer.gamma == 1.0 ? t : std::pow(t, layer.gamma);
    lut.table[static_cast<size_t>(i)] = sample(cmap, static_cast<float>(g));
  }
  return lut;
}

SliceRenderer::SliceRenderer(int threads) : pool_(threads) {}

const LayerLut& LutCache::get(const LayerState& layer, bool* rebuilt) {
  Entry& c = entries_[layer.id];
  bool stale = c.lut.table.empty() || c.colormap != layer.colormap || c.limits != layer.contrast_limits ||
               c.gamma != layer.gamma;
  if (stale) {
    auto cmap = find_colormap(layer.colormap);
    if (!cmap) cmap = find_colormap("gray");  // the ledger only admits known names
    c.colormap = layer.colormap;
    c.limits = layer.contrast_limits;
    c.gamma = layer.gamma;
    c.lut = build_layer_lut(layer, *cmap);
  }
  if (rebuilt) *rebuilt = stale;
  return c.lut;
}

const SliceRenderer::Plane* SliceRenderer::fetch_plane(const Scene& scene, const LayerState& layer,
                                                       const data::VolumeSource& source,
                                                       std::optional<data::DataError>* error) {
  const DimsState& d = scene.dims;
  auto disp = displayed_axes(d);
  LayerRead read = layer_read(d, disp, layer, source);
  Plane& p = planes_[layer.id];
  if (p.key == read.key && !p.values.empty()) return &p;
  const data::Box& box = read.box;
  p.values.resize(static_cast<size_t>(box.count()));
  if (auto err = source.read_region(box, p.values.data())) {
    *error = err;
    p.values.clear();
    p.key.clear();
    return nullptr;
  }
  p.key = read.key;
  p.rows = d.shape[static_cast<size_t>(disp[0])];
  p.cols = d.shape[static_cast<size_t>(disp[1])];
  // The box is in source axis order; the displayed y axis may come after x.
  bool y_first = d.source_axis[static_cast<size_t>(disp[0])] < d.source_axis[static_cast<size_t>(disp[1])];
  p.stride_row = y_first ? p.cols : 1;
  p.stride_col = y_first ? 1 : p.rows;
  return &p;
}

namespace {

struct LayerPass {
  const float* values;
  int64_t rows, cols, stride_row, stride_col;
  const LayerLut* lut;
  float opacity;
  Blending blending;
  Interpolation interpolation;
};

// Sample positions of the canvas columns (or rows) in voxel coordinates.
struct Axis1D {
  std::vector<int32_t> nearest;  // -1 outside the data
  std::vector<int32_t> i0;       // linear: lower neighbour (clamped), -1 outside
  std::vector<float> t;          // linear weight of the upper neighbour
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

inline int lut_index(const LayerLut& lut, float v) {
  float x = (v - lut.lo) * lut.scale;
  x = x < 0.0f ? 0.0f : (x > kLutSize - 1 ? static_cast<float>(kLutSize - 1) : x);
  return static_cast<int>(x + 0.5f);
}

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

// Composites one layer's contribution to canvas row `py` into `acc` (3 floats/pixel).
void draw_layer_row(const LayerPass& L, const Axis1D& cols, const Axis1D& rows, int py, int width, float* acc,
                    std::vector<Rgb>* row_colors) {
  auto upy = static_cast<size_t>(py);
  if (L.interpolation == Interpolation::nearest) {
    int32_t iy = rows.nearest[upy];
    if (iy < 0) return;
    // Colour each source column of this row once, then spread it over the canvas.
    const float* src = L.values + static_cast<int64_t>(iy) * L.stride_row;
    row_colors->resize(static_cast<size_t>(L.cols));
    Rgb* rc = row_colors->data();
    for (int64_t x = 0; x < L.cols; ++x) rc[x] = L.lut->table[static_cast<size_t>(lut_index(*L.lut, src[x * L.stride_col]))];
    for (int px = 0; px < width; ++px) {
      int32_t ix = cols.nearest[static_cast<size_t>(px)];
      if (ix >= 0) blend(acc + px * 3, rc[ix], L.opacity, L.blending);
    }
    return;
  }
  int32_t y0 = rows.i0[upy];
  if (y0 < 0) return;
  float ty = rows.t[upy];
  int32_t y1 = std::min<int32_t>(y0 + 1, static_cast<int32_t>(L.rows - 1));
  const float* r0 = L.values + static_cast<int64_t>(y0) * L.stride_row;
  const float* r1 = L.values + static_cast<int64_t>(y1) * L.stride_row;
  for (int px = 0; px < width; ++px) {
    auto upx = static_cast<size_t>(px);
    int32_t x0 = cols.i0[upx];
    if (x0 < 0) continue;
    int64_t x1 = std::min<int64_t>(x0 + 1, L.cols - 1);
    float tx = cols.t[upx];
    float a = r0[x0 * L.stride_col] + (r0[x1 * L.stride_col] - r0[x0 * L.stride_col]) * tx;
    float b = r1[x0 * L.stride_col] + (r1[x1 * L.stride_col] - r1[x0 * L.stride_col]) * tx;
    float v = a + (b - a) * ty;
    blend(acc + px * 3, L.lut->table[static_cast<size_t>(lut_index(*L.lut, v))], L.opacity, L.blending);
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
  for (const LayerPass& L : passes) {
    const float* src = L.values + static_cast<int64_t>(iy) * L.stride_row;
    for (int32_t x = c0; x <= c1; ++x) {
      const Rgb& c = L.lut->table[static_cast<size_t>(lut_index(*L.lut, src[x * L.stride_col]))];
      blend(acc->data() + static_cast<size_t>(x - c0) * 3, c, L.opacity, L.blending);
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

std::optional<data::DataError> SliceRenderer::render(const Scene& scene, const data::VolumeSource& source, Frame* out) {
  const int W = scene.width, H = scene.height;
  out->width = W;
  out->height = H;
  out->rgba.resize(static_cast<size_t>(W) * static_cast<size_t>(H) * 4);

  auto disp = displayed_axes(scene.dims);
  auto ay = static_cast<size_t>(disp[0]);
  auto ax = static_cast<size_t>(disp[1]);
  ViewRect rect = view_rect(scene.camera, W, H);
  double world_per_px = 1.0 / scene.camera.zoom;
  Axis1D cols = sample_axis(W, rect.left, world_per_px, scene.dims.scale[ax], scene.dims.shape[ax]);
  Axis1D rows = sample_axis(H, rect.top, world_per_px, scene.dims.scale[ay], scene.dims.shape[ay]);

  std::vector<LayerPass> passes;
  bool all_nearest = true;
  for (const LayerState& layer : scene.layers) {
    if (!layer.visible || layer.opacity <= 0.0) continue;
    std::optional<data::DataError> err;
    const Plane* plane = fetch_plane(scene, layer, source, &err);
    if (!plane) return err;
    passes.push_back({plane->values.data(), plane->rows, plane->cols, plane->stride_row, plane->stride_col,
                      &luts_.get(layer), static_cast<float>(layer.opacity), layer.blending, layer.interpolation});
    all_nearest = all_nearest && layer.interpolation == Interpolation::nearest;
  }

  int32_t c0 = INT32_MAX, c1 = -1;  // visible data columns
  for (int32_t ix : cols.nearest) {
    if (ix < 0) continue;
    c0 = std::min(c0, ix);
    c1 = std::max(c1, ix);
  }
  uint8_t* rgba = out->rgba.data();
  const size_t row_bytes = static_cast<size_t>(W) * 4;
  pool_.parallel_for(H, [&](int begin, int end) {
    std::vector<float> acc(static_cast<size_t>(W) * 3);
    std::vector<Rgb> row_colors;
    std::vector<uint32_t> packed;
    for (int py = begin; py < end; ++py) {
      uint8_t* dst = rgba + static_cast<size_t>(py) * row_bytes;
      if (all_nearest) {
        // Upsampled nearest rows repeat: copy the row above when it samples the same data row.
        int32_t iy = rows.nearest[static_cast<size_t>(py)];
        if (py > begin && iy == rows.nearest[static_cast<size_t>(py - 1)]) {
          std::memcpy(dst, dst - row_bytes, row_bytes);
        } else {
          composite_nearest_row(passes, cols, iy, c0, c1, W, &acc, &packed, dst);
        }
        continue;
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (const LayerPass& L : passes) draw_layer_row(L, cols, rows, py, W, acc.data(), &row_colors);
      for (int px = 0; px < W; ++px) {
        dst[px * 4 + 0] = to_u8(acc[static_cast<size_t>(px) * 3 + 0]);
        dst[px * 4 + 1] = to_u8(acc[static_cast<size_t>(px) * 3 + 1]);
        dst[px * 4 + 2] = to_u8(acc[static_cast<size_t>(px) * 3 + 2]);
        dst[px * 4 + 3] = 255;
      }
    }
  });
  return std::nullopt;
}

}  // namespace voxcast::render
