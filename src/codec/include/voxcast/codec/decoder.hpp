#pragma once
#include <memory>
#include <optional>
#include <string>

#include "voxcast/codec/yuv.hpp"
#include "voxcast/protocol/h264.hpp"
#include "voxcast/protocol/result.hpp"

namespace voxcast::codec {

// Where decoding runs: software (libavcodec, slice threads), or a hardware decoder through
// libavcodec's hwaccel (VA-API on Linux, CUDA/NVDEC, VideoToolbox on macOS).
enum class DecoderChoice { software, automatic, vaapi, cuda, videotoolbox };
std::optional<DecoderChoice> parse_decoder_choice(const std::string& s);  // software|auto|vaapi|cuda|videotoolbox

// libavcodec's H.264 decoder in low-delay mode: one access unit in, its picture out
// (no frame threading, which would hold frames back).
class H264Decoder {
 public:
  // `automatic` tries the platform's hardware decoders and falls back to software;
  // naming one fails when it is not available.
  static protocol::Result<std::unique_ptr<H264Decoder>> open(int threads = 1,
                                                             DecoderChoice choice = DecoderChoice::software);
  bool hardware() const;
  std::string name() const;  // "software" or the hwaccel's name
  // Why a requested hardware decoder is not used (empty when none was asked for or it works).
  const std::string& fallback_reason() const;
  // Pictures of a CUDA or VA-API decoder stay in GPU memory (YuvImage::device, planes
  // empty) instead of being copied to system memory; for a display that imports them.
  // Software and other hardware decoders are not affected.
  void keep_on_device(bool keep);
  ~H264Decoder();
  H264Decoder(const H264Decoder&) = delete;
  H264Decoder& operator=(const H264Decoder&) = delete;

  // Decodes one AVCC access unit. Returns the picture, or nullopt when the decoder
  // produced none for this unit; an error for a corrupt unit.
  protocol::Result<std::optional<YuvImage>> decode(protocol::ByteSpan avcc_au, int length_size = 4);
  // Forgets references (after a gap, before the next keyframe).
  void flush();

 private:
  H264Decoder() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxcast::codec
