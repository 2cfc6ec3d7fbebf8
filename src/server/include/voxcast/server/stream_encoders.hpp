#pragma once
// The encodes a frame is made in: the stream as quality alone makes it (cap step -1, the
// render loop's own encoder) and one per link cap that a client needs (LinkRate's ladder),
// each its own H.264 stream with its own references. The picture is converted once, into
// the uncapped encoder's input, and copied into the capped ones (a plane copy is far
// cheaper than a conversion). Clients that share a cap share its encode.
#include <map>
#include <memory>
#include <vector>

#include "voxcast/codec/encoder.hpp"

namespace voxcast::server {

// At most this many capped encodes per frame, each costing an encoder's time: steps past
// it go to the nearest encoded step below (or the lowest).
inline constexpr size_t kMaxCappedStreams = 4;

// The steps to encode for clients wanting `wanted` (any order, repeats allowed; -1:
// uncapped): -1 when wanted (or nobody wants any), then at most kMaxCappedStreams capped steps, the lowest
// kept (a slow link is served before a fast one is refined). Sorted.
std::vector<int> stream_steps_for(const std::vector<int>& wanted);
// The encoded step a client wanting `step` receives from `encoded` (stream_steps_for).
int served_step(const std::vector<int>& encoded, int step);

class CappedEncoders {
 public:
  // Opens the capped encoders of `steps` (from `base`, the uncapped configuration) not open
  // yet and closes those not in it. An encoder that fails to open is logged and left out.
  void set_steps(const codec::EncoderConfig& base, const std::vector<int>& steps);
  bool has(int step) const { return step < 0 || encoders_.count(step) > 0; }
  // Encodes `uncapped`'s input picture at `step` (copied into that step's encoder first).
  protocol::Result<codec::EncodedFrame> encode(codec::H264Encoder& uncapped, int step, bool force_idr, int crf);
  size_t size() const { return encoders_.size(); }

 private:
  std::map<int, std::unique_ptr<codec::H264Encoder>> encoders_;
};

}  // namespace voxcast::server
