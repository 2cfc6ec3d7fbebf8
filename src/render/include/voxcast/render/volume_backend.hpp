#pragma once
// One interface for the 3D renderers (the CPU ray caster, the CUDA one), chosen in one
// place (make_volume_backend), so the render loop never asks which it has.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/frame.hpp"
#include "voxcast/render/scene.hpp"

namespace voxcast::codec {
struct YuvPlanes;
}

namespace voxcast::render {

// What a multiresolution (bricked) frame had of the volume: per pyramid level, the bricks
// the view wanted, those resident, and the ray samples taken there.
struct BrickResidency {
  std::vector<int> wanted;    // per level
  std::vector<int> resident;  // per level, of the wanted ones
  std::vector<int64_t> samples;  // per level: ray samples taken in bricks of that level
  int loading = 0;               // wanted bricks not yet resident (requested)
  size_t bytes = 0;              // memory held by resident bricks
  size_t budget_bytes = 0;
  // Where the frame's host time went (ms): choosing the bricks, requesting the missing
  // ones' chunks, copying arrived bricks out of the cache, and the backend placing them
  // (the CUDA pool's uploads and page tables; 0 on the CPU).
  double choose_ms = 0, request_ms = 0, copy_ms = 0, place_ms = 0;
};

struct VolumeRenderStats {
  int level = 0;       // multiscale level drawn (the finest sampled, for bricks)
  double scale = 1.0;  // fraction of the canvas resolution actually ray cast
  double ms = 0.0;
  bool cancelled = false;  // `cancel` was raised: `out` is incomplete and must not be shown
  bool complete = true;    // false: coarser bricks stood in; refine once refinement_ready()
  bool bricked = false;    // drawn from bricks (residency below is filled)
  BrickResidency residency;
};

class VolumeBackend {
 public:
  virtual ~VolumeBackend() = default;
  virtual const char* name() const = 0;  // "cpu", "cuda"
  // RGBA8 into `out`, resized to the scene's canvas. `cancel` (optional) is polled: a
  // still render gives way as soon as the user moves again (last().cancelled).
  virtual std::optional<data::DataError> render(const Scene& scene, const data::VolumeSource& source, Frame* out,
                                                const std::atomic<bool>* cancel = nullptr) = 0;
  // True when render_i420 converts on the device (only the YUV picture crosses to the host).
  virtual bool renders_i420() const { return false; }
  // Straight into I420 planes (width and height even); only when renders_i420().
  virtual std::optional<data::DataError> render_i420(const Scene& scene, const data::VolumeSource& source,
                                                     const codec::YuvPlanes& out);
  virtual const VolumeRenderStats& last() const = 0;
  // After a frame with last().complete == false: true once the data it wanted is in
  // memory (a new frame shows it); queues nothing.
  virtual bool refinement_ready(const data::VolumeSource& source) const {
    (void)source;
    return true;
  }
};

struct VolumeBackendOptions {
  std::string renderer = "auto";  // auto (CUDA when a device is present), cuda, cpu
  int threads = 0;
  double frame_ms = 33.0;     // frame-time budget while the camera moves
  double cpu_mb = 4096;       // CPU: memory for the volume (whole blocks or bricks)
  double gpu_mb = 16384;      // CUDA: brick pool / textures in GPU memory
  std::string bricks = "auto";  // auto (bricks when the finest level does not fit), always, never
};

// The backend `options.renderer` names; nullptr with `why` when it cannot be had (cuda
// asked for on a machine or build without it, or an unknown name). `auto` falls back to
// the CPU with the reason in `why`.
std::unique_ptr<VolumeBackend> make_volume_backend(const VolumeBackendOptions& options, std::string* why);

}  // namespace voxcast::render
