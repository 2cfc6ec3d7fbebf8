#pragma once
#include <cstdint>

#include "voxcast/protocol/pixel_header.hpp"

namespace voxcast::client {

// Keyframe gating of the pixel stream: nothing is decoded before the first keyframe,
// and a gap in `seq` (a lost frame breaks the P-frame chain) drops frames until the
// next keyframe.
struct DecodeGate {
  bool waiting_for_keyframe = true;
  bool have_seq = false;
  uint32_t last_seq = 0;
  uint64_t gaps = 0;
  uint64_t dropped = 0;
};

enum class GateDecision {
  decode,
  drop,                    // still waiting for a keyframe
  drop_request_keyframe,   // a gap just opened: ask the server for an IDR
};

GateDecision gate_frame(DecodeGate* gate, const protocol::PixelHeader& header);

}  // namespace voxcast::client
