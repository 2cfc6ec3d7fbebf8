#include "voxcast/codec/device_picture.hpp"

#include <cassert>

#include "av_error.hpp"
#include "nv12.hpp"

extern "C" {
#include <ffnvcodec/dynlink_cuda.h>  // CUDA types for hwcontext_cuda.h without the toolkit
#include <libavutil/frame.h>
#include <libavutil/hwcontext.h>
#include <libavutil/hwcontext_cuda.h>
#include <libavutil/hwcontext_drm.h>
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
  assert((f->format == AV_PIX_FMT_CUDA || f->format == AV_PIX_FMT_VAAPI) && "a CUDA or VA-API picture");
  p->api_ = f->format == AV_PIX_FMT_CUDA ? Api::cuda : Api::vaapi;
  return p;
}

DevicePicture::~DevicePicture() {
  auto* drm = static_cast<AVFrame*>(drm_frame_);
  av_frame_free(&drm);  // the mapping goes before the picture it maps
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

std::optional<DmabufNv12> nv12_planes_from_drm(const DrmLayout& layout, int width, int height) {
  auto plane = [&](uint32_t fourcc, const DrmLayout::Plane& p, int w, int h) -> std::optional<DmabufPlane> {
    if (p.object < 0 || static_cast<size_t>(p.object) >= layout.objects.size()) return std::nullopt;
    const auto& o = layout.objects[static_cast<size_t>(p.object)];
    return DmabufPlane{o.fd, fourcc, o.modifier, p.offset, p.pitch, w, h};
  };
  std::optional<DmabufPlane> luma, chroma;
  const auto& L = layout.layers;
  if (L.size() == 2 && L[0].fourcc == kDrmFormatR8 && L[1].fourcc == kDrmFormatGR88 && L[0].planes.size() == 1 &&
      L[1].planes.size() == 1) {
    luma = plane(kDrmFormatR8, L[0].planes[0], width, height);
    chroma = plane(kDrmFormatGR88, L[1].planes[0], width / 2, height / 2);
  } else if (L.size() == 1 && L[0].fourcc == kDrmFormatNV12 && L[0].planes.size() == 2) {
    luma = plane(kDrmFormatR8, L[0].planes[0], width, height);
    chroma = plane(kDrmFormatGR88, L[0].planes[1], width / 2, height / 2);
  }
  if (!luma || !chroma) return std::nullopt;
  return DmabufNv12{*luma, *chroma};
}

std::optional<DmabufNv12> DevicePicture::dmabuf_planes() const {
  if (api_ != Api::vaapi) return std::nullopt;
  std::call_once(mapped_once_, [this] {
    AVFrame* drm = av_frame_alloc();
    if (!drm) return;
    drm->format = AV_PIX_FMT_DRM_PRIME;
    if (av_hwframe_map(drm, static_cast<const AVFrame*>(frame_), AV_HWFRAME_MAP_READ) < 0) {
      av_frame_free(&drm);
      return;
    }
    drm_frame_ = drm;
    const auto* d = reinterpret_cast<const AVDRMFrameDescriptor*>(drm->data[0]);
    DrmLayout layout;
    for (int i = 0; i < d->nb_objects; ++i) layout.objects.push_back({d->objects[i].fd, d->objects[i].format_modifier});
    for (int i = 0; i < d->nb_layers; ++i) {
      DrmLayout::Layer layer;
      layer.fourcc = d->layers[i].format;
      for (int j = 0; j < d->layers[i].nb_planes; ++j) {
        const auto& p = d->layers[i].planes[j];
        layer.planes.push_back({p.object_index, static_cast<uint32_t>(p.offset), static_cast<uint32_t>(p.pitch)});
      }
      layout.layers.push_back(std::move(layer));
    }
    dmabuf_ = nv12_planes_from_drm(layout, width_, height_);
  });
  return dmabuf_;
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
