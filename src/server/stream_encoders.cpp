#include "voxcast/server/stream_encoders.hpp"

#include <algorithm>
#include <cstring>

#include "voxcast/core/log.hpp"
#include "voxcast/server/link_rate.hpp"

namespace voxcast::server {

std::vector<int> stream_steps_for(const std::vector<int>& wanted) {
  if (wanted.empty()) return {-1};
  std::vector<int> steps = wanted;
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  const size_t uncapped = !steps.empty() && steps.front() < 0 ? 1 : 0;
  if (steps.size() > uncapped + kMaxCappedStreams) steps.resize(uncapped + kMaxCappedStreams);
  return steps;
}

int served_step(const std::vector<int>& encoded, int step) {
  if (std::find(encoded.begin(), encoded.end(), step) != encoded.end()) return step;
  int best = -2;
  for (int s : encoded)
    if (s >= 0 && (step < 0 || s <= step)) best = std::max(best, s);
  if (best >= 0) return best;
  for (int s : encoded)  // below every encoded cap: the lowest one
    if (s >= 0) return s;
  return -1;
}

void CappedEncoders::set_steps(const codec::EncoderConfig& base, const std::vector<int>& steps) {
  for (auto it = encoders_.begin(); it != encoders_.end();)
    it = std::find(steps.begin(), steps.end(), it->first) == steps.end() ? encoders_.erase(it) : std::next(it);
  for (int step : steps) {
    if (step < 0 || encoders_.count(step)) continue;
    codec::EncoderConfig c = base;
    c.max_bitrate_bps = cap_step_bps(step);
    auto enc = codec::H264Encoder::open(c);
    if (!enc) {
      log_error("render", "encoder for a " + std::to_string(c.max_bitrate_bps / 1e6) +
                              " Mbit/s link: " + enc.error().message);
      continue;
    }
    encoders_[step] = std::move(enc).value();
  }
}

protocol::Result<codec::EncodedFrame> CappedEncoders::encode(codec::H264Encoder& uncapped, int step, bool force_idr,
                                                             int crf) {
  if (step < 0) return uncapped.encode(force_idr, crf);
  auto it = encoders_.find(step);
  if (it == encoders_.end()) return protocol::make_error("encoder.missing", "no encoder for this cap");
  codec::H264Encoder& enc = *it->second;
  const codec::YuvPlanes from = uncapped.input(), to = enc.input();
  const int w = enc.config().width, h = enc.config().height;
  for (int y = 0; y < h; ++y) std::memcpy(to.y + static_cast<ptrdiff_t>(y) * to.y_stride, from.y + static_cast<ptrdiff_t>(y) * from.y_stride, static_cast<size_t>(w));
  for (int y = 0; y < h / 2; ++y) {
    std::memcpy(to.u + static_cast<ptrdiff_t>(y) * to.u_stride, from.u + static_cast<ptrdiff_t>(y) * from.u_stride, static_cast<size_t>(w / 2));
    std::memcpy(to.v + static_cast<ptrdiff_t>(y) * to.v_stride, from.v + static_cast<ptrdiff_t>(y) * from.v_stride, static_cast<size_t>(w / 2));
  }
  return enc.encode(force_idr, crf);
}

}  // namespace voxcast::server
