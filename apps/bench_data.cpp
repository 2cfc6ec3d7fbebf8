// voxcast-bench scenarios on real chunked data:
//   read     chunk read + decode throughput of a local OME-Zarr, next to plain reading
//            of the same files (the `cat` baseline) in the same run;
//   jump-2d  random dims jumps on an uncached 3-level pyramid: intent -> first frame and
//            intent -> full-resolution frame, server memory;
//   sparse   a sparse OME-Zarr of more than 10 TB logical: open + first frame time, memory.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "bench_common.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/stats.hpp"
#include "voxcast/data/chunked_source.hpp"
#include "voxcast/data/convert.hpp"
#include "voxcast/data/dtype.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/data/remote_store.hpp"
#include "voxcast/data/zarr.hpp"

namespace voxcast::bench {
namespace fs = std::filesystem;
using protocol::Json;

namespace {

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

// A uint16 OME-Zarr pyramid (2x per level on every axis) with microscopy-like content:
// smooth blobs plus noise, so it compresses about as well as real data. Kept between
// runs (a .complete marker) since writing gigabytes takes a while.
std::string make_pyramid(const std::string& dir, int64_t z, int64_t y, int64_t x, int levels, const char* cname) {
  if (fs::exists(dir + "/.complete")) return dir;
  fs::remove_all(dir);
  std::printf("  writing %s (%lldx%lldx%lld uint16, %d levels) ...\n", dir.c_str(), static_cast<long long>(z),
              static_cast<long long>(y), static_cast<long long>(x), levels);
  std::fflush(stdout);
  std::vector<std::vector<double>> scales;
  for (int l = 0; l < levels; ++l) {
    int64_t f = int64_t{1} << l;
    data::ZarrArrayMeta m;
    m.shape = {std::max<int64_t>(1, z / f), std::max<int64_t>(1, y / f), std::max<int64_t>(1, x / f)};
    m.chunks = {1, 256, 256};
    m.dtype = data::DType::u16;
    m.compressor.id = "blosc";
    m.compressor.cname = cname;
    m.compressor.shuffle = 1;
    auto err = data::write_zarr_array(dir + "/" + std::to_string(l), m,
                                      [&](const std::vector<int64_t>& s, const std::vector<int64_t>& shape,
                                          std::vector<uint8_t>* bytes) {
                                        auto* v = reinterpret_cast<uint16_t*>(bytes->data());
                                        for (int64_t k = 0; k < shape[0]; ++k)
                                          for (int64_t j = 0; j < shape[1]; ++j)
                                            for (int64_t i = 0; i < shape[2]; ++i) {
                                              double zz = static_cast<double>((s[0] + k) * f), yy = static_cast<double>((s[1] + j) * f),
                                                     xx = static_cast<double>((s[2] + i) * f);
                                              double blob = std::sin(xx * 0.031 + zz * 0.02) * std::cos(yy * 0.027 - zz * 0.013);
                                              uint64_t h = mix(static_cast<uint64_t>((s[0] + k) * 1000003 + (s[1] + j) * 1009 + s[2] + i));
                                              *v++ = static_cast<uint16_t>(800 + 700 * blob * blob + (h & 63));
                                            }
                                        return true;
                                      },
                                      0);
    if (err) {
      std::fprintf(stderr, "voxcast-bench: %s\n", err->c_str());
      return "";
    }
    scales.push_back({static_cast<double>(f), 0.5 * static_cast<double>(f), 0.5 * static_cast<double>(f)});
  }
  data::write_ngff_attrs(dir, {{"z", "space", "micrometer"}, {"y", "space", "micrometer"}, {"x", "space", "micrometer"}},
                         scales, {}, {});
  std::ofstream(dir + "/.complete") << "ok\n";
  return dir;
}

}  // namespace

void write_json(const std::string& path, const Json& j) {
  if (!path.empty()) std::ofstream(path) << j.dump(2) << "\n";
}

namespace {
struct ReadResult {
  size_t files = 0;
  double file_bytes = 0, cat_s = 0, read_s = 0, decoded = 0;
  bool ok = false;
};

// `cat` of the chunk files under `files_dir` (warm, then timed), then every plane of level
// 0 of `dataset` through a chunk cache.
ReadResult measure_read(const BenchConfig& cfg, const std::string& dataset, const std::string& files_dir) {
  ReadResult r;
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(files_dir))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.' && e.path().filename() != "zarr.json" &&
        e.path().filename() != ".zarray")
      files.push_back(e.path().string());
  r.files = files.size();
  std::vector<char> buf(1 << 20);
  auto cat_all = [&] {
    r.file_bytes = 0;
    for (const auto& f : files) {
      FILE* fp = std::fopen(f.c_str(), "rb");
      if (!fp) continue;
      size_t n;
      while ((n = std::fread(buf.data(), 1, buf.size(), fp)) > 0) r.file_bytes += static_cast<double>(n);
      std::fclose(fp);
    }
  };
  // One untimed pass first, so both measurements read from the page cache alike (the
  // page cache cannot be dropped without root; a cold disk would time the disk, not us).
  cat_all();
  double t0 = steady_ms();
  cat_all();
  r.cat_s = (steady_ms() - t0) / 1000.0;
  auto cache = std::make_shared<data::ChunkCache>(size_t{256} << 20, cfg.threads);
  data::OpenOptions o;
  o.cache = cache;
  auto opened = data::open_dataset(dataset, o);
  if (auto* err = std::get_if<data::DataError>(&opened)) {
    std::fprintf(stderr, "voxcast-bench: %s: %s\n", err->source.c_str(), err->message.c_str());
    return r;
  }
  auto& src = *std::get<0>(opened);
  const auto& shape = src.info().levels[0].shape;
  const size_t rank = shape.size();
  data::Box plane;
  plane.start.assign(rank, 0);
  plane.size = shape;
  int64_t planes = 1;
  for (size_t a = 0; a + 2 < rank; ++a) {
    plane.size[a] = 1;
    planes *= shape[a];
  }
  std::vector<float> out(static_cast<size_t>(plane.count()));
  t0 = steady_ms();
  for (int64_t p = 0; p < planes; ++p) {
    int64_t rest = p;
    for (size_t a = rank - 2; a-- > 0;) {
      plane.start[a] = rest % shape[a];
      rest /= shape[a];
    }
    if (auto err = src.read_level(0, plane, out.data())) {
      std::fprintf(stderr, "voxcast-bench: %s\n", err->message.c_str());
      return r;
    }
    r.decoded += static_cast<double>(plane.count()) * static_cast<double>(data::dtype_size(src.info().dtype));
  }
  r.read_s = (steady_ms() - t0) / 1000.0;
  r.ok = true;
  return r;
}
}  // namespace

int run_read(const BenchConfig& cfg) {
  std::string dir = cfg.dataset.empty()
                        ? make_pyramid(cfg.work_dir + "/read-256x1024x1024.zarr", 256, 1024, 1024, 1, "lz4")
                        : cfg.dataset;
  if (dir.empty()) return 1;
  std::string level0 = cfg.dataset.empty() ? dir + "/0" : dir;
  // The same data as Zarr v3 with sharding (voxcast-convert's layout, blosc/lz4 inside).
  std::string v3 = cfg.work_dir + "/read-256x1024x1024-sharded.ome.zarr";
  if (cfg.dataset.empty() && !fs::exists(v3 + "/.complete")) {
    fs::remove_all(v3);
    auto src = data::open_dataset(dir);
    if (src.index() != 0) return 1;
    data::ConvertOptions co;
    co.compressor.id = "blosc";
    co.compressor.cname = "lz4";
    co.compressor.shuffle = 1;
    co.min_level_size = int64_t{1} << 40;  // level 0 only
    co.memory_bytes = size_t{512} << 20;
    co.source_name = dir;
    auto r = data::convert_to_ome_zarr(*std::get<0>(src), v3, co);
    if (auto* e = std::get_if<data::DataError>(&r)) {
      std::fprintf(stderr, "voxcast-bench: %s: %s\n", e->source.c_str(), e->message.c_str());
      return 1;
    }
    std::ofstream(v3 + "/.complete") << "ok\n";
  }
  std::printf("voxcast-bench read  %u cores (page cache warm for every line)\n", std::thread::hardware_concurrency());
  std::printf("  %-34s %8s %8s %10s %10s %10s\n", "", "files", "MB disk", "MB decoded", "MB/s dec.", "cat MB/s");
  Json results = Json::object();
  for (const auto& [name, path, files_dir] : {std::tuple{"Zarr v2, unsharded chunks", dir, level0},
                                              std::tuple{"Zarr v3, sharded (inner by range)", v3, v3 + "/0"}}) {
    if (!cfg.dataset.empty() && path != dir) continue;
    ReadResult r = measure_read(cfg, path, files_dir);
    if (!r.ok) return 1;
    double mbs = r.decoded / 1e6 / r.read_s, cat = r.file_bytes / 1e6 / r.cat_s;
    std::printf("  %-34s %8zu %8.0f %10.0f %10.0f %10.0f\n", name, r.files, r.file_bytes / 1e6, r.decoded / 1e6, mbs, cat);
    results[path == dir ? "v2" : "v3_sharded"] = {{"mb_per_s", mbs}, {"cat_mb_per_s", cat}, {"files", r.files},
                                                  {"file_mb", r.file_bytes / 1e6}, {"decoded_mb", r.decoded / 1e6}};
  }
  write_json(cfg.json_path, {{"scenario", "read"}, {"results", results}, {"cores", std::thread::hardware_concurrency()}});
  return 0;
}

namespace {
struct JumpResult {
  std::vector<double> first_ms, full_ms;
  int partial_first = 0;
};

// Sends `targets` one by one (waiting for each full-resolution frame) along `axis`.
JumpResult jump(client::ClientStreamLoop& c, const std::string& axis, const std::vector<int64_t>& targets) {
  JumpResult r;
  for (int64_t z : targets) {
    double sent = steady_ms();
    std::string id = c.send_state("dims", axis, "index", z);
    int64_t version = 0;
    c.wait_until([&] {
      for (const auto& in : c.intents())
        if (in.intent_id == id && in.acked_ms > 0) {
          version = in.version;
          return true;
        }
      return false;
    }, 5);
    double first = 0, full = 0;
    c.wait_until([&] {
      for (const auto& f : c.frames()) {
        if (!f.decoded || f.decoded_ms < sent || f.scene_version < static_cast<uint64_t>(version)) continue;
        if (first == 0) {
          first = f.decoded_ms - sent;
          if (f.partial) r.partial_first += 1;
        }
        if (!f.partial) {
          full = f.decoded_ms - sent;
          return true;
        }
      }
      return false;
    }, 10);
    if (first > 0) r.first_ms.push_back(first);
    if (full > 0) r.full_ms.push_back(full);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  return r;
}
}  // namespace

std::string jump_pyramid(const BenchConfig& cfg) {
  return cfg.dataset.empty() ? make_pyramid(cfg.work_dir + "/jump-1024x1024x1024.zarr", 1024, 1024, 1024, 3, "lz4")
                             : cfg.dataset;
}

JumpRun run_jumps(const BenchConfig& cfg, const std::string& dataset) {
  JumpRun out;
  BenchConfig c2 = cfg;
  c2.dataset = dataset;
  double rss_before = rss_mb();
  BenchSession session = start_session(c2);
  if (!session.client) return out;
  client::ClientStreamLoop& c = *session.client;
  c.wait_until([&] { return c.stats().frames_decoded > 0 && c.mirror().have_scene; }, 20);
  auto mirror = c.mirror();
  std::string axis = mirror.axis_labels.empty() ? "0" : mirror.axis_labels[0];
  int64_t depth = mirror.shape.empty() ? 1 : mirror.shape[0];
  std::mt19937 rng(12345);
  std::vector<int64_t> targets;
  for (int i = 0; i < cfg.steps; ++i) targets.push_back(static_cast<int64_t>(rng() % static_cast<uint32_t>(depth)));
  const data::RemoteStats before = data::remote_stats();
  JumpResult r = jump(c, axis, targets);
  const data::RemoteStats after = data::remote_stats();
  out.ok = true;
  out.jumps = targets.size();
  out.first_ms = r.first_ms;
  out.full_ms = r.full_ms;
  out.partial_first = r.partial_first;
  out.requests = after.requests - before.requests;
  out.retries = after.retries - before.retries;
  out.bytes = after.bytes - before.bytes;
  out.rss_mb = rss_mb();
  out.rss_before_mb = rss_before;
  out.logical_gb = static_cast<double>(depth) * static_cast<double>(mirror.shape[1]) * static_cast<double>(mirror.shape[2]) * 2.0 / 1e9;
  session.client->stop();
  session.server->stop();
  return out;
}

void print_jumps(const char* label, const JumpRun& r) {
  std::printf("  %-38s %8.1f %8.1f\n", (std::string(label) + "intent -> first frame (ms)").c_str(), percentile(r.first_ms, 50),
              percentile(r.first_ms, 95));
  std::printf("  %-38s %8.1f %8.1f\n", (std::string(label) + "intent -> full-resolution frame (ms)").c_str(),
              percentile(r.full_ms, 50), percentile(r.full_ms, 95));
  std::printf("  %sfirst frames from a coarser level      %4d of %zu\n", label, r.partial_first, r.first_ms.size());
}

int run_jump_2d(const BenchConfig& cfg) {
  if (cfg.store == "http") return run_jump_2d_remote(cfg);
  std::string dir = jump_pyramid(cfg);
  if (dir.empty()) return 1;
  JumpRun r = run_jumps(cfg, dir);
  if (!r.ok) return 1;
  std::printf("voxcast-bench jump-2d  %s (%.2f GB logical level 0), %dx%d, %zu jumps, %u cores\n", dir.c_str(), r.logical_gb,
              cfg.width, cfg.height, r.jumps, std::thread::hardware_concurrency());
  std::printf("  %-38s %8s %8s\n", "", "p50", "p95");
  print_jumps("", r);
  std::printf("  process memory (server+client, MB)     %8.0f  (%.0f before opening)\n", r.rss_mb, r.rss_before_mb);
  write_json(cfg.json_path, {{"scenario", "jump-2d"},
                             {"first_frame_ms", {{"p50", percentile(r.first_ms, 50)}, {"p95", percentile(r.first_ms, 95)}}},
                             {"full_res_ms", {{"p50", percentile(r.full_ms, 50)}, {"p95", percentile(r.full_ms, 95)}}},
                             {"server_rss_mb", r.rss_mb},
                             {"jumps", r.jumps},
                             {"answered", r.full_ms.size()},
                             {"partial_first_frames", r.partial_first},
                             {"logical_gb", r.logical_gb},
                             {"width", cfg.width},
                             {"height", cfg.height}});
  return r.full_ms.size() == r.jumps ? 0 : 1;
}

int run_sparse(const BenchConfig& cfg) {
  // 5000 x 131072 x 131072 uint16 = 172 TB logical, 5 levels (4x in y, x), only the
  // central chunks of the middle plane written.
  std::string dir = cfg.work_dir + "/sparse-172TB.zarr";
  if (!fs::exists(dir + "/.complete")) {
    fs::remove_all(dir);
    std::vector<std::vector<double>> scales;
    for (int l = 0; l < 5; ++l) {
      int64_t f = int64_t{1} << (2 * l);
      data::ZarrArrayMeta m;
      m.shape = {5000, 131072 / f, 131072 / f};
      m.chunks = {1, 512, 512};
      m.dtype = data::DType::u16;
      m.compressor.id = "blosc";
      // Only the central 5x5 chunks of the middle plane exist; the rest reads as fill.
      std::string level_dir = dir + "/" + std::to_string(l);
      fs::create_directories(level_dir);
      std::ofstream(level_dir + "/.zarray") << data::zarray_json(m);
      int64_t cy = m.shape[1] / 1024, cx = m.shape[2] / 1024;
      std::vector<uint16_t> chunk(512 * 512);
      for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<uint16_t>(500 + (i % 512) + l * 100);
      auto packed = data::compress(m.compressor, reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size() * 2, 2);
      for (int64_t y = std::max<int64_t>(0, cy - 2); y <= cy + 2 && y * 512 < m.shape[1]; ++y)
        for (int64_t x = std::max<int64_t>(0, cx - 2); x <= cx + 2 && x * 512 < m.shape[2]; ++x)
          std::ofstream(level_dir + "/2500." + std::to_string(y) + "." + std::to_string(x), std::ios::binary)
              .write(reinterpret_cast<const char*>(packed.data()), static_cast<std::streamsize>(packed.size()));
      scales.push_back({1.0, static_cast<double>(f), static_cast<double>(f)});
    }
    data::write_ngff_attrs(dir, {{"z", "space", "micrometer"}, {"y", "space", "micrometer"}, {"x", "space", "micrometer"}},
                           scales, {}, {});
    std::ofstream(dir + "/.complete") << "ok\n";
  }
  double rss0 = rss_mb();
  double t0 = steady_ms();
  BenchConfig c2 = cfg;
  c2.dataset = dir;
  BenchSession session = start_session(c2);
  if (!session.client) return 1;
  client::ClientStreamLoop& c = *session.client;
  bool got = c.wait_until([&] { return c.stats().frames_decoded > 0; }, 20);
  double first_ms = steady_ms() - t0;
  // Zoom to full resolution at the centre (the finest level, real chunks).
  c.send_state("camera", "main", "set", Json{{"zoom", 1.0}});
  double zoom_sent = steady_ms();
  bool full = c.wait_until([&] {
    for (const auto& f : c.frames())
      if (f.decoded && f.decoded_ms > zoom_sent && !f.partial) return true;
    return false;
  }, 10);
  double zoom_ms = steady_ms() - zoom_sent;
  double rss = rss_mb();
  double logical = 2.0 * 5000.0 * 131072.0 * 131072.0;
  session.client->stop();
  session.server->stop();
  std::printf("voxcast-bench sparse  %s (%.0f TB logical), %dx%d, %u cores\n", dir.c_str(), logical / 1e12, cfg.width,
              cfg.height, std::thread::hardware_concurrency());
  std::printf("  open + first decoded frame (ms)   %8.0f\n", first_ms);
  std::printf("  zoom to full resolution (ms)      %8.0f%s\n", zoom_ms, full ? "" : " (no full-resolution frame)");
  std::printf("  process memory (MB)               %8.0f  (%.0f before; cache budget %.0f MB)\n", rss, rss0,
              cfg.cache_mb);
  write_json(cfg.json_path, {{"scenario", "sparse"},
                             {"logical_tb", logical / 1e12},
                             {"first_frame_ms", first_ms},
                             {"zoom_full_res_ms", zoom_ms},
                             {"rss_mb", rss},
                             {"rss_before_mb", rss0},
                             {"cache_mb", cfg.cache_mb},
                             {"ok", got}});
  return got ? 0 : 1;
}

}  // namespace voxcast::bench
