// voxcast-bench orbit-3d: a full 360° orbit in N steps at the given rate; frame rate
// while moving, render/encode times, intent→frame latency, and whether the still frame
// after the motion arrives at full resolution.
#include <cmath>
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
  // Progress on stderr: a big pyramid takes a while, and a run cut short says where.
  auto progress = [&](const char* what, double since) {
    std::fprintf(stderr, "orbit-3d: %s after %.0f ms; %s\n", what, steady_ms() - since,
                 server::describe(srv.stats().render).c_str());
  };
  progress(c.wait_until([&] { return refined_after(t_toggle); }, 60) ? "3D still" : "no 3D still", t_toggle);
  // A pyramid: jump into a 256^3 region at the centre (perspective, a 256-voxel view
  // height there), then orbit about it.
  double jump_first_ms = -1, jump_refined_ms = -1;
  server::RenderLoopState::BrickFrameMs jump_still_ms;
  // The mean per frame of `after` less `before`.
  auto mean_brick_ms = [](server::RenderLoopState::BrickFrameMs after, const server::RenderLoopState::BrickFrameMs& before) {
    const double n = static_cast<double>(std::max<uint64_t>(1, after.frames - before.frames));
    return server::RenderLoopState::BrickFrameMs{(after.choose - before.choose) / n, (after.request - before.request) / n,
                                                 (after.copy - before.copy) / n, (after.place - before.place) / n,
                                                 (after.total - before.total) / n, after.frames - before.frames};
  };
  if (cfg.levels > 0) {
    const auto still_before = srv.stats().render.still_brick_ms;
    double fov = 30.0, distance = 128.0 / std::tan(fov * M_PI / 360.0);
    size_t frames_before = c.frames().size();
    double t_jump = steady_ms();
    c.send_state("camera", "main", "set", {{"fov", fov}, {"distance", distance}});
    progress(c.wait_until([&] { return c.frames().size() > frames_before; }, 30) ? "first frame after the jump"
                                                                                  : "no frame after the jump",
             t_jump);
    jump_first_ms = steady_ms() - t_jump;
    if (c.wait_until([&] { return refined_after(t_jump); }, 120)) jump_refined_ms = steady_ms() - t_jump;
    progress(jump_refined_ms >= 0 ? "refined after the jump" : "no refinement after the jump", t_jump);
    jump_still_ms = mean_brick_ms(srv.stats().render.still_brick_ms, still_before);
  }
  auto hist = [](const std::vector<int64_t>& s) {
    int64_t total = 0;
    for (auto v : s) total += v;
    std::string out;
    for (size_t l = 0; l < s.size(); ++l) {
      char b[48];
      std::snprintf(b, sizeof b, "%sL%zu %.1f%%", l ? ", " : "", l, total ? 100.0 * static_cast<double>(s[l]) / total : 0.0);
      out += b;
    }
    return out;
  };
  std::vector<int64_t> moving_samples;

  const auto brick_ms_before = srv.stats().render.moving_brick_ms;
  size_t before = c.frames().size();
  size_t intents_before = c.intents().size();
  double t_start = steady_ms();
  for (int i = 0; i < cfg.steps; ++i) {
    double due = t_start + i * 1000.0 / cfg.rate;
    while (steady_ms() < due) std::this_thread::sleep_for(std::chrono::microseconds(200));
    c.send_state("camera", "main", "orbit", {{"d_az_deg", 360.0 / cfg.steps}, {"d_el_deg", 0.0}});
    if (i == cfg.steps / 2) moving_samples = srv.stats().render.level_samples;
  }
  double t_end = steady_ms();
  // Host time per moving bricked frame: the means over the orbit.
  const auto brick_ms = mean_brick_ms(srv.stats().render.moving_brick_ms, brick_ms_before);
  progress("orbit sent", t_start);
  bool still_full_res = c.wait_until([&] { return refined_after(t_end); }, 120);
  progress(still_full_res ? "still after the orbit" : "no still after the orbit", t_end);
  double refine_ms = steady_ms() - t_end;
  double memory_mb = rss_mb();
  const server::RenderLoopState rs = srv.stats().render;
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
  if (rs.bricked) {
    std::printf("  full refinement after the orbit (ms) %6.0f\n", refine_ms);
    if (cfg.levels > 0)
      std::printf("  jump into 256^3: first frame %.0f ms, refined %.0f ms; its stills, mean ms: choose %.1f, request %.1f, "
                  "copy %.1f, place %.1f of %.1f (%llu frames)\n",
                  jump_first_ms, jump_refined_ms, jump_still_ms.choose, jump_still_ms.request, jump_still_ms.copy,
                  jump_still_ms.place, jump_still_ms.total, static_cast<unsigned long long>(jump_still_ms.frames));
    std::printf("  bricked moving frame, mean ms: choose %.1f, request %.1f, copy %.1f, place %.1f of %.1f (%llu frames)\n",
                brick_ms.choose, brick_ms.request, brick_ms.copy, brick_ms.place, brick_ms.total,
                static_cast<unsigned long long>(brick_ms.frames));
    std::printf("  samples per level, moving      %s\n", hist(moving_samples).c_str());
    std::printf("  samples per level, still       %s\n", hist(rs.level_samples).c_str());
    std::printf("  bricks: %.0f of %.0f MB, %d loading; chunk cache budget %.0f MB\n",
                static_cast<double>(rs.brick_bytes) / 1048576.0, static_cast<double>(rs.brick_budget_bytes) / 1048576.0,
                rs.bricks_loading, cfg.cache_mb);
  }
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
                        {"bricked", rs.bricked},
                        {"refine_ms", refine_ms},
                        {"jump_first_ms", jump_first_ms},
                        {"jump_refined_ms", jump_refined_ms},
                        {"jump_still_brick_ms",
                         {{"choose", jump_still_ms.choose},
                          {"request", jump_still_ms.request},
                          {"copy", jump_still_ms.copy},
                          {"place", jump_still_ms.place},
                          {"total", jump_still_ms.total},
                          {"frames", jump_still_ms.frames}}},
                        {"level_samples_moving", moving_samples},
                        {"moving_brick_ms",
                         {{"choose", brick_ms.choose},
                          {"request", brick_ms.request},
                          {"copy", brick_ms.copy},
                          {"place", brick_ms.place},
                          {"total", brick_ms.total}}},
                        {"level_samples_still", rs.level_samples},
                        {"brick_mb", static_cast<double>(rs.brick_bytes) / 1048576.0},
                        {"brick_budget_mb", static_cast<double>(rs.brick_budget_bytes) / 1048576.0},
                        {"memory_mb", memory_mb}};
    std::ofstream(cfg.json_path) << j.dump(2) << "\n";
  }
  return 0;
}

}  // namespace voxcast::bench
