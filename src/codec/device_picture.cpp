#include "voxcast/codec/device_picture.hpp"

#include "av_error.hpp"
#include "nv12.hpp"

extern "C" {
#include <ffnvcodec/dynlink_cuda.h>  // CUDA types for hwcontext_cuda.h without the toolkit
#include <libavutil/frame.h>
#include <libavutil/hwcontext.h>
#include <libavutil/hwcontext_cuda.h>
}

namespace voxcast::codec {

std::shared_ptr<const DevicePicture> DevicePicture::adopt(void* av_frame, std::shared_ptr<std::atomic<int>> outstanding) {
  auto* f = static_cast<AVFrame*>(av_frame);
  std::shared_ptr<DevicePicture> p(new DevicePicture());
  p->frame_ = f;
  p->outstanding_ = std::move(outstanding);
  if (p->outstanding_) p->outstanding_->fetch_add(1);
  p->width_ = f->width;
  p->height_ = f->height;
  p->api_ = f->format == AV_PIX_FMT_CUDA ? Api::cuda : Api::other;
  return p;
}

DevicePicture::~DevicePicture() {
  auto* f = static_cast<AVFrame*>(frame_);
  av_frame_free(&f);
  if (outstanding_) outstanding_->fetch_sub(1);
}

std::optional<DevicePicture::CudaPlanes> DevicePicture::cuda_planes() const {
  const auto* f = static_cast<const AVFrame*>(frame_);
  if (api_ != Api::cuda || !f->hw_frames_ctx) return std::nullopt;
  const auto* frames = reinterpret_cast<const AVHWFramesContext*>(f->hw_frames_ctx->data);
  if (frames->sw_format != AV_PIX_FMT_NV12) return std::nullopt;
  const auto* device = static_cast<const AVCUDADeviceContext*>(frames->device_ctx->hwctx);
  CudaPlanes planes;
  planes.context = device->cuda_ctx;
  planes.luma = reinterpret_cast<uint64_t>(f->data[0]);
  planes.chroma = reinterpret_cast<uint64_t>(f->data[1]);
  planes.luma_pitch = static_cast<size_t>(f->linesize[0]);
  planes.chroma_pitch = static_cast<size_t>(f->linesize[1]);
  return planes;
}

protocol::Result<YuvImage> DevicePicture::download() const {
  AVFrame* sw = av_frame_alloc();
  if (!sw) return protocol::make_error("decoder.download", "out of memory");
  int err = av_hwframe_transfer_data(sw, static_cast<const AVFrame*>(frame_), 0);
  if (err < 0) {
    av_frame_free(&sw);
    return protocol::make_error("decoder.download", "hwframe transfer: " + av_error_text(err));
  }
  auto img = nv12_frame_to_i420(sw);
  av_frame_free(&sw);
  return img;
}

protocol::Result<YuvImage> in_system_memory(const YuvImage& image) {
  if (!image.device) return image;
  return image.device->download();
}

}  // namespace voxcast::codec
