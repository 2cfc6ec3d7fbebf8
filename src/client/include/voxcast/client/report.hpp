#pragma once
// Turns what a client recorded into the numbers people read: intent-to-frame
// latency, frame rate, bitrate.
#include <string>
#include <vector>

#include "voxcast/client/stream_loop.hpp"
#include "voxcast/core/stats.hpp"

namespace voxcast::client {

// For each accepted intent: time from sending it to the first decoded frame whose
// scene version is at least the version its ack reported. Intents never shown
// (no such frame) are left out; their count is returned in *unanswered.
std::vector<double> intent_latencies_ms(const std::vector<IntentRecord>& intents, const std::vector<FrameRecord>& frames,
                                        size_t* unanswered);

struct SessionReport {
  size_t frames_received = 0;
  size_t frames_decoded = 0;
  double seconds = 0;
  double fps = 0;
  double mbit_per_s = 0;
  Summary latency_ms;
  Summary decode_ms;
  Summary render_ms;
  Summary encode_ms;
  Summary bytes_per_frame;
  size_t intents = 0;
  size_t unanswered = 0;
};
SessionReport make_report(const std::vector<IntentRecord>& intents, const std::vector<FrameRecord>& frames);
std::string format_report(const SessionReport& r);

}  // namespace voxcast::client
