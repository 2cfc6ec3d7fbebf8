#pragma once
// NVDEC pictures into GL: the CUDA decoder's NV12 planes are copied device-to-device
// into two textures registered with CUDA. Used when the GL context runs on an NVIDIA GPU.
// The CUDA driver is loaded at run time (ffnvcodec's loader, as FFmpeg and mpv do), so
// the binary runs on machines without it.
#include <cstdint>

#include "voxcast/glimport/frame_importer.hpp"

namespace voxcast::glimport {

class CudaGlImporter final : public FrameImporter {
 public:
  // Errors: "glimport.no_cuda" (no CUDA driver here), "glimport.not_cuda_gl" (the
  // current GL context is not on a CUDA GPU), "glimport.cuda" (a driver call failed).
  static protocol::Result<std::unique_ptr<CudaGlImporter>> open();
  ~CudaGlImporter();  // the GL context current: unregisters and deletes the textures
  CudaGlImporter(const CudaGlImporter&) = delete;
  CudaGlImporter& operator=(const CudaGlImporter&) = delete;

  // Copies `picture` into the textures (sized on first use and on a size change).
  // "glimport.other_context": the picture was decoded on another GPU or context.
  std::optional<protocol::Error> import(const codec::DevicePicture& picture) override;
  const Nv12Textures& textures() const override;
  std::string describe() const override;
  uint64_t imports() const override;
  const std::string& device_name() const;  // the CUDA device behind the GL context

 private:
  CudaGlImporter();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxcast::glimport
