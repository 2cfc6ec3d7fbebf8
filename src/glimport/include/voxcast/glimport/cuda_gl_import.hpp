#pragma once
// Hardware-decoded pictures into a display's GL textures without leaving the GPU: the
// CUDA decoder's NV12 planes are copied device-to-device into two textures registered
// with CUDA (luma GL_R8 w×h, chroma GL_RG8 w/2×h/2), which a shader converts to RGB.
// Used when the GL context runs on an NVIDIA GPU; everywhere else open() says why not,
// and the display takes pictures in system memory instead.
//
// The CUDA driver is loaded at run time (ffnvcodec's loader, as FFmpeg and mpv do), so
// the binary runs on machines without it. Every call needs the GL context that was
// current at open() to be current again.
#include <cstdint>
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

class CudaGlImporter {
 public:
  // Errors: "glimport.no_cuda" (no CUDA driver here), "glimport.not_cuda_gl" (the
  // current GL context is not on a CUDA GPU), "glimport.cuda" (a driver call failed).
  static protocol::Result<std::unique_ptr<CudaGlImporter>> open();
  ~CudaGlImporter();  // the GL context current: unregisters and deletes the textures
  CudaGlImporter(const CudaGlImporter&) = delete;
  CudaGlImporter& operator=(const CudaGlImporter&) = delete;

  // Copies `picture` into the textures (sized on first use and on a size change).
  // "glimport.other_context": the picture was decoded on another GPU or context.
  std::optional<protocol::Error> import(const codec::DevicePicture& picture);
  const Nv12Textures& textures() const;
  const std::string& device_name() const;  // the CUDA device behind the GL context
  uint64_t imports() const;

 private:
  CudaGlImporter();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxcast::glimport
