#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "voxcast/core/thread_pool.hpp"
#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/colormap.hpp"
#include "voxcast/render/scene.hpp"

namespace voxcast::render {

// An RGBA8 image, row 0 at the top of the screen.
struct Frame {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgba;  // width * height * 4
};

// Per-layer transfer function: contrast, gamma and colormap folded into one table
// indexed by the normalised value (kLutSize steps).
inline constexpr int kLutSize = 4096;
struct LayerLut {
  std::vector<Rgb> table;  // kLutSize entries
  float lo = 0.0f;
  float scale = 0.0f;  // (kLutSize - 1) / (hi - lo)
};
LayerLut build_layer_lut(const LayerState& layer, const Colormap& cmap);

// Per-layer transfer functions, rebuilt only when colormap, contrast or gamma change
// (shared by the 2D, 3D and CUDA renderers).
class LutCache {
 public:
  // `rebuilt` (optional) tells whether the table changed since the last call.
  const LayerLut& get(const LayerState& layer, bool* rebuilt = nullptr);

 private:
  struct Entry {
    std::string colormap;
    std::array<double, 2> limits{};
    double gamma = 0;
    LayerLut lut;
  };
  std::map<std::string, Entry> entries_;
};

// CPU renderer of 2D slices: samples each visible layer's plane at the current step
// through the camera into the canvas and composites the layers.
class SliceRenderer {
 public:
  explicit SliceRenderer(int threads);
  // Renders `scene` into `out` (resized to the scene's canvas). Errors come from the source.
  std::optional<data::DataError> render(const Scene& scene, const data::VolumeSource& source, Frame* out);

 private:
  struct Plane {
    std::vector<int64_t> key;  // channel + full step of the viewer axes + displayed axes
    std::vector<float> values;
    int64_t rows = 0, cols = 0;            // extent along the displayed y and x axes
    int64_t stride_row = 0, stride_col = 0;
  };
  const Plane* fetch_plane(const Scene& scene, const LayerState& layer, const data::VolumeSource& source,
                           std::optional<data::DataError>* error);

  ThreadPool pool_;
  std::map<std::string, Plane> planes_;  // by layer id: the latest plane of each layer
  LutCache luts_;
};

}  // namespace voxcast::render
