#pragma once
// Internal to the codec library: decoded AVFrames to voxcast's I420 pictures.
#include <cstring>

#include "voxcast/codec/yuv.hpp"
#include "voxcast/protocol/result.hpp"

extern "C" {
#include <libavutil/frame.h>
}

namespace voxcast::codec {

// A picture of the frame's size with its Y plane copied (chroma is laid out per format).
inline YuvImage image_with_luma(const AVFrame* f) {
  YuvImage img;
  img.resize(f->width, f->height);
  for (int y = 0; y < img.height; ++y)
    std::memcpy(img.y.data() + static_cast<size_t>(y) * static_cast<size_t>(img.width),
                f->data[0] + static_cast<ptrdiff_t>(y) * f->linesize[0], static_cast<size_t>(img.width));
  return img;
}

// An NV12 frame in system memory (what hardware decoders hand over) split to I420.
inline protocol::Result<YuvImage> nv12_frame_to_i420(const AVFrame* f) {
  if (f->format != AV_PIX_FMT_NV12)
    return protocol::make_error("decoder.format", "hardware decoder produced an unexpected pixel format");
  YuvImage img = image_with_luma(f);
  const int cw = img.width / 2;
  for (int y = 0; y < img.height / 2; ++y) {
    const uint8_t* uv = f->data[1] + static_cast<ptrdiff_t>(y) * f->linesize[1];
    for (int x = 0; x < cw; ++x) {
      img.u[static_cast<size_t>(y * cw + x)] = uv[2 * x];
      img.v[static_cast<size_t>(y * cw + x)] = uv[2 * x + 1];
    }
  }
  return img;
}

}  // namespace voxcast::codec
