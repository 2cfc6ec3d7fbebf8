#pragma once
// Bricks in host memory, shared by the CPU backend (which samples them) and the CUDA one
// (which uploads them into its GPU pool): the resident bricks of every layer in one LRU
// within a budget, a page table per layer and level, and the frame epoch that says which
// resident bricks the current view draws from.
#include <atomic>
#include <list>
#include <optional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "voxcast/render/bricks.hpp"
#include "voxcast/render/volume_backend.hpp"

namespace voxcast {
class ThreadPool;
}

namespace voxcast::render {

class BrickCopier;

struct HostBrick {
  std::vector<float> values;  // kBrickStored^3, x fastest, the apron included
  float min = 0, max = 0;     // over the stored voxels (the apron included)
  std::string layer;
  BrickId id;
  uint64_t used = 0;          // the last frame epoch that wanted it
  uint64_t wanted_epoch = 0;  // == the frame's epoch: drawn from in this frame
  uint64_t finer_epoch = 0;   // == the frame's epoch: finer bricks drawn from lie inside it
  std::list<HostBrick*>::iterator lru;
};

struct LayerBricks {
  std::vector<int64_t> key;                   // what the layer shows; a change drops its bricks
  uint64_t generation = 0;                    // counts those changes (a GPU pool drops its copies)
  std::vector<std::vector<HostBrick*>> table;  // per level: brick index -> resident brick
};

struct BrickStore {
  BrickPyramid pyramid;
  std::map<std::string, LayerBricks> layers;  // by layer id
  std::map<std::pair<std::string, BrickId>, std::unique_ptr<HostBrick>> bricks;
  std::list<HostBrick*> lru;  // front = most recently wanted
  size_t bytes = 0;
  uint64_t epoch = 0;
  // Wanted and not resident after the last frame (most urgent first), for refinement_ready.
  std::vector<data::LevelBox> missing;
};

inline constexpr size_t kBrickBytes = sizeof(float) * kBrickStored * kBrickStored * kBrickStored;
// Bricks a moving frame wants at most per layer: about one voxel per two pixels at 1080p
// (a 16^3-brick cube of 512^3 voxels), the coarsest level always included.
inline constexpr size_t kMovingMaxBricks = 4096;
// Missing bricks a moving frame requests at most per layer (centre-first); a still requests all.
inline constexpr size_t kMovingMaxRequests = 512;
inline constexpr int kBrickLane = 2000;  // chunk-cache lanes of the bricks: kBrickLane + layer index

// One frame's bricks.
struct BrickFrame {
  BrickChoice choice;
  uint64_t epoch = 0;
  std::vector<const LayerState*> layers;  // the layers shown, in order
  BrickResidency residency;
  bool complete = false;  // every wanted brick is resident
};

// The bricks the view wants (camera `cam` over `width` x `height` pixels), each layer's
// requested centre-first through its own lane, loaded while in memory for `load_ms`
// from when loading starts (choosing tens of thousands of bricks takes time of its own;
// infinity waits for all the data, as a still does; the coarsest level, which stands in
// for the rest, is always waited for), the
// LRU trimmed to `budget_bytes`, and the frame epoch stamped on what it draws from.
// `pixel_error`: pixels a voxel may span (larger: coarser bricks, as while moving too slowly).
// `*stopped` when `cancel` was raised. Bricks are copied out of the source on `loaders`
// (optional; not in use by the caller meanwhile). With a `copier`, a moving frame (finite
// `load_ms`) copies only the coarsest level itself and posts the rest to it; every frame
// first adopts the bricks it copied.
std::optional<data::DataError> update_bricks(BrickStore* store, const Scene& scene, const data::VolumeSource& source,
                                             const Camera3D& cam, int width, int height, size_t budget_bytes,
                                             double load_ms, const std::atomic<bool>* cancel, bool* stopped,
                                             BrickFrame* out, ThreadPool* loaders = nullptr, double pixel_error = 1.0,
                                             BrickCopier* copier = nullptr);
// After an incomplete frame: true once one of the most urgent missing bricks is in memory,
// or when nothing is loading any more (a frame must request them again).
bool bricks_arrived(const BrickStore& store, const data::VolumeSource& source);
// The stored brick of `layer` drawn from in frame `epoch`, or nullptr.
inline const HostBrick* drawn_brick(const BrickStore& st, const LayerBricks& lb, const BrickId& id, uint64_t epoch) {
  const HostBrick* b = lb.table[static_cast<size_t>(id.level)][static_cast<size_t>(
      st.pyramid.levels[static_cast<size_t>(id.level)].index(id.b))];
  return b && b->wanted_epoch == epoch ? b : nullptr;
}

}  // namespace voxcast::render
