#include "av_error.hpp"
#include "voxcast/codec/encoder.hpp"

#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
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

namespace {
// Opens one libavcodec H.264 encoder ("libx264" or "h264_nvenc") set up for
// interactive streaming; an error names what failed.
protocol::Result<AVCodecContext*> open_codec(const EncoderConfig& c, const char* name) {
  using protocol::make_error;
  const AVCodec* codec = avcodec_find_encoder_by_name(name);
  if (!codec) return make_error("encoder.unavailable", std::string("libavcodec has no ") + name + " encoder");
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  if (!ctx) return make_error("encoder.open", "out of memory");
  ctx->width = c.width;
  ctx->height = c.height;
  int fps_num = static_cast<int>(c.fps * 1000.0 + 0.5);
  ctx->time_base = AVRational{1000, fps_num};
  ctx->framerate = AVRational{fps_num, 1000};
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->gop_size = c.keyint;
  ctx->max_b_frames = 0;
  ctx->thread_count = c.threads;
  ctx->color_range = AVCOL_RANGE_MPEG;
  ctx->colorspace = AVCOL_SPC_BT709;
  ctx->color_primaries = AVCOL_PRI_BT709;
  ctx->color_trc = AVCOL_TRC_BT709;
  av_opt_set_int(ctx->priv_data, "forced-idr", 1, 0);
  if (c.max_bitrate_bps > 0) {
    ctx->rc_max_rate = static_cast<int64_t>(c.max_bitrate_bps);
    ctx->rc_buffer_size = static_cast<int>(c.max_bitrate_bps / c.fps);
  }
  int err = 0;
  if (std::string(name) == "libx264") {
    av_opt_set(ctx->priv_data, "preset", c.preset.c_str(), 0);
    av_opt_set(ctx->priv_data, "tune", "zerolatency", 0);
    av_opt_set_double(ctx->priv_data, "crf", c.crf, 0);
    std::string params = "repeat-headers=1:scenecut=0:keyint=" + std::to_string(c.keyint) +
                         ":min-keyint=" + std::to_string(c.keyint) + ":aud=0";
    av_opt_set(ctx->priv_data, "x264-params", params.c_str(), 0);
    err = avcodec_open2(ctx, codec, nullptr);
  } else {
    // NVENC: fastest preset, ultra-low-latency tuning, constant QP at the crf value,
    // no reordering; SPS/PPS are repeated on IDRs when no global header is asked for.
    av_opt_set(ctx->priv_data, "preset", "p1", 0);
    av_opt_set(ctx->priv_data, "tune", "ull", 0);
    av_opt_set_int(ctx->priv_data, "zerolatency", 1, 0);
    av_opt_set_int(ctx->priv_data, "delay", 0, 0);
    if (c.max_bitrate_bps > 0) {  // the quality level, within the link's cap
      av_opt_set(ctx->priv_data, "rc", "vbr", 0);
      av_opt_set_int(ctx->priv_data, "cq", c.crf, 0);
    } else {
      av_opt_set(ctx->priv_data, "rc", "constqp", 0);
      av_opt_set_int(ctx->priv_data, "qp", c.crf, 0);
    }
    // A GPU without an encoder (H100, H200) fails here; keep libav quiet about it.
    int level = av_log_get_level();
    av_log_set_level(AV_LOG_QUIET);
    err = avcodec_open2(ctx, codec, nullptr);
    av_log_set_level(level);
  }
  if (err < 0) {
    avcodec_free_context(&ctx);
    return make_error("encoder.open", std::string(name) + " open failed: " + av_error_text(err));
  }
  return ctx;
}
}  // namespace

void set_library_logging(bool verbose) { av_log_set_level(verbose ? AV_LOG_INFO : AV_LOG_WARNING); }

protocol::Result<std::unique_ptr<H264Encoder>> H264Encoder::open(const EncoderConfig& c) {
  using protocol::make_error;
  if (c.width <= 0 || c.height <= 0 || c.width % 2 || c.height % 2)
    return make_error("encoder.config", "frame size must be positive and even");
  if (c.backend != "auto" && c.backend != "x264" && c.backend != "nvenc")
    return make_error("encoder.config", "encoder must be auto, x264 or nvenc");
  std::unique_ptr<H264Encoder> enc(new H264Encoder());
  enc->config_ = c;
  enc->impl_ = std::make_unique<Impl>();
  Impl& I = *enc->impl_;
  if (c.backend != "x264") {
    auto nvenc = open_codec(c, "h264_nvenc");
    if (nvenc) {
      I.ctx = nvenc.value();
      enc->name_ = "h264_nvenc";
    } else if (c.backend == "nvenc") {
      return nvenc.error();
    } else {
      enc->fallback_reason_ = nvenc.error().message;
    }
  }
  if (!I.ctx) {
    auto x264 = open_codec(c, "libx264");
    if (!x264) return x264.error();
    I.ctx = x264.value();
    enc->name_ = "libx264";
  }
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
  if (crf >= 0 && crf != I.current_crf && name_ == "libx264") {
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
