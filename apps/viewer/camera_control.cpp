#include "camera_control.hpp"

#include <cmath>

#include "voxcast/render/camera2d.hpp"
#include "voxcast/render/camera3d.hpp"

namespace voxcast::viewer {

using nlohmann::json;

namespace {
bool numbers(const json& j, size_t n, double* out) {
  if (!j.is_array() || j.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (!j[i].is_number()) return false;
    out[i] = j[i].get<double>();
  }
  return true;
}
constexpr double kZoomPerStep = 1.25;    // one wheel notch
constexpr double kDegreesPerPixel = 0.4;  // orbit speed
}  // namespace

bool camera_from_pose(const json& pose, int ndisplay, int width, int height, LocalCamera* out) {
  if (!pose.is_object()) return false;
  LocalCamera c = *out;
  c.ndisplay = ndisplay;
  c.width = width;
  c.height = height;
  double v[3];
  if (ndisplay == 3) {
    if (!numbers(pose.value("center", json()), 3, v)) return false;
    c.camera3d.center = {v[0], v[1], v[2]};
    if (numbers(pose.value("angles", json()), 3, v)) {
      c.camera3d.azimuth = v[0];
      c.camera3d.elevation = v[1];
      c.camera3d.roll = v[2];
    }
    c.camera3d.distance = pose.value("distance", c.camera3d.distance);
    c.camera3d.fov = pose.value("fov", c.camera3d.fov);
    c.camera3d.zoom = pose.value("zoom", c.camera3d.zoom);
  } else {
    if (!numbers(pose.value("center", json()), 2, v) || !pose.contains("zoom") || !pose["zoom"].is_number()) return false;
    c.camera2d.center_x = v[0];
    c.camera2d.center_y = v[1];
    c.camera2d.zoom = pose["zoom"].get<double>();
  }
  c.valid = true;
  *out = c;
  return true;
}

json pose_of(const LocalCamera& c) {
  if (c.ndisplay == 3) {
    const auto& k = c.camera3d;
    return {{"center", {k.center[0], k.center[1], k.center[2]}},
            {"angles", {k.azimuth, k.elevation, k.roll}},
            {"distance", k.distance},
            {"fov", k.fov},
            {"zoom", k.zoom}};
  }
  return {{"center", {c.camera2d.center_x, c.camera2d.center_y}}, {"zoom", c.camera2d.zoom}};
}

void wheel_zoom(LocalCamera* c, double steps, double ax, double ay) {
  if (!c->valid || steps == 0) return;
  const double factor = std::pow(kZoomPerStep, -steps);  // VisPy: factor < 1 zooms in
  if (c->ndisplay == 3) c->camera3d = render::zoom3d(c->camera3d, factor);
  else c->camera2d = render::zoom_about(c->camera2d, factor, ax, ay, c->width, c->height);
}

void drag(LocalCamera* c, double dx, double dy, bool pan) {
  if (!c->valid) return;
  if (c->ndisplay == 3) {
    c->camera3d = pan ? render::pan3d(c->camera3d, dx, dy, c->height)
                      : render::orbit(c->camera3d, dx * kDegreesPerPixel, -dy * kDegreesPerPixel);
  } else {
    c->camera2d = render::pan_by(c->camera2d, dx, dy);
  }
}

}  // namespace voxcast::viewer
