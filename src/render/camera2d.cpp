#include "voxcast/render/camera2d.hpp"

#include <algorithm>
#include <cassert>

namespace voxcast::render {

Camera2D fit_camera(const DimsState& dims, int w, int h) {
  auto disp = displayed_axes(dims);
  assert(disp.size() == 2 && "fit_camera needs two displayed axes");
  auto ay = static_cast<size_t>(disp[0]);
  auto ax = static_cast<size_t>(disp[1]);
  // Voxel i covers [i - 0.5, i + 0.5] * scale in world units.
  double world_w = static_cast<double>(dims.shape[ax]) * dims.scale[ax];
  double world_h = static_cast<double>(dims.shape[ay]) * dims.scale[ay];
  Camera2D c;
  c.center_x = (static_cast<double>(dims.shape[ax]) - 1.0) * 0.5 * dims.scale[ax];
  c.center_y = (static_cast<double>(dims.shape[ay]) - 1.0) * 0.5 * dims.scale[ay];
  c.zoom = 0.95 * std::min(static_cast<double>(w) / world_w, static_cast<double>(h) / world_h);
  return c;
}

ViewRect view_rect(const Camera2D& c, int w, int h) {
  ViewRect r;
  r.width = static_cast<double>(w) / c.zoom;
  r.height = static_cast<double>(h) / c.zoom;
  r.left = c.center_x - r.width * 0.5;
  r.top = c.center_y - r.height * 0.5;
  return r;
}

Camera2D camera_from_rect(const ViewRect& r, int w, int h) {
  Camera2D c;
  c.center_x = r.left + r.width * 0.5;
  c.center_y = r.top + r.height * 0.5;
  c.zoom = std::min(static_cast<double>(w) / r.width, static_cast<double>(h) / r.height);
  return c;
}

Camera2D zoom_about(const Camera2D& c, double factor, double ax, double ay, int w, int h) {
  assert(factor > 0 && "zoom factor must be positive");
  // World point under the anchor.
  double wx = c.center_x + (ax - static_cast<double>(w) * 0.5) / c.zoom;
  double wy = c.center_y + (ay - static_cast<double>(h) * 0.5) / c.zoom;
  Camera2D out;
  out.zoom = c.zoom / factor;
  out.center_x = wx + (c.center_x - wx) * factor;
  out.center_y = wy + (c.center_y - wy) * factor;
  return out;
}

Camera2D pan_by(const Camera2D& c, double dx, double dy) {
  Camera2D out = c;
  out.center_x -= dx / c.zoom;
  out.center_y -= dy / c.zoom;
  return out;
}

}  // namespace voxcast::render
