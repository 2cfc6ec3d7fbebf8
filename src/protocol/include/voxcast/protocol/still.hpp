#pragma once
// The exact-still message of the pixel channel (docs/messages.md, "Exact stills"): after
// the 24-byte header (codec still_png, flag kFlagStill) a 16-byte big-endian prefix, then
// a PNG of the server's render. Only pixel sockets that asked (still=png) receive one.
#include <cstdint>
#include <string_view>

#include "voxcast/protocol/h264.hpp"
#include "voxcast/protocol/result.hpp"

namespace voxcast::protocol {

inline constexpr uint8_t kCodecStillPng = 16;
inline constexpr uint8_t kFlagStill = 0x02;
inline constexpr size_t kStillPrefixSize = 16;
inline constexpr const char* kFeatureExactStill = "pixel.exact_still";

struct StillMeta {
  uint64_t scene_version = 0;
  uint32_t render_us = 0;
  uint32_t png_us = 0;  // time the server took to encode the PNG
};

// A view of a still payload (points into the message it was read from).
struct StillView {
  StillMeta meta;
  ByteSpan png;
};

Bytes build_still_payload(const StillMeta& meta, ByteSpan png);
// Checks the prefix and the PNG signature; "pixel.invalid" otherwise.
Result<StillView> read_still(ByteSpan payload);
// Whether a pixel upgrade target ("/pixel?token=…&still=png") asks for stills.
bool target_asks_for_stills(std::string_view target);

}  // namespace voxcast::protocol
