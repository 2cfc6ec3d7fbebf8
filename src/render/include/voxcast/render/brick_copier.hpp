#pragma once
// Bricks copied out of the source off the render thread while the view moves: a frame
// posts the bricks it lacks (the latest post wins, as the chunk cache's lanes do), workers
// copy those whose chunks are in memory, and the next frame adopts what is done. A moving
// frame then spends no time copying (on the H200 a 4096^3 orbit spent 20 of 54 ms a frame
// there), and the bricks still arrive as fast as the chunks do.
#include <array>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "voxcast/render/bricks.hpp"

namespace voxcast::render {

struct HostBrick;

// Reads one brick into `b` (its id set): x fastest, the apron replicating the volume's edge
// voxels (what clamped addressing of a single texture reads). `box`: the brick's source box
// (its apron included); `displayed_source_axis`: the source axis shown as x, y, z.
std::optional<data::DataError> copy_brick(const data::VolumeSource& source, const BrickPyramid& p,
                                          const std::array<int, 3>& displayed_source_axis, const data::Box& box,
                                          HostBrick* b);

// What a layer's copies of one frame share: where they come from and what they are of.
struct BrickCopyContext {
  std::shared_ptr<const data::VolumeSource> source;
  BrickPyramid pyramid;
  std::array<int, 3> displayed_source_axis{};
  std::string layer;
  std::vector<int64_t> key;  // the layer's LayerBricks::key: a copy of other data is not adopted
  int lane = 0;              // the chunk-cache lane its chunks were requested on
};

struct BrickCopyJob {
  std::shared_ptr<const BrickCopyContext> context;
  BrickId id;
  data::Box box;  // the brick's source box, its apron included
};

struct CopiedBrick {
  std::shared_ptr<const BrickCopyContext> context;
  std::unique_ptr<HostBrick> brick;
};

class BrickCopier {
 public:
  explicit BrickCopier(int threads);  // threads <= 0: half the hardware's
  ~BrickCopier();                     // drops the queue, waits for the running copies
  BrickCopier(const BrickCopier&) = delete;
  BrickCopier& operator=(const BrickCopier&) = delete;

  // Replaces the queued copies with `jobs` (most urgent first), less those copying or
  // copied and not yet taken. A job whose chunks are not in memory when a worker reaches
  // it is dropped: the next frame posts it again.
  void post(std::vector<BrickCopyJob> jobs);
  // The bricks copied since the last call.
  std::vector<CopiedBrick> take();
  // The first error a copy met since the last call (its brick is dropped).
  std::optional<data::DataError> take_error();
  // Blocks until the queue is empty and no copy runs (tests).
  void wait_idle();

 private:
  using Key = std::tuple<std::string, std::vector<int64_t>, int, std::array<int32_t, 3>>;
  static Key key_of(const BrickCopyContext& c, const BrickId& id) { return {c.layer, c.key, id.level, id.b}; }
  void work();

  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<BrickCopyJob> queue_;
  std::set<Key> busy_;  // copying, or copied and not taken
  std::vector<CopiedBrick> done_;
  std::optional<data::DataError> error_;
  int running_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace voxcast::render
