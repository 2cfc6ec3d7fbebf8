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
  std::string preset = "ultrafast";
};

struct EncodedFrame {
  protocol::Bytes avcc;  // one access unit, 4-byte NAL lengths
  bool keyframe = false;
};

// libx264 through libavcodec, set up for interactive streaming: zerolatency (no
// lookahead, no B-frames, sliced threads), one picture in -> one access unit out,
// SPS/PPS repeated on every IDR, BT.709 limited range signalled in the VUI.
class H264Encoder {
 public:
  static protocol::Result<std::unique_ptr<H264Encoder>> open(const EncoderConfig& config);
  ~H264Encoder();
  H264Encoder(const H264Encoder&) = delete;
  H264Encoder& operator=(const H264Encoder&) = delete;

  const EncoderConfig& config() const { return config_; }
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
};

}  // namespace voxcast::codec
