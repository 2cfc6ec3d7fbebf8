// voxcast-convert IN OUT: any dataset voxcast reads → OME-Zarr 0.5 (Zarr v3, sharded,
// multiscale), in bounded memory, on all cores, with progress; run again to resume.
#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <mutex>

#include "voxcast/data/convert.hpp"
#include "voxcast/data/open_dataset.hpp"

using namespace voxcast;

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::string duration(double s) {
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%.0fs", s);
  return buf;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"voxcast-convert: writes any dataset voxcast opens as OME-Zarr 0.5 (sharded Zarr v3, multiscale); "
               "an interrupted conversion resumes when run again with the same IN and OUT"};
  std::string in, out, codec = "zstd";
  size_t memory_mb = 1024, shard_mb = 0;
  int threads = 0, throttle_ms = 0;
  bool quiet = false;
  app.add_option("IN", in, std::string("what to convert: ") + data::dataset_kinds())->required();
  app.add_option("OUT", out, "the OME-Zarr directory to write")->required();
  app.add_option("--memory-mb", memory_mb, "memory for decoded data (reading cache + shards in flight)")->capture_default_str();
  app.add_option("--shard-mb", shard_mb, "decoded size of a shard at most (0: as memory allows)")->capture_default_str();
  app.add_option("--threads", threads, "worker threads (0: every core)")->capture_default_str();
  app.add_option("--codec", codec, "inner-chunk compressor: zstd, blosc, gzip or none")->capture_default_str();
  app.add_flag("--quiet", quiet, "no progress bar");
  app.add_option("--throttle-ms", throttle_ms, "pause per shard (for testing interruption)")->group("");
  CLI11_PARSE(app, argc, argv);
  if (memory_mb < 64) {
    std::fprintf(stderr, "voxcast-convert: --memory-mb must be at least 64\n");
    return 2;
  }
  data::ConvertOptions o;
  o.memory_bytes = memory_mb << 20;
  o.threads = threads;
  o.max_shard_bytes = shard_mb << 20;
  o.throttle_ms = throttle_ms;
  o.source_name = in;
  o.stop = &g_stop;
  if (codec == "none") o.compressor = data::Compressor{};
  else if (codec == "blosc") o.compressor.id = "blosc", o.compressor.cname = "zstd", o.compressor.clevel = 3, o.compressor.shuffle = 1;
  else if (codec == "gzip") o.compressor.id = "gzip", o.compressor.clevel = 5;
  else if (codec != "zstd") {
    std::fprintf(stderr, "voxcast-convert: --codec %s: use zstd, blosc, gzip or none\n", codec.c_str());
    return 2;
  }
  data::OpenOptions open;
  open.cache = std::make_shared<data::ChunkCache>(std::max<size_t>(o.memory_bytes / 4, size_t{16} << 20), threads);
  auto opened = data::open_dataset(in, open);
  if (auto* err = std::get_if<data::DataError>(&opened)) {
    std::fprintf(stderr, "voxcast-convert: %s: %s\n", err->source.c_str(), err->message.c_str());
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto t0 = std::chrono::steady_clock::now();
  auto last = t0 - std::chrono::seconds(1);
  std::mutex print_mutex;
  auto progress = [&](const data::ConvertProgress& p) {
    auto now = std::chrono::steady_clock::now();
    if (quiet || now - last < std::chrono::milliseconds(250)) return;
    last = now;
    double secs = std::chrono::duration<double>(now - t0).count();
    double frac = p.shards_total ? static_cast<double>(p.shards_done) / static_cast<double>(p.shards_total) : 1;
    uint64_t fresh = p.shards_done - p.shards_resumed;
    double eta = fresh ? secs / static_cast<double>(fresh) * static_cast<double>(p.shards_total - p.shards_done) : 0;
    int bar = static_cast<int>(frac * 30);
    std::fprintf(stderr, "\r[%.*s%*s] %5.1f%%  level %d/%d  %llu/%llu shards  %.0f MB/s  ETA %s   ", bar,
                 "##############################", 30 - bar, "", frac * 100, p.level, p.levels,
                 static_cast<unsigned long long>(p.shards_done), static_cast<unsigned long long>(p.shards_total),
                 static_cast<double>(p.bytes_done) / 1e6 / std::max(secs, 1e-3), duration(eta).c_str());
  };
  auto result = data::convert_to_ome_zarr(*std::get<0>(opened), out, o, progress);
  if (!quiet) std::fprintf(stderr, "\n");
  if (auto* err = std::get_if<data::DataError>(&result)) {
    std::fprintf(stderr, "voxcast-convert: %s: %s\n", err->source.c_str(), err->message.c_str());
    return 1;
  }
  const auto& r = std::get<data::ConvertResult>(result);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string shard, inner;
  for (size_t a = 0; a < r.shard.size(); ++a) {
    shard += (a ? "x" : "") + std::to_string(r.shard[a]);
    inner += (a ? "x" : "") + std::to_string(r.inner_chunk[a]);
  }
  std::printf("%s %s: %d levels, shards %s of inner chunks %s, %llu shards (%llu resumed), %.1f MB in %.2f s = %.1f MB/s, "
              "%d threads\n",
              r.interrupted ? "interrupted" : "wrote", out.c_str(), r.levels, shard.c_str(), inner.c_str(),
              static_cast<unsigned long long>(r.shards), static_cast<unsigned long long>(r.shards_resumed),
              static_cast<double>(r.bytes) / 1e6, secs, static_cast<double>(r.bytes) / 1e6 / std::max(secs, 1e-6), r.threads);
  if (r.interrupted) {
    std::fprintf(stderr, "voxcast-convert: interrupted; run the same command again to resume\n");
    return 130;
  }
  return 0;
}
