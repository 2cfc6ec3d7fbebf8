#pragma once
// Per-frame metadata that the 24-byte pixel header has no room for, carried in an
// H.264 SEI "user data unregistered" message (payload type 5) with voxcast's UUID.
// Decoders that do not know the UUID skip it, so the stream stays standard.
#include <cstdint>
#include <optional>

#include "voxcast/protocol/h264.hpp"

namespace voxcast::protocol {

inline constexpr uint8_t kQualityRefined = 1;
inline constexpr uint8_t kQualityPartial = 2;

struct FrameMeta {
  uint64_t scene_version = 0;  // ledger version of the scene this frame shows
  double capture_time = 0.0;   // server wall clock when rendering started
  uint32_t render_us = 0;
  uint32_t encode_us = 0;
  uint8_t quality = 0;         // bit 0: refined still; bit 1: partial (a coarser level stands in for data still loading)
  // 3D from multiresolution bricks (appended to layout 1; older readers stop before it):
  // bit L set when the frame drew bricks of pyramid level L, and the wanted bricks still
  // loading. Both 0 for other frames.
  uint16_t levels_drawn = 0;
  uint32_t bricks_loading = 0;
};

// A complete SEI NAL unit (header byte included, emulation prevention applied).
Bytes build_frame_meta_sei(const FrameMeta& meta);
// Finds voxcast's SEI in an AVCC access unit.
std::optional<FrameMeta> find_frame_meta(ByteSpan au, int length_size = 4);
// Returns a copy of the AVCC access unit with `nalu` inserted before its first slice
// (SEI must precede the VCL NAL units of its access unit).
Bytes insert_before_first_slice(ByteSpan au, ByteSpan nalu, int length_size = 4);

}  // namespace voxcast::protocol
