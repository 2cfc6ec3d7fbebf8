// voxcast-bench latency-web: the browser client's latency on this machine, with the native
// client's latency-2d in the same run as the baseline. voxcast-server runs as its own
// process (serving the bundle from its web root); headless Chromium, driven by
// web/bench/latency-web.mjs (playwright-core), opens the page it serves, waits for the
// first picture and sends the same dims steps at the same rate from inside the page.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "voxcast/core/clock.hpp"
#include "voxcast/core/connection.hpp"
#include "bench_common.hpp"

namespace voxcast::bench {
namespace {

using protocol::Json;
namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Starts voxcast-server (beside this binary); returns its pid, or -1.
pid_t spawn_server(const BenchConfig& cfg, const fs::path& connection_file) {
  const fs::path exe = fs::read_symlink("/proc/self/exe").parent_path() / "voxcast-server";
  std::vector<std::string> args = {exe.string(), cfg.dataset, "--control-port", "0", "--pixel-port", "0",
                                   "--size", std::to_string(cfg.width) + "x" + std::to_string(cfg.height),
                                   "--connection-file", connection_file.string(), "--log-level", "warn"};
  if (cfg.threads > 0) args.insert(args.end(), {"--threads", std::to_string(cfg.threads)});
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    std::perror("voxcast-bench: voxcast-server");
    _exit(127);
  }
  return pid;
}

// The page's URL from the connection file: line 2 (the server writes it there), else
// built from the voxcast:// string of line 1.
std::string page_url(const std::string& text) {
  std::istringstream lines(text);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  if (second.rfind("http", 0) == 0) return second;
  std::string error;
  auto c = parse_connection_string(first, &error);
  if (!c) return "";
  return "http://127.0.0.1:" + std::to_string(c->control_port) + "/" + (c->token.empty() ? "" : "?token=" + c->token);
}

double at(const Json& j, const char* a, const char* b) {
  return j.contains(a) && j[a].is_object() && j[a].contains(b) && j[a][b].is_number() ? j[a][b].get<double>() : 0.0;
}

}  // namespace

int run_latency_web(const BenchConfig& cfg, const std::string& driver_path) {
  // The baseline first, alone on the machine: the native client's latency-2d.
  const fs::path tmp = fs::temp_directory_path() / ("voxcast-bench-web-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  BenchConfig native = cfg;
  native.json_path = (tmp / "native.json").string();
  native.baseline_frames = 0;
  if (run_latency_2d(native) != 0) return 1;
  Json base = Json::parse(read_file(native.json_path), nullptr, false);

  const fs::path conn = tmp / "connection.txt";
  pid_t server = spawn_server(cfg, conn);
  if (server < 0) return 1;
  std::string url;
  for (int i = 0; i < 300 && url.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (fs::exists(conn)) url = page_url(read_file(conn));
  }
  std::string out;
  if (url.empty()) {
    std::fprintf(stderr, "voxcast-bench: voxcast-server did not start\n");
  } else {
    const std::string cmd = "node '" + driver_path + "' --url '" + url + "' --steps " + std::to_string(cfg.steps) +
                            " --rate " + std::to_string(cfg.rate) + " 2>&1";
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char buf[4096];
      while (fgets(buf, sizeof(buf), p)) out += buf;
      pclose(p);
    }
  }
  kill(server, SIGINT);
  int status = 0;
  waitpid(server, &status, 0);
  fs::remove_all(tmp);
  // The driver's last line is its JSON.
  std::string last, line;
  for (std::istringstream lines(out); std::getline(lines, line);)
    if (!line.empty() && line[0] == '{') last = line;
  Json web = Json::parse(last, nullptr, false);
  if (!web.is_object() || web.contains("error")) {
    std::fprintf(stderr, "voxcast-bench: the browser run failed:\n%s\n", out.c_str());
    return 1;
  }
  const double w50 = at(web, "latency_ms", "p50"), w95 = at(web, "latency_ms", "p95");
  const double n50 = at(base, "intent_to_presented_ms", "p50"), n95 = at(base, "intent_to_presented_ms", "p95");
  const double fps = web.value("fps", 0.0), first = web.value("first_picture_ms", 0.0);
  std::printf("\nvoxcast-bench latency-web  %dx%d, %d steps at %.0f Hz, %s, headless Chromium (%s), %u cores\n", cfg.width,
              cfg.height, cfg.steps, cfg.rate, cfg.dataset.c_str(), web.value("decoder", std::string("?")).c_str(),
              std::thread::hardware_concurrency());
  std::printf("  %-34s %10s %10s %10s\n", "", "p50", "p95", "p99");
  std::printf("  %-34s %10.1f %10.1f %10.1f   (target p50 <= 25, p95 <= 40)\n", "web: intent->presented (ms)", w50, w95,
              at(web, "latency_ms", "p99"));
  std::printf("  %-34s %10.1f %10.1f %10.1f\n", "native: intent->presented (ms)", n50, n95, at(base, "intent_to_presented_ms", "p99"));
  std::printf("  %-34s %10.2f %10.2f\n", "ratio web / native", n50 > 0 ? w50 / n50 : 0.0, n95 > 0 ? w95 / n95 : 0.0);
  std::printf("  %-34s %10.1f %10.1f\n", "web: decode (ms)", at(web, "decode_ms", "p50"), at(web, "decode_ms", "p95"));
  std::printf("  web frames/s while scrubbing       %10.1f  (target >= 55; native %.1f)\n", fps, base.value("fps", 0.0));
  std::printf("  web first picture after page open  %10.0f ms (target <= 1500)\n", first);
  std::printf("  intents unanswered (web)           %10d\n", web.value("unanswered", 0));
  if (web.contains("stage_ms") && web["stage_ms"].is_object()) {
    std::printf("  web stages of an answered intent (ms, p50 / p95; frame receipts %s):\n",
                web.value("receipts", false) ? "on" : "off");
    for (const auto& [name, v] : web["stage_ms"].items())
      std::printf("    %-32s %10.1f %10.1f\n", name.c_str(), v.value("p50", 0.0), v.value("p95", 0.0));
  }
  if (!cfg.json_path.empty()) {
    Json j = {{"scenario", "latency-web"}, {"width", cfg.width}, {"height", cfg.height}, {"steps", cfg.steps},
              {"rate_hz", cfg.rate}, {"web", web}, {"native", base},
              {"ratio", {{"p50", n50 > 0 ? w50 / n50 : 0.0}, {"p95", n95 > 0 ? w95 / n95 : 0.0}}},
              {"targets_met", w50 <= 25 && w95 <= 40 && fps >= 55 && first <= 1500}};
    std::ofstream(cfg.json_path) << j.dump(2) << "\n";
  }
  return 0;
}

}  // namespace voxcast::bench
