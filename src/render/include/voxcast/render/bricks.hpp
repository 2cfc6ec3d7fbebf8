#pragma once
// Multiresolution 3D as plain data and pure functions: a volume's pyramid cut into bricks,
// and the choice of the bricks a view wants (screen-space error level choice, a brick
// budget, coarser bricks standing in, centre-first request order). The CPU and CUDA
// backends keep the bricks; this decides which.
#include <array>
#include <cstdint>
#include <vector>

#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/scene.hpp"

namespace voxcast::render {

inline constexpr int kBrickEdge = 32;  // voxels per brick edge at every level
inline constexpr int kBrickApron = 1;  // stored around each brick: interpolation across borders
inline constexpr int kBrickStored = kBrickEdge + 2 * kBrickApron;

struct BrickId {
  int level = 0;
  std::array<int32_t, 3> b{0, 0, 0};  // brick coordinates along x, y, z at that level
  bool operator==(const BrickId& o) const { return level == o.level && b == o.b; }
  bool operator<(const BrickId& o) const { return level != o.level ? level < o.level : b < o.b; }
};

// One pyramid level as the 3D view sees it (x, y, z of the displayed axes).
struct BrickLevel {
  std::array<int64_t, 3> size{0, 0, 0};    // voxels
  std::array<double, 3> factor{1, 1, 1};   // level-0 voxels per voxel of this level
  std::array<int64_t, 3> bricks{0, 0, 0};  // bricks per axis
  int64_t count() const { return bricks[0] * bricks[1] * bricks[2]; }
  int64_t index(const std::array<int32_t, 3>& b) const { return (b[2] * bricks[1] + b[1]) * bricks[0] + b[0]; }
};

struct BrickPyramid {
  std::vector<BrickLevel> levels;           // [0] is the finest
  std::array<double, 3> scale0{1, 1, 1};    // world units per level-0 voxel
  int edge = kBrickEdge;
  int coarsest() const { return static_cast<int>(levels.size()) - 1; }
};
BrickPyramid make_brick_pyramid(const std::vector<std::array<int64_t, 3>>& sizes, const std::array<double, 3>& scale0,
                                int edge = kBrickEdge);
// The pyramid of a source as the scene's 3D view shows it (levels of the displayed axes).
BrickPyramid source_brick_pyramid(const DimsState& dims, const data::VolumeInfo& info, int edge = kBrickEdge);

// Where a brick lies, in level-0 voxel coordinates (voxel centres at integers): from `lo`
// to `hi` (the edges of its outer voxels).
struct BrickBounds {
  std::array<double, 3> lo, hi;
};
BrickBounds brick_bounds(const BrickPyramid& p, const BrickId& id);
// A brick's level voxels without and with the apron: [first, first + count) per axis.
struct BrickVoxels {
  std::array<int64_t, 3> first, count;
};
BrickVoxels brick_voxels(const BrickPyramid& p, const BrickId& id, bool with_apron);
// The level voxel coordinate of level-0 coordinate `p0` on axis `axis` of `level`.
inline double level_coord(const BrickPyramid& p, int level, int axis, double p0) {
  double f = p.levels[static_cast<size_t>(level)].factor[static_cast<size_t>(axis)];
  return (p0 + 0.5) / f - 0.5;
}

struct BrickChoiceOptions {
  size_t max_bricks = 4096;  // budget: bricks wanted at once over all levels
  double pixel_error = 1.0;  // refine while a voxel spans more than this many pixels
};

struct BrickChoice {
  // Coarse levels first (they stand in for the finer ones), centre-first within a level:
  // the order requests go out in.
  std::vector<BrickId> wanted;
  int finest_level = 0;         // the finest level among `wanted`
  bool budget_limited = false;  // a brick wanted finer data than the budget allowed
};

// The bricks the view (camera, canvas of width x height pixels) wants: every visible brick
// of the coarsest level, refined where a voxel of its level spans more than
// `pixel_error` pixels, the largest errors first, until the budget is spent.
BrickChoice choose_bricks(const BrickPyramid& p, const Camera3D& cam, int width, int height,
                          const BrickChoiceOptions& options);

}  // namespace voxcast::render
