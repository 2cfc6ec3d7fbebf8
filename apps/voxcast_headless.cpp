// voxcast-headless: a scriptable client. Connects, optionally sends intents or
// scrubs an axis, decodes every frame, prints a report, saves the stream and the
// last frame.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

#include "common/client_cli.hpp"
#include "voxcast/client/stream_loop.hpp"
#include "voxcast/client/ledger.hpp"
#include "voxcast/client/report.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/protocol/json.hpp"

using namespace voxcast;

namespace {
// "scope:target:key=VALUE" with VALUE as JSON (e.g. layer:layer-0:opacity=0.5).
std::optional<protocol::StateUpdate> parse_send(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos) return std::nullopt;
  auto path = client::split_property(spec.substr(0, eq));
  if (!path) return std::nullopt;
  auto parsed = protocol::parse_json(spec.substr(eq + 1));
  protocol::Json value = parsed ? std::move(parsed).value() : protocol::Json(spec.substr(eq + 1));  // bare words are strings
  return protocol::StateUpdate{path->scope, path->target, path->key, value};
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"voxcast-headless: scriptable voxcast client"};
  apps::ClientCli cli;
  cli.config.name = "voxcast-headless";
  apps::add_client_options(app, &cli);
  double duration = 3.0, rate = 30.0;
  std::string scrub, png, dump, json_path;
  std::vector<std::string> sends;
  bool per_frame = false;
  app.add_option("--duration", duration, "seconds to stay connected")->capture_default_str();
  app.add_option("--scrub", scrub, "axis to scrub back and forth (e.g. z)");
  app.add_option("--rate", rate, "intents per second while scrubbing")->check(CLI::Range(0.1, 1000.0))->capture_default_str();
  app.add_option("--send", sends, "state.update to send at start: scope:target:key=JSON (repeatable)");
  app.add_option("--png", png, "save the last decoded frame as PNG");
  app.add_option("--dump", dump, "save the received stream (Annex-B H.264)");
  app.add_option("--json", json_path, "write the report as JSON");
  app.add_flag("--frames", per_frame, "print one line per frame");
  bool print_stats = false;
  std::string script_path;
  app.add_flag("--stats", print_stats, "print the client metrics (presenter latency, decode, frame interval, intent->frame)");
  app.add_option("--script", script_path,
                 "a JSON file of timed intents: [{\"at_ms\": 0, \"scope\": \"dims\", \"target\": \"z\", \"key\": \"index\", \"value\": 5}, ...]");
  CLI11_PARSE(app, argc, argv);
  if (auto err = apps::resolve_client_config(&cli)) {
    std::fprintf(stderr, "voxcast-headless: %s\n", err->c_str());
    return 2;
  }
  std::vector<protocol::StateUpdate> updates;
  for (const auto& s : sends) {
    auto u = parse_send(s);
    if (!u) {
      std::fprintf(stderr, "voxcast-headless: bad --send '%s' (expected scope:target:key=JSON)\n", s.c_str());
      return 2;
    }
    updates.push_back(*u);
  }

  client::ClientConfig cfg = cli.config;
  cfg.dump_path = dump;
  // A scripted session: timed intents, validated before connecting.
  struct Timed {
    double at_ms;
    std::string scope, target, key;
    protocol::Json value;
  };
  std::vector<Timed> script;
  if (!script_path.empty()) {
    std::ifstream f(script_path);
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto parsed = protocol::parse_json(text);
    const protocol::Json j = parsed ? std::move(parsed).value() : protocol::Json();
    if (!f || !j.is_array()) {
      std::fprintf(stderr, "voxcast-headless: --script %s: expected a JSON array of intents\n", script_path.c_str());
      return 2;
    }
    for (const auto& e : j) {
      if (!e.is_object() || !e.contains("at_ms") || !e["at_ms"].is_number() || !e.contains("value") ||
          !e.value("scope", protocol::Json()).is_string() || !e.value("target", protocol::Json()).is_string() ||
          !e.value("key", protocol::Json()).is_string()) {
        std::fprintf(stderr, "voxcast-headless: --script: each entry needs at_ms, scope, target, key, value\n");
        return 2;
      }
      script.push_back({e["at_ms"].get<double>(), e["scope"], e["target"], e["key"], e["value"]});
    }
    std::sort(script.begin(), script.end(), [](const Timed& a, const Timed& b) { return a.at_ms < b.at_ms; });
    if (!script.empty()) duration = std::max(duration, script.back().at_ms / 1000.0 + 1.0);
  }
  client::ClientStreamLoop c(cfg);
  if (auto err = c.connect()) {
    std::fprintf(stderr, "voxcast-headless: cannot connect: %s (%s)\n", err->message.c_str(), err->code.c_str());
    return 1;
  }
  if (!c.wait_until([&] { return c.mirror().have_scene; }, 5.0)) {
    std::fprintf(stderr, "voxcast-headless: no scene from the server\n");
    return 1;
  }
  for (const auto& u : updates) c.send_state(u.scope, u.target, u.key, u.value);

  const double start = steady_ms();
  const double end = start + duration * 1000.0;
  auto mirror = c.mirror();
  int axis = scrub.empty() ? -1 : mirror.axis(scrub);
  if (!scrub.empty() && axis < 0) {
    std::fprintf(stderr, "voxcast-headless: unknown axis '%s'\n", scrub.c_str());
    return 2;
  }
  int64_t index = axis >= 0 ? mirror.current_step[static_cast<size_t>(axis)] : 0;
  int64_t direction = 1;
  double next_send = start;
  size_t printed = 0, scripted = 0;
  while (steady_ms() < end) {
    for (; scripted < script.size() && steady_ms() - start >= script[scripted].at_ms; ++scripted)
      c.send_state(script[scripted].scope, script[scripted].target, script[scripted].key, script[scripted].value);
    if (axis >= 0 && steady_ms() >= next_send) {
      int64_t size = mirror.shape[static_cast<size_t>(axis)];
      if (index + direction < 0 || index + direction >= size) direction = -direction;
      index += direction;
      c.send_state("dims", scrub, "index", index);
      next_send += 1000.0 / rate;
    }
    if (per_frame) {
      auto frames = c.frames();
      for (; printed < frames.size(); ++printed) {
        const auto& f = frames[printed];
        std::printf("frame seq=%u %s bytes=%zu version=%llu render=%.1fms encode=%.1fms decode=%.1fms%s\n", f.seq,
                    f.still ? "STILL" : f.keyframe ? "IDR" : "P  ", f.bytes, static_cast<unsigned long long>(f.scene_version), f.render_ms,
                    f.encode_ms, f.decode_ms, f.refined ? " refined" : "");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // Let the last answers arrive before measuring.
  c.wait_until([&] {
    auto in = c.intents();
    return in.empty() || in.back().acked_ms > 0;
  }, 1.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto report = client::make_report(c.intents(), c.frames());
  auto stats = c.stats();
  auto metrics = c.metrics();
  auto loop = c.loop_state();
  // The shown frame belongs to the session: take it before stopping (stop releases it).
  std::vector<uint8_t> last_rgba;
  int last_w = 0, last_h = 0;
  bool have_last = c.latest_rgba(&last_rgba, &last_w, &last_h);
  c.stop();
  if (print_stats) std::printf("client metrics\n%s", client::describe(metrics).c_str());
  std::printf("%s", client::format_report(report).c_str());
  std::printf("link         %s\n", client::describe(loop).c_str());
  std::printf("decoder      %s (recreated %llu, hardware->software %llu)\n", stats.decoder.c_str(),
              static_cast<unsigned long long>(stats.decoder_recreations), static_cast<unsigned long long>(stats.decoder_fallbacks));
  std::printf("stream       %llu gaps, %llu dropped, %llu decode errors\n", static_cast<unsigned long long>(stats.gaps),
              static_cast<unsigned long long>(stats.frames_dropped), static_cast<unsigned long long>(stats.decode_errors));
  std::printf("stills       %s: %llu received, %llu shown, %llu invalid; the last picture was %s\n",
              loop.exact_stills ? "on" : "off", static_cast<unsigned long long>(stats.stills_received),
              static_cast<unsigned long long>(stats.stills_shown), static_cast<unsigned long long>(stats.stills_invalid),
              stats.shown_quality.c_str());
  if (!png.empty()) {
    if (!have_last) {
      std::fprintf(stderr, "voxcast-headless: no frame was decoded; no PNG written\n");
      return 1;
    }
    const int w = last_w, h = last_h;
    if (auto err = codec::write_png_rgba(png, last_rgba.data(), w, h)) {
      std::fprintf(stderr, "voxcast-headless: %s\n", err->c_str());
      return 1;
    }
    std::printf("last frame   %s (%dx%d)\n", png.c_str(), w, h);
  }
  if (!dump.empty()) std::printf("stream file  %s (%zu frames, Annex-B)\n", dump.c_str(), report.frames_decoded);
  if (!json_path.empty()) {
    protocol::Json j = {{"frames", report.frames_decoded}, {"fps", report.fps}, {"mbit_per_s", report.mbit_per_s},
                        {"latency_ms", {{"p50", report.latency_ms.p50}, {"p95", report.latency_ms.p95}, {"p99", report.latency_ms.p99}}},
                        {"decode_ms", {{"p50", report.decode_ms.p50}}}, {"gaps", stats.gaps}};
    std::ofstream(json_path) << j.dump(2) << "\n";
  }
  return report.frames_decoded > 0 ? 0 : 1;
}
