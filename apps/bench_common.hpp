#pragma once
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "voxcast/client/stream_loop.hpp"
#include "voxcast/server/server.hpp"

namespace voxcast::bench {

struct BenchConfig {
  int steps = 0;  // 0: the scenario's default
  double rate = 60.0;
  int width = 1920, height = 1080;
  std::string dataset;  // empty: the scenario's default
  std::string json_path;
  int threads = 0;
  int baseline_frames = 60;
  int volume_size = 256;
  std::string mode = "mip";
  std::string renderer = "auto";
  double frame_ms = 33.0;
  std::string work_dir = "/tmp/voxcast-bench-data";  // generated datasets (kept between runs)
  double cache_mb = 1024;                             // server chunk cache
  int levels = 0;                                     // sparse: 1 = the single-level scenario; orbit-3d: > 0 a procedural pyramid
  std::string store = "local";                        // jump-2d: local, or http (nginx + a latency proxy)
  int latency_ms = 20;                                // jump-2d --store http: added per request
  size_t client_history = 20000;                      // frame/intent records the full client keeps
  std::vector<int> client_counts = {1, 4, 8, 16};     // clients: the phases
  double soak_minutes = 10;                           // soak: how long
  double volume_mb = 4096;   // server --volume-mb
  double gpu_mb = 16384;     // server --gpu-mb
  std::string bricks = "auto";
  bool rate_control = true;  // server rate control per link
};

// One jump-2d run on `dataset` (intent -> first / full-resolution frame per jump).
struct JumpRun {
  bool ok = false;
  size_t jumps = 0;
  std::vector<double> first_ms, full_ms;
  int partial_first = 0;
  uint64_t requests = 0, retries = 0, bytes = 0;  // to remote stores during the jumps
  double rss_mb = 0, rss_before_mb = 0, logical_gb = 0;
};
JumpRun run_jumps(const BenchConfig& cfg, const std::string& dataset);
// Writes `j` to `path` (nothing when `path` is empty): a scenario's --json.
void write_json(const std::string& path, const protocol::Json& j);
void print_jumps(const char* label, const JumpRun& r);
std::string jump_pyramid(const BenchConfig& cfg);  // generated (kept) unless cfg.dataset names one
int run_jump_2d_remote(const BenchConfig& cfg);

// A server on loopback ports chosen at run time and a client connected to it.
struct BenchSession {
  std::unique_ptr<server::Server> server;
  std::unique_ptr<client::ClientStreamLoop> client;
  std::set<int> server_threads;  // the threads the server (and its chunk cache) started, before any client
};
// Prints the reason and returns an empty session when something fails.
BenchSession start_session(const BenchConfig& cfg);

double rss_mb();
std::set<int> thread_ids();  // of this process, from /proc/self/task
int run_latency_2d(const BenchConfig& cfg);
int run_orbit_3d(const BenchConfig& cfg);
int run_read(const BenchConfig& cfg);
int run_jump_2d(const BenchConfig& cfg);
int run_sparse(const BenchConfig& cfg);
// N clients sharing a view (one full client scrubbing, the others light: they read and
// check frames without decoding), per N: frames/s, latency, server CPU, encodes/s.
int run_clients(const BenchConfig& cfg);
// 4 clients scrubbing, panning, orbiting and zooming for cfg.soak_minutes: RSS, fds,
// errors and frames/s over time.
int run_soak(const BenchConfig& cfg);
// The browser client (headless Chromium through `driver`, a node script) vs latency-2d.
int run_latency_web(const BenchConfig& cfg, const std::string& driver);
int run_sparse_single_level(const BenchConfig& cfg);  // sparse --levels 1
// PSNR and bits per frame during motion and after it, the time to the exact still (issue 18).
int run_quality(const BenchConfig& cfg);
// The CPU ray caster at full resolution vs ParaView's pvbatch on the same volume (issue 19).
int run_vs_paraview(const BenchConfig& cfg);
// A client over a shaped link (namespace, veth, tc; root), with and without rate control.
int run_link(const BenchConfig& cfg, double rate_mbps, double rtt_ms, double seconds);

}  // namespace voxcast::bench
