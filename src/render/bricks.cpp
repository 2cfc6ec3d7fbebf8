#include "voxcast/render/bricks.hpp"

#include <algorithm>
#include <cmath>
#include <queue>

#include "voxcast/render/camera3d.hpp"

namespace voxcast::render {

BrickPyramid make_brick_pyramid(const std::vector<std::array<int64_t, 3>>& sizes, const std::array<double, 3>& scale0,
                                int edge) {
  BrickPyramid p;
  p.scale0 = scale0;
  p.edge = edge;
  for (const auto& s : sizes) {
    BrickLevel l;
    l.size = s;
    for (size_t i = 0; i < 3; ++i) {
      // As base_geometry: the level's voxel spans the same world extent as the whole.
      l.factor[i] = static_cast<double>(sizes.front()[i]) / static_cast<double>(s[i]);
      l.bricks[i] = (s[i] + edge - 1) / edge;
    }
    p.levels.push_back(l);
  }
  return p;
}

BrickPyramid source_brick_pyramid(const DimsState& dims, const data::VolumeInfo& info, int edge) {
  VolumeGeometry g = volume_geometry(dims);
  std::vector<std::array<int64_t, 3>> sizes;
  for (const auto& lv : info.levels) {
    std::array<int64_t, 3> s{};
    for (size_t i = 0; i < 3; ++i) s[i] = lv.shape[static_cast<size_t>(dims.source_axis[static_cast<size_t>(g.axis[i])])];
    sizes.push_back(s);
  }
  return make_brick_pyramid(sizes, g.scale, edge);
}

BrickBounds brick_bounds(const BrickPyramid& p, const BrickId& id) {
  const BrickLevel& l = p.levels[static_cast<size_t>(id.level)];
  BrickBounds b{};
  for (size_t i = 0; i < 3; ++i) {
    int64_t first = static_cast<int64_t>(id.b[i]) * p.edge;
    int64_t end = std::min(first + p.edge, l.size[i]);
    b.lo[i] = static_cast<double>(first) * l.factor[i] - 0.5;
    b.hi[i] = static_cast<double>(end) * l.factor[i] - 0.5;
  }
  return b;
}

BrickVoxels brick_voxels(const BrickPyramid& p, const BrickId& id, bool with_apron) {
  const BrickLevel& l = p.levels[static_cast<size_t>(id.level)];
  BrickVoxels v{};
  const int64_t apron = with_apron ? kBrickApron : 0;
  for (size_t i = 0; i < 3; ++i) {
    int64_t first = static_cast<int64_t>(id.b[i]) * p.edge - apron;
    int64_t end = std::min(static_cast<int64_t>(id.b[i]) * p.edge + p.edge + apron, l.size[i]);
    first = std::max<int64_t>(0, first);
    v.first[i] = first;
    v.count[i] = end - first;
  }
  return v;
}

namespace {

double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

// A brick as the view sees it.
struct Seen {
  bool visible = false;
  double error = 0;     // pixels one voxel of the brick's level spans (at its nearest point)
  double centre_px = 0;  // screen distance of its centre from the canvas centre
  double depth = 0;      // along the view direction
};

struct View {
  const Camera3D* cam;
  CameraBasis basis;
  Vec3 eye;
  double half_w, half_h;
  double tan_px;  // perspective: world per pixel per unit of depth
};

Seen see(const BrickPyramid& p, const View& v, const BrickId& id) {
  BrickBounds b = brick_bounds(p, id);
  Vec3 c{}, half{};
  for (size_t i = 0; i < 3; ++i) {
    c[i] = (b.lo[i] + b.hi[i]) * 0.5 * p.scale0[i];
    half[i] = (b.hi[i] - b.lo[i]) * 0.5 * p.scale0[i];
  }
  const double r = std::sqrt(dot(half, half));
  const BrickLevel& l = p.levels[static_cast<size_t>(id.level)];
  const double voxel = std::min({p.scale0[0] * l.factor[0], p.scale0[1] * l.factor[1], p.scale0[2] * l.factor[2]});
  Seen s;
  if (v.cam->fov <= 0) {
    Vec3 rel{c[0] - v.cam->center[0], c[1] - v.cam->center[1], c[2] - v.cam->center[2]};
    double x = dot(rel, v.basis.right) * v.cam->zoom, y = dot(rel, v.basis.down) * v.cam->zoom;
    double rp = r * v.cam->zoom;
    s.visible = std::abs(x) <= v.half_w + rp && std::abs(y) <= v.half_h + rp;
    s.error = voxel * v.cam->zoom;
    s.centre_px = std::hypot(x, y);
    s.depth = dot(rel, v.basis.forward);
    return s;
  }
  Vec3 rel{c[0] - v.eye[0], c[1] - v.eye[1], c[2] - v.eye[2]};
  double z = dot(rel, v.basis.forward);
  s.depth = z;
  if (z < -r) return s;  // behind the eye
  double nearest = std::max(z - r, voxel * 0.5);  // where the brick's voxels look largest
  double x = dot(rel, v.basis.right), y = dot(rel, v.basis.down);
  double zc = std::max(z, voxel * 0.5);
  s.centre_px = std::hypot(x, y) / (zc * v.tan_px);
  double rp = r / (nearest * v.tan_px);
  s.visible = z <= r || (std::abs(x) / (z * v.tan_px) <= v.half_w + rp && std::abs(y) / (z * v.tan_px) <= v.half_h + rp);
  s.error = voxel / (nearest * v.tan_px);
  return s;
}

struct Candidate {
  BrickId id;
  Seen seen;
};
// Largest error first; then nearest the canvas centre; then nearest the eye.
struct RefineLater {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.seen.error != b.seen.error) return a.seen.error < b.seen.error;
    if (a.seen.centre_px != b.seen.centre_px) return a.seen.centre_px > b.seen.centre_px;
    return a.seen.depth > b.seen.depth;
  }
};

// The bricks of `level` - 1 covering brick `id` of `level`.
std::vector<BrickId> children(const BrickPyramid& p, const BrickId& id) {
  const BrickLevel& fine = p.levels[static_cast<size_t>(id.level - 1)];
  BrickBounds b = brick_bounds(p, id);
  std::array<int32_t, 3> lo{}, hi{};
  for (size_t i = 0; i < 3; ++i) {
    // Level-0 extent to the finer level's voxels, then to its bricks.
    double first = (b.lo[i] + 0.5) / fine.factor[i], end = (b.hi[i] + 0.5) / fine.factor[i];
    auto v0 = static_cast<int64_t>(std::floor(first + 1e-6)), v1 = static_cast<int64_t>(std::ceil(end - 1e-6));
    lo[i] = static_cast<int32_t>(std::clamp<int64_t>(v0 / p.edge, 0, fine.bricks[i] - 1));
    hi[i] = static_cast<int32_t>(std::clamp<int64_t>((v1 - 1) / p.edge, 0, fine.bricks[i] - 1));
  }
  std::vector<BrickId> out;
  for (int32_t z = lo[2]; z <= hi[2]; ++z)
    for (int32_t y = lo[1]; y <= hi[1]; ++y)
      for (int32_t x = lo[0]; x <= hi[0]; ++x) out.push_back({id.level - 1, {x, y, z}});
  return out;
}

}  // namespace

BrickChoice choose_bricks(const BrickPyramid& p, const Camera3D& cam, int width, int height,
                          const BrickChoiceOptions& o) {
  BrickChoice out;
  if (p.levels.empty()) return out;
  View v{&cam, camera_basis(cam), {}, 0.5 * width, 0.5 * height, 0};
  for (size_t i = 0; i < 3; ++i) v.eye[i] = cam.center[i] - v.basis.forward[i] * cam.distance;
  v.tan_px = std::tan(cam.fov * M_PI / 360.0) / (0.5 * height);

  std::vector<Candidate> kept;
  std::priority_queue<Candidate, std::vector<Candidate>, RefineLater> queue;
  auto keep = [&](const BrickId& id, const Seen& s) {
    kept.push_back({id, s});
    if (id.level > 0 && s.error > o.pixel_error) queue.push({id, s});
  };
  const int top = p.coarsest();
  const BrickLevel& coarse = p.levels[static_cast<size_t>(top)];
  for (int32_t z = 0; z < coarse.bricks[2]; ++z)
    for (int32_t y = 0; y < coarse.bricks[1]; ++y)
      for (int32_t x = 0; x < coarse.bricks[0]; ++x) {
        BrickId id{top, {x, y, z}};
        Seen s = see(p, v, id);
        if (s.visible) keep(id, s);  // the stand-ins: always wanted, even past the budget
      }
  if (kept.size() > o.max_bricks) out.budget_limited = true;
  while (!queue.empty()) {
    Candidate c = queue.top();
    queue.pop();
    std::vector<Candidate> family;
    for (const BrickId& child : children(p, c.id)) {
      Seen s = see(p, v, child);
      if (s.visible) family.push_back({child, s});
    }
    if (kept.size() + family.size() > o.max_bricks) {
      out.budget_limited = true;
      continue;  // a smaller family elsewhere may still fit
    }
    for (const auto& f : family) keep(f.id, f.seen);
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Candidate& a, const Candidate& b) {
    if (a.id.level != b.id.level) return a.id.level > b.id.level;
    if (a.seen.centre_px != b.seen.centre_px) return a.seen.centre_px < b.seen.centre_px;
    return a.seen.depth < b.seen.depth;
  });
  out.finest_level = top;
  out.wanted.reserve(kept.size());
  for (const auto& k : kept) {
    out.wanted.push_back(k.id);
    out.finest_level = std::min(out.finest_level, k.id.level);
  }
  return out;
}

}  // namespace voxcast::render
