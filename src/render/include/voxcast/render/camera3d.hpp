#pragma once
#include <array>

#include "voxcast/render/scene.hpp"

namespace voxcast::render {

using Vec3 = std::array<double, 3>;

// Orthonormal camera frame in world coordinates.
struct CameraBasis {
  Vec3 right, down, forward;
};

// The 3D view's volume: the last three axes of `order` as x (last), y, z; needs at
// least three axes.
struct VolumeGeometry {
  std::array<int64_t, 3> size;  // voxels along x, y, z
  Vec3 scale;                   // world units per voxel along x, y, z
  std::array<int, 3> axis;      // viewer axis shown as x, y, z
};
VolumeGeometry volume_geometry(const DimsState& dims);

CameraBasis camera_basis(const Camera3D& cam);
// Whole volume in view, angles zero, orthographic (napari's default 3D view).
Camera3D fit_camera3d(const DimsState& dims, int canvas_w, int canvas_h);
// World units per canvas pixel at the centre (orthographic: 1/zoom).
double world_per_pixel(const Camera3D& cam, int canvas_h);

Camera3D orbit(const Camera3D& cam, double d_azimuth_deg, double d_elevation_deg);  // elevation clamped to ±89°
Camera3D pan3d(const Camera3D& cam, double dx_px, double dy_px, int canvas_h);  // content follows the pointer
Camera3D zoom3d(const Camera3D& cam, double factor);  // factor < 1 zooms in

// A ray through the centre of canvas pixel (px, py).
struct Ray {
  Vec3 origin, direction;  // direction has unit length
};
Ray camera_ray(const Camera3D& cam, const CameraBasis& basis, double px, double py, int canvas_w, int canvas_h);

}  // namespace voxcast::render
