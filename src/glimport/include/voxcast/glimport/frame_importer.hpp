#pragma once
// Hardware-decoded pictures into a display's GL textures without leaving the GPU. Each
// importer makes two NV12 textures (luma GL_R8 w×h, chroma GL_RG8 w/2×h/2) that a shader
// converts to RGB:
//   - CUDA-GL (NVDEC pictures, a GL context on an NVIDIA GPU): a device-to-device copy;
//   - dma-buf (VA-API pictures, an EGL context with EGL_EXT_image_dma_buf_import): the
//     textures alias the decoder's surface, no copy at all.
// Where neither works, open_frame_importer() says why and the display takes pictures in
// system memory. Every call needs the GL context that was current at open to be current.
#include <memory>
#include <optional>
#include <string>

#include "voxcast/codec/device_picture.hpp"
#include "voxcast/protocol/result.hpp"

namespace voxcast::glimport {

struct Nv12Textures {
  unsigned luma = 0;    // GL_R8, width × height
  unsigned chroma = 0;  // GL_RG8 (U, V), width/2 × height/2
  int width = 0, height = 0;
};

class FrameImporter {
 public:
  virtual ~FrameImporter() = default;
  // Puts `picture` into the textures. An aliasing importer's textures show the picture's
  // memory: the caller keeps the picture alive until the next import replaces it.
  virtual std::optional<protocol::Error> import(const codec::DevicePicture& picture) = 0;
  virtual const Nv12Textures& textures() const = 0;
  virtual std::string describe() const = 0;  // "CUDA-GL, NVIDIA H200", "VA-API dma-buf, EGL"
  virtual uint64_t imports() const = 0;
};

struct OpenedImporter {
  std::unique_ptr<FrameImporter> importer;  // null: none works here
  std::string why_not;                      // each importer's reason, when none works
};
// With a GL context current: the first importer that works with it.
OpenedImporter open_frame_importer();

}  // namespace voxcast::glimport
