#include "voxcast/client/report.hpp"

#include <cstdio>

namespace voxcast::client {

std::vector<double> intent_latencies_ms(const std::vector<IntentRecord>& intents, const std::vector<FrameRecord>& frames,
                                        size_t* unanswered) {
  std::vector<double> out;
  size_t missing = 0;
  for (const auto& in : intents) {
    if (!in.accepted || in.version <= 0) continue;
    bool found = false;
    for (const auto& f : frames) {
      if (!f.decoded || f.decoded_ms < in.sent_ms) continue;
      if (f.scene_version >= static_cast<uint64_t>(in.version)) {
        out.push_back(f.decoded_ms - in.sent_ms);
        found = true;
        break;
      }
    }
    if (!found) ++missing;
  }
  if (unanswered) *unanswered = missing;
  return out;
}

SessionReport make_report(const std::vector<IntentRecord>& intents, const std::vector<FrameRecord>& frames) {
  SessionReport r;
  r.frames_received = frames.size();
  r.intents = intents.size();
  std::vector<double> decode, render, encode, bytes;
  double first = 0, last = 0, total_bytes = 0;
  for (const auto& f : frames) {
    total_bytes += static_cast<double>(f.bytes);
    bytes.push_back(static_cast<double>(f.bytes));
    if (!f.decoded || f.still) continue;  // the video's figures; exact stills are counted apart
    if (r.frames_decoded == 0) first = f.decoded_ms;
    last = f.decoded_ms;
    ++r.frames_decoded;
    decode.push_back(f.decode_ms);
    render.push_back(f.render_ms);
    encode.push_back(f.encode_ms);
  }
  r.seconds = (last - first) / 1000.0;
  r.fps = r.seconds > 0 ? static_cast<double>(r.frames_decoded - 1) / r.seconds : 0;
  r.mbit_per_s = r.seconds > 0 ? total_bytes * 8.0 / r.seconds / 1e6 : 0;
  r.latency_ms = summarize(intent_latencies_ms(intents, frames, &r.unanswered));
  r.decode_ms = summarize(decode);
  r.render_ms = summarize(render);
  r.encode_ms = summarize(encode);
  r.bytes_per_frame = summarize(bytes);
  return r;
}

std::string format_report(const SessionReport& r) {
  char buf[1024];
  std::snprintf(buf, sizeof(buf),
                "frames       %zu received, %zu decoded over %.2f s (%.1f fps)\n"
                "bitrate      %.2f Mbit/s, %.0f bytes/frame (p50)\n"
                "latency      intent -> decoded frame: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms (%zu intents, %zu unanswered)\n"
                "server       render p50 %.1f ms, encode p50 %.1f ms\n"
                "client       decode p50 %.1f ms\n",
                r.frames_received, r.frames_decoded, r.seconds, r.fps, r.mbit_per_s, r.bytes_per_frame.p50,
                r.latency_ms.p50, r.latency_ms.p95, r.latency_ms.p99, r.intents, r.unanswered, r.render_ms.p50,
                r.encode_ms.p50, r.decode_ms.p50);
  return buf;
}

}  // namespace voxcast::client
