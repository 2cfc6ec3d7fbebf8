#include "voxcast/glimport/frame_importer.hpp"

#include "voxcast/glimport/cuda_gl_import.hpp"
#include "voxcast/glimport/dmabuf_gl_import.hpp"

namespace voxcast::glimport {

OpenedImporter open_frame_importer() {
  OpenedImporter out;
  // CUDA first: on an NVIDIA GPU its copy is cheap and works with GLX and EGL contexts.
  auto cuda = CudaGlImporter::open();
  if (cuda) {
    out.importer = std::move(cuda).value();
    return out;
  }
  auto dmabuf = DmabufGlImporter::open();
  if (dmabuf) {
    out.importer = std::move(dmabuf).value();
    return out;
  }
  out.why_not = cuda.error().message + "; " + dmabuf.error().message;
  return out;
}

}  // namespace voxcast::glimport
