#pragma once
// What the CUDA ray casters share (the single-texture one and the brick pool's): the view
// and layer constants handed to the kernels, the camera ray of a pixel, error checks.
#include <cuda_runtime.h>

#include <string>

#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/ray_modes.hpp"

namespace voxcast::render {

#define VOXCAST_CUDA_CHECK(call, what)                                                           \
  do {                                                                                           \
    cudaError_t e_ = (call);                                                                     \
    if (e_ != cudaSuccess) return data::DataError{"cuda", std::string(what) + ": " + cudaGetErrorString(e_)}; \
  } while (0)

inline constexpr int kMaxLayers = 8;

struct DeviceLayer {
  cudaTextureObject_t linear_tex;
  cudaTextureObject_t point_tex;
  ray::LutRef lut;  // kLutSize float4 entries in device memory
  ray::ModeParams params;
  float opacity;
  Blending blending;
  int linear;
};

// The camera and, for the single-texture path, the level drawn (the brick path draws in
// level-0 voxel coordinates: scale = the level-0 voxel, offset 0, n = level 0's size).
struct DeviceView {
  int width, height;
  double cx, cy, cz;
  double rx, ry, rz, dx, dy, dz, fx, fy, fz;  // right, down, forward
  double zoom, fov, distance;
  double sx, sy, sz;                          // world units per voxel of the level drawn
  double ox, oy, oz;                          // level voxel coordinate of fine voxel 0, per axis
  int nx, ny, nz;
  double step_voxels, step;
  int layers;
  DeviceLayer layer[kMaxLayers];
};

// The ray through the centre of pixel (px, py), in world coordinates (camera_ray's maths).
__device__ inline void view_ray(const DeviceView& v, int px, int py, double origin[3], double dir[3]) {
  double sxp = px + 0.5 - 0.5 * v.width, syp = py + 0.5 - 0.5 * v.height;
  if (v.fov <= 0) {
    double s = 1.0 / v.zoom;
    origin[0] = v.cx + v.rx * sxp * s + v.dx * syp * s - v.fx * 1e6;
    origin[1] = v.cy + v.ry * sxp * s + v.dy * syp * s - v.fy * 1e6;
    origin[2] = v.cz + v.rz * sxp * s + v.dz * syp * s - v.fz * 1e6;
    dir[0] = v.fx;
    dir[1] = v.fy;
    dir[2] = v.fz;
  } else {
    double t = tan(v.fov * 3.14159265358979323846 / 360.0) / (0.5 * v.height);
    origin[0] = v.cx - v.fx * v.distance;
    origin[1] = v.cy - v.fy * v.distance;
    origin[2] = v.cz - v.fz * v.distance;
    dir[0] = v.fx + v.rx * sxp * t + v.dx * syp * t;
    dir[1] = v.fy + v.ry * sxp * t + v.dy * syp * t;
    dir[2] = v.fz + v.rz * sxp * t + v.dz * syp * t;
    double n = sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
    dir[0] /= n;
    dir[1] /= n;
    dir[2] /= n;
  }
}

// Point and linear-filtered views of one float 3D array, clamped at its edges, in
// unnormalized voxel coordinates (the layers' interpolation picks one per frame).
inline cudaError_t make_array_textures(cudaArray_t array, cudaTextureObject_t* point, cudaTextureObject_t* linear) {
  for (int filtered = 0; filtered < 2; ++filtered) {
    cudaResourceDesc res{};
    res.resType = cudaResourceTypeArray;
    res.res.array.array = array;
    cudaTextureDesc tex{};
    tex.addressMode[0] = tex.addressMode[1] = tex.addressMode[2] = cudaAddressModeClamp;
    tex.filterMode = filtered ? cudaFilterModeLinear : cudaFilterModePoint;
    tex.readMode = cudaReadModeElementType;
    tex.normalizedCoords = 0;
    if (cudaError_t e = cudaCreateTextureObject(filtered ? linear : point, &res, &tex, nullptr); e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

}  // namespace voxcast::render
