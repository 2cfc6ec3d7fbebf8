#pragma once
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "voxcast/core/thread_pool.hpp"
#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/camera3d.hpp"
#include "voxcast/render/slice_renderer.hpp"

namespace voxcast::render {

// One layer's displayed 3D block as floats, x fastest, with per-brick maxima for
// empty-space skipping.
struct VolumeBlock {
  std::vector<int64_t> key;
  std::vector<float> values;
  std::array<int64_t, 3> size{0, 0, 0};  // x, y, z
  std::vector<float> brick_max;          // per kBrick^3 brick, including a one-voxel apron
  std::array<int64_t, 3> bricks{0, 0, 0};
  float at(int64_t x, int64_t y, int64_t z) const {
    return values[static_cast<size_t>((z * size[1] + y) * size[0] + x)];
  }
};
inline constexpr int kBrick = 8;
void build_brick_max(VolumeBlock* block);

struct VolumeRenderStats {
  double scale = 1.0;  // fraction of the canvas resolution actually ray cast
  double ms = 0.0;
  bool cancelled = false;  // `cancel` was raised: `out` is incomplete and must not be shown
};

// CPU ray caster with napari's 3D modes, several layers composited, empty-space
// skipping, early ray termination and adaptive resolution while interacting.
class VolumeRenderer {
 public:
  VolumeRenderer(int threads, double target_ms);
  // `cancel` (optional) is polled per row: a full-resolution still render gives way as
  // soon as the user moves again.
  std::optional<data::DataError> render(const Scene& scene, const data::VolumeSource& source, Frame* out,
                                        const std::atomic<bool>* cancel = nullptr);
  const VolumeRenderStats& last() const { return last_; }

 private:
  const VolumeBlock* fetch(const Scene& scene, const LayerState& layer, const data::VolumeSource& source,
                           std::optional<data::DataError>* error);

  ThreadPool pool_;
  double target_ms_;
  double interactive_scale_ = 0.5;
  std::map<std::string, VolumeBlock> blocks_;
  std::map<std::string, LayerLut> luts_;
  VolumeRenderStats last_;
  Frame small_;
};

}  // namespace voxcast::render
