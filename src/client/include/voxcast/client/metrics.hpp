#pragma once
// Client-side histograms: presenter latency (arrival -> shown), decode time, frame
// interval, intent -> frame latency; exported as JSON (voxcast-headless --stats prints it).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace voxcast::client {

// Log-spaced buckets from 0.1 ms to ~100 s, plus the last samples for exact percentiles.
struct Histogram {
  static constexpr int kBuckets = 40;
  std::array<uint64_t, kBuckets> counts{};
  uint64_t count = 0;
  double sum = 0, min = 0, max = 0;
  std::vector<double> recent;  // ring of the last kRecent samples
  size_t next = 0;
  static constexpr size_t kRecent = 4096;
};
void record(Histogram* h, double value_ms);
// Upper bound (ms) of bucket `i`.
double bucket_upper_ms(int i);
double histogram_percentile(const Histogram& h, double p);
nlohmann::json to_json(const Histogram& h);

struct ClientMetrics {
  Histogram presenter_latency_ms;  // frame arrival -> presented
  Histogram decode_ms;
  Histogram frame_interval_ms;     // between presented frames
  Histogram intent_to_frame_ms;    // state.update sent -> first frame showing it
  uint64_t frames_presented = 0;
  uint64_t frames_superseded = 0;
  uint64_t decoder_fallbacks = 0;
  uint64_t reconnects = 0;
  double last_present_ms = 0;
};
nlohmann::json to_json(const ClientMetrics& m);
std::string describe(const ClientMetrics& m);  // a few lines for the terminal

}  // namespace voxcast::client
