// voxcast-bench: measurements in one run on one machine. Scenario latency-2d: a server
// and a client in this process tree, N dims steps at a fixed rate; per intent the time
// from sending state.update to the first decoded frame showing its scene version.
// Baseline in the same run: the ffmpeg CLI encoding the same frames with the same x264
// settings.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unistd.h>
#include <thread>

#include "voxcast/client/stream_loop.hpp"
#include "voxcast/client/report.hpp"
#include "voxcast/codec/encoder.hpp"
#include "voxcast/codec/yuv.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/core/stats.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/render/slice_renderer.hpp"
#include "voxcast/server/server.hpp"
#include "bench_common.hpp"

using namespace voxcast;
using protocol::Json;

namespace voxcast::bench {
double rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

// Renders `n` z-steps of the scene, encodes them with our encoder (timed) and writes
// the same YUV frames for the ffmpeg CLI; returns {ours ms/frame, ffmpeg ms/frame}.
std::pair<double, double> encoder_baseline(const data::VolumeSource& src, const BenchConfig& cfg, std::string* note) {
  render::Scene scene = render::make_initial_scene(src.info(), cfg.width, cfg.height);
  render::SliceRenderer renderer(cfg.threads);
  codec::EncoderConfig ec;
  ec.width = cfg.width;
  ec.height = cfg.height;
  ec.threads = cfg.threads;
  auto enc = codec::H264Encoder::open(ec);
  if (!enc) return {0, 0};
  std::string raw = "/tmp/voxcast-bench-" + std::to_string(getpid()) + ".yuv";
  std::ofstream out(raw, std::ios::binary);
  render::Frame frame;
  std::vector<double> ours;
  codec::YuvImage yuv;
  yuv.resize(cfg.width, cfg.height);
  for (int i = 0; i < cfg.baseline_frames; ++i) {
    scene.dims.current_step[0] = i % scene.dims.shape[0];
    renderer.render(scene, src, &frame);
    codec::rgba_to_i420(frame.rgba.data(), cfg.width, cfg.height, cfg.width * 4, yuv.planes(), nullptr);
    out.write(reinterpret_cast<const char*>(yuv.y.data()), static_cast<std::streamsize>(yuv.y.size()));
    out.write(reinterpret_cast<const char*>(yuv.u.data()), static_cast<std::streamsize>(yuv.u.size()));
    out.write(reinterpret_cast<const char*>(yuv.v.data()), static_cast<std::streamsize>(yuv.v.size()));
    auto planes = enc.value()->input();
    for (int y = 0; y < cfg.height; ++y) std::memcpy(planes.y + y * planes.y_stride, &yuv.y[static_cast<size_t>(y) * cfg.width], static_cast<size_t>(cfg.width));
    for (int y = 0; y < cfg.height / 2; ++y) {
      std::memcpy(planes.u + y * planes.u_stride, &yuv.u[static_cast<size_t>(y) * cfg.width / 2], static_cast<size_t>(cfg.width / 2));
      std::memcpy(planes.v + y * planes.v_stride, &yuv.v[static_cast<size_t>(y) * cfg.width / 2], static_cast<size_t>(cfg.width / 2));
    }
    double t0 = steady_ms();
    enc.value()->encode(i == 0);
    ours.push_back(steady_ms() - t0);
  }
  out.close();
  char cmd[1024];
  std::snprintf(cmd, sizeof(cmd),
                "ffmpeg -v error -y -f rawvideo -pix_fmt yuv420p -s %dx%d -i %s -c:v libx264 -preset ultrafast "
                "-tune zerolatency -crf 23 -f null - 2>&1",
                cfg.width, cfg.height, raw.c_str());
  // Time ffmpeg on the same frames twice, encoding and only reading the raw input, so
  // its start-up and file reading are subtracted.
  double t0 = steady_ms();
  int rc = std::system(cmd);
  double with_encode = steady_ms() - t0;
  std::string read_only = "ffmpeg -v error -y -f rawvideo -pix_fmt yuv420p -s " + std::to_string(cfg.width) + "x" +
                          std::to_string(cfg.height) + " -i " + raw + " -f null - 2>&1";
  t0 = steady_ms();
  int rc2 = std::system(read_only.c_str());
  double read_ms = steady_ms() - t0;
  std::remove(raw.c_str());
  if (rc != 0 || rc2 != 0) {
    *note = "ffmpeg CLI not available; no baseline";
    return {percentile(ours, 50), 0};
  }
  return {percentile(ours, 50), (with_encode - read_ms) / cfg.baseline_frames};
}

BenchSession start_session(const BenchConfig& cfg) {
  auto cache = std::make_shared<data::ChunkCache>(static_cast<size_t>(cfg.cache_mb * 1024 * 1024), cfg.threads);
  data::OpenOptions options;
  options.cache = cache;
  auto opened = data::open_dataset(cfg.dataset, options);
  if (auto* err = std::get_if<data::DataError>(&opened)) {
    std::fprintf(stderr, "voxcast-bench: %s\n", err->message.c_str());
    return {};
  }
  const std::set<int> threads_before = thread_ids();
  server::ServerConfig sc;
  sc.control_port = 0;
  sc.pixel_port = 0;
  sc.width = cfg.width;
  sc.height = cfg.height;
  sc.threads = cfg.threads;
  sc.frame_ms = cfg.frame_ms;
  sc.renderer = cfg.renderer;
  sc.volume_mb = cfg.volume_mb;
  sc.gpu_mb = cfg.gpu_mb;
  sc.bricks = cfg.bricks;
  sc.source_label = cfg.dataset;
  sc.cache = cache;
  sc.rate_control = cfg.rate_control;
  BenchSession s;
  s.server = std::make_unique<server::Server>(sc, std::move(std::get<0>(opened)));
  if (auto err = s.server->start()) {
    std::fprintf(stderr, "voxcast-bench: %s\n", err->message.c_str());
    return {};
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the render thread starts its pools
  for (int tid : thread_ids())
    if (!threads_before.count(tid)) s.server_threads.insert(tid);
  client::ClientConfig cc;
  cc.connection.control_port = s.server->control_port();
  cc.connection.pixel_port = s.server->pixel_port();
  cc.connection.token = s.server->token();
  cc.name = "voxcast-bench";
  cc.history_limit = cfg.client_history;
  s.client = std::make_unique<client::ClientStreamLoop>(cc);
  if (auto err = s.client->connect()) {
    std::fprintf(stderr, "voxcast-bench: %s\n", err->message.c_str());
    return {};
  }
  return s;
}

int run_latency_2d(const BenchConfig& cfg) {
  auto baseline_source = data::open_dataset(cfg.dataset);
  if (baseline_source.index() != 0) return 1;
  BenchSession session = start_session(cfg);
  if (!session.client) return 1;
  server::Server& srv = *session.server;
  client::ClientStreamLoop& c = *session.client;
  c.wait_until([&] { return c.stats().frames_decoded > 0 && c.mirror().have_scene; }, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto mirror = c.mirror();
  int64_t depth = mirror.shape.empty() ? 1 : mirror.shape[0];
  int64_t z = mirror.current_step.empty() ? 0 : mirror.current_step[0], dir = 1;
  size_t frames_before = c.frames().size();
  double t_start = steady_ms();
  for (int i = 0; i < cfg.steps; ++i) {
    double due = t_start + i * 1000.0 / cfg.rate;
    while (steady_ms() < due) std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (z + dir < 0 || z + dir >= depth) dir = -dir;
    z += dir;
    c.send_state("dims", mirror.axis_labels.empty() ? "0" : mirror.axis_labels[0], "index", z);
  }
  double t_end = steady_ms();
  c.wait_until([&] {
    auto in = c.intents();
    return !in.empty() && in.back().acked_ms > 0;
  }, 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // last frame and its refinement
  double memory_mb = rss_mb();
  auto intents = c.intents();
  auto all_frames = c.frames();
  std::vector<client::FrameRecord> scrub(all_frames.begin() + static_cast<long>(frames_before), all_frames.end());
  size_t during = 0;
  for (const auto& f : scrub) during += (f.decoded && f.decoded_ms <= t_end + 50 && !f.refined) ? 1 : 0;
  auto report = client::make_report(intents, scrub);
  std::vector<double> interactive_encode, interactive_render;
  for (const auto& f : scrub)
    if (f.decoded && !f.refined) {
      interactive_encode.push_back(f.encode_ms);
      interactive_render.push_back(f.render_ms);
    }

  // Quality of the still frame: decoded picture vs the same scene rendered here.
  double psnr = 0;
  std::vector<uint8_t> decoded;
  int w = 0, h = 0;
  if (c.latest_rgba(&decoded, &w, &h)) {
    auto& src = *std::get<0>(baseline_source);
    render::Scene scene = render::make_initial_scene(src.info(), cfg.width, cfg.height);
    scene.dims.current_step[0] = z;
    render::SliceRenderer r(cfg.threads);
    render::Frame reference;
    r.render(scene, src, &reference);
    psnr = codec::psnr_rgba(reference.rgba.data(), decoded.data(), w, h);
  }
  auto server_stats = srv.stats();
  auto metrics = c.metrics();
  c.stop();
  srv.stop();

  std::string baseline_note;
  std::pair<double, double> enc_vs_cli{0, 0};
  if (cfg.baseline_frames > 0) enc_vs_cli = encoder_baseline(*std::get<0>(baseline_source), cfg, &baseline_note);

  double seconds = (t_end - t_start) / 1000.0;
  double fps = static_cast<double>(during) / seconds;
  std::printf("voxcast-bench latency-2d  %dx%d, %d steps at %.0f Hz, %s, %u cores\n", cfg.width, cfg.height, cfg.steps,
              cfg.rate, cfg.dataset.c_str(), std::thread::hardware_concurrency());
  std::printf("  %-34s %10s %10s %10s\n", "", "p50", "p95", "p99");
  std::printf("  %-34s %10.1f %10.1f %10.1f\n", "latency intent->decoded (ms)", report.latency_ms.p50,
              report.latency_ms.p95, report.latency_ms.p99);
  std::printf("  %-34s %10.1f %10.1f\n", "render (ms)", percentile(interactive_render, 50), percentile(interactive_render, 95));
  std::printf("  %-34s %10.1f %10.1f\n", "encode (ms)", percentile(interactive_encode, 50), percentile(interactive_encode, 95));
  std::printf("  %-34s %10.1f %10.1f\n", "decode (ms)", report.decode_ms.p50, report.decode_ms.p95);
  std::printf("  %-34s %10.1f %10.1f %10.1f\n", "presenter: arrival->shown (ms)", client::histogram_percentile(metrics.presenter_latency_ms, 50),
              client::histogram_percentile(metrics.presenter_latency_ms, 95), client::histogram_percentile(metrics.presenter_latency_ms, 99));
  std::printf("  %-34s %10.1f %10.1f %10.1f\n", "latency intent->presented (ms)", client::histogram_percentile(metrics.intent_to_frame_ms, 50),
              client::histogram_percentile(metrics.intent_to_frame_ms, 95), client::histogram_percentile(metrics.intent_to_frame_ms, 99));
  std::printf("  %-34s %10.0f %10.0f\n", "bytes per frame", report.bytes_per_frame.p50, report.bytes_per_frame.p95);
  std::printf("  frames/s while scrubbing           %10.1f  (%zu frames in %.2f s, %zu intents unanswered)\n", fps, during,
              seconds, report.unanswered);
  std::printf("  still frame PSNR vs render (dB)    %10.1f\n", psnr);
  std::printf("  process memory (server+client, MB) %10.0f\n", memory_mb);
  std::printf("  frames skipped by the server       %10llu\n", static_cast<unsigned long long>(server_stats.frames_skipped));
  if (enc_vs_cli.second > 0)
    std::printf("  encode vs ffmpeg CLI (same frames)  %.2f ms vs %.2f ms per frame: ratio %.2f\n", enc_vs_cli.first,
                enc_vs_cli.second, enc_vs_cli.first / enc_vs_cli.second);
  else if (!baseline_note.empty())
    std::printf("  %s\n", baseline_note.c_str());

  if (!cfg.json_path.empty()) {
    Json j = {{"scenario", "latency-2d"},
              {"width", cfg.width},
              {"height", cfg.height},
              {"steps", cfg.steps},
              {"rate_hz", cfg.rate},
              {"frames", during},
              {"fps", fps},
              {"latency_ms", {{"p50", report.latency_ms.p50}, {"p95", report.latency_ms.p95}, {"p99", report.latency_ms.p99}}},
              {"encode_ms", {{"p50", percentile(interactive_encode, 50)}}},
              {"render_ms", {{"p50", percentile(interactive_render, 50)}}},
              {"decode_ms", {{"p50", report.decode_ms.p50}}},
              {"presenter_latency_ms", {{"p50", client::histogram_percentile(metrics.presenter_latency_ms, 50)},
                                        {"p95", client::histogram_percentile(metrics.presenter_latency_ms, 95)}}},
              {"intent_to_presented_ms", {{"p50", client::histogram_percentile(metrics.intent_to_frame_ms, 50)},
                                          {"p95", client::histogram_percentile(metrics.intent_to_frame_ms, 95)},
                                          {"p99", client::histogram_percentile(metrics.intent_to_frame_ms, 99)}}},
              {"bytes_per_frame", {{"p50", report.bytes_per_frame.p50}}},
              {"still_psnr_db", psnr},
              {"memory_mb", memory_mb},
              {"unanswered", report.unanswered},
              {"baseline", {{"ours_encode_ms", enc_vs_cli.first}, {"ffmpeg_cli_encode_ms", enc_vs_cli.second}}}};
    std::ofstream(cfg.json_path) << j.dump(2) << "\n";
  }
  return 0;
}

}  // namespace voxcast::bench

int main(int argc, char** argv) {
  using namespace voxcast::bench;
  CLI::App app{"voxcast-bench: latency, throughput and quality measurements"};
  BenchConfig cfg;
  std::string size = "1920x1080";
  auto* latency = app.add_subcommand("latency-2d", "dims scrubbing latency at the given rate");
  auto* orbit = app.add_subcommand("orbit-3d", "a full 360 degree orbit of a volume in N steps");
  auto* read = app.add_subcommand("read", "chunk read+decode throughput of a local OME-Zarr vs plain reading");
  auto* jump = app.add_subcommand("jump-2d", "random dims jumps on an uncached 3-level pyramid (>= 2 GB)");
  auto* sparse = app.add_subcommand("sparse", "open a sparse OME-Zarr of over 10 TB and show its first frame");
  auto* web = app.add_subcommand("latency-web", "the browser client (headless Chromium) scrubbing dims, latency-2d as baseline");
  auto* clients = app.add_subcommand("clients", "N clients sharing a view (light extra clients): the server's frames/s, latency, CPU");
  auto* quality = app.add_subcommand("quality", "PSNR and bits per frame in motion and after it; time to the exact still");
  auto* soak = app.add_subcommand("soak", "4 clients scrubbing and orbiting for a long time: RSS, fds, errors, frames/s");
  auto* link = app.add_subcommand("link", "a client over a shaped link (root: netns, veth, tc), with and without rate control");
  double link_mbps = 10, link_rtt_ms = 40, link_seconds = 10;
  link->add_option("--mbps", link_mbps, "the link's rate each way")->check(CLI::Range(0.5, 10000.0))->capture_default_str();
  link->add_option("--rtt-ms", link_rtt_ms, "the link's round trip")->check(CLI::Range(0.0, 2000.0))->capture_default_str();
  link->add_option("--seconds", link_seconds, "each scrubbing phase")->check(CLI::Range(2.0, 600.0))->capture_default_str();
  auto* paraview = app.add_subcommand("vs-paraview", "the CPU ray caster at full resolution vs ParaView's pvbatch, same volume and canvas");
  paraview->add_option("--volume-size", cfg.volume_size, "edge of the generated cube")->check(CLI::Range(16, 1024))->capture_default_str();
  paraview->add_option("--steps", cfg.steps, "frames per mode, orbiting (default 36)");
  paraview->add_option("--size", size, "video size WxH")->capture_default_str();
  paraview->add_option("--threads", cfg.threads, "render threads (0: all cores)")->capture_default_str();
  paraview->add_option("--work-dir", cfg.work_dir, "where the raw volume and the pictures go")->capture_default_str();
  paraview->add_option("--json", cfg.json_path, "write results as JSON");
  std::string web_driver = std::string(VOXCAST_WEB_DIR) + "/bench/latency-web.mjs";
  for (auto* sub : {read, jump, sparse}) {
    sub->add_option("--dataset", cfg.dataset, "dataset (default: generate one under --work-dir)");
    sub->add_option("--work-dir", cfg.work_dir, "where generated datasets are kept")->capture_default_str();
    sub->add_option("--threads", cfg.threads, "threads (0: all cores)")->capture_default_str();
    sub->add_option("--cache-mb", cfg.cache_mb, "server chunk cache")->capture_default_str();
    sub->add_option("--size", size, "video size WxH")->capture_default_str();
    sub->add_option("--json", cfg.json_path, "write results as JSON");
  }
  jump->add_option("--steps", cfg.steps, "jumps (default 40)");
  jump->add_option("--store", cfg.store, "local, or http: nginx on loopback behind a proxy adding --latency-ms (local in the same run)")
      ->check(CLI::IsMember({"local", "http"}))->capture_default_str();
  jump->add_option("--latency-ms", cfg.latency_ms, "--store http: delay added to every request")
      ->check(CLI::Range(0, 2000))->capture_default_str();
  web->add_option("--driver", web_driver, "the node script driving Chromium")->capture_default_str();
  sparse->add_option("--levels", cfg.levels, "1: single-level datasets (2 PB sparse, 17 GB dense) in a server process of its own");
  for (auto* sub : {latency, orbit, web, clients, quality, link}) {
    sub->add_option("--steps", cfg.steps, "intents to send (latency-2d: 300, orbit-3d: 120)");
    sub->add_option("--rate", cfg.rate, "intents per second")->capture_default_str();
    sub->add_option("--size", size, "video size WxH")->capture_default_str();
    sub->add_option("--dataset", cfg.dataset, "dataset (synthetic or synthetic:CxZxYxX)");
    sub->add_option("--threads", cfg.threads, "server render/encode threads (0: all cores)")->capture_default_str();
    sub->add_option("--json", cfg.json_path, "write results as JSON");
  }
  latency->add_option("--baseline-frames", cfg.baseline_frames, "frames for the ffmpeg CLI baseline (0: skip)")->capture_default_str();
  orbit->add_option("--volume-size", cfg.volume_size, "edge of the generated cube when no --dataset")->capture_default_str();
  orbit->add_option("--mode", cfg.mode, "rendering mode (mip, translucent, ...)")->capture_default_str();
  orbit->add_option("--renderer", cfg.renderer, "3D renderer: auto, cuda, cpu")->capture_default_str();
  orbit->add_option("--frame-ms", cfg.frame_ms, "3D frame-time budget while moving")->capture_default_str();
  clients->add_option("--counts", cfg.client_counts, "client counts, one phase each")->delimiter(',')->capture_default_str();
  double soak_rate = 30;
  soak->add_option("--minutes", cfg.soak_minutes, "how long")->capture_default_str();
  soak->add_option("--rate", soak_rate, "intents per second from each client")->capture_default_str();
  soak->add_option("--size", size, "video size WxH")->capture_default_str();
  soak->add_option("--dataset", cfg.dataset, "dataset (synthetic or synthetic:CxZxYxX)");
  soak->add_option("--threads", cfg.threads, "server render/encode threads (0: all cores)")->capture_default_str();
  soak->add_option("--json", cfg.json_path, "write results as JSON");
  orbit->add_option("--levels", cfg.levels,
                    "> 0: orbit a procedural pyramid (--volume-size^3, this many levels) zoomed into a 256^3 region")
      ->capture_default_str();
  orbit->add_option("--cache-mb", cfg.cache_mb, "server chunk cache")->capture_default_str();
  orbit->add_option("--volume-mb", cfg.volume_mb, "server --volume-mb (3D on the CPU)")->capture_default_str();
  orbit->add_option("--gpu-mb", cfg.gpu_mb, "server --gpu-mb (3D on CUDA)")->capture_default_str();
  orbit->add_option("--bricks", cfg.bricks, "server --bricks: auto, always, never")->capture_default_str();
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  set_log_level(LogLevel::warn);
  codec::set_library_logging(false);
  if (std::sscanf(size.c_str(), "%dx%d", &cfg.width, &cfg.height) != 2) {
    std::fprintf(stderr, "voxcast-bench: bad --size\n");
    return 2;
  }
  if (read->parsed()) return run_read(cfg);
  if (paraview->parsed()) {
    if (cfg.steps <= 0) cfg.steps = 36;
    return run_vs_paraview(cfg);
  }
  if (jump->parsed()) {
    if (cfg.steps <= 0) cfg.steps = 40;
    return run_jump_2d(cfg);
  }
  if (sparse->parsed()) return cfg.levels == 1 ? run_sparse_single_level(cfg) : run_sparse(cfg);
  if (orbit->parsed()) {
    if (cfg.steps <= 0) cfg.steps = 120;
    if (cfg.dataset.empty() && cfg.levels > 0)
      cfg.dataset = "procedural:" + std::to_string(cfg.volume_size) + ":" + std::to_string(cfg.levels);
    if (cfg.dataset.empty()) cfg.dataset = "synthetic:1x" + std::to_string(cfg.volume_size) + "x" +
                                           std::to_string(cfg.volume_size) + "x" + std::to_string(cfg.volume_size);
    return run_orbit_3d(cfg);
  }
  if (quality->parsed()) {
    if (cfg.steps <= 0) cfg.steps = 60;
    return run_quality(cfg);
  }
  if (cfg.steps <= 0) cfg.steps = 300;
  if (cfg.dataset.empty()) cfg.dataset = "synthetic";
  if (clients->parsed()) return run_clients(cfg);
  if (link->parsed()) return run_link(cfg, link_mbps, link_rtt_ms, link_seconds);
  if (soak->parsed()) {
    cfg.client_history = 2000;  // the client's records fill during warm-up, not through the run
    cfg.rate = soak_rate;
    return run_soak(cfg);
  }
  if (web->parsed()) return run_latency_web(cfg, web_driver);
  return run_latency_2d(cfg);
}
