// voxcast-bench orbit-3d: a full 360° orbit in N steps at the given rate; frame rate
// while moving, render/encode times, intent→frame latency, and whether the still frame
// after the motion arrives at full resolution.
#include <cstdio>
#include <fstream>
#include <thread>

#include "bench_common.hpp"
#include "voxcast/client/stream_loop.hpp"
#include "voxcast/client/report.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/stats.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/server/server.hpp"

namespace voxcast::bench {

int run_orbit_3d(const BenchConfig& cfg) {
  BenchSession session = start_session(cfg);
  if (!session.client) return 1;
  server::Server& srv = *session.server;
  client::ClientStreamLoop& c = *session.client;
  c.wait_until([&] { return c.mirror().have_scene; }, 10);
  for (const auto& l : c.mirror().layers) c.send_state("layer", l.id, "rendering", cfg.mode);
  c.send_state("view", "main", "ndisplay", 3);
  // Wait for the first 3D still frame (the volume is loaded and bricked by then).
  auto refined_after = [&](double t) {
    for (const auto& f : c.frames())
      if (f.decoded && f.refined && f.received_ms > t) return true;
    return false;
  };
  double t_toggle = steady_ms();
  c.wait_until([&] { return refined_after(t_toggle); }, 60);

  size_t before = c.frames().size();
  size_t intents_before = c.intents().size();
  double t_start = steady_ms();
  for (int i = 0; i < cfg.steps; ++i) {
    double due = t_start + i * 1000.0 / cfg.rate;
    while (steady_ms() < due) std::this_thread::sleep_for(std::chrono::microseconds(200));
    c.send_state("camera", "main", "orbit", {{"d_az_deg", 360.0 / cfg.steps}, {"d_el_deg", 0.0}});
  }
  double t_end = steady_ms();
  bool still_full_res = c.wait_until([&] { return refined_after(t_end); }, 60);
  double memory_mb = rss_mb();
  auto frames = c.frames();
  auto intents = c.intents();
  std::string renderer_used = srv.stats().render.renderer_3d;
  c.stop();
  srv.stop();

  std::vector<client::FrameRecord> moving;
  std::vector<double> render, encode;
  for (size_t i = before; i < frames.size(); ++i) {
    const auto& f = frames[i];
    if (!f.decoded || f.refined || f.decoded_ms > t_end + 100) continue;
    moving.push_back(f);
    render.push_back(f.render_ms);
    encode.push_back(f.encode_ms);
  }
  std::vector<client::IntentRecord> orbit_intents(intents.begin() + static_cast<long>(intents_before), intents.end());
  size_t unanswered = 0;
  auto latency = summarize(client::intent_latencies_ms(orbit_intents, frames, &unanswered));
  double seconds = (t_end - t_start) / 1000.0;
  double fps = static_cast<double>(moving.size()) / seconds;
  std::printf("voxcast-bench orbit-3d  %dx%d, %s, mode %s, renderer %s, %d steps at %.0f Hz, %u cores\n", cfg.width,
              cfg.height, cfg.dataset.c_str(), cfg.mode.c_str(), renderer_used.c_str(), cfg.steps, cfg.rate,
              std::thread::hardware_concurrency());
  std::printf("  frames/s while orbiting        %8.1f  (%zu frames in %.2f s)\n", fps, moving.size(), seconds);
  std::printf("  render ms (moving)   p50 %8.1f  p95 %8.1f\n", percentile(render, 50), percentile(render, 95));
  std::printf("  encode ms (moving)   p50 %8.1f\n", percentile(encode, 50));
  std::printf("  latency intent->frame p50 %6.1f  p95 %8.1f  (%zu unanswered)\n", latency.p50, latency.p95, unanswered);
  std::printf("  still frame at full resolution: %s\n", still_full_res ? "yes" : "no");
  std::printf("  process memory (MB)            %8.0f\n", memory_mb);
  if (!cfg.json_path.empty()) {
    protocol::Json j = {{"scenario", "orbit-3d"},
                        {"renderer", renderer_used},
                        {"mode", cfg.mode},
                        {"dataset", cfg.dataset},
                        {"width", cfg.width},
                        {"height", cfg.height},
                        {"fps", fps},
                        {"render_ms", {{"p50", percentile(render, 50)}, {"p95", percentile(render, 95)}}},
                        {"encode_ms", {{"p50", percentile(encode, 50)}}},
                        {"latency_ms", {{"p50", latency.p50}, {"p95", latency.p95}}},
                        {"still_full_res", still_full_res},
                        {"memory_mb", memory_mb}};
    std::ofstream(cfg.json_path) << j.dump(2) << "\n";
  }
  return 0;
}

}  // namespace voxcast::bench
