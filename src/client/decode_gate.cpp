#include "voxcast/client/decode_gate.hpp"

namespace voxcast::client {

GateDecision gate_frame(DecodeGate* g, const protocol::PixelHeader& h) {
  bool gap = g->have_seq && h.seq != static_cast<uint32_t>(g->last_seq + 1u);
  g->have_seq = true;
  g->last_seq = h.seq;
  if (gap) {
    g->gaps += 1;
    if (!h.keyframe()) {
      bool newly = !g->waiting_for_keyframe;
      g->waiting_for_keyframe = true;
      g->dropped += 1;
      return newly ? GateDecision::drop_request_keyframe : GateDecision::drop;
    }
  }
  if (h.keyframe()) {
    g->waiting_for_keyframe = false;
    return GateDecision::decode;
  }
  if (g->waiting_for_keyframe) {
    g->dropped += 1;
    return GateDecision::drop;
  }
  return GateDecision::decode;
}

}  // namespace voxcast::client
