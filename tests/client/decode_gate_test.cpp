#include <gtest/gtest.h>

#include "voxcast/client/decode_gate.hpp"

using namespace voxcast;
using namespace voxcast::client;

namespace {
protocol::PixelHeader h(uint32_t seq, bool key) {
  protocol::PixelHeader x;
  x.seq = seq;
  x.flags = key ? protocol::kFlagKeyframe : 0;
  return x;
}
}  // namespace

TEST(DecodeGate, WaitsForTheFirstKeyframe) {
  DecodeGate g;
  EXPECT_EQ(gate_frame(&g, h(0, false)), GateDecision::drop);
  EXPECT_EQ(gate_frame(&g, h(1, true)), GateDecision::decode);
  EXPECT_EQ(gate_frame(&g, h(2, false)), GateDecision::decode);
  EXPECT_EQ(g.dropped, 1u);
}

TEST(DecodeGate, AGapDropsUntilTheNextKeyframeAndAsksOnce) {
  DecodeGate g;
  gate_frame(&g, h(10, true));
  EXPECT_EQ(gate_frame(&g, h(12, false)), GateDecision::drop_request_keyframe);
  EXPECT_EQ(gate_frame(&g, h(13, false)), GateDecision::drop);
  EXPECT_EQ(gate_frame(&g, h(14, true)), GateDecision::decode);
  EXPECT_EQ(gate_frame(&g, h(15, false)), GateDecision::decode);
  EXPECT_EQ(g.gaps, 1u);
  // A gap that lands on a keyframe needs nothing.
  EXPECT_EQ(gate_frame(&g, h(20, true)), GateDecision::decode);
  // seq wraps at 2^32.
  DecodeGate w;
  gate_frame(&w, h(0xFFFFFFFFu, true));
  EXPECT_EQ(gate_frame(&w, h(0, false)), GateDecision::decode);
}
