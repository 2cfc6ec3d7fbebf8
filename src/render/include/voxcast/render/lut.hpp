#pragma once
// Per-layer transfer functions shared by the 2D, 3D and CUDA renderers.
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/colormap.hpp"
#include "voxcast/render/modes.hpp"
#include "voxcast/render/ray_modes.hpp"
#include "voxcast/render/scene.hpp"

namespace voxcast::render {

// Per-layer transfer function: contrast, gamma and colormap folded into one table
// indexed by the normalised value (kLutSize steps).
struct LayerLut {
  std::vector<Rgb> table;  // kLutSize entries
  float lo = 0.0f;
  float scale = 0.0f;  // (kLutSize - 1) / (hi - lo)
  bool transparent_zero = false;  // entry 0 is not drawn (label background)
  // Label images in 2D: the value is an id, coloured by id whatever its size (the table
  // above stays for 3D). Ids below label_rgba.size() are looked up there (explicit
  // colours with their alpha, napari's cycle elsewhere); larger ids take the cycle or
  // their explicit colour.
  bool labels = false;
  std::vector<std::array<float, 4>> label_rgba;
  std::shared_ptr<const data::LabelTable> label_table;
};
LayerLut build_layer_lut(const LayerState& layer, const Colormap& cmap,
                         std::shared_ptr<const data::LabelTable> label_table = nullptr);
// Colour and alpha of a label value (alpha 0: not drawn: background, NaN, transparent).
std::array<float, 4> label_rgba(const LayerLut& lut, float value);

static_assert(sizeof(Rgb) == 3 * sizeof(float), "ray::LutRef reads the table as packed floats");
inline ray::LutRef lut_ref(const LayerLut& lut) { return {&lut.table.front().r, 3}; }
// The CPU's: with the opacity table of `step_voxels` (the powf per sample was 40% of a
// translucent frame's time).
ray::LutRef lut_ref(const LayerLut& lut, double step_voxels);
// kOpacitySize + 1 entries of step_opacity at `step_voxels`; built once per step length.
const float* opacity_table(double step_voxels);
// A layer's 3D mode and its constants, as the shared ray maths takes them.
ray::ModeParams mode_params(const LayerState& layer);

// Per-layer transfer functions, rebuilt only when colormap, contrast or gamma change
// (shared by the 2D, 3D and CUDA renderers).
class LutCache {
 public:
  // `rebuilt` (optional) tells whether the table changed since the last call.
  const LayerLut& get(const LayerState& layer, bool* rebuilt = nullptr);
  // With the layer's label colours (a label image's table, from its source).
  const LayerLut& get(const LayerState& layer, std::shared_ptr<const data::LabelTable> label_table,
                      bool* rebuilt = nullptr);

 private:
  struct Entry {
    std::string colormap;
    std::array<double, 2> limits{};
    double gamma = 0;
    std::shared_ptr<const data::LabelTable> label_table;
    LayerLut lut;
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace voxcast::render
