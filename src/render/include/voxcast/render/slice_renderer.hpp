#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "voxcast/core/thread_pool.hpp"
#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/frame.hpp"
#include "voxcast/render/lut.hpp"
#include "voxcast/render/scene.hpp"

namespace voxcast::render {

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
