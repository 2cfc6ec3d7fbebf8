#pragma once
#include "voxcast/render/scene.hpp"

namespace voxcast::render {

// World rectangle on screen: x from left to left+width, y from top (screen row 0)
// to top+height. On the wire this is `rect` [left, bottom, width, height], where
// "bottom" is VisPy's name for the smallest y (drawn at the top in napari's y-down view).
struct ViewRect {
  double left = 0, top = 0, width = 0, height = 0;
};

// Fits the displayed plane into the canvas with a 5% margin (napari's reset_view).
Camera2D fit_camera(const DimsState& dims, int canvas_w, int canvas_h);
ViewRect view_rect(const Camera2D& cam, int canvas_w, int canvas_h);
// Camera that shows `rect` (the larger of the two zooms that keep it inside the canvas).
Camera2D camera_from_rect(const ViewRect& rect, int canvas_w, int canvas_h);
// VisPy semantics: factor < 1 zooms in; the world point under the anchor stays put.
// The anchor is in canvas pixels with the origin at the top-left.
Camera2D zoom_about(const Camera2D& cam, double factor, double anchor_x, double anchor_y, int canvas_w, int canvas_h);
// Drag by (dx, dy) canvas pixels: the content follows the pointer.
Camera2D pan_by(const Camera2D& cam, double dx_px, double dy_px);

}  // namespace voxcast::render
