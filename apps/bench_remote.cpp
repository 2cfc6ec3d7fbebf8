// voxcast-bench jump-2d --store http: the jump-2d pyramid served by nginx on loopback
// through a proxy that adds --latency-ms to every request, next to the same jumps from
// local disk in the same run; requests and bytes fetched per jump reported.
#include <cstdio>
#include <filesystem>
#include <thread>

#include "bench_common.hpp"
#include "store_servers.hpp"
#include "voxcast/core/stats.hpp"

namespace voxcast::bench {
namespace fs = std::filesystem;
using protocol::Json;

int run_jump_2d_remote(const BenchConfig& cfg) {
  const std::string dir = jump_pyramid(cfg);
  if (dir.empty()) return 1;
  const fs::path path(dir);
  const std::string scratch = cfg.work_dir + "/nginx-bench";
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  testing::Nginx nginx(path.parent_path().string(), scratch);
  if (!nginx.ok()) {
    std::fprintf(stderr, "voxcast-bench: nginx did not start (scripts/setup.sh installs nginx-light); see %s\n", scratch.c_str());
    return 1;
  }
  testing::ChildProcess proxy({"node", testing::stores_tool("fault_proxy.mjs"), std::to_string(nginx.port()), "--latency-ms",
                               std::to_string(cfg.latency_ms)},
                              scratch + "/proxy.log");
  const int port = proxy.wait_for_port(20);
  if (port <= 0) {
    std::fprintf(stderr, "voxcast-bench: the latency proxy did not start (node %s)\n", testing::stores_tool("fault_proxy.mjs").c_str());
    return 1;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/" + path.filename().string();
  JumpRun local = run_jumps(cfg, dir);
  JumpRun remote = run_jumps(cfg, url);
  if (!local.ok || !remote.ok) return 1;
  std::printf("voxcast-bench jump-2d --store http  %s (%.2f GB logical level 0), %dx%d, %zu jumps, +%d ms per request, %u cores\n",
              url.c_str(), remote.logical_gb, cfg.width, cfg.height, remote.jumps, cfg.latency_ms,
              std::thread::hardware_concurrency());
  std::printf("  %-38s %8s %8s\n", "", "p50", "p95");
  print_jumps("local disk: ", local);
  print_jumps("http:       ", remote);
  const double n = static_cast<double>(std::max<size_t>(1, remote.jumps));
  std::printf("  http requests per jump                 %8.1f  (%llu retried)\n", static_cast<double>(remote.requests) / n,
              static_cast<unsigned long long>(remote.retries));
  std::printf("  http bytes fetched per jump (MB)       %8.2f\n", static_cast<double>(remote.bytes) / n / 1e6);
  std::printf("  targets: first frame p95 <= 150 ms, full resolution p95 <= 800 ms\n");
  write_json(cfg.json_path,
             {{"scenario", "jump-2d-http"},
              {"latency_ms", cfg.latency_ms},
              {"local", {{"first_p50", percentile(local.first_ms, 50)}, {"first_p95", percentile(local.first_ms, 95)},
                         {"full_p50", percentile(local.full_ms, 50)}, {"full_p95", percentile(local.full_ms, 95)}}},
              {"http", {{"first_p50", percentile(remote.first_ms, 50)}, {"first_p95", percentile(remote.first_ms, 95)},
                        {"full_p50", percentile(remote.full_ms, 50)}, {"full_p95", percentile(remote.full_ms, 95)}}},
              {"requests_per_jump", static_cast<double>(remote.requests) / n},
              {"bytes_per_jump", static_cast<double>(remote.bytes) / n}});
  return remote.full_ms.size() == remote.jumps ? 0 : 1;
}

}  // namespace voxcast::bench
