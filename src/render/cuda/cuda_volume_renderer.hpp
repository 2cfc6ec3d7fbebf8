#pragma once
// CUDA ray caster: the same modes, camera and compositing as VolumeRenderer, on one 3D
// texture per volume, or for volumes that do not fit (or --bricks always) on a brick pool
// (cuda_bricks.cuh) fed by the host's brick store; RGBA->I420 on the GPU so only the YUV
// picture crosses PCIe. Built when nvcc is found (VOXCAST_HAVE_CUDA).
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "voxcast/codec/yuv.hpp"
#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/scene.hpp"
#include "voxcast/render/slice_renderer.hpp"
#include "voxcast/render/volume_backend.hpp"
#include "voxcast/render/volume_renderer.hpp"

namespace voxcast::render {

class CudaVolumeRenderer final : public VolumeBackend {
 public:
  // True when a CUDA device can be used; otherwise `why` says what is missing.
  static bool available(std::string* why);
  CudaVolumeRenderer();
  explicit CudaVolumeRenderer(const VolumeBackendOptions& options);
  ~CudaVolumeRenderer();
  CudaVolumeRenderer(const CudaVolumeRenderer&) = delete;
  CudaVolumeRenderer& operator=(const CudaVolumeRenderer&) = delete;

  const char* name() const override { return "cuda"; }
  // RGBA8 into `out` (tests, screenshots); always the still frame (`cancel` unused).
  std::optional<data::DataError> render(const Scene& scene, const data::VolumeSource& source, Frame* out,
                                        const std::atomic<bool>* cancel = nullptr) override;
  bool renders_i420() const override { return true; }
  // Straight to I420 planes (the encoder's input); width and height even.
  std::optional<data::DataError> render_i420(const Scene& scene, const data::VolumeSource& source,
                                             const codec::YuvPlanes& out) override;
  const VolumeRenderStats& last() const override { return last_; }
  bool refinement_ready(const data::VolumeSource& source) const override;

 private:
  void take_stats(double t0);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  VolumeRenderStats last_;
};

}  // namespace voxcast::render
