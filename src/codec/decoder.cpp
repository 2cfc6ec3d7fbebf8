#include "av_error.hpp"
#include "voxcast/codec/decoder.hpp"

#include <cstring>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
}

namespace voxcast::codec {

struct H264Decoder::Impl {
  AVCodecContext* ctx = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  ~Impl() {
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
  }
};

H264Decoder::~H264Decoder() = default;

protocol::Result<std::unique_ptr<H264Decoder>> H264Decoder::open(int threads) {
  using protocol::make_error;
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_H264);
  if (!codec) return make_error("decoder.unavailable", "libavcodec has no H.264 decoder");
  std::unique_ptr<H264Decoder> dec(new H264Decoder());
  dec->impl_ = std::make_unique<Impl>();
  Impl& I = *dec->impl_;
  I.ctx = avcodec_alloc_context3(codec);
  if (!I.ctx) return make_error("decoder.open", "out of memory");
  I.ctx->thread_count = threads;
  I.ctx->thread_type = FF_THREAD_SLICE;  // frame threads add a frame of delay per thread
  I.ctx->flags |= AV_CODEC_FLAG_LOW_DELAY;
  if (int err = avcodec_open2(I.ctx, codec, nullptr); err < 0)
    return make_error("decoder.open", "open failed: " + av_error_text(err));
  I.frame = av_frame_alloc();
  I.packet = av_packet_alloc();
  if (!I.frame || !I.packet) return make_error("decoder.open", "out of memory");
  return dec;
}

void H264Decoder::flush() { avcodec_flush_buffers(impl_->ctx); }

protocol::Result<std::optional<YuvImage>> H264Decoder::decode(protocol::ByteSpan au, int length_size) {
  using protocol::make_error;
  Impl& I = *impl_;
  auto annexb = protocol::avcc_to_annexb(au, length_size);
  if (!annexb) return make_error("decoder.input", "access unit is not valid AVCC");
  if (int err = av_new_packet(I.packet, static_cast<int>(annexb->size())); err < 0)
    return make_error("decoder.decode", "packet: " + av_error_text(err));
  std::memcpy(I.packet->data, annexb->data(), annexb->size());
  int err = avcodec_send_packet(I.ctx, I.packet);
  av_packet_unref(I.packet);
  if (err < 0) return make_error("decoder.decode", "send_packet: " + av_error_text(err));
  err = avcodec_receive_frame(I.ctx, I.frame);
  if (err == AVERROR(EAGAIN)) return std::optional<YuvImage>{};
  if (err < 0) return make_error("decoder.decode", "receive_frame: " + av_error_text(err));
  if (I.frame->format != AV_PIX_FMT_YUV420P && I.frame->format != AV_PIX_FMT_YUVJ420P) {
    av_frame_unref(I.frame);
    return make_error("decoder.format", "stream is not 4:2:0 8-bit");
  }
  YuvImage img;
  img.resize(I.frame->width, I.frame->height);
  for (int y = 0; y < img.height; ++y)
    std::memcpy(img.y.data() + static_cast<size_t>(y) * static_cast<size_t>(img.width),
                I.frame->data[0] + static_cast<ptrdiff_t>(y) * I.frame->linesize[0], static_cast<size_t>(img.width));
  for (int y = 0; y < img.height / 2; ++y) {
    size_t cw = static_cast<size_t>(img.width / 2);
    std::memcpy(img.u.data() + static_cast<size_t>(y) * cw, I.frame->data[1] + static_cast<ptrdiff_t>(y) * I.frame->linesize[1], cw);
    std::memcpy(img.v.data() + static_cast<size_t>(y) * cw, I.frame->data[2] + static_cast<ptrdiff_t>(y) * I.frame->linesize[2], cw);
  }
  av_frame_unref(I.frame);
  return std::optional<YuvImage>(std::move(img));
}

}  // namespace voxcast::codec
