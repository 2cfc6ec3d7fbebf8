#pragma once
#include <memory>
#include <string>

#include "voxcast/codec/yuv.hpp"
#include "voxcast/protocol/h264.hpp"
#include "voxcast/protocol/result.hpp"

namespace voxcast::codec {

struct EncoderConfig {
  int width = 1920;
  int height = 1080;
  double fps = 60.0;
  int crf = 23;        // interactive quality
  int keyint = 600;    // frames between periodic IDRs
  int threads = 0;     // 0: all cores
  std::string preset = "ultrafast";  // x264
  std::string backend = "auto";      // auto: NVENC when the GPU has an encoder, else x264; x264; nvenc
  // 0: quality alone decides the size (CRF). Else a cap for a client's link: capped CRF
  // with a VBV of about one frame (as Moonlight), so no frame queues behind a big one.
  double max_bitrate_bps = 0;
};

struct EncodedFrame {
  protocol::Bytes avcc;  // one access unit, 4-byte NAL lengths
  bool keyframe = false;
};

// H.264 through libavcodec, set up for interactive streaming: one picture in -> one
// access unit out, no B-frames, SPS/PPS repeated on every IDR, BT.709 limited range in
// the VUI. NVENC (h264_nvenc) when the GPU has an encoder, otherwise libx264 with
// zerolatency (no lookahead, sliced threads). H100/H200 have no NVENC: x264 it is.
class H264Encoder {
 public:
  static protocol::Result<std::unique_ptr<H264Encoder>> open(const EncoderConfig& config);
  ~H264Encoder();
  H264Encoder(const H264Encoder&) = delete;
  H264Encoder& operator=(const H264Encoder&) = delete;

  const EncoderConfig& config() const { return config_; }
  const std::string& name() const { return name_; }  // "libx264" or "h264_nvenc"
  // Why NVENC was not used (empty when it is, or when x264 was asked for).
  const std::string& fallback_reason() const { return fallback_reason_; }
  // The encoder's own input picture; write the next frame here, then call encode().
  YuvPlanes input();
  // Encodes the input picture. `force_idr` makes it an IDR without reopening the
  // encoder. `crf` (when >= 0) changes quality from this frame on.
  protocol::Result<EncodedFrame> encode(bool force_idr, int crf = -1);

 private:
  H264Encoder() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  EncoderConfig config_;
  std::string name_;
  std::string fallback_reason_;
};

// libavcodec/libx264 chatter (capabilities, end-of-stream statistics) only when verbose.
void set_library_logging(bool verbose);

}  // namespace voxcast::codec
