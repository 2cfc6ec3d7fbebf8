#include "voxcast/render/lut.hpp"

#include <algorithm>
#include <cmath>

namespace voxcast::render {

LayerLut build_layer_lut(const LayerState& layer, const Colormap& cmap,
                         std::shared_ptr<const data::LabelTable> label_table) {
  LayerLut lut;
  lut.table.resize(kLutSize);
  double lo = layer.contrast_limits[0], hi = layer.contrast_limits[1];
  if (hi <= lo) hi = lo + 1e-6;
  lut.lo = static_cast<float>(lo);
  lut.scale = static_cast<float>((kLutSize - 1) / (hi - lo));
  lut.transparent_zero = cmap.transparent_zero;
  for (int i = 0; i < kLutSize; ++i) {
    double t = static_cast<double>(i) / (kLutSize - 1);
    double g = layer.gamma == 1.0 ? t : std::pow(t, layer.gamma);
    lut.table[static_cast<size_t>(i)] = sample(cmap, static_cast<float>(g));
  }
  lut.labels = cmap.labels;
  if (lut.labels) {
    // A dense table for the small ids (most label images), up to the largest explicit id.
    int64_t dense = kLabelCycle + 1;
    if (label_table && !label_table->colors.empty())
      dense = std::max(dense, std::min<int64_t>(label_table->colors.rbegin()->first + 1, int64_t{1} << 16));
    lut.label_rgba.resize(static_cast<size_t>(dense));
    for (int64_t id = 1; id < dense; ++id) {
      Rgb c = label_color(id);
      lut.label_rgba[static_cast<size_t>(id)] = {c.r, c.g, c.b, 1.0f};
    }
    if (label_table)
      for (const auto& [id, rgba] : label_table->colors)
        if (id > 0 && id < dense) lut.label_rgba[static_cast<size_t>(id)] = rgba;
    lut.label_rgba[0] = {0, 0, 0, 0};  // the background is never drawn
    lut.label_table = std::move(label_table);
  }
  return lut;
}

std::array<float, 4> label_rgba(const LayerLut& lut, float value) {
  // Ids are integers; a float label image's fractions round down (napari casts to int).
  if (!(std::abs(value) < 9.0e18f)) return {0, 0, 0, 0};  // NaN, ±inf, beyond int64
  auto id = static_cast<int64_t>(value);
  if (id >= 0 && id < static_cast<int64_t>(lut.label_rgba.size())) return lut.label_rgba[static_cast<size_t>(id)];
  if (lut.label_table) {
    auto it = lut.label_table->colors.find(id);
    if (it != lut.label_table->colors.end()) return it->second;
  }
  Rgb c = label_color(id);
  return {c.r, c.g, c.b, 1.0f};
}

const float* opacity_table(double step_voxels) {
  auto build = [](float step) {
    std::vector<float> t(ray::kOpacitySize + 1);
    for (int i = 0; i <= ray::kOpacitySize; ++i)
      t[static_cast<size_t>(i)] = ray::step_opacity(0.999f * static_cast<float>(i) / ray::kOpacitySize, step, nullptr);
    return t;
  };
  // The steps the CPU renderer takes: half a voxel still, one while moving.
  static const std::vector<float> half = build(0.5f), whole = build(1.0f);
  if (step_voxels == 0.5) return half.data();
  if (step_voxels == 1.0) return whole.data();
  return nullptr;
}

ray::LutRef lut_ref(const LayerLut& lut, double step_voxels) {
  ray::LutRef r = lut_ref(lut);
  r.opacity = opacity_table(step_voxels);
  r.opacity_step = static_cast<float>(step_voxels);
  return r;
}

ray::ModeParams mode_params(const LayerState& layer) {
  ray::ModeParams p;
  p.mode = layer.rendering;
  double lo = layer.contrast_limits[0], hi = layer.contrast_limits[1];
  if (hi <= lo) hi = lo + 1e-6;
  p.lo = static_cast<float>(lo);
  p.hi = static_cast<float>(hi);
  p.inv_range = 1.0f / (p.hi - p.lo);
  p.iso = static_cast<float>(layer.iso_threshold);
  p.attenuation = static_cast<float>(layer.attenuation);
  return p;
}

const LayerLut& LutCache::get(const LayerState& layer, bool* rebuilt) { return get(layer, nullptr, rebuilt); }

const LayerLut& LutCache::get(const LayerState& layer, std::shared_ptr<const data::LabelTable> label_table,
                              bool* rebuilt) {
  Entry& c = entries_[layer.id];
  // The entry holds its table, so a new dataset's table never shares the old one's address.
  bool stale = c.lut.table.empty() || c.colormap != layer.colormap || c.limits != layer.contrast_limits ||
               c.gamma != layer.gamma || c.label_table != label_table;
  if (stale) {
    // RGB layers map each sample through contrast and gamma alone: the gray ramp.
    auto cmap = find_colormap(layer.rgb ? "gray" : layer.colormap);
    if (!cmap) cmap = find_colormap("gray");  // the ledger only admits known names
    c.colormap = layer.colormap;
    c.limits = layer.contrast_limits;
    c.gamma = layer.gamma;
    c.label_table = label_table;
    c.lut = build_layer_lut(layer, *cmap, std::move(label_table));
  }
  if (rebuilt) *rebuilt = stale;
  return c.lut;
}

}  // namespace voxcast::render
