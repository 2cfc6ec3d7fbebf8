#pragma once
// A hardware decoder's picture left where it was decoded (NV12 in GPU memory), so a
// display on the same GPU can copy it into its textures without a round trip through
// system memory. It holds the decoder's frame reference until the last holder lets go.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "voxcast/codec/yuv.hpp"
#include "voxcast/protocol/result.hpp"

namespace voxcast::codec {

class DevicePicture {
 public:
  enum class Api { cuda, other };
  // The two NV12 planes as CUDA device pointers, valid in `context` (a CUcontext: the
  // device's primary context, so a display can retain the same one).
  struct CudaPlanes {
    void* context = nullptr;
    uint64_t luma = 0, chroma = 0;  // CUdeviceptr
    size_t luma_pitch = 0, chroma_pitch = 0;
  };

  ~DevicePicture();
  DevicePicture(const DevicePicture&) = delete;
  DevicePicture& operator=(const DevicePicture&) = delete;

  Api api() const { return api_; }
  int width() const { return width_; }
  int height() const { return height_; }
  std::optional<CudaPlanes> cuda_planes() const;
  // The picture in system memory as I420, for whoever cannot use it where it is.
  protocol::Result<YuvImage> download() const;

  // Takes over `av_frame` (an AVFrame* in a hardware pixel format; the decoder's side).
  // `outstanding` (may be null) counts the decoder's pictures alive: one more until this
  // one is freed.
  static std::shared_ptr<const DevicePicture> adopt(void* av_frame, std::shared_ptr<std::atomic<int>> outstanding);

 private:
  DevicePicture() = default;
  void* frame_ = nullptr;  // AVFrame*
  std::shared_ptr<std::atomic<int>> outstanding_;
  Api api_ = Api::other;
  int width_ = 0, height_ = 0;
};

// `image` with its planes in system memory: itself when it is there already, else the
// download of its device picture.
protocol::Result<YuvImage> in_system_memory(const YuvImage& image);

}  // namespace voxcast::codec
