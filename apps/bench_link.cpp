// voxcast-bench link (issue 18): a client over a real shaped link (10 Mbit/s each way, 40 ms
// of round trip by default: a network namespace, veth, tc tbf and a delay relay; needs
// root), scrubbing at 60 Hz, with and without rate control in the same run: intent ->
// presented, frames/s, the server's memory, the time to a current picture after a 2-second
// stall; then a second client on plain loopback, alone and beside the shaped one.
#include <chrono>
#include <cstdio>
#include <thread>

#include "bench_common.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/stats.hpp"
#include "voxcast/net/shaped_link.hpp"

namespace voxcast::bench {
namespace {

struct Scrub {
  double p50 = -1, p95 = -1, fps = 0;
  size_t answered = 0, sent = 0;
};

// `c` sends a new z step at cfg.rate for `seconds`; latencies and frames/s over the second half.
Scrub scrub(client::ClientStreamLoop& c, const BenchConfig& cfg, double seconds, int offset) {
  const size_t intents_before = c.intents().size();
  const double t0 = steady_ms();
  const int n = static_cast<int>(seconds * cfg.rate);
  for (int i = 1; i <= n; ++i) {
    const double due = t0 + i * 1000.0 / cfg.rate;
    while (steady_ms() < due) std::this_thread::sleep_for(std::chrono::microseconds(300));
    c.send_state("dims", "z", "index", (i + offset) % 8);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double half = t0 + seconds * 500, end = t0 + seconds * 1000;
  Scrub s;
  std::vector<double> lat;
  auto intents = c.intents();
  for (size_t i = intents_before; i < intents.size(); ++i) {
    if (intents[i].sent_ms < half) continue;
    s.sent += 1;
    if (intents[i].presented_ms > 0) lat.push_back(intents[i].presented_ms - intents[i].sent_ms);
  }
  size_t frames = 0;
  for (const auto& f : c.frames()) frames += f.presented_ms > half && f.presented_ms <= end ? 1 : 0;
  s.answered = lat.size();
  s.p50 = percentile(lat, 50);
  s.p95 = percentile(lat, 95);
  s.fps = static_cast<double>(frames) / (seconds / 2);
  return s;
}

struct LinkRun {
  bool ok = false;
  Scrub fast_alone, fast_beside, shaped;
  double rss_start = 0, rss_end = 0, stall_current_ms = -1, cap_mbps = 0;
};

LinkRun run_one(BenchConfig cfg, net::ShapedLink& link, double seconds) {
  LinkRun r;
  BenchSession session = start_session(cfg);
  if (!session.client) return r;
  server::Server& srv = *session.server;
  client::ClientStreamLoop& fast = *session.client;
  fast.wait_until([&] { return fast.stats().frames_decoded > 0; }, 10);
  r.fast_alone = scrub(fast, cfg, seconds, 0);
  client::ClientConfig cc;
  cc.connection.host = link.address();
  cc.connection.control_port = link.forward(srv.control_port());
  cc.connection.pixel_port = link.forward(srv.pixel_port());
  cc.connection.token = srv.token();
  cc.name = "voxcast-bench-shaped";
  std::unique_ptr<client::ClientStreamLoop> shaped;
  std::optional<protocol::Error> err;
  if (!link.run_inside([&] {
        shaped = std::make_unique<client::ClientStreamLoop>(cc);
        err = shaped->connect();
      }) ||
      err) {
    std::fprintf(stderr, "voxcast-bench link: the shaped client did not connect%s%s\n", err ? ": " : "",
                 err ? err->message.c_str() : "");
    return r;
  }
  shaped->wait_until([&] { return shaped->stats().frames_decoded > 0; }, 15);
  r.fast_beside = scrub(fast, cfg, seconds, 3);
  r.rss_start = rss_mb();
  r.shaped = scrub(*shaped, cfg, seconds, 5);
  r.rss_end = rss_mb();
  for (const auto& l : srv.stats().pixel_links) r.cap_mbps = std::max(r.cap_mbps, l.cap_bps / 1e6);
  // A 2-second stall while the user goes on scrubbing; then: how long until a view sent
  // after the stall is on screen.
  link.stall(2.0);
  const double stall_end = steady_ms() + 2000;
  int i = 0;
  while (steady_ms() < stall_end) {
    shaped->send_state("dims", "z", "index", ++i % 8);
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(1000 / cfg.rate)));
  }
  const size_t after = shaped->intents().size();
  const double deadline = steady_ms() + 10000;
  while (steady_ms() < deadline && r.stall_current_ms < 0) {
    shaped->send_state("dims", "z", "index", ++i % 8);
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(1000 / cfg.rate)));
    auto in = shaped->intents();
    for (size_t k = after; k < in.size(); ++k)
      if (in[k].presented_ms > 0) {
        r.stall_current_ms = in[k].presented_ms - stall_end;
        break;
      }
  }
  shaped->stop();
  fast.stop();
  srv.stop();
  r.ok = true;
  return r;
}

void print_run(const char* label, const LinkRun& r) {
  std::printf("  %s\n", label);
  std::printf("    shaped client scrubbing:  intent->presented p50 %6.1f  p95 %7.1f ms, %5.1f frames/s, %zu/%zu answered, cap %.2f Mbit/s\n",
              r.shaped.p50, r.shaped.p95, r.shaped.fps, r.shaped.answered, r.shaped.sent, r.cap_mbps);
  std::printf("    server memory while it scrubbed: %.0f -> %.0f MB\n", r.rss_start, r.rss_end);
  std::printf("    after a 2 s stall: a current view on screen in %.0f ms\n", r.stall_current_ms);
  std::printf("    loopback client alone:    p50 %6.1f  p95 %7.1f ms, %5.1f frames/s\n", r.fast_alone.p50, r.fast_alone.p95,
              r.fast_alone.fps);
  std::printf("    loopback client beside the shaped one: p50 %6.1f  p95 %7.1f ms, %5.1f frames/s (p95 ratio %.2f)\n",
              r.fast_beside.p50, r.fast_beside.p95, r.fast_beside.fps,
              r.fast_alone.p95 > 0 ? r.fast_beside.p95 / r.fast_alone.p95 : 0.0);
}

protocol::Json run_json(const LinkRun& r) {
  auto scrub_json = [](const Scrub& s) {
    return protocol::Json{{"p50_ms", s.p50}, {"p95_ms", s.p95}, {"fps", s.fps}, {"answered", s.answered}, {"sent", s.sent}};
  };
  return {{"shaped", scrub_json(r.shaped)},       {"fast_alone", scrub_json(r.fast_alone)},
          {"fast_beside", scrub_json(r.fast_beside)}, {"rss_start_mb", r.rss_start},
          {"rss_end_mb", r.rss_end},               {"stall_current_ms", r.stall_current_ms},
          {"cap_mbps", r.cap_mbps}};
}

}  // namespace

int run_link(const BenchConfig& cfg, double rate_mbps, double rtt_ms, double seconds) {
  auto made = net::ShapedLink::create({rate_mbps * 1e6, rtt_ms / 2});
  if (auto* why = std::get_if<std::string>(&made)) {
    std::fprintf(stderr, "voxcast-bench link: %s\n", why->c_str());
    return 1;
  }
  net::ShapedLink& link = *std::get<std::unique_ptr<net::ShapedLink>>(made);
  BenchConfig off = cfg, on = cfg;
  off.rate_control = false;
  on.rate_control = true;
  LinkRun baseline = run_one(off, link, seconds);
  LinkRun rated = run_one(on, link, seconds);
  if (!baseline.ok || !rated.ok) return 1;
  std::printf("voxcast-bench link  %dx%d, %s, %.0f Mbit/s each way, %.0f ms round trip, scrubbing at %.0f Hz for %.0f s, %u cores\n",
              cfg.width, cfg.height, cfg.dataset.c_str(), rate_mbps, rtt_ms, cfg.rate, seconds,
              std::thread::hardware_concurrency());
  print_run("without rate control (baseline, same run)", baseline);
  print_run("with rate control", rated);
  write_json(cfg.json_path, {{"scenario", "link"},
                             {"width", cfg.width},
                             {"height", cfg.height},
                             {"dataset", cfg.dataset},
                             {"rate_mbps", rate_mbps},
                             {"rtt_ms", rtt_ms},
                             {"seconds", seconds},
                             {"baseline", run_json(baseline)},
                             {"rate_control", run_json(rated)}});
  return 0;
}

}  // namespace voxcast::bench
