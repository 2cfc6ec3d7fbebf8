#include "voxcast/render/camera3d.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace voxcast::render {
namespace {
constexpr double kPi = 3.14159265358979323846;
double rad(double deg) { return deg * kPi / 180.0; }
Vec3 add(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
Vec3 mul(const Vec3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
Vec3 normalize(const Vec3& a) {
  double n = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
  return {a[0] / n, a[1] / n, a[2] / n};
}
// Rotates v about the unit axis k by angle a (Rodrigues).
Vec3 rotate(const Vec3& v, const Vec3& k, double a) {
  double c = std::cos(a), s = std::sin(a);
  Vec3 kxv = {k[1] * v[2] - k[2] * v[1], k[2] * v[0] - k[0] * v[2], k[0] * v[1] - k[1] * v[0]};
  double kdv = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
  return {v[0] * c + kxv[0] * s + k[0] * kdv * (1 - c), v[1] * c + kxv[1] * s + k[1] * kdv * (1 - c),
          v[2] * c + kxv[2] * s + k[2] * kdv * (1 - c)};
}
}  // namespace

VolumeGeometry volume_geometry(const DimsState& d) {
  // The last three axes of `order`: what 3D shows, also while the viewer is in 2D (the
  // 3D camera is kept ready for the toggle).
  assert(d.order.size() >= 3 && "3D needs three axes");
  std::vector<int> disp(d.order.end() - 3, d.order.end());
  VolumeGeometry g;
  for (int i = 0; i < 3; ++i) {
    auto a = static_cast<size_t>(disp[static_cast<size_t>(2 - i)]);  // x is the last displayed axis
    g.axis[static_cast<size_t>(i)] = static_cast<int>(a);
    g.size[static_cast<size_t>(i)] = d.shape[a];
    g.scale[static_cast<size_t>(i)] = d.scale[a];
  }
  return g;
}

CameraBasis camera_basis(const Camera3D& c) {
  // Elevation tilts about the screen's horizontal axis, azimuth turns about world -y
  // (up on screen), roll spins about the view direction.
  Vec3 right{1, 0, 0}, down{0, 1, 0}, forward{0, 0, 1};
  double el = rad(c.elevation), az = rad(c.azimuth), ro = rad(c.roll);
  down = rotate(down, right, el);
  forward = rotate(forward, right, el);
  Vec3 up_axis{0, -1, 0};
  right = rotate(right, up_axis, az);
  down = rotate(down, up_axis, az);
  forward = rotate(forward, up_axis, az);
  right = rotate(right, forward, ro);
  down = rotate(down, forward, ro);
  return {normalize(right), normalize(down), normalize(forward)};
}

Camera3D fit_camera3d(const DimsState& dims, int w, int h) {
  VolumeGeometry g = volume_geometry(dims);
  Camera3D c;
  double diag2 = 0;
  for (int i = 0; i < 3; ++i) {
    auto ui = static_cast<size_t>(i);
    double extent = static_cast<double>(g.size[ui]) * g.scale[ui];
    c.center[ui] = (static_cast<double>(g.size[ui]) - 1.0) * 0.5 * g.scale[ui];
    diag2 += extent * extent;
  }
  double world_w = static_cast<double>(g.size[0]) * g.scale[0];
  double world_h = static_cast<double>(g.size[1]) * g.scale[1];
  c.zoom = 0.95 * std::min(static_cast<double>(w) / world_w, static_cast<double>(h) / world_h);
  c.fov = 0;
  // For a later switch to perspective: far enough that the bounding sphere fits 30°.
  c.distance = 0.5 * std::sqrt(diag2) / std::tan(rad(15.0)) * 1.05;
  return c;
}

double world_per_pixel(const Camera3D& c, int canvas_h) {
  if (c.fov <= 0) return 1.0 / c.zoom;
  return 2.0 * c.distance * std::tan(rad(c.fov) * 0.5) / static_cast<double>(canvas_h);
}

Camera3D orbit(const Camera3D& c, double d_az, double d_el) {
  Camera3D o = c;
  o.azimuth = std::fmod(c.azimuth + d_az, 360.0);
  o.elevation = std::clamp(c.elevation + d_el, -89.0, 89.0);
  return o;
}

Camera3D pan3d(const Camera3D& c, double dx, double dy, int canvas_h) {
  CameraBasis b = camera_basis(c);
  double s = world_per_pixel(c, canvas_h);
  Camera3D o = c;
  o.center = add(c.center, add(mul(b.right, -dx * s), mul(b.down, -dy * s)));
  return o;
}

Camera3D zoom3d(const Camera3D& c, double factor) {
  assert(factor > 0 && "zoom factor must be positive");
  Camera3D o = c;
  if (c.fov > 0) o.distance = std::max(1e-6, c.distance * factor);
  o.zoom = c.zoom / factor;
  return o;
}

Ray camera_ray(const Camera3D& c, const CameraBasis& b, double px, double py, int w, int h) {
  double sx = px + 0.5 - 0.5 * w;
  double sy = py + 0.5 - 0.5 * h;
  if (c.fov <= 0) {
    double s = 1.0 / c.zoom;
    Vec3 o = add(c.center, add(mul(b.right, sx * s), mul(b.down, sy * s)));
    // Start far behind the centre; the volume clip finds the entry point.
    return {add(o, mul(b.forward, -1e6)), b.forward};
  }
  double t = std::tan(rad(c.fov) * 0.5) / (0.5 * h);
  Vec3 eye = add(c.center, mul(b.forward, -c.distance));
  Vec3 dir = normalize(add(b.forward, add(mul(b.right, sx * t), mul(b.down, sy * t))));
  return {eye, dir};
}

}  // namespace voxcast::render
