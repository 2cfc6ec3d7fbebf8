#pragma once
// A hardware decoder's picture left where it was decoded (NV12 in GPU memory), so a
// display on the same GPU can copy it into its textures without a round trip through
// system memory. It holds the decoder's frame reference until the last holder lets go.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "voxcast/codec/yuv.hpp"
#include "voxcast/protocol/result.hpp"

namespace voxcast::codec {

// One plane of a picture as a dma-buf, what EGL_EXT_image_dma_buf_import takes.
struct DmabufPlane {
  int fd = -1;
  uint32_t fourcc = 0;  // DRM format: R8 for luma, GR88 for the interleaved chroma
  uint64_t modifier = 0;
  uint32_t offset = 0, pitch = 0;
  int width = 0, height = 0;
};
struct DmabufNv12 {
  DmabufPlane luma, chroma;
};

// A DRM PRIME frame description (libavutil's AVDRMFrameDescriptor as plain data).
struct DrmLayout {
  struct Object {
    int fd = -1;
    uint64_t modifier = 0;
  };
  struct Plane {
    int object = 0;
    uint32_t offset = 0, pitch = 0;
  };
  struct Layer {
    uint32_t fourcc = 0;
    std::vector<Plane> planes;
  };
  std::vector<Object> objects;
  std::vector<Layer> layers;
};

constexpr uint32_t drm_fourcc(char a, char b, char c, char d) {
  return static_cast<uint32_t>(a) | (static_cast<uint32_t>(b) << 8) | (static_cast<uint32_t>(c) << 16) |
         (static_cast<uint32_t>(d) << 24);
}
constexpr uint32_t kDrmFormatR8 = drm_fourcc('R', '8', ' ', ' ');
constexpr uint32_t kDrmFormatGR88 = drm_fourcc('G', 'R', '8', '8');
constexpr uint32_t kDrmFormatNV12 = drm_fourcc('N', 'V', '1', '2');

// An NV12 picture's two planes from its DRM layout: separate layers (R8 + GR88, what
// VA-API exports) or one NV12 layer of two planes. Nullopt for any other layout.
std::optional<DmabufNv12> nv12_planes_from_drm(const DrmLayout& layout, int width, int height);

class DevicePicture {
 public:
  enum class Api { cuda, vaapi };
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
  // VA-API: the planes as dma-bufs (mapped on first call; the mapping lives as long as the
  // picture, and the decoder does not reuse the surface before that).
  std::optional<DmabufNv12> dmabuf_planes() const;
  // The picture in system memory as I420, for whoever cannot use it where it is.
  protocol::Result<YuvImage> download() const;

  // Takes over `av_frame` (an AVFrame* in AV_PIX_FMT_CUDA or _VAAPI; the decoder's side).
  // `outstanding` (may be null) counts the decoder's pictures alive: one more until this
  // one is freed.
  static std::shared_ptr<const DevicePicture> adopt(void* av_frame, std::shared_ptr<std::atomic<int>> outstanding);

 private:
  DevicePicture() = default;
  void* frame_ = nullptr;  // AVFrame*
  std::shared_ptr<std::atomic<int>> outstanding_;
  mutable std::once_flag mapped_once_;
  mutable void* drm_frame_ = nullptr;  // AVFrame* in DRM_PRIME, the mapping of frame_
  mutable std::optional<DmabufNv12> dmabuf_;
  Api api_ = Api::cuda;
  int width_ = 0, height_ = 0;
};

// `image` with its planes in system memory: itself when it is there already, else the
// download of its device picture.
protocol::Result<YuvImage> in_system_memory(const YuvImage& image);

}  // namespace voxcast::codec
