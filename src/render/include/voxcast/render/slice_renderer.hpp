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

// Stand-in for ±inf in what the renderers sample: beyond any contrast limit (the ends of
// the colormap), yet the difference of two stand-ins stays finite, so interpolating next
// to an infinity gives a number, not inf - inf = NaN. NaN itself is kept: not drawn.
inline constexpr float kInfinityStandIn = 1e37f;
void clamp_infinities(float* values, size_t count);

struct SliceRenderStats {
  int level = 0;          // multiscale level drawn (the coarsest over the layers)
  int wanted_level = 0;   // the level the zoom asks for
  bool complete = true;   // false: a coarser level stood in; a refinement is due when data arrives
  int64_t voxels = 0;     // data voxels read for this frame (0 when every plane was reused)
  double ms = 0;
};

// Level of a multiscale source that a 2D view needs: the coarsest whose voxels are no
// larger than a screen pixel along both displayed axes (level 0 when zoomed in).
int level_for_view(const data::VolumeInfo& info, int source_y, int source_x, double scale_y, double scale_x,
                   double world_per_px);

// CPU renderer of 2D slices: samples each visible layer's plane at the current step
// through the camera into the canvas and composites the layers. Multiscale sources are
// read at the level the zoom needs and only inside the view; when that level is not in
// memory within `wait_ms`, the best level that is stands in and the frame is marked
// incomplete (refinement_ready() says when the wanted data has arrived).
class SliceRenderer {
 public:
  explicit SliceRenderer(int threads, double wait_ms = 30.0);
  // Renders `scene` into `out` (resized to the scene's canvas). Errors come from the source;
  // a partial one (chunks that failed, drawn as missing) comes with a complete frame.
  std::optional<data::DataError> render(const Scene& scene, const data::VolumeSource& source, Frame* out);
  const SliceRenderStats& last() const { return last_; }
  // After an incomplete frame: true once every layer's wanted data is in memory.
  bool refinement_ready(const data::VolumeSource& source) const;

 private:
  struct Plane {
    std::vector<int64_t> key;  // source, channel, level, step and region
    std::vector<float> values;
    int level = 0;
    int64_t row0 = 0, col0 = 0;            // region origin in level voxels
    int64_t rows = 0, cols = 0;            // region extent along the displayed y and x axes
    int64_t stride_row = 0, stride_col = 0;
    int channels = 1;                      // an RGB(A) layer's samples, stride_channel apart
    int64_t stride_channel = 0;
    double scale_y = 1, scale_x = 1;       // world units per voxel of this level (times the sampling step)
    // Set when no level is coarse enough for the zoom: the plane is sampled at about
    // screen resolution, streaming through its chunks over several frames.
    std::shared_ptr<data::SampledRead> sampled;
  };
  struct Want {
    int level;
    data::Box box;
  };
  const Plane* fetch_sampled(const Scene& scene, const LayerState& layer, const data::VolumeSource& source, int level,
                             const data::Box& box, double t0, std::optional<data::DataError>* error);
  const Plane* fetch_plane(const Scene& scene, const LayerState& layer, int lane, const data::VolumeSource& source,
                           double deadline_ms, std::optional<data::DataError>* error);
  // Queues the next slices in the direction the slider moves (a prefetch lane per layer).
  void prefetch_neighbours(const Scene& scene, const data::VolumeSource& source);

  ThreadPool pool_;
  double wait_ms_;
  std::map<std::string, Plane> planes_;  // by layer id: the latest plane of each layer
  std::vector<Want> pending_;            // wanted but not yet in memory
  bool sampling_ = false;                // a sampled plane is still streaming in
  std::vector<int64_t> last_step_;       // for prefetch in the slider's direction
  LutCache luts_;
  SliceRenderStats last_;
};

}  // namespace voxcast::render
