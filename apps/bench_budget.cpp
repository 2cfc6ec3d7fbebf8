// voxcast-bench sparse --levels 1: the hard memory budget on single-level data, with the
// server in its own process (its peak resident memory, and its exit after SIGINT, are
// measured from outside):
//   a sparse single-level OME-Zarr of over 1 PB logical, and
//   a dense single-level 17 GB plane (chunks that compress well, so it is small on disk),
// each opened with --cache-mb: first (partial) frame, full-resolution frame, peak RSS,
// SIGINT -> exit.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench_common.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/connection.hpp"
#include "voxcast/data/codecs.hpp"
#include "voxcast/data/zarr.hpp"

extern char** environ;

namespace voxcast::bench {
namespace fs = std::filesystem;

namespace {

// One level: `shape` uint16 with chunks 1 x 512 x 512; `present(z, cy, cx)` says which
// chunks exist, `value` fills them.
bool write_single_level(const std::string& dir, const std::vector<int64_t>& shape,
                        const std::function<bool(int64_t, int64_t, int64_t)>& present) {
  if (fs::exists(dir + "/.complete")) return true;
  fs::remove_all(dir);
  std::printf("  writing %s ...\n", dir.c_str());
  std::fflush(stdout);
  data::ZarrArrayMeta m;
  m.shape = shape;
  m.chunks = {1, 512, 512};
  m.dtype = data::DType::u16;
  m.compressor.id = "blosc";
  m.compressor.cname = "lz4";
  m.compressor.shuffle = 1;
  fs::create_directories(dir + "/0");
  std::ofstream(dir + "/0/.zarray") << data::zarray_json(m);
  const int64_t gy = (shape[1] + 511) / 512, gx = (shape[2] + 511) / 512;
  std::vector<uint16_t> chunk(512 * 512);
  for (int64_t z = 0; z < shape[0]; ++z)
    for (int64_t cy = 0; cy < gy; ++cy)
      for (int64_t cx = 0; cx < gx; ++cx) {
        if (!present(z, cy, cx)) continue;
        // A gentle gradient per chunk: compresses to a few kB, still real decoding work.
        for (int64_t y = 0; y < 512; ++y)
          for (int64_t x = 0; x < 512; ++x)
            chunk[static_cast<size_t>(y * 512 + x)] = static_cast<uint16_t>(1000 + ((cy * 7 + cx * 3) % 64) * 40 + (x + y) / 64);
        auto packed = data::compress(m.compressor, reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size() * 2, 2);
        std::ofstream(dir + "/0/" + std::to_string(z) + "." + std::to_string(cy) + "." + std::to_string(cx), std::ios::binary)
            .write(reinterpret_cast<const char*>(packed.data()), static_cast<std::streamsize>(packed.size()));
      }
  data::write_ngff_attrs(dir, {{"z", "space", "micrometer"}, {"y", "space", "micrometer"}, {"x", "space", "micrometer"}},
                         {{1.0, 1.0, 1.0}}, {}, {});
  std::ofstream(dir + "/.complete") << "ok\n";
  return true;
}

double peak_rss_mb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

struct BudgetRun {
  double first_ms = -1, full_ms = -1, exit_ms = -1, peak_rss_mb = 0, idle_rss_mb = 0;
  bool first_partial = false;
};

BudgetRun run_server(const BenchConfig& cfg, const std::string& dataset, double full_timeout_s) {
  BudgetRun r;
  char self[4096] = {0};
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string bin = (n > 0 ? fs::path(std::string(self, static_cast<size_t>(n))).parent_path() : fs::path(".")) / "voxcast-server";
  std::string conn_file = cfg.work_dir + "/budget-connection.txt";
  fs::remove(conn_file);
  char size[32];
  std::snprintf(size, sizeof size, "%dx%d", cfg.width, cfg.height);
  std::vector<std::string> args = {bin, dataset, "--cache-mb", std::to_string(static_cast<int>(cfg.cache_mb)),
                                   "--control-port", "0", "--pixel-port", "0", "--connection-file", conn_file,
                                   "--size", size, "--log-level", "error", "--threads", std::to_string(cfg.threads)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const double t0 = steady_ms();
  pid_t pid = 0;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ) != 0) {
    std::fprintf(stderr, "voxcast-bench: cannot start %s\n", bin.c_str());
    return r;
  }
  posix_spawn_file_actions_destroy(&fa);
  std::optional<ConnectionOptions> conn;
  for (int i = 0; i < 600 && !conn; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream f(conn_file);
    std::string text, why;
    if (std::getline(f, text) && !text.empty()) conn = parse_connection_string(text, &why);
  }
  if (conn) {
    client::ClientConfig cc;
    cc.connection = *conn;
    cc.name = "voxcast-bench";
    client::ClientStreamLoop c(cc);
    if (!c.connect()) {
      c.wait_until([&] { return c.stats().frames_decoded > 0; }, 30);
      for (const auto& f : c.frames())
        if (f.decoded) {
          r.first_ms = f.decoded_ms - t0;
          r.first_partial = f.partial;
          break;
        }
      c.wait_until([&] {
        for (const auto& f : c.frames())
          if (f.decoded && !f.partial) return true;
        return false;
      }, full_timeout_s);
      for (const auto& f : c.frames())
        if (f.decoded && !f.partial) {
          r.full_ms = f.decoded_ms - t0;
          break;
        }
      c.stop();
    }
  }
  r.peak_rss_mb = peak_rss_mb(pid);
  const double stop = steady_ms();
  kill(pid, SIGINT);
  int status = 0;
  for (int i = 0; i < 3000; ++i) {  // 30 s at most, then it is killed
    if (waitpid(pid, &status, WNOHANG) == pid) {
      r.exit_ms = steady_ms() - stop;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (r.exit_ms < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  return r;
}

}  // namespace

int run_sparse_single_level(const BenchConfig& cfg) {
  fs::create_directories(cfg.work_dir);
  // 1000 x 2^20 x 2^20 uint16 = 2.2 PB logical: 8 x 8 chunks of the middle plane exist.
  const int64_t side = int64_t{1} << 20;
  const std::string sparse = cfg.work_dir + "/sparse-2PB-single-level.zarr";
  write_single_level(sparse, {1000, side, side}, [&](int64_t z, int64_t cy, int64_t cx) {
    const int64_t c = side / 512 / 2;
    return z == 500 && cy >= c - 4 && cy < c + 4 && cx >= c - 4 && cx < c + 4;
  });
  // 1 x 65536 x 131072 uint16 = 17.2 GB, every chunk present.
  const std::string dense = cfg.work_dir + "/dense-17GB-single-level.zarr";
  write_single_level(dense, {1, 65536, 131072}, [](int64_t, int64_t, int64_t) { return true; });
  double disk = 0;
  for (const auto& e : fs::recursive_directory_iterator(dense))
    if (e.is_regular_file()) disk += static_cast<double>(e.file_size());
  std::printf("voxcast-bench sparse --levels 1  (server in its own process), --cache-mb %.0f, %dx%d, %u cores\n",
              cfg.cache_mb, cfg.width, cfg.height, std::thread::hardware_concurrency());
  int rc = 0;
  protocol::Json results = protocol::Json::object();
  for (const auto& [name, dir, logical] : {std::tuple{"sparse 2.2 PB", sparse, 2.0 * 1000 * side * static_cast<double>(side)},
                                            std::tuple{"dense 17 GB", dense, 2.0 * 65536 * 131072.0}}) {
    BudgetRun r = run_server(cfg, dir, 120);
    std::printf("  %-14s (%.3g TB logical%s)\n", name, logical / 1e12,
                dir == dense ? (", " + std::to_string(static_cast<int>(disk / 1e6)) + " MB on disk").c_str() : "");
    std::printf("    start + first frame (ms)        %8.0f%s\n", r.first_ms, r.first_partial ? "  (partial)" : "");
    std::printf("    start + full-resolution frame   %8.0f ms%s\n", r.full_ms, r.full_ms < 0 ? " (none in 120 s)" : "");
    std::printf("    server peak RSS (MB)            %8.0f  (budget %.0f MB)\n", r.peak_rss_mb, cfg.cache_mb);
    std::printf("    SIGINT -> exit (ms)             %8.0f\n", r.exit_ms);
    if (r.first_ms < 0 || r.exit_ms < 0) rc = 1;
    results[dir == dense ? "dense" : "sparse"] = {{"logical_bytes", logical},     {"first_ms", r.first_ms},
                                                  {"first_partial", r.first_partial}, {"full_ms", r.full_ms},
                                                  {"peak_rss_mb", r.peak_rss_mb},     {"exit_ms", r.exit_ms}};
  }
  if (!cfg.json_path.empty())
    write_json(cfg.json_path, {{"scenario", "sparse-single-level"}, {"cache_mb", cfg.cache_mb}, {"results", results}});
  return rc;
}

}  // namespace voxcast::bench
