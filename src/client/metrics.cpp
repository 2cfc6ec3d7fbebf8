#include "voxcast/client/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace voxcast::client {

double bucket_upper_ms(int i) { return 0.1 * std::pow(10.0, (i + 1) / 6.0); }  // 6 buckets per decade

void record(Histogram* h, double v) {
  if (!std::isfinite(v) || v < 0) return;
  int b = 0;
  while (b < Histogram::kBuckets - 1 && v > bucket_upper_ms(b)) ++b;
  h->counts[static_cast<size_t>(b)] += 1;
  h->min = h->count == 0 ? v : std::min(h->min, v);
  h->max = h->count == 0 ? v : std::max(h->max, v);
  h->count += 1;
  h->sum += v;
  if (h->recent.size() < Histogram::kRecent) {
    h->recent.push_back(v);
  } else {
    h->recent[h->next] = v;
    h->next = (h->next + 1) % Histogram::kRecent;
  }
}

double histogram_percentile(const Histogram& h, double p) {
  if (h.recent.empty()) return 0;
  std::vector<double> v = h.recent;
  auto k = static_cast<size_t>(std::clamp(p / 100.0, 0.0, 1.0) * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

nlohmann::json to_json(const Histogram& h) {
  nlohmann::json buckets = nlohmann::json::array();
  for (int i = 0; i < Histogram::kBuckets; ++i)
    if (h.counts[static_cast<size_t>(i)]) buckets.push_back({{"le_ms", bucket_upper_ms(i)}, {"count", h.counts[static_cast<size_t>(i)]}});
  return {{"count", h.count},
          {"mean", h.count ? h.sum / static_cast<double>(h.count) : 0.0},
          {"min", h.min},
          {"max", h.max},
          {"p50", histogram_percentile(h, 50)},
          {"p95", histogram_percentile(h, 95)},
          {"p99", histogram_percentile(h, 99)},
          {"buckets", buckets}};
}

nlohmann::json to_json(const ClientMetrics& m) {
  return {{"presenter_latency_ms", to_json(m.presenter_latency_ms)},
          {"decode_ms", to_json(m.decode_ms)},
          {"frame_interval_ms", to_json(m.frame_interval_ms)},
          {"intent_to_frame_ms", to_json(m.intent_to_frame_ms)},
          {"frames_presented", m.frames_presented},
          {"frames_superseded", m.frames_superseded},
          {"decoder_fallbacks", m.decoder_fallbacks},
          {"reconnects", m.reconnects}};
}

std::string describe(const ClientMetrics& m) {
  char buf[640];
  auto line = [](const char* name, const Histogram& h) {
    char b[160];
    std::snprintf(b, sizeof b, "  %-22s p50 %7.1f  p95 %7.1f  p99 %7.1f ms  (%llu)\n", name, histogram_percentile(h, 50),
                  histogram_percentile(h, 95), histogram_percentile(h, 99), static_cast<unsigned long long>(h.count));
    return std::string(b);
  };
  std::snprintf(buf, sizeof buf, "  presented %llu, superseded %llu, decoder fallbacks %llu, reconnects %llu\n",
                static_cast<unsigned long long>(m.frames_presented), static_cast<unsigned long long>(m.frames_superseded),
                static_cast<unsigned long long>(m.decoder_fallbacks), static_cast<unsigned long long>(m.reconnects));
  return line("presenter latency", m.presenter_latency_ms) + line("decode", m.decode_ms) +
         line("frame interval", m.frame_interval_ms) + line("intent -> frame", m.intent_to_frame_ms) + buf;
}

}  // namespace voxcast::client
