#pragma once
// CUDA ray caster: the same modes, camera and compositing as VolumeRenderer, on 3D
// textures (bricks uploaded once per volume and kept), with RGBA->I420 on the GPU so
// only the YUV picture crosses PCIe. Built when nvcc is found (VOXCAST_HAVE_CUDA).
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "voxcast/codec/yuv.hpp"
#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/scene.hpp"
#include "voxcast/render/slice_renderer.hpp"
#include "voxcast/render/volume_renderer.hpp"

namespace voxcast::render {

class CudaVolumeRenderer {
 public:
  // True when a CUDA device can be used; otherwise `why` says what is missing.
  static bool available(std::string* why);
  CudaVolumeRenderer();
  ~CudaVolumeRenderer();
  CudaVolumeRenderer(const CudaVolumeRenderer&) = delete;
  CudaVolumeRenderer& operator=(const CudaVolumeRenderer&) = delete;

  // RGBA8 into `out` (tests, screenshots).
  std::optional<data::DataError> render(const Scene& scene, const data::VolumeSource& source, Frame* out);
  // Straight to I420 planes (the encoder's input); width and height even.
  std::optional<data::DataError> render_i420(const Scene& scene, const data::VolumeSource& source,
                                             const codec::YuvPlanes& out);
  const VolumeRenderStats& last() const { return last_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  VolumeRenderStats last_;
};

}  // namespace voxcast::render
