#pragma once
// Mouse input to camera poses, without Qt: the viewer keeps its own copy of the camera
// while the user drags or wheels, applies each event to it with the renderer's own
// camera maths, and sends the whole pose (the core coalesces them per property). When
// the user is idle the copy follows the server's camera.
#include <nlohmann/json.hpp>

#include "voxcast/render/scene.hpp"

namespace voxcast::viewer {

struct LocalCamera {
  bool valid = false;
  int ndisplay = 2;
  render::Camera2D camera2d;
  render::Camera3D camera3d;
  int width = 0, height = 0;  // video size the pixels refer to
};

// Reads the pose the server sent (notify.camera / the baseline); false when it is not one.
bool camera_from_pose(const nlohmann::json& pose, int ndisplay, int width, int height, LocalCamera* out);
// The pose to send as camera:main:set.
nlohmann::json pose_of(const LocalCamera& c);

// Wheel `steps` (> 0 zooms in) about `anchor_px` (video pixels, origin top-left).
void wheel_zoom(LocalCamera* c, double steps, double anchor_x, double anchor_y);
// A drag by (dx, dy) video pixels: 2D pans; 3D orbits, or pans with `pan` (shift).
void drag(LocalCamera* c, double dx, double dy, bool pan);

}  // namespace voxcast::viewer
