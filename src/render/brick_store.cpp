// Host side of the multiresolution bricks: choice per view, reads through the source
// (the chunk cache's lanes: latest view wins, stale loads cancelled), the LRU.
#include "voxcast/render/brick_store.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "voxcast/core/clock.hpp"
#include "voxcast/core/thread_pool.hpp"
#include "voxcast/render/brick_copier.hpp"
#include "voxcast/render/camera3d.hpp"
#include "voxcast/render/volume_renderer.hpp"

namespace voxcast::render {
namespace {

// A layer's source box at each level for the current step: the non-displayed axes at
// their step (scaled to the level), the layer's channel; brick_box fills in the rest.
// Once per layer and frame, not per brick.
std::vector<data::Box> level_boxes(const Scene& scene, const LayerState& layer, const data::VolumeSource& source) {
  const DimsState& d = scene.dims;
  VolumeGeometry g = volume_geometry(d);
  LayerRead read = layer_read(d, {g.axis[2], g.axis[1], g.axis[0]}, layer, source);
  const data::VolumeInfo& info = source.info();
  std::vector<data::Box> boxes(info.levels.size(), read.box);
  for (size_t l = 0; l < info.levels.size(); ++l)
    for (size_t a = 0; a < read.box.start.size(); ++a)
      if (static_cast<int>(a) != info.channel_axis)
        boxes[l].start[a] = std::min<int64_t>(
            static_cast<int64_t>(static_cast<double>(read.box.start[a]) / info.levels[l].factor[a]), info.levels[l].shape[a] - 1);
  return boxes;
}

// The source box of a brick (its apron included): its level's box with the brick's voxels
// on the displayed axes.
data::Box brick_box(const std::vector<data::Box>& level_box, const std::array<int, 3>& displayed_source_axis,
                    const BrickPyramid& p, const BrickId& id) {
  data::Box box = level_box[static_cast<size_t>(id.level)];
  BrickVoxels v = brick_voxels(p, id, true);
  for (size_t i = 0; i < 3; ++i) {
    auto a = static_cast<size_t>(displayed_source_axis[i]);
    box.start[a] = v.first[i];
    box.size[a] = v.count[i];
  }
  return box;
}

}  // namespace

bool bricks_arrived(const BrickStore& st, const data::VolumeSource& source) {
  if (st.missing.empty()) return false;
  for (size_t i = 0; i < std::min<size_t>(st.missing.size(), 64); ++i)
    if (source.request(st.missing[i].level, st.missing[i].box, {0, 0, true})) return true;
  // Nothing is loading and the most urgent bricks are not in memory (evicted, or never
  // requested because the request stopped at the cache's size): only another frame's
  // request brings them, so the caller must render again rather than wait.
  return !source.loads_pending();
}

std::optional<data::DataError> update_bricks(BrickStore* store, const Scene& scene, const data::VolumeSource& source,
                                             const Camera3D& cam, int W, int H, size_t budget_bytes,
                                             double load_ms, const std::atomic<bool>* cancel, bool* stopped,
                                             BrickFrame* out, ThreadPool* loaders, double pixel_error,
                                             BrickCopier* copier) {
  BrickStore& st = *store;
  *stopped = false;
  BrickPyramid pyr = source_brick_pyramid(scene.dims, source.info());
  bool same_pyramid = pyr.levels.size() == st.pyramid.levels.size();
  for (size_t l = 0; same_pyramid && l < pyr.levels.size(); ++l)
    same_pyramid = pyr.levels[l].size == st.pyramid.levels[l].size;
  if (!same_pyramid) {
    st = BrickStore{};
    st.pyramid = pyr;
  }
  const BrickPyramid& P = st.pyramid;
  const VolumeGeometry geometry = volume_geometry(scene.dims);
  std::array<int, 3> displayed_source_axis{};  // source axis shown as x, y, z
  for (size_t i = 0; i < 3; ++i)
    displayed_source_axis[i] = scene.dims.source_axis[static_cast<size_t>(geometry.axis[i])];
  st.epoch += 1;
  const uint64_t epoch = st.epoch;
  // While moving, the bricks not in memory yet are copied between frames (when the scene
  // holds the source, which the copies then keep alive); a still copies all it wants.
  const bool async = copier && scene.interactive && std::isfinite(load_ms) && scene.source.get() == &source;
  std::vector<BrickCopyJob> jobs;
  if (copier) {
    if (auto err = copier->take_error()) return err;
    for (CopiedBrick& c : copier->take()) {
      auto it = st.layers.find(c.brick->layer);
      if (it == st.layers.end() || it->second.key != c.context->key ||
          c.context->displayed_source_axis != displayed_source_axis || it->second.table.size() != P.levels.size())
        continue;  // of data no longer shown
      const BrickId id = c.brick->id;
      if (static_cast<size_t>(id.level) >= P.levels.size()) continue;
      const auto& level = P.levels[static_cast<size_t>(id.level)];
      if (level.size != c.context->pyramid.levels[static_cast<size_t>(id.level)].size) continue;
      HostBrick*& slot = it->second.table[static_cast<size_t>(id.level)][static_cast<size_t>(level.index(id.b))];
      if (slot) continue;  // a still copied it meanwhile
      slot = c.brick.get();
      st.lru.push_front(slot);
      slot->lru = st.lru.begin();
      st.bytes += kBrickBytes;
      st.bricks[{c.brick->layer, id}] = std::move(c.brick);
    }
  }

  std::vector<const LayerState*> shown;
  for (const LayerState& layer : scene.layers)
    if (layer.visible && layer.opacity > 0) shown.push_back(&layer);
  const size_t budget = budget_bytes;
  BrickChoiceOptions opt;
  opt.pixel_error = pixel_error;
  opt.max_bricks = std::max<size_t>(1, budget / kBrickBytes / std::max<size_t>(1, shown.size()) * 9 / 10);
  // While moving, a coarser choice (as moving_bias_ for a single block): the frame's
  // bookkeeping grows with the bricks wanted (a 4096^3 pyramid at 1080p wants 24k, and
  // choosing, requesting and checking them took 110 ms a frame on the H200), and the
  // finest of them would not arrive before the view moves on anyway.
  if (scene.interactive) opt.max_bricks = std::min(opt.max_bricks, kMovingMaxBricks);
  double t0 = steady_ms();
  BrickChoice choice = choose_bricks(P, cam, W, H, opt);
  double request_ms = 0, copy_ms = 0;
  const double t_chosen = steady_ms();

  BrickResidency res;
  res.wanted.assign(P.levels.size(), 0);
  res.resident.assign(P.levels.size(), 0);
  res.samples.assign(P.levels.size(), 0);
  res.budget_bytes = budget;
  res.choose_ms = t_chosen - t0;
  st.missing.clear();
  for (size_t li = 0; li < shown.size(); ++li) {
    const double t_layer = steady_ms();
    const LayerState& layer = *shown[li];
    LayerBricks& lb = st.layers[layer.id];
    std::vector<int64_t> key = volume_key(scene, layer, source, 0);
    if (lb.key != key || lb.table.size() != P.levels.size()) {
      for (auto it = st.bricks.begin(); it != st.bricks.end();) {  // the layer shows other data now
        if (it->first.first == layer.id) {
          st.lru.erase(it->second->lru);
          st.bytes -= kBrickBytes;
          it = st.bricks.erase(it);
        } else {
          ++it;
        }
      }
      lb.key = key;
      lb.generation += 1;
      lb.table.assign(P.levels.size(), {});
      for (size_t l = 0; l < P.levels.size(); ++l) lb.table[l].assign(static_cast<size_t>(P.levels[l].count()), nullptr);
    }
    std::vector<BrickId> missing;
    std::vector<data::LevelBox> boxes;
    const std::vector<data::Box> level_box = level_boxes(scene, layer, source);
    for (const BrickId& id : choice.wanted) {
      if (li == 0) res.wanted[static_cast<size_t>(id.level)] += 1;
      HostBrick* b = lb.table[static_cast<size_t>(id.level)][static_cast<size_t>(P.levels[static_cast<size_t>(id.level)].index(id.b))];
      if (b) {
        b->used = epoch;
        st.lru.splice(st.lru.begin(), st.lru, b->lru);
        continue;
      }
      missing.push_back(id);
      boxes.push_back({id.level, brick_box(level_box, displayed_source_axis, P, id)});
    }
    // Centre-first through the cache's lane: the previous view's queued loads are dropped.
    const data::RequestHint hint{kBrickLane + static_cast<int>(li), 0, false};
    // While moving, the most urgent only, for loads and copies: the loaders do not get
    // through more before the view moves on, and requesting every missing brick each frame
    // (2000 and more during a 4096^3 orbit) took 14 ms of the frame on the H100.
    const size_t urgent = scene.interactive ? std::min(boxes.size(), kMovingMaxRequests) : boxes.size();
    if (urgent < boxes.size()) {
      source.request_all(std::vector<data::LevelBox>(boxes.begin(), boxes.begin() + static_cast<ptrdiff_t>(urgent)), hint);
    } else {
      source.request_all(boxes, hint);
    }
    if (async) {
      auto context = std::make_shared<BrickCopyContext>();
      context->source = scene.source;
      context->pyramid = P;
      context->displayed_source_axis = displayed_source_axis;
      context->layer = layer.id;
      context->key = lb.key;
      context->lane = hint.lane;
      for (size_t i = 0; i < urgent; ++i)
        if (missing[i].level != P.coarsest()) jobs.push_back({context, missing[i], boxes[i].box});
    }
    const double t_requested = steady_ms();
    request_ms += t_requested - t_layer;
    // Copied out of the cache on every core (each brick is a read and a 34^3 copy); while
    // moving, only bricks already in memory and only until the deadline.
    std::vector<std::unique_ptr<HostBrick>> loaded(missing.size());
    std::vector<std::optional<data::DataError>> errors(missing.size());
    std::atomic<bool> halt{false};
    const double load_until = steady_ms() + load_ms;
    // Copied in storage order, not centre-first: each loader's run of bricks shares chunks,
    // so a still larger than the cache reads each chunk about once, not once per brick.
    std::vector<size_t> order(missing.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const BrickId &x = missing[a], &y = missing[b];
      return std::tie(x.level, x.b[2], x.b[1], x.b[0]) < std::tie(y.level, y.b[2], y.b[1], y.b[0]);
    });
    auto load_range = [&](int begin, int end) {
      for (int k = begin; k < end; ++k) {
        if (halt.load(std::memory_order_relaxed)) return;
        if (cancel && cancel->load(std::memory_order_relaxed)) {
          halt = true;
          return;
        }
        const size_t i = order[static_cast<size_t>(k)];
        // The coarsest level is what stands in for everything: waited for even while moving
        // or past the deadline (it is few bricks, read once), so no frame shows empty space
        // where data is, as the first frames after a toggle to 3D otherwise would.
        bool ready = missing[i].level == P.coarsest() ||
                     (!async && steady_ms() < load_until &&
                      (!scene.interactive || source.request(boxes[i].level, boxes[i].box, {hint.lane, 0, true})));
        if (!ready) continue;
        auto brick = std::make_unique<HostBrick>();
        brick->id = missing[i];
        brick->layer = layer.id;
        if ((errors[i] = copy_brick(source, P, displayed_source_axis, boxes[i].box, brick.get()))) {
          halt = true;
          return;
        }
        loaded[i] = std::move(brick);
      }
    };
    if (loaders && missing.size() > 1) {
      loaders->parallel_for(static_cast<int>(missing.size()), load_range);
    } else {
      load_range(0, static_cast<int>(missing.size()));
    }
    copy_ms += steady_ms() - t_requested;
    for (auto& e : errors)
      if (e) return e;
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      *stopped = true;
      return std::nullopt;
    }
    for (size_t k = 0; k < missing.size(); ++k) {
      if (!loaded[k]) {
        st.missing.push_back(boxes[k]);
        continue;
      }
      HostBrick* brick = loaded[k].get();
      brick->used = epoch;
      st.lru.push_front(brick);
      brick->lru = st.lru.begin();
      lb.table[static_cast<size_t>(brick->id.level)][static_cast<size_t>(P.levels[static_cast<size_t>(brick->id.level)].index(brick->id.b))] =
          brick;
      st.bytes += kBrickBytes;
      st.bricks[{layer.id, brick->id}] = std::move(loaded[k]);
    }
  }
  if (copier) copier->post(std::move(jobs));  // a still's empty list stops the copies
  // LRU eviction within the budget; bricks this frame wants stay.
  while (st.bytes > budget && !st.lru.empty() && st.lru.back()->used != epoch) {
    HostBrick* b = st.lru.back();
    st.layers[b->layer].table[static_cast<size_t>(b->id.level)][static_cast<size_t>(P.levels[static_cast<size_t>(b->id.level)].index(b->id.b))] = nullptr;
    st.lru.pop_back();
    st.bytes -= kBrickBytes;
    st.bricks.erase({b->layer, b->id});
  }
  // What this frame draws from: the wanted bricks that are resident; a brick with finer
  // ones inside is not a leaf (no empty-space skipping over it).
  for (const LayerState* layer : shown) {
    LayerBricks& lb = st.layers[layer->id];
    for (const BrickId& id : choice.wanted) {
      HostBrick* b = lb.table[static_cast<size_t>(id.level)][static_cast<size_t>(P.levels[static_cast<size_t>(id.level)].index(id.b))];
      if (!b) continue;
      b->wanted_epoch = epoch;
      res.resident[static_cast<size_t>(id.level)] += shown.front() == layer ? 1 : 0;
    }
    for (const BrickId& id : choice.wanted) {
      HostBrick* b = lb.table[static_cast<size_t>(id.level)][static_cast<size_t>(P.levels[static_cast<size_t>(id.level)].index(id.b))];
      if (!b || b->wanted_epoch != epoch) continue;
      BrickBounds bb = brick_bounds(P, id);
      double c[3] = {(bb.lo[0] + bb.hi[0]) * 0.5, (bb.lo[1] + bb.hi[1]) * 0.5, (bb.lo[2] + bb.hi[2]) * 0.5};
      for (int l = id.level + 1; l <= P.coarsest(); ++l) {
        const BrickLevel& lv = P.levels[static_cast<size_t>(l)];
        std::array<int32_t, 3> pb{};
        for (size_t i = 0; i < 3; ++i)
          pb[i] = static_cast<int32_t>(std::clamp<int64_t>(static_cast<int64_t>(std::max(0.0, level_coord(P, l, static_cast<int>(i), c[i]))) / P.edge, 0, lv.bricks[i] - 1));
        HostBrick* parent = lb.table[static_cast<size_t>(l)][static_cast<size_t>(lv.index(pb))];
        if (!parent) continue;
        if (parent->finer_epoch == epoch) break;  // and so are its ancestors
        parent->finer_epoch = epoch;
      }
    }
  }
  res.request_ms = request_ms;
  res.copy_ms = copy_ms;
  res.loading = static_cast<int>(st.missing.size());
  res.bytes = st.bytes;

  out->choice = std::move(choice);
  out->epoch = epoch;
  out->layers = std::move(shown);
  out->complete = st.missing.empty();
  out->residency = std::move(res);
  return std::nullopt;
}

}  // namespace voxcast::render
