#pragma once
// The oblique 3D view the brick and CUDA tests compare renderers in: orbited off the axes
// (so rays cross brick borders at odd angles), linear interpolation, contrast 0..100,
// iso and attenuation set for the modes that use them.
#include "voxcast/render/camera3d.hpp"
#include "voxcast/render/scene.hpp"

namespace voxcast::testing {

inline render::Scene oblique_scene3d(const data::VolumeSource& v, int w, int h) {
  render::Scene s = render::make_initial_scene(v.info(), w, h);
  s.dims.ndisplay = 3;
  s.camera3d = render::orbit(render::fit_camera3d(s.dims, w, h), 35, 20);
  for (auto& l : s.layers) {
    l.contrast_limits = {0, 100};
    l.interpolation = render::Interpolation::linear;
    l.iso_threshold = 70;
    l.attenuation = 0.2;
  }
  return s;
}

}  // namespace voxcast::testing
