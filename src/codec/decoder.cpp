#include "voxcast/codec/decoder.hpp"

#include "av_error.hpp"
#include "nv12.hpp"
#include "voxcast/codec/device_picture.hpp"

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/hwcontext.h>
}

namespace voxcast::codec {

std::optional<DecoderChoice> parse_decoder_choice(const std::string& s) {
  if (s == "software" || s == "sw") return DecoderChoice::software;
  if (s == "auto") return DecoderChoice::automatic;
  if (s == "vaapi") return DecoderChoice::vaapi;
  if (s == "cuda" || s == "nvdec") return DecoderChoice::cuda;
  if (s == "videotoolbox") return DecoderChoice::videotoolbox;
  return std::nullopt;
}

struct H264Decoder::Impl {
  AVCodecContext* ctx = nullptr;
  AVFrame* frame = nullptr;
  AVFrame* sw_frame = nullptr;  // hardware pictures are copied here
  AVPacket* packet = nullptr;
  AVBufferRef* hw_device = nullptr;
  AVPixelFormat hw_format = AV_PIX_FMT_NONE;
  bool keep_on_device = false;
  // NVDEC's and VA-API's pictures are decode surfaces: each one kept downstream holds one.
  // The decoder gets kExtraSurfaces more than it needs; pictures beyond kMaxKept alive at
  // once come to system memory instead, so a slow consumer never starves the decoder.
  static constexpr int kExtraSurfaces = 16, kMaxKept = 12;
  std::shared_ptr<std::atomic<int>> kept = std::make_shared<std::atomic<int>>(0);
  std::string name = "software";
  std::string fallback_reason;
  ~Impl() {
    av_packet_free(&packet);
    av_frame_free(&frame);
    av_frame_free(&sw_frame);
    avcodec_free_context(&ctx);
    av_buffer_unref(&hw_device);
  }
};

namespace {
AVPixelFormat pick_hw_format(AVCodecContext* ctx, const AVPixelFormat* formats) {
  auto want = static_cast<AVPixelFormat>(reinterpret_cast<intptr_t>(ctx->opaque));
  for (const AVPixelFormat* f = formats; *f != AV_PIX_FMT_NONE; ++f)
    if (*f == want) return *f;
  return formats[0];  // libavcodec falls back to software itself
}

// The hwaccel configuration of the H.264 decoder for `type`, if libavcodec has one.
AVPixelFormat hw_format_for(const AVCodec* codec, AVHWDeviceType type) {
  for (int i = 0;; ++i) {
    const AVCodecHWConfig* c = avcodec_get_hw_config(codec, i);
    if (!c) return AV_PIX_FMT_NONE;
    if ((c->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) && c->device_type == type) return c->pix_fmt;
  }
}
}  // namespace

H264Decoder::~H264Decoder() = default;

bool H264Decoder::hardware() const { return impl_->hw_device != nullptr; }
std::string H264Decoder::name() const { return impl_->name; }
const std::string& H264Decoder::fallback_reason() const { return impl_->fallback_reason; }
void H264Decoder::keep_on_device(bool keep) { impl_->keep_on_device = keep; }

protocol::Result<std::unique_ptr<H264Decoder>> H264Decoder::open(int threads, DecoderChoice choice) {
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
  // Hardware: the first device type that opens (automatic), or the one named.
  std::vector<AVHWDeviceType> candidates;
  if (choice == DecoderChoice::automatic)
    candidates = {AV_HWDEVICE_TYPE_CUDA, AV_HWDEVICE_TYPE_VAAPI, AV_HWDEVICE_TYPE_VIDEOTOOLBOX};
  else if (choice == DecoderChoice::vaapi)
    candidates = {AV_HWDEVICE_TYPE_VAAPI};
  else if (choice == DecoderChoice::cuda)
    candidates = {AV_HWDEVICE_TYPE_CUDA};
  else if (choice == DecoderChoice::videotoolbox)
    candidates = {AV_HWDEVICE_TYPE_VIDEOTOOLBOX};
  for (AVHWDeviceType type : candidates) {
    AVPixelFormat fmt = hw_format_for(codec, type);
    const char* type_name = av_hwdevice_get_type_name(type);
    if (fmt == AV_PIX_FMT_NONE) {
      I.fallback_reason += std::string(type_name ? type_name : "?") + ": not in this libavcodec; ";
      continue;
    }
    int level = av_log_get_level();
    av_log_set_level(AV_LOG_QUIET);  // a missing device is an expected outcome, not noise
    // CUDA: the device's primary context, which a display on the same GPU can retain too
    // (its textures then take the pictures without leaving the GPU).
    AVDictionary* options = nullptr;
    if (type == AV_HWDEVICE_TYPE_CUDA) av_dict_set(&options, "primary_ctx", "1", 0);
    int err = av_hwdevice_ctx_create(&I.hw_device, type, nullptr, options, 0);
    av_dict_free(&options);
    // A primary context already active with other flags: a context of its own (a display
    // then cannot import the pictures and takes them from system memory).
    if (err < 0 && type == AV_HWDEVICE_TYPE_CUDA) err = av_hwdevice_ctx_create(&I.hw_device, type, nullptr, nullptr, 0);
    av_log_set_level(level);
    if (err < 0) {
      I.fallback_reason += std::string(type_name) + ": " + av_error_text(err) + "; ";
      continue;
    }
    I.ctx->hw_device_ctx = av_buffer_ref(I.hw_device);
    if (type == AV_HWDEVICE_TYPE_CUDA || type == AV_HWDEVICE_TYPE_VAAPI) I.ctx->extra_hw_frames = Impl::kExtraSurfaces;
    I.ctx->opaque = reinterpret_cast<void*>(static_cast<intptr_t>(fmt));
    I.ctx->get_format = pick_hw_format;
    I.hw_format = fmt;
    I.name = type_name;
    I.fallback_reason.clear();
    break;
  }
  if (choice != DecoderChoice::software && choice != DecoderChoice::automatic && !I.hw_device)
    return make_error("decoder.unavailable", "hardware decoder not available: " + I.fallback_reason);
  if (int err = avcodec_open2(I.ctx, codec, nullptr); err < 0)
    return make_error("decoder.open", "open failed: " + av_error_text(err));
  I.frame = av_frame_alloc();
  I.sw_frame = av_frame_alloc();
  I.packet = av_packet_alloc();
  if (!I.frame || !I.packet || !I.sw_frame) return make_error("decoder.open", "out of memory");
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
  if (I.hw_format != AV_PIX_FMT_NONE && I.frame->format == I.hw_format) {
    const bool keepable = I.frame->format == AV_PIX_FMT_CUDA || I.frame->format == AV_PIX_FMT_VAAPI;
    if (I.keep_on_device && keepable && I.kept->load() < Impl::kMaxKept) {
      AVFrame* held = av_frame_alloc();
      if (!held) return make_error("decoder.decode", "out of memory");
      av_frame_move_ref(held, I.frame);
      YuvImage img;
      img.width = held->width;
      img.height = held->height;
      img.device = DevicePicture::adopt(held, I.kept);
      return std::optional<YuvImage>(std::move(img));
    }
    // A hardware picture: copy it to system memory (NV12) and split the chroma.
    err = av_hwframe_transfer_data(I.sw_frame, I.frame, 0);
    av_frame_unref(I.frame);
    if (err < 0) return make_error("decoder.decode", "hwframe transfer: " + av_error_text(err));
    auto img = nv12_frame_to_i420(I.sw_frame);
    av_frame_unref(I.sw_frame);
    if (!img) return img.error();
    return std::optional<YuvImage>(std::move(img).value());
  }
  if (I.frame->format != AV_PIX_FMT_YUV420P && I.frame->format != AV_PIX_FMT_YUVJ420P) {
    av_frame_unref(I.frame);
    return make_error("decoder.format", "stream is not 4:2:0 8-bit");
  }
  YuvImage img = image_with_luma(I.frame);
  for (int y = 0; y < img.height / 2; ++y) {
    size_t cw = static_cast<size_t>(img.width / 2);
    std::memcpy(img.u.data() + static_cast<size_t>(y) * cw, I.frame->data[1] + static_cast<ptrdiff_t>(y) * I.frame->linesize[1], cw);
    std::memcpy(img.v.data() + static_cast<size_t>(y) * cw, I.frame->data[2] + static_cast<ptrdiff_t>(y) * I.frame->linesize[2], cw);
  }
  av_frame_unref(I.frame);
  return std::optional<YuvImage>(std::move(img));
}

}  // namespace voxcast::codec
