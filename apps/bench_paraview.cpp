// voxcast-bench vs-paraview: the CPU ray caster at full resolution (a still scene: no
// adaptive down-scaling) against ParaView's pvbatch (offscreen under Xvfb, Mesa's
// software OpenGL), the same N^3 uint16 volume, the same canvas, orbiting, ms per
// frame in composite/translucent and MIP, and the ratio. The incumbent runs in the same
// run on the same cores, so the ratio holds on a shared machine.
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "bench_common.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/stats.hpp"
#include "voxcast/data/in_memory.hpp"
#include "voxcast/render/camera3d.hpp"
#include "voxcast/render/volume_renderer.hpp"

namespace voxcast::bench {
namespace {

constexpr double kLo = 0, kHi = 4000;

// Three soft blobs and a thin shell: structure in depth for both compositing and MIP,
// empty space around it as in real data. Little-endian uint16, x fastest.
std::vector<uint8_t> make_volume(int n) {
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * n * n * 2);
  const double c = (n - 1) / 2.0;
  const std::array<std::array<double, 4>, 3> blobs = {{{0.35, 0.40, 0.55, 0.10}, {0.65, 0.55, 0.45, 0.14}, {0.50, 0.70, 0.30, 0.08}}};
  size_t i = 0;
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x, i += 2) {
        double v = 0;
        for (const auto& b : blobs) {
          double dx = x - b[0] * n, dy = y - b[1] * n, dz = z - b[2] * n, s = b[3] * n;
          v += 3000 * std::exp(-(dx * dx + dy * dy + dz * dz) / (2 * s * s));
        }
        double r = std::sqrt((x - c) * (x - c) + (y - c) * (y - c) + (z - c) * (z - c)) / (0.45 * n);
        v += 1200 * std::exp(-std::pow((r - 1) * 30, 2));
        auto u = static_cast<uint16_t>(std::min(65535.0, v));
        bytes[i] = static_cast<uint8_t>(u & 0xff);
        bytes[i + 1] = static_cast<uint8_t>(u >> 8);
      }
  return bytes;
}

double coverage(const uint8_t* rgba, size_t pixels) {
  size_t lit = 0;
  for (size_t p = 0; p < pixels; ++p) lit += (rgba[p * 4] | rgba[p * 4 + 1] | rgba[p * 4 + 2]) != 0;
  return pixels ? static_cast<double>(lit) / static_cast<double>(pixels) : 0;
}

struct ModeResult {
  std::string mode;
  std::vector<double> ours, paraview;
  double ours_coverage = 0, paraview_coverage = 0;
  std::string paraview_error;
};

// Ours: a still scene orbited in `frames` steps; the first frame (volume upload into
// bricks, LUTs) is not timed, as ParaView's first frame is not.
std::vector<double> time_ours(const data::VolumeSource& src, const BenchConfig& cfg, const std::string& mode, int frames,
                              const std::string& png, double* lit) {
  render::Scene s = render::make_initial_scene(src.info(), cfg.width, cfg.height);
  s.dims.ndisplay = 3;
  s.camera3d = render::fit_camera3d(s.dims, cfg.width, cfg.height);
  s.interactive = false;
  for (auto& l : s.layers) {
    l.colormap = "gray";
    l.contrast_limits = {kLo, kHi};
    l.interpolation = render::Interpolation::linear;
    l.rendering = mode == "mip" ? render::RenderMode::mip : render::RenderMode::translucent;
  }
  render::VolumeRenderer renderer(cfg.threads, 1e9, 1e6, "never");
  render::Frame frame;
  std::vector<double> ms;
  if (renderer.render(s, src, &frame)) return ms;
  for (int i = 0; i < frames; ++i) {
    s.camera3d = render::orbit(s.camera3d, 360.0 / frames, 0);
    double t0 = steady_ms();
    if (renderer.render(s, src, &frame)) return {};
    ms.push_back(steady_ms() - t0);
  }
  *lit = coverage(frame.rgba.data(), static_cast<size_t>(frame.width) * frame.height);
  if (!png.empty()) codec::write_png_rgba(png, frame.rgba.data(), frame.width, frame.height);
  return ms;
}

std::string run_capture(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    *rc = -1;
    return out;
  }
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof buf, p)) out.append(buf, got);
  *rc = pclose(p);
  return out;
}

// ParaView: the script prints one JSON line last ({"ms": [...], "coverage": f}).
void time_paraview(const std::string& raw, int n, const BenchConfig& cfg, ModeResult* r, int frames, double half_height,
                   const std::string& png) {
  const std::string script = std::string(VOXCAST_SCRIPTS_DIR) + "/bench/pvbatch_volume.py";
  char cmd[2048];
  std::snprintf(cmd, sizeof cmd, "xvfb-run -a -s '-screen 0 %dx%dx24' pvbatch '%s' '%s' %d %s %d %d %d %g %g %g '%s' 2>&1",
                cfg.width + 64, cfg.height + 64, script.c_str(), raw.c_str(), n, r->mode.c_str(), cfg.width, cfg.height,
                frames, kLo, kHi, half_height, png.c_str());
  int rc = 0;
  std::string out = run_capture(cmd, &rc);
  size_t line = out.rfind("{\"ms\"");
  if (rc != 0 || line == std::string::npos) {
    r->paraview_error = "pvbatch failed (rc " + std::to_string(rc) + "): " + out.substr(out.size() > 400 ? out.size() - 400 : 0);
    return;
  }
  try {
    auto j = protocol::Json::parse(out.substr(line, out.find('\n', line) - line));
    r->paraview = j.at("ms").get<std::vector<double>>();
    r->paraview_coverage = j.at("coverage").get<double>();
  } catch (const protocol::Json::exception& e) {
    r->paraview_error = std::string("pvbatch printed no result: ") + e.what();
  }
}

}  // namespace

int run_vs_paraview(const BenchConfig& cfg) {
  const int n = cfg.volume_size, frames = cfg.steps;
  int rc = 0;
  run_capture("command -v pvbatch >/dev/null && command -v xvfb-run >/dev/null", &rc);
  if (rc != 0) {
    std::fprintf(stderr, "voxcast-bench vs-paraview: needs pvbatch and xvfb-run (scripts/setup.sh --bench installs them)\n");
    return 1;
  }
  std::filesystem::create_directories(cfg.work_dir);
  const std::string raw = cfg.work_dir + "/vs-paraview-" + std::to_string(n) + ".raw";
  std::vector<uint8_t> bytes = make_volume(n);
  std::ofstream(raw, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));

  data::VolumeInfo info;
  info.name = "vs-paraview";
  info.kind = "bench";
  info.dtype = data::DType::u16;
  info.axes = {{"z", "space", 1, 0, ""}, {"y", "space", 1, 0, ""}, {"x", "space", 1, 0, ""}};
  info.shape = {n, n, n};
  info.channels = {data::make_channel("volume", "gray", kLo, kHi)};
  data::InMemoryArray src(std::move(info), std::move(bytes));
  // Half the fitted 3D view's height in voxels: ParaView's parallel scale.
  render::Scene fitted = render::make_initial_scene(src.info(), cfg.width, cfg.height);
  fitted.dims.ndisplay = 3;
  const double half_height =
      render::world_per_pixel(render::fit_camera3d(fitted.dims, cfg.width, cfg.height), cfg.height) * cfg.height / 2;

  std::vector<ModeResult> results;
  for (const char* mode : {"translucent", "mip"}) {
    ModeResult r;
    r.mode = mode;
    const std::string png = cfg.work_dir + "/vs-paraview-" + r.mode;
    r.ours = time_ours(src, cfg, r.mode, frames, png + "-voxcast.png", &r.ours_coverage);
    time_paraview(raw, n, cfg, &r, frames, half_height, png + "-paraview.png");
    results.push_back(std::move(r));
  }

  std::printf("voxcast-bench vs-paraview  %d^3 uint16, %dx%d, %d frames orbiting, %u cores; pictures in %s\n", n,
              cfg.width, cfg.height, frames, std::thread::hardware_concurrency(), cfg.work_dir.c_str());
  protocol::Json modes = protocol::Json::array();
  for (const auto& r : results) {
    double ours = percentile(r.ours, 50), pv = percentile(r.paraview, 50);
    std::printf("  %-12s voxcast CPU  p50 %7.1f ms  p95 %7.1f ms  (%.0f%% of pixels lit)\n", r.mode.c_str(), ours,
                percentile(r.ours, 95), 100 * r.ours_coverage);
    if (!r.paraview_error.empty()) {
      std::printf("  %-12s pvbatch      %s\n", "", r.paraview_error.c_str());
    } else {
      std::printf("  %-12s pvbatch      p50 %7.1f ms  p95 %7.1f ms  (%.0f%% of pixels lit)\n", "", pv,
                  percentile(r.paraview, 95), 100 * r.paraview_coverage);
      std::printf("  %-12s ratio pvbatch / voxcast  %.2f\n", "", ours > 0 ? pv / ours : 0.0);
    }
    modes.push_back({{"mode", r.mode},
                     {"voxcast_ms", {{"p50", ours}, {"p95", percentile(r.ours, 95)}}},
                     {"paraview_ms", {{"p50", pv}, {"p95", percentile(r.paraview, 95)}}},
                     {"ratio", ours > 0 && pv > 0 ? pv / ours : 0.0},
                     {"voxcast_coverage", r.ours_coverage},
                     {"paraview_coverage", r.paraview_coverage},
                     {"paraview_error", r.paraview_error}});
  }
  write_json(cfg.json_path, {{"scenario", "vs-paraview"}, {"size", n}, {"width", cfg.width}, {"height", cfg.height},
                             {"frames", frames}, {"modes", modes}});
  for (const auto& r : results)
    if (r.ours.empty() || !r.paraview_error.empty()) return 1;
  return 0;
}

}  // namespace voxcast::bench
