#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "voxcast/core/thread_pool.hpp"
#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/camera3d.hpp"
#include "voxcast/render/slice_renderer.hpp"
#include "voxcast/render/volume_backend.hpp"

namespace voxcast::render {

struct BrickStore;

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

// What the ray casters (CPU and CUDA) see for non-finite data, so no NaN reaches a
// sum, an interpolation or a LUT index: NaN becomes the block's smallest finite value
// (it adds nothing in mip, attenuated mip, translucent and additive modes — napari draws
// NaN transparent), ±inf becomes ±kInfinityStandIn.
void replace_non_finite(std::vector<float>* values);

// Reads a layer's 3D block at `source_level` for the scene's current step as floats,
// x fastest, whatever the source's axis order, non-finite values replaced
// (replace_non_finite); `key` names what was read (for caches).
std::optional<data::DataError> read_volume_xyz(const Scene& scene, const LayerState& layer,
                                               const data::VolumeSource& source, std::vector<float>* xyz,
                                               std::vector<int64_t>* key, int source_level = 0);
// The cache key read_volume_xyz would produce, without reading.
std::vector<int64_t> volume_key(const Scene& scene, const LayerState& layer, const data::VolumeSource& source,
                                int source_level = 0);
// The finest level of a multiscale source whose 3D blocks for `layers` layers fit the budget.
int volume_source_level(const data::VolumeInfo& info, const DimsState& dims, size_t layers, double budget_bytes);
// Size and voxel size (world units) of the shown 3D block at a source level.
VolumeGeometry base_geometry(const DimsState& dims, const data::VolumeInfo& info, int source_level);

// Multiscale 3D. Level k halves the resolution k times (2x2x2 means of level k-1).
std::array<int64_t, 3> level_size(const std::array<int64_t, 3>& size, int level);
void downsample_2x(const std::vector<float>& in, const std::array<int64_t, 3>& size, std::vector<float>* out);
// The finest level whose float blocks for `layers` layers fit `budget_bytes`, and no
// finer than a screen pixel needs (a voxel of `voxel_world` units against
// `world_per_px`): detail below a pixel costs memory and time and shows nothing.
int finest_level(const std::array<int64_t, 3>& size, size_t layers, double budget_bytes, double voxel_world,
                 double world_per_px);
inline constexpr int kMaxVolumeLevel = 6;

// CPU ray caster with napari's 3D modes, several layers composited, empty-space
// skipping, early ray termination and adaptive resolution while interacting.
class VolumeRenderer final : public VolumeBackend {
 public:
  // `budget_mb`: memory for the volume blocks of all layers; the finest level that fits is
  // drawn when still, a coarser one while moving if the frame budget demands it.
  // `bricks`: auto (multiresolution bricks when the source's finest level does not fit
  // the budget), always, never.
  VolumeRenderer(int threads, double target_ms, double budget_mb = 4096, std::string bricks = "auto");
  explicit VolumeRenderer(const VolumeBackendOptions& options);
  ~VolumeRenderer() override;
  VolumeRenderer(const VolumeRenderer&) = delete;
  VolumeRenderer& operator=(const VolumeRenderer&) = delete;
  // `cancel` (optional) is polled per row: a full-resolution still render gives way as
  // soon as the user moves again.
  std::optional<data::DataError> render(const Scene& scene, const data::VolumeSource& source, Frame* out,
                                        const std::atomic<bool>* cancel = nullptr) override;
  const VolumeRenderStats& last() const override { return last_; }
  const char* name() const override { return "cpu"; }
  bool refinement_ready(const data::VolumeSource& source) const override;

 private:
  // One frame into `target` (the cast resolution): from whole blocks, or from bricks.
  std::optional<data::DataError> cast_block(const Scene& scene, const data::VolumeSource& source, Frame* target,
                                            const std::atomic<bool>* cancel, bool* stopped);
  std::optional<data::DataError> cast_bricks(const Scene& scene, const data::VolumeSource& source, Frame* target,
                                             const std::atomic<bool>* cancel, bool* stopped);
  bool wants_bricks(const Scene& scene, const data::VolumeSource& source) const;
  // The layer's block at `*level` (levels >= `finest` are kept, built from one read);
  // `*level` is set to the level actually returned.
  const VolumeBlock* fetch(const Scene& scene, const LayerState& layer, const data::VolumeSource& source,
                           int source_level, int finest, int* level, std::optional<data::DataError>* error);

  struct LayerLevels {
    std::vector<int64_t> key;
    int finest = 0;
    std::vector<VolumeBlock> blocks;  // blocks[i] is level finest + i
  };

  ThreadPool pool_;
  double target_ms_;
  double budget_bytes_;
  double interactive_scale_ = 0.5;
  int moving_bias_ = 0;  // extra levels while moving when the smallest resolution is not enough
  std::map<std::string, LayerLevels> levels_;
  LutCache luts_;
  VolumeRenderStats last_;
  Frame small_;
  std::string bricks_mode_;
  std::unique_ptr<BrickStore> bricks_;  // multiresolution bricks (brick_store.hpp)
};

}  // namespace voxcast::render
