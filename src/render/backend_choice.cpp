#include "voxcast/render/volume_backend.hpp"
#include "voxcast/render/volume_renderer.hpp"
#ifdef VOXCAST_HAVE_CUDA
#include "cuda_volume_renderer.hpp"
#endif

namespace voxcast::render {

std::unique_ptr<VolumeBackend> make_volume_backend(const VolumeBackendOptions& o, std::string* why) {
  if (o.renderer != "auto" && o.renderer != "cpu" && o.renderer != "cuda") {
    *why = "--renderer must be auto, cuda or cpu";
    return nullptr;
  }
  if (o.bricks != "auto" && o.bricks != "always" && o.bricks != "never") {
    *why = "--bricks must be auto, always or never";
    return nullptr;
  }
  *why = "this build has no CUDA renderer (nvcc was not found at build time)";
#ifdef VOXCAST_HAVE_CUDA
  if (o.renderer != "cpu" && CudaVolumeRenderer::available(why)) {
    why->clear();
    return std::make_unique<CudaVolumeRenderer>(o);
  }
#endif
  if (o.renderer == "cuda") {
    *why = "--renderer cuda: " + *why;
    return nullptr;
  }
  if (o.renderer == "cpu") why->clear();
  return std::make_unique<VolumeRenderer>(o);
}

}  // namespace voxcast::render
