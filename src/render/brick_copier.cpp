// Brick copies out of the source: one brick (copy_brick), and the workers that copy a
// moving view's missing bricks between frames (BrickCopier).
#include "voxcast/render/brick_copier.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <utility>

#include "voxcast/render/brick_store.hpp"
#include "voxcast/render/volume_renderer.hpp"

namespace voxcast::render {
namespace {
// Below the render thread, as the chunk cache's loaders: a frame is never late for a copy.
constexpr int kCopierNiceness = 4;
}  // namespace

std::optional<data::DataError> copy_brick(const data::VolumeSource& source, const BrickPyramid& p,
                                          const std::array<int, 3>& displayed_source_axis, const data::Box& box,
                                          HostBrick* b) {
  std::vector<float> raw(static_cast<size_t>(box.count()));
  if (auto err = source.read_level(b->id.level, box, raw.data())) return err;
  replace_non_finite(&raw);  // as the single-block read: NaN as the brick's smallest finite value
  std::array<int64_t, 3> stride{}, first{}, count{};
  BrickVoxels v = brick_voxels(p, b->id, true);
  for (size_t i = 0; i < 3; ++i) {
    auto a = static_cast<size_t>(displayed_source_axis[i]);
    int64_t s = 1;
    for (size_t k = a + 1; k < box.size.size(); ++k) s *= box.size[k];
    stride[i] = s;
    first[i] = v.first[i];
    count[i] = v.count[i];
  }
  const auto& size = p.levels[static_cast<size_t>(b->id.level)].size;
  b->values.resize(static_cast<size_t>(kBrickStored) * kBrickStored * kBrickStored);
  float lo = INFINITY, hi = -INFINITY;
  std::array<int64_t, 3> origin{};  // level voxel of stored index 0
  for (size_t i = 0; i < 3; ++i) origin[i] = static_cast<int64_t>(b->id.b[i]) * p.edge - kBrickApron;
  auto src = [&](size_t i, int64_t s) {
    int64_t voxel = std::clamp<int64_t>(origin[i] + s, 0, size[i] - 1);
    return std::clamp<int64_t>(voxel - first[i], 0, count[i] - 1) * stride[i];
  };
  size_t o = 0;
  for (int64_t z = 0; z < kBrickStored; ++z) {
    int64_t sz = src(2, z);
    for (int64_t y = 0; y < kBrickStored; ++y) {
      int64_t syz = sz + src(1, y);
      for (int64_t x = 0; x < kBrickStored; ++x) {
        float val = raw[static_cast<size_t>(syz + src(0, x))];
        b->values[o++] = val;
        lo = val < lo ? val : lo;
        hi = val > hi ? val : hi;
      }
    }
  }
  b->min = lo;
  b->max = hi;
  return std::nullopt;
}

BrickCopier::BrickCopier(int threads) {
  if (threads <= 0) threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

BrickCopier::~BrickCopier() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void BrickCopier::post(std::vector<BrickCopyJob> jobs) {
  {
    std::lock_guard lock(mutex_);
    queue_.clear();
    for (auto& j : jobs)
      if (!busy_.count(key_of(*j.context, j.id))) queue_.push_back(std::move(j));
  }
  wake_.notify_all();
}

std::vector<CopiedBrick> BrickCopier::take() {
  std::lock_guard lock(mutex_);
  for (const CopiedBrick& c : done_) busy_.erase(key_of(*c.context, c.brick->id));
  return std::exchange(done_, {});
}

std::optional<data::DataError> BrickCopier::take_error() {
  std::lock_guard lock(mutex_);
  return std::exchange(error_, std::nullopt);
}

void BrickCopier::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return queue_.empty() && running_ == 0; });
}

void BrickCopier::work() {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  if (errno == 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), std::min(19, nice + kCopierNiceness));
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    BrickCopyJob job = std::move(queue_.front());
    queue_.pop_front();
    const Key key = key_of(*job.context, job.id);
    busy_.insert(key);
    running_ += 1;
    lock.unlock();
    const BrickCopyContext& c = *job.context;
    std::unique_ptr<HostBrick> brick;
    std::optional<data::DataError> err;
    // Only what is in memory: a copy that had to wait for a load would hold a worker while
    // the view moves on (the frame's request has queued the load already).
    if (c.source->request(job.id.level, job.box, {c.lane, 0, true})) {
      brick = std::make_unique<HostBrick>();
      brick->id = job.id;
      brick->layer = c.layer;
      err = copy_brick(*c.source, c.pyramid, c.displayed_source_axis, job.box, brick.get());
    }
    const bool copied = brick && !err;
    if (!copied) job.context.reset();  // the source may go with it: not under the lock
    lock.lock();
    running_ -= 1;
    if (copied) {
      done_.push_back({std::move(job.context), std::move(brick)});
    } else {
      busy_.erase(key);
      if (err && !error_) error_ = std::move(err);
    }
    if (queue_.empty() && running_ == 0) idle_.notify_all();
  }
}

}  // namespace voxcast::render
