// voxcast-bench quality (issue 18): what the picture is worth during motion and after it.
// Per built-in sample, in one run on one machine:
// - the codec during motion: the same z scrub rendered, encoded as the server does
//   (interactive CRF, one IDR then P frames), decoded; PSNR against the render and bits
//   per frame; then the still refinement (the same picture re-encoded at the still CRF);
// - through a real server and client: the time from the end of a 60 Hz scrub to the exact
//   still on screen, its size, and whether it equals the server's render bit for bit.
#include <algorithm>
#include <cstdio>
#include <thread>

#include "bench_common.hpp"
#include "voxcast/codec/decoder.hpp"
#include "voxcast/codec/encoder.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/codec/yuv.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/stats.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/protocol/base64.hpp"
#include "voxcast/render/slice_renderer.hpp"

namespace voxcast::bench {
namespace {

using protocol::Json;

struct CodecQuality {
  bool ok = false;
  std::vector<double> motion_psnr, motion_bits;
  double still_psnr = 0, still_bits = 0;
};

struct EndToEnd {
  bool ok = false;
  double to_still_ms = 0;        // last intent sent -> exact still presented
  double video_to_still_ms = 0;  // last video frame presented -> exact still presented
  double png_ms = 0, still_bytes = 0;
  bool exact = false;            // the shown still equals napari.screenshot's render
};

double decoded_psnr(const codec::YuvImage& pic, const render::Frame& reference) {
  std::vector<uint8_t> rgba(static_cast<size_t>(pic.width) * static_cast<size_t>(pic.height) * 4);
  codec::i420_to_rgba(pic.y.data(), pic.width, pic.u.data(), pic.width / 2, pic.v.data(), pic.width / 2, pic.width,
                      pic.height, rgba.data());
  return codec::psnr_rgba(reference.rgba.data(), rgba.data(), pic.width, pic.height);
}

CodecQuality codec_quality(const data::VolumeSource& src, const BenchConfig& cfg, int still_crf) {
  CodecQuality q;
  render::Scene scene = render::make_initial_scene(src.info(), cfg.width, cfg.height);
  render::SliceRenderer renderer(cfg.threads);
  codec::EncoderConfig ec;
  ec.width = cfg.width;
  ec.height = cfg.height;
  ec.threads = cfg.threads;
  auto enc = codec::H264Encoder::open(ec);
  auto dec = codec::H264Decoder::open(2);
  if (!enc || !dec) return q;
  render::Frame frame;
  const int64_t depth = scene.dims.shape[0];
  const int steps = std::max(2, std::min(cfg.steps, 120));
  auto encode_decode = [&](bool idr, int crf) -> std::optional<std::pair<double, double>> {
    codec::rgba_to_i420(frame.rgba.data(), frame.width, frame.height, frame.width * 4, enc.value()->input(), nullptr);
    auto au = enc.value()->encode(idr, crf);
    if (!au) return std::nullopt;
    auto pic = dec.value()->decode(au->avcc);
    if (!pic || !pic.value()) return std::nullopt;
    return std::make_pair(decoded_psnr(*pic.value(), frame), au->avcc.size() * 8.0);
  };
  int64_t z = scene.dims.current_step[0], dir = 1;
  for (int i = 0; i < steps; ++i) {
    if (z + dir < 0 || z + dir >= depth) dir = -dir;
    z += dir;
    scene.dims.current_step[0] = z;
    renderer.render(scene, src, &frame);
    auto r = encode_decode(i == 0, ec.crf);
    if (!r) return q;
    if (i == 0) continue;  // the IDR is the start, not motion
    q.motion_psnr.push_back(r->first);
    q.motion_bits.push_back(r->second);
  }
  auto still = encode_decode(false, still_crf);  // the refinement pass: same picture, still CRF
  if (!still) return q;
  q.still_psnr = still->first;
  q.still_bits = still->second;
  q.ok = true;
  return q;
}

EndToEnd end_to_end(const BenchConfig& cfg) {
  EndToEnd e;
  BenchSession session = start_session(cfg);
  if (!session.client) return e;
  client::ClientStreamLoop& c = *session.client;
  c.wait_until([&] { return c.stats().frames_decoded > 0 && c.mirror().have_scene; }, 10);
  auto mirror = c.mirror();
  const int64_t depth = mirror.shape.empty() ? 1 : mirror.shape[0];
  const std::string axis = mirror.axis_labels.empty() ? "0" : mirror.axis_labels[0];
  int64_t z = mirror.current_step.empty() ? 0 : mirror.current_step[0], dir = 1;
  const double t0 = steady_ms();
  for (int i = 0; i < 60; ++i) {
    const double due = t0 + i * 1000.0 / 60.0;
    while (steady_ms() < due) std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (z + dir < 0 || z + dir >= depth) dir = -dir;
    z += dir;
    c.send_state("dims", axis, "index", z);
  }
  const double stop_ms = steady_ms();
  const uint64_t shown_before = c.stats().stills_shown;
  auto exact_now = [&] {
    auto f = c.last_frame();
    return c.stats().stills_shown > shown_before && f && f->still && f->presented_ms > 0 &&
           c.mirror().current_step[0] == z;
  };
  if (!c.wait_until(exact_now, 5)) {
    std::fprintf(stderr, "voxcast-bench quality: no exact still within 5 s (%s)\n", c.stats().shown_quality.c_str());
    return e;
  }
  auto frames = c.frames();
  const client::FrameRecord& still = frames.back();
  e.to_still_ms = still.presented_ms - stop_ms;
  for (auto it = frames.rbegin(); it != frames.rend(); ++it)
    if (!it->still && it->presented_ms > 0) {
      e.video_to_still_ms = still.presented_ms - it->presented_ms;
      break;
    }
  e.png_ms = still.encode_ms;
  e.still_bytes = static_cast<double>(still.bytes);
  std::vector<uint8_t> shown;
  int w = 0, h = 0;
  c.latest_rgba(&shown, &w, &h);
  auto r = c.call("napari.screenshot", Json{{"scale", 1}}, 30).get();
  auto png = protocol::base64_decode(r.result.value("data", std::string()));
  std::vector<uint8_t> server_rgba;
  int sw = 0, sh = 0;
  if (r.ok && png && !codec::decode_png_rgba(*png, &server_rgba, &sw, &sh) && sw == w && sh == h) {
    e.exact = true;
    for (size_t i = 0; i < shown.size() && e.exact; i += 4)
      e.exact = shown[i] == server_rgba[i] && shown[i + 1] == server_rgba[i + 1] && shown[i + 2] == server_rgba[i + 2];
  }
  c.stop();
  session.server->stop();
  e.ok = true;
  return e;
}

}  // namespace

int run_quality(const BenchConfig& base) {
  std::vector<std::string> datasets = base.dataset.empty() ? std::vector<std::string>{"synthetic", "brain"}
                                                           : std::vector<std::string>{base.dataset};
  const int still_crf = server::ServerConfig{}.still_crf;
  std::printf("voxcast-bench quality  %dx%d, %u cores, interactive CRF %d, still CRF %d\n", base.width, base.height,
              std::thread::hardware_concurrency(), codec::EncoderConfig{}.crf, still_crf);
  std::printf("  %-10s %12s %12s %12s %12s %11s %11s %9s %8s %6s\n", "dataset", "motion dB", "motion kbit", "refined dB",
              "refined kbit", "to still ms", "video->still", "still KB", "png ms", "exact");
  Json results = Json::array();
  int rc = 0;
  for (const auto& name : datasets) {
    BenchConfig cfg = base;
    cfg.dataset = name;
    auto opened = data::open_dataset(name);
    if (opened.index() != 0) {
      std::fprintf(stderr, "voxcast-bench quality: cannot open %s\n", name.c_str());
      rc = 1;
      continue;
    }
    CodecQuality q = codec_quality(*std::get<0>(opened), cfg, still_crf);
    EndToEnd e = end_to_end(cfg);
    if (!q.ok || !e.ok) rc = 1;
    const double motion_db = percentile(q.motion_psnr, 50), motion_kbit = percentile(q.motion_bits, 50) / 1000.0;
    std::printf("  %-10s %12.1f %12.1f %12.1f %12.1f %11.0f %11.0f %9.0f %8.1f %6s\n", name.c_str(), motion_db, motion_kbit,
                q.still_psnr, q.still_bits / 1000.0, e.to_still_ms, e.video_to_still_ms, e.still_bytes / 1024.0, e.png_ms,
                e.exact ? "yes" : "NO");
    if (!e.exact) rc = 1;
    results.push_back({{"dataset", name},
                       {"motion_psnr_db", {{"p50", motion_db}, {"p5", percentile(q.motion_psnr, 5)}}},
                       {"motion_bits_per_frame", {{"p50", percentile(q.motion_bits, 50)}, {"p95", percentile(q.motion_bits, 95)}}},
                       {"refined_psnr_db", q.still_psnr},
                       {"refined_bits", q.still_bits},
                       {"to_exact_still_ms", e.to_still_ms},
                       {"video_to_still_ms", e.video_to_still_ms},
                       {"still_bytes", e.still_bytes},
                       {"png_encode_ms", e.png_ms},
                       {"exact", e.exact}});
  }
  std::printf("  motion: median over a 60 Hz z scrub (codec only, decoded vs render); refined: the same picture\n"
              "  at the still CRF; to still: end of the scrub to the lossless still on screen (target <= 300 ms)\n");
  write_json(base.json_path, {{"scenario", "quality"},
                              {"width", base.width},
                              {"height", base.height},
                              {"cores", std::thread::hardware_concurrency()},
                              {"results", results}});
  return rc;
}

}  // namespace voxcast::bench
