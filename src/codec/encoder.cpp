#include "av_error.hpp"
#include "voxcast/codec/encoder.hpp"

#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
}

namespace voxcast::codec {
namespace {
bool starts_with_start_code(const uint8_t* d, int n) {
  return (n >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == 1) || (n >= 3 && d[0] == 0 && d[1] == 0 && d[2] == 1);
}
}  // namespace

struct H264Encoder::Impl {
  AVCodecContext* ctx = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  int64_t pts = 0;
  int current_crf = -1;
  ~Impl() {
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
  }
};

H264Encoder::~H264Encoder() = default;

protocol::Result<std::unique_ptr<H264Encoder>> H264Encoder::open(const EncoderConfig& c) {
  using protocol::make_error;
  if (c.width <= 0 || c.height <= 0 || c.width % 2 || c.height % 2)
    return make_error("encoder.config", "frame size must be positive and even");
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) return make_error("encoder.unavailable", "libavcodec has no libx264 encoder");
  std::unique_ptr<H264Encoder> enc(new H264Encoder());
  enc->config_ = c;
  enc->impl_ = std::make_unique<Impl>();
  Impl& I = *enc->impl_;
  I.ctx = avcodec_alloc_context3(codec);
  if (!I.ctx) return make_error("encoder.open", "out of memory");
  I.ctx->width = c.width;
  I.ctx->height = c.height;
  int fps_num = static_cast<int>(c.fps * 1000.0 + 0.5);
  I.ctx->time_base = AVRational{1000, fps_num};
  I.ctx->framerate = AVRational{fps_num, 1000};
  I.ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  I.ctx->gop_size = c.keyint;
  I.ctx->max_b_frames = 0;
  I.ctx->thread_count = c.threads;
  I.ctx->color_range = AVCOL_RANGE_MPEG;
  I.ctx->colorspace = AVCOL_SPC_BT709;
  I.ctx->color_primaries = AVCOL_PRI_BT709;
  I.ctx->color_trc = AVCOL_TRC_BT709;
  av_opt_set(I.ctx->priv_data, "preset", c.preset.c_str(), 0);
  av_opt_set(I.ctx->priv_data, "tune", "zerolatency", 0);
  av_opt_set_double(I.ctx->priv_data, "crf", c.crf, 0);
  av_opt_set_int(I.ctx->priv_data, "forced-idr", 1, 0);
  std::string params = "repeat-headers=1:scenecut=0:keyint=" + std::to_string(c.keyint) +
                       ":min-keyint=" + std::to_string(c.keyint) + ":aud=0";
  av_opt_set(I.ctx->priv_data, "x264-params", params.c_str(), 0);
  if (int err = avcodec_open2(I.ctx, codec, nullptr); err < 0)
    return make_error("encoder.open", "libx264 open failed: " + av_error_text(err));
  I.current_crf = c.crf;
  I.frame = av_frame_alloc();
  I.packet = av_packet_alloc();
  if (!I.frame || !I.packet) return make_error("encoder.open", "out of memory");
  I.frame->format = AV_PIX_FMT_YUV420P;
  I.frame->width = c.width;
  I.frame->height = c.height;
  if (int err = av_frame_get_buffer(I.frame, 32); err < 0)
    return make_error("encoder.open", "frame buffer: " + av_error_text(err));
  return enc;
}

YuvPlanes H264Encoder::input() {
  av_frame_make_writable(impl_->frame);
  AVFrame* f = impl_->frame;
  return {f->data[0], f->data[1], f->data[2], f->linesize[0], f->linesize[1], f->linesize[2]};
}

protocol::Result<EncodedFrame> H264Encoder::encode(bool force_idr, int crf) {
  using protocol::make_error;
  Impl& I = *impl_;
  if (crf >= 0 && crf != I.current_crf) {
    // The libx264 wrapper reconfigures x264 when its crf option changes between frames.
    av_opt_set_double(I.ctx->priv_data, "crf", crf, 0);
    I.current_crf = crf;
  }
  I.frame->pts = I.pts++;
  I.frame->pict_type = force_idr ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
  if (int err = avcodec_send_frame(I.ctx, I.frame); err < 0)
    return make_error("encoder.encode", "send_frame: " + av_error_text(err));
  EncodedFrame out;
  int err = avcodec_receive_packet(I.ctx, I.packet);
  if (err < 0) return make_error("encoder.encode", "no access unit for the frame: " + av_error_text(err));
  const uint8_t* d = I.packet->data;
  int n = I.packet->size;
  protocol::ByteSpan span(d, static_cast<size_t>(n));
  out.avcc = starts_with_start_code(d, n) ? protocol::annexb_to_avcc(span) : protocol::Bytes(d, d + n);
  out.keyframe = protocol::avcc_has_idr(out.avcc);
  av_packet_unref(I.packet);
  return out;
}

}  // namespace voxcast::codec
