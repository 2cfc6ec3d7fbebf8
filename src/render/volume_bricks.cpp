// The CPU renderer's multiresolution path: bricks chosen per view (bricks.hpp), read
// through the source (the chunk cache's lanes: latest view wins), kept in an LRU within
// the budget, and ray cast sampling the finest wanted brick resident at each step.
#include <algorithm>
#include <atomic>
#include <cmath>

#include "voxcast/render/brick_store.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/render/ray_modes.hpp"
#include "voxcast/render/volume_renderer.hpp"

namespace voxcast::render {
namespace {

struct LevelGeom {
  std::array<double, 3> inv_factor;  // level-0 coordinates to this level's
  std::array<double, 3> max_coord;   // size - 1
  std::array<int64_t, 3> bricks;
  double step_world;                 // the ray step while sampling this level
  std::array<double, 3> world_scale;  // world units per voxel of this level
  double factor_min;                 // level-0 voxels per voxel (for the gradient offsets)
};

struct BrickMarch {
  const LayerBricks* bricks;
  ray::LutRef lut;
  ray::ModeParams params;
  const LayerState* layer;
};

// A resident brick the frame draws from, located.
struct Found {
  const HostBrick* brick = nullptr;
  int level = 0;
  std::array<double, 3> q;        // level coordinates (clamped into the volume)
  std::array<int32_t, 3> b;
};

struct Walker {
  const BrickPyramid* p;
  const std::vector<LevelGeom>* geom;
  uint64_t epoch;
  int finest, coarsest;

  // The finest brick drawn from at level-0 position `p0`.
  [[gnu::always_inline]] bool find(const LayerBricks& lb, const double p0[3], Found* f) const {
    for (int l = finest; l <= coarsest; ++l) {
      const LevelGeom& g = (*geom)[static_cast<size_t>(l)];
      std::array<double, 3> q;
      std::array<int32_t, 3> b;
      for (size_t i = 0; i < 3; ++i) {
        q[i] = std::clamp((p0[i] + 0.5) * g.inv_factor[i] - 0.5, 0.0, g.max_coord[i]);
        b[i] = static_cast<int32_t>(std::min<int64_t>(static_cast<int64_t>(q[i]) / kBrickEdge, g.bricks[i] - 1));
      }
      const HostBrick* c = lb.table[static_cast<size_t>(l)][static_cast<size_t>((b[2] * g.bricks[1] + b[1]) * g.bricks[0] + b[0])];
      if (c && c->wanted_epoch == epoch) {
        *f = {c, l, q, b};
        return true;
      }
    }
    return false;
  }

  // `f` again at `p0` when p0 lies in the same brick and no finer brick is drawn inside
  // it (then find() would return it): one level's arithmetic instead of a walk from the
  // finest level (most steps of a ray stay in the brick of the step before).
  [[gnu::always_inline]] bool same_brick(const double p0[3], Found* f) const {
    if (!f->brick || f->brick->finer_epoch == epoch) return false;
    const LevelGeom& g = (*geom)[static_cast<size_t>(f->level)];
    std::array<double, 3> q;
    for (size_t i = 0; i < 3; ++i) {
      q[i] = std::clamp((p0[i] + 0.5) * g.inv_factor[i] - 0.5, 0.0, g.max_coord[i]);
      if (static_cast<int32_t>(std::min<int64_t>(static_cast<int64_t>(q[i]) / kBrickEdge, g.bricks[i] - 1)) != f->b[i])
        return false;
    }
    f->q = q;
    return true;
  }
};

[[gnu::always_inline]] inline float brick_sample(const Found& f, bool linear) {
  const float* v = f.brick->values.data();
  constexpr int S = kBrickStored;
  if (!linear) {
    int64_t idx[3];
    for (size_t i = 0; i < 3; ++i)
      idx[i] = static_cast<int64_t>(f.q[i] + 0.5) - (static_cast<int64_t>(f.b[i]) * kBrickEdge - kBrickApron);
    return v[(idx[2] * S + idx[1]) * S + idx[0]];
  }
  double l[3];
  int64_t i0[3];
  float w[3];
  for (size_t i = 0; i < 3; ++i) {
    auto base = static_cast<int64_t>(f.q[i]);
    i0[i] = base - (static_cast<int64_t>(f.b[i]) * kBrickEdge - kBrickApron);
    l[i] = f.q[i] - static_cast<double>(base);
    w[i] = static_cast<float>(l[i]);
  }
  const float* c = v + (i0[2] * S + i0[1]) * S + i0[0];
  auto at = [&](int dx, int dy, int dz) { return c[(dz * S + dy) * S + dx]; };
  float c00 = at(0, 0, 0) + (at(1, 0, 0) - at(0, 0, 0)) * w[0];
  float c10 = at(0, 1, 0) + (at(1, 1, 0) - at(0, 1, 0)) * w[0];
  float c01 = at(0, 0, 1) + (at(1, 0, 1) - at(0, 0, 1)) * w[0];
  float c11 = at(0, 1, 1) + (at(1, 1, 1) - at(0, 1, 1)) * w[0];
  float c0 = c00 + (c10 - c00) * w[1];
  float c1 = c01 + (c11 - c01) * w[1];
  return c0 + (c1 - c0) * w[2];
}

// Where the ray leaves the brick `f` lies in (t, world units along the ray).
double brick_exit(const BrickPyramid& p, const Found& f, const double o[3], const double d[3]) {
  BrickBounds bb = brick_bounds(p, {f.level, f.b});
  double t = INFINITY;
  for (size_t i = 0; i < 3; ++i) {
    if (d[i] > 1e-15) t = std::min(t, (bb.hi[i] - o[i]) / d[i]);
    else if (d[i] < -1e-15) t = std::min(t, (bb.lo[i] - o[i]) / d[i]);
  }
  return t;
}

template <RenderMode mode, bool linear>
ray::RayColor march_bricks(const BrickMarch& M, const Walker& w, const double o[3], const double d[3], double t0,
                           double t1, double step_voxels, const Vec3& view_dir, int64_t* samples) {
  ray::ModeParams p = M.params;
  p.mode = mode;
  const ray::LutRef lut = M.lut;
  ray::RayState s = ray::start(p);
  const auto sv = static_cast<float>(step_voxels);
  const auto& geom = *w.geom;
  float prev_v = 0;
  bool have_prev = false;
  Found f;
  double pos[3] = {o[0] + d[0] * t0, o[1] + d[1] * t0, o[2] + d[2] * t0};
  // The first sample sits half a step (of the level found at the entry) inside.
  double step = geom[static_cast<size_t>(w.find(*M.bricks, pos, &f) ? f.level : w.finest)].step_world;
  for (double t = t0 + step * 0.5; t <= t1; t += step) {
    pos[0] = o[0] + d[0] * t;
    pos[1] = o[1] + d[1] * t;
    pos[2] = o[2] + d[2] * t;
    if (!w.same_brick(pos, &f) && !w.find(*M.bricks, pos, &f)) {
      f.brick = nullptr;
      step = geom[static_cast<size_t>(w.finest)].step_world;
      have_prev = false;
      continue;  // nothing resident here (the coarsest level did not fit the budget)
    }
    step = geom[static_cast<size_t>(f.level)].step_world;
    // Empty-space skipping: only where no finer brick lies inside this one.
    if (f.brick->finer_epoch != w.epoch && ray::can_skip(s, p, f.brick->min, f.brick->max)) {
      double k = std::floor((brick_exit(*w.p, f, o, d) - t) / step);
      if (k > 0) t += step * k;  // the loop's next step leaves the brick
      have_prev = false;
      continue;
    }
    ++samples[f.level];
    float v = brick_sample(f, linear);
    ray::Step next = ray::accumulate(s, p, lut, v, sv);
    if (next == ray::Step::stop) break;
    if (next == ray::Step::hit) {
      double th = t - step * (1.0 - ray::iso_fraction(p, have_prev, prev_v, v));
      const LevelGeom& g = geom[static_cast<size_t>(f.level)];
      double h[3] = {o[0] + d[0] * th, o[1] + d[1] * th, o[2] + d[2] * th};
      double grad[3];
      for (size_t i = 0; i < 3; ++i) {
        // Central differences one voxel of the hit's level apart, each from its own brick.
        double a[3] = {h[0], h[1], h[2]}, b[3] = {h[0], h[1], h[2]};
        a[i] += 1.0 / g.inv_factor[i];
        b[i] -= 1.0 / g.inv_factor[i];
        Found fa, fb;
        float va = w.find(*M.bricks, a, &fa) ? brick_sample(fa, true) : v;
        float vb = w.find(*M.bricks, b, &fb) ? brick_sample(fb, true) : v;
        grad[i] = (va - vb) / g.world_scale[i];
      }
      return ray::iso_shade(lut, grad[0], grad[1], grad[2], view_dir.data());
    }
    prev_v = v;
    have_prev = true;
  }
  return ray::finish(s, p, lut);
}

template <RenderMode mode>
ray::RayColor march_bricks_interp(const BrickMarch& M, const Walker& w, const double o[3], const double d[3],
                                  double t0, double t1, double sv, const Vec3& dir, int64_t* samples) {
  return M.layer->interpolation == Interpolation::linear ? march_bricks<mode, true>(M, w, o, d, t0, t1, sv, dir, samples)
                                                         : march_bricks<mode, false>(M, w, o, d, t0, t1, sv, dir, samples);
}

ray::RayColor march_any(const BrickMarch& M, const Walker& w, const double o[3], const double d[3], double t0,
                        double t1, double sv, const Vec3& dir, int64_t* samples) {
  switch (M.params.mode) {
    case RenderMode::mip: return march_bricks_interp<RenderMode::mip>(M, w, o, d, t0, t1, sv, dir, samples);
    case RenderMode::minip: return march_bricks_interp<RenderMode::minip>(M, w, o, d, t0, t1, sv, dir, samples);
    case RenderMode::average: return march_bricks_interp<RenderMode::average>(M, w, o, d, t0, t1, sv, dir, samples);
    case RenderMode::attenuated_mip:
      return march_bricks_interp<RenderMode::attenuated_mip>(M, w, o, d, t0, t1, sv, dir, samples);
    case RenderMode::iso: return march_bricks_interp<RenderMode::iso>(M, w, o, d, t0, t1, sv, dir, samples);
    case RenderMode::translucent: return march_bricks_interp<RenderMode::translucent>(M, w, o, d, t0, t1, sv, dir, samples);
    case RenderMode::additive: return march_bricks_interp<RenderMode::additive>(M, w, o, d, t0, t1, sv, dir, samples);
  }
  return {};
}

}  // namespace

bool VolumeRenderer::wants_bricks(const Scene& scene, const data::VolumeSource& source) const {
  if (bricks_mode_ == "always") return true;
  if (bricks_mode_ == "never") return false;
  size_t visible = 0;
  for (const LayerState& layer : scene.layers) visible += layer.visible && layer.opacity > 0 ? 1 : 0;
  // Out of core: the finest level does not fit the budget whole.
  return volume_source_level(source.info(), scene.dims, visible, budget_bytes_) > 0;
}

bool VolumeRenderer::refinement_ready(const data::VolumeSource& source) const {
  return last_.complete || !last_.bricked || bricks_arrived(*bricks_, source);
}

std::optional<data::DataError> VolumeRenderer::cast_bricks(const Scene& scene, const data::VolumeSource& source,
                                                           Frame* target, const std::atomic<bool>* cancel,
                                                           bool* stopped_out) {
  BrickStore& st = *bricks_;
  const int W = target->width, H = target->height;
  Camera3D cam = scene.camera3d;
  cam.zoom *= static_cast<double>(W) / scene.width;  // same view at fewer pixels

  BrickFrame frame;
  // While moving, load what is in memory for part of the frame budget; a still loads all.
  const double load_ms = scene.interactive ? target_ms_ * 0.4 : INFINITY;
  // At the smallest resolution and still too slow (moving_bias_, as for a single block):
  // coarser bricks, each level halving the samples per ray.
  const double pixel_error = std::ldexp(1.0, scene.interactive ? moving_bias_ : 0);
  if (auto err = update_bricks(&st, scene, source, cam, W, H, static_cast<size_t>(budget_bytes_), load_ms, cancel,
                               stopped_out, &frame, &pool_, pixel_error))
    return err;
  if (*stopped_out) return std::nullopt;
  const BrickPyramid& P = st.pyramid;
  const uint64_t epoch = frame.epoch;
  const BrickChoice& choice = frame.choice;
  const std::vector<const LayerState*>& shown = frame.layers;
  BrickResidency& res = frame.residency;

  // Geometry per level; steps of half a voxel of the level sampled when still, one while moving.
  const double step_voxels = scene.interactive ? 1.0 : 0.5;
  std::vector<LevelGeom> geom(P.levels.size());
  for (size_t l = 0; l < P.levels.size(); ++l) {
    const BrickLevel& lv = P.levels[l];
    double min_scale = INFINITY;
    for (size_t i = 0; i < 3; ++i) {
      geom[l].inv_factor[i] = 1.0 / lv.factor[i];
      geom[l].max_coord[i] = static_cast<double>(lv.size[i] - 1);
      geom[l].bricks[i] = lv.bricks[i];
      geom[l].world_scale[i] = P.scale0[i] * lv.factor[i];
      min_scale = std::min(min_scale, geom[l].world_scale[i]);
    }
    geom[l].step_world = min_scale * step_voxels;
  }
  Walker walker{&P, &geom, epoch, choice.finest_level, P.coarsest()};
  std::vector<BrickMarch> marches;
  for (const LayerState* layer : shown)
    marches.push_back({&st.layers[layer->id], lut_ref(luts_.get(*layer), step_voxels), mode_params(*layer), layer});

  CameraBasis basis = camera_basis(cam);
  const auto& s0 = P.scale0;
  const double extent[3] = {static_cast<double>(P.levels[0].size[0]), static_cast<double>(P.levels[0].size[1]),
                            static_cast<double>(P.levels[0].size[2])};
  std::atomic<bool> stopped{false};
  std::vector<std::atomic<int64_t>> samples(P.levels.size());
  pool_.parallel_for(H, [&](int begin, int end) {
    std::vector<int64_t> local(P.levels.size(), 0);
    for (int py = begin; py < end && !stopped; ++py) {
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        stopped = true;
        break;
      }
      for (int px = 0; px < W; ++px) {
        Ray r = camera_ray(cam, basis, px, py, W, H);
        // Level-0 voxel coordinates; t stays in world units.
        double o[3] = {r.origin[0] / s0[0], r.origin[1] / s0[1], r.origin[2] / s0[2]};
        double d[3] = {r.direction[0] / s0[0], r.direction[1] / s0[1], r.direction[2] / s0[2]};
        float acc[3] = {0, 0, 0};
        double t0, t1;
        if (ray::clip_box(o, d, extent, &t0, &t1)) {
          t0 = std::max(t0, 0.0);
          for (const auto& M : marches) {
            ray::RayColor c = march_any(M, walker, o, d, t0, t1, step_voxels, r.direction, local.data());
            ray::composite(acc, c, static_cast<float>(M.layer->opacity), M.layer->blending);
          }
        }
        uint8_t* px_out = &target->rgba[(static_cast<size_t>(py) * static_cast<size_t>(W) + static_cast<size_t>(px)) * 4];
        px_out[0] = ray::to_u8(acc[0]);
        px_out[1] = ray::to_u8(acc[1]);
        px_out[2] = ray::to_u8(acc[2]);
        px_out[3] = 255;
      }
    }
    for (size_t l = 0; l < local.size(); ++l) samples[l] += local[l];
  });
  *stopped_out = stopped;
  if (stopped) return std::nullopt;
  for (size_t l = 0; l < samples.size(); ++l) res.samples[l] = samples[l];
  last_.level = choice.finest_level;
  last_.complete = frame.complete;
  last_.residency = std::move(res);
  return std::nullopt;
}

}  // namespace voxcast::render
