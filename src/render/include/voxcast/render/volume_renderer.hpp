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

inline constexpr int kBrick = 8;

// One layer's displayed 3D block as floats stored brick by brick (8^3 voxels each,
// contiguous), so a ray marching in any direction stays in cache; with per-brick maxima
// for empty-space skipping.
struct VolumeBlock {
  std::vector<int64_t> key;
  std::vector<float> values;             // bricks * 512, x fastest inside a brick
  std::array<int64_t, 3> size{0, 0, 0};  // voxels along x, y, z
  std::array<int64_t, 3> bricks{0, 0, 0};
  std::vector<float> brick_max;          // per brick, including a one-voxel apron
  static size_t offset(const std::array<int64_t, 3>& bricks, int64_t x, int64_t y, int64_t z) {
    int64_t brick = ((z >> 3) * bricks[1] + (y >> 3)) * bricks[0] + (x >> 3);
    return static_cast<size_t>((brick << 9) | ((z & 7) << 6) | ((y & 7) << 3) | (x & 7));
  }
  float at(int64_t x, int64_t y, int64_t z) const { return values[offset(bricks, x, y, z)]; }
};
// Allocates the bricked storage for `size` (values zeroed).
void allocate_bricks(VolumeBlock* block, const std::array<int64_t, 3>& size);
void build_brick_max(VolumeBlock* block);

// Reads a layer's 3D block for the scene's current step as floats, x fastest, whatever
// the source's axis order; `key` names what was read (for caches).
std::optional<data::DataError> read_volume_xyz(const Scene& scene, const LayerState& layer,
                                               const data::VolumeSource& source, std::vector<float>* xyz,
                                               std::vector<int64_t>* key);
// The cache key read_volume_xyz would produce, without reading.
std::vector<int64_t> volume_key(const Scene& scene, const LayerState& layer, const data::VolumeSource& source);

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
