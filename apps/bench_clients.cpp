// voxcast-bench clients / soak: many clients on one server, measured so the figures are
// the server's. One full client (decodes) drives the view; the others are light: each
// keeps a control session that reads every frame and a pixel reader that checks every
// frame (24-byte header, AVCC framing, seq without gaps) without decoding, so 16 of them
// cost the 2-core machine little. Server CPU is summed over the server's own threads
// (those it started before any client), encodes per second come from its render loop.
#include <dirent.h>
#include <unistd.h>

#include <utility>  // boost 1.74 awaitable.hpp needs std::exchange declared first
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "bench_common.hpp"
#include "voxcast/client/report.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/stats.hpp"
#include "voxcast/protocol/envelope.hpp"
#include "voxcast/protocol/h264.hpp"
#include "voxcast/protocol/pixel_header.hpp"

namespace voxcast::bench {

std::set<int> thread_ids() {
  std::set<int> out;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.insert(std::atoi(e->d_name));
    closedir(d);
  }
  return out;
}

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using protocol::Json;

// utime + stime of the given threads, in seconds (a thread that ended counts no more).
double cpu_seconds_of(const std::set<int>& tids) {
  double ticks = 0;
  for (int tid : tids) {
    std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto close = s.rfind(')');
    if (close == std::string::npos || close + 2 > s.size()) continue;
    std::istringstream rest(s.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 15 && rest >> field; ++i)
      if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int open_fds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n - 1;  // the directory being read
}

// A light client on its own I/O thread: a control session that reads everything (and
// answers heartbeats) and a pixel reader that checks frames. It can also send intents.
class LightClient {
 public:
  LightClient(const server::Server& srv, int index) : index_(index) {
    const std::string host = "127.0.0.1";
    control_.next_layer().connect({asio::ip::make_address(host), srv.control_port()});
    control_.handshake(host + ":" + std::to_string(srv.control_port()), "/");
    control_.text(true);
    Json features = {{"notify.scene", true}, {"notify.layers", true}, {"notify.stream", true},
                     {"notify.dims", true},  {"notify.camera", true}, {"notify.error", true}};
    Json hello = {{"type", "session.hello"},
                  {"version", 2},
                  {"frame_id", "hello-" + std::to_string(index)},
                  {"timestamp", wall_seconds()},
                  {"payload",
                   {{"protocols", {2}},
                    {"client", {{"name", "bench-light"}, {"version", "1"}, {"platform", "linux"}}},
                    {"features", features},
                    {"resume_tokens", {{"notify.scene", nullptr}, {"notify.layers", nullptr}, {"notify.stream", nullptr}}},
                    {"auth", {{"type", "token"}, {"token", srv.token()}}}}}};
    control_.write(asio::buffer(hello.dump()));
    beast::flat_buffer buf;
    control_.read(buf);
    auto welcome = protocol::parse_envelope(beast::buffers_to_string(buf.data()));
    if (!welcome || welcome->type != protocol::type::kSessionWelcome || !welcome->session)
      throw std::runtime_error("light client " + std::to_string(index) + ": no session.welcome: " +
                               beast::buffers_to_string(buf.data()).substr(0, 300));
    session_ = *welcome->session;
    pixel_.next_layer().connect({asio::ip::make_address(host), srv.pixel_port()});
    pixel_.handshake(host + ":" + std::to_string(srv.pixel_port()), "/?token=" + srv.token());
    pixel_.binary(true);
    read_control();
    read_pixels();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~LightClient() {
    asio::post(io_, [this] {
      boost::system::error_code ec;
      control_.next_layer().close(ec);
      pixel_.next_layer().close(ec);
    });
    thread_.join();
  }
  LightClient(const LightClient&) = delete;
  LightClient& operator=(const LightClient&) = delete;

  void send_state(const std::string& scope, const std::string& target, const std::string& key, Json value) {
    const uint64_t n = ++sent_;
    Json e = {{"type", "state.update"},
              {"version", 2},
              {"session", session_},
              {"frame_id", "s" + std::to_string(index_) + "-" + std::to_string(n)},
              {"intent_id", "i" + std::to_string(index_) + "-" + std::to_string(n)},
              {"timestamp", wall_seconds()},
              {"payload", {{"scope", scope}, {"target", target}, {"key", key}, {"value", value}}}};
    asio::post(io_, [this, text = e.dump()] { enqueue(text); });
  }

  std::atomic<uint64_t> frames{0}, keyframes{0}, bad_frames{0}, control_frames{0}, errors{0}, closed{0};

 private:
  // On the I/O thread: one write at a time, in order.
  void enqueue(std::string text) {
    outbox_.push_back(std::move(text));
    if (outbox_.size() == 1) write_next();
  }
  void write_next() {
    control_.async_write(asio::buffer(outbox_.front()), [this](boost::system::error_code ec, size_t) {
      outbox_.pop_front();
      if (ec) {
        outbox_.clear();
        return;
      }
      if (!outbox_.empty()) write_next();
    });
  }
  void read_control() {
    control_.async_read(control_buf_, [this](boost::system::error_code ec, size_t) {
      if (ec) {
        if (ec != asio::error::operation_aborted) closed += 1;
        return;
      }
      control_frames += 1;
      auto e = protocol::parse_envelope(beast::buffers_to_string(control_buf_.data()));
      control_buf_.consume(control_buf_.size());
      if (!e) {
        errors += 1;
      } else if (e->type == protocol::type::kNotifyError || e->type == protocol::type::kSessionGoodbye) {
        errors += 1;
      } else if (e->type == "ack.state" && e->payload.value("status", "") != "accepted") {
        errors += 1;
      } else if (e->type == protocol::type::kSessionHeartbeat) {
        Json ack = {{"type", protocol::type::kSessionAck}, {"version", 2}, {"session", session_},
                    {"frame_id", "ack-" + std::to_string(index_)}, {"timestamp", wall_seconds()},
                    {"payload", Json::object()}};
        enqueue(ack.dump());
      }
      read_control();
    });
  }
  void read_pixels() {
    pixel_.async_read(pixel_buf_, [this](boost::system::error_code ec, size_t) {
      if (ec) {
        if (ec != asio::error::operation_aborted) closed += 1;
        return;
      }
      auto data = pixel_buf_.data();
      protocol::ByteSpan bytes(static_cast<const uint8_t*>(data.data()), data.size());
      auto h = protocol::read_pixel_header(bytes);
      auto nals = h ? protocol::split_avcc(bytes.subspan(protocol::kPixelHeaderSize)) : std::nullopt;
      // The server counts only frames it sent: seq has no gaps.
      if (!h || !nals || nals->empty() || (frames > 0 && h->seq != last_seq_ + 1)) {
        bad_frames += 1;
      } else {
        frames += 1;
        if (h->flags & protocol::kFlagKeyframe) keyframes += 1;
      }
      if (h) last_seq_ = h->seq;
      pixel_buf_.consume(pixel_buf_.size());
      read_pixels();
    });
  }

  int index_;
  std::atomic<uint64_t> sent_{0};
  std::string session_;
  asio::io_context io_;
  websocket::stream<tcp::socket> control_{io_};
  websocket::stream<tcp::socket> pixel_{io_};
  beast::flat_buffer control_buf_, pixel_buf_;
  std::deque<std::string> outbox_;
  uint32_t last_seq_ = 0;
  std::thread thread_;
};

// Light clients, or the reason they could not be made.
bool add_light_clients(const server::Server& srv, size_t want, std::vector<std::unique_ptr<LightClient>>* light) {
  try {
    while (light->size() < want) light->push_back(std::make_unique<LightClient>(srv, static_cast<int>(light->size())));
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "voxcast-bench: %s\n", e.what());
    return false;
  }
}

struct Phase {
  int clients = 0;
  double fps = 0;
  Summary latency;
  size_t unanswered = 0;
  double server_cpu_pct = 0;
  double encodes_per_s = 0;
  double light_fps_min = 0;
  uint64_t keyframes = 0;  // received by the driving client during the scrub
  uint64_t light_bad = 0;
};

// One scrub of `cfg.steps` dims steps at `cfg.rate` by the full client, measured.
Phase scrub(const BenchConfig& cfg, server::Server& srv, client::ClientStreamLoop& c, const std::set<int>& server_tids,
            const std::vector<std::unique_ptr<LightClient>>& light) {
  auto mirror = c.mirror();
  const int64_t depth = mirror.shape.empty() ? 1 : mirror.shape[0];
  const std::string axis = mirror.axis_labels.empty() ? "0" : mirror.axis_labels[0];
  int64_t z = mirror.current_step.empty() ? 0 : mirror.current_step[0], dir = 1;
  const size_t frames_before = c.frames().size(), intents_before = c.intents().size();
  std::vector<uint64_t> light_before;
  uint64_t bad_before = 0;
  for (const auto& l : light) {
    light_before.push_back(l->frames);
    bad_before += l->bad_frames;
  }
  const uint64_t encodes_before = srv.stats().render.frames;
  const double cpu_before = cpu_seconds_of(server_tids);
  const double t_start = steady_ms();
  for (int i = 0; i < cfg.steps; ++i) {
    const double due = t_start + i * 1000.0 / cfg.rate;
    while (steady_ms() < due) std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (z + dir < 0 || z + dir >= depth) dir = -dir;
    z += dir;
    c.send_state("dims", axis, "index", z);
  }
  const double t_end = steady_ms();
  const double seconds = (t_end - t_start) / 1000.0;
  Phase p;
  p.clients = 1 + static_cast<int>(light.size());
  p.server_cpu_pct = 100.0 * (cpu_seconds_of(server_tids) - cpu_before) / seconds;
  p.encodes_per_s = static_cast<double>(srv.stats().render.frames - encodes_before) / seconds;
  p.light_fps_min = light.empty() ? 0 : 1e9;
  for (size_t i = 0; i < light.size(); ++i)
    p.light_fps_min = std::min(p.light_fps_min, static_cast<double>(light[i]->frames - light_before[i]) / seconds);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last answers
  auto frames = c.frames();
  auto intents = c.intents();
  size_t during = 0;
  for (size_t i = std::min(frames_before, frames.size()); i < frames.size(); ++i) {
    const auto& f = frames[i];
    if (f.received_ms > t_end + 50) continue;
    during += f.decoded && !f.refined ? 1 : 0;
    p.keyframes += f.keyframe && !f.refined ? 1 : 0;
  }
  p.fps = static_cast<double>(during) / seconds;
  std::vector<client::IntentRecord> mine(intents.begin() + static_cast<long>(std::min(intents_before, intents.size())),
                                         intents.end());
  p.latency = summarize(client::intent_latencies_ms(mine, frames, &p.unanswered));
  for (const auto& l : light) p.light_bad += l->bad_frames;
  p.light_bad -= bad_before;
  return p;
}

double slope_per_minute(const std::vector<std::pair<double, double>>& points) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& [x, y] : points) {
    n += 1;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double d = n * sxx - sx * sx;
  return n >= 2 && d != 0 ? 60.0 * (n * sxy - sx * sy) / d : 0;
}

}  // namespace

int run_clients(const BenchConfig& cfg) {
  std::vector<int> counts = cfg.client_counts;
  std::sort(counts.begin(), counts.end());
  if (counts.empty() || counts.front() < 1) {
    std::fprintf(stderr, "voxcast-bench clients: --counts must be numbers >= 1\n");
    return 2;
  }
  BenchSession session = start_session(cfg);
  if (!session.client) return 1;
  server::Server& srv = *session.server;
  client::ClientStreamLoop& c = *session.client;
  c.wait_until([&] { return c.stats().frames_decoded > 0 && c.mirror().have_scene; }, 10);
  std::vector<std::unique_ptr<LightClient>> light;
  std::vector<Phase> phases;
  for (int n : counts) {
    if (!add_light_clients(srv, static_cast<size_t>(n - 1), &light)) return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(800));  // joined: their keyframe and refinement are past
    phases.push_back(scrub(cfg, srv, c, session.server_threads, light));
  }
  const uint64_t skipped = srv.stats().frames_skipped;
  light.clear();
  c.stop();
  srv.stop();
  std::printf("voxcast-bench clients  %dx%d, %s, %d steps at %.0f Hz per phase, %u cores; 1 full client (decodes) "
              "scrubs, the others read and check frames without decoding\n",
              cfg.width, cfg.height, cfg.dataset.c_str(), cfg.steps, cfg.rate, std::thread::hardware_concurrency());
  std::printf("  %7s %9s %9s %9s %9s %11s %10s %13s %9s %9s\n", "clients", "frames/s", "lat p50", "lat p95", "lat p99",
              "server CPU%", "encodes/s", "light min f/s", "keyframes", "bad");
  Json rows = Json::array();
  for (const auto& p : phases) {
    std::printf("  %7d %9.1f %9.1f %9.1f %9.1f %11.0f %10.1f %13.1f %9llu %9llu\n", p.clients, p.fps, p.latency.p50,
                p.latency.p95, p.latency.p99, p.server_cpu_pct, p.encodes_per_s, p.light_fps_min,
                static_cast<unsigned long long>(p.keyframes), static_cast<unsigned long long>(p.light_bad));
    rows.push_back({{"clients", p.clients},
                    {"fps", p.fps},
                    {"latency_ms", {{"p50", p.latency.p50}, {"p95", p.latency.p95}, {"p99", p.latency.p99}}},
                    {"unanswered", p.unanswered},
                    {"server_cpu_pct", p.server_cpu_pct},
                    {"encodes_per_s", p.encodes_per_s},
                    {"light_fps_min", p.light_fps_min},
                    {"keyframes", p.keyframes},
                    {"light_bad_frames", p.light_bad}});
  }
  if (phases.size() > 1 && phases.front().latency.p95 > 0)
    std::printf("  p95 with %d clients vs 1: %+.0f %%; encodes/s %+.0f %%; frames skipped by the server: %llu\n",
                phases.back().clients, 100.0 * (phases.back().latency.p95 / phases.front().latency.p95 - 1),
                phases.front().encodes_per_s > 0 ? 100.0 * (phases.back().encodes_per_s / phases.front().encodes_per_s - 1) : 0.0,
                static_cast<unsigned long long>(skipped));
  if (!cfg.json_path.empty())
    std::ofstream(cfg.json_path) << Json{{"scenario", "clients"}, {"width", cfg.width}, {"height", cfg.height},
                                         {"steps", cfg.steps},    {"rate_hz", cfg.rate}, {"phases", rows}}
                                        .dump(2)
                                 << "\n";
  return 0;
}

int run_soak(const BenchConfig& cfg) {
  BenchSession session = start_session(cfg);
  if (!session.client) return 1;
  server::Server& srv = *session.server;
  client::ClientStreamLoop& c = *session.client;
  c.wait_until([&] { return c.stats().frames_decoded > 0 && c.mirror().have_scene; }, 10);
  auto mirror = c.mirror();
  const int64_t depth = mirror.shape.empty() ? 1 : mirror.shape[0];
  const std::string axis = mirror.axis_labels.empty() ? "0" : mirror.axis_labels[0];
  const bool can_3d = mirror.shape.size() >= 3;
  // Four clients: the full one and a light one scrub the first axis; one light client pans
  // (2D) or orbits (3D), one zooms. The view switches between 2D and 3D every 30 s.
  std::vector<std::unique_ptr<LightClient>> light;
  if (!add_light_clients(srv, 3, &light)) return 1;
  struct Sample {
    double t_s = 0, rss_mb = 0, fps = 0;
    int fds = 0;
    uint64_t errors = 0;
  };
  auto errors_now = [&] {
    auto cs = c.stats();
    auto ss = srv.stats();
    uint64_t e = cs.reconnects + cs.pixel_reconnects + cs.decode_errors + cs.gaps + ss.render.render_errors + ss.sessions_shed;
    for (const auto& l : light) e += l->errors + l->bad_frames + l->closed;
    return e;
  };
  std::vector<Sample> samples;
  const double t0 = steady_ms(), t_stop = t0 + cfg.soak_minutes * 60000.0;
  const double period_ms = 1000.0 / std::max(1.0, cfg.rate);
  double next_sample = t0 + 10000.0, last_sample = t0;
  uint64_t decoded_before = c.stats().frames_decoded;
  int ndisplay = 2;
  std::printf("voxcast-bench soak  %.1f min, 4 clients (1 full + 3 light) at %.0f intents/s each, %dx%d, %s, %u cores\n",
              cfg.soak_minutes, cfg.rate, cfg.width, cfg.height, cfg.dataset.c_str(), std::thread::hardware_concurrency());
  for (int64_t i = 0; steady_ms() < t_stop; ++i) {
    const double due = t0 + static_cast<double>(i) * period_ms;
    while (steady_ms() < due) std::this_thread::sleep_for(std::chrono::microseconds(500));
    const int wanted = can_3d && static_cast<int64_t>((steady_ms() - t0) / 30000.0) % 2 == 1 ? 3 : 2;
    if (wanted != ndisplay) {
      ndisplay = wanted;
      c.send_state("view", "main", "ndisplay", ndisplay);
    }
    const int64_t z = std::llabs((i % (2 * depth)) - depth);  // back and forth
    c.send_state("dims", axis, "index", std::min<int64_t>(z, depth - 1));
    light[0]->send_state("dims", axis, "index", (std::min<int64_t>(z, depth - 1) + 3) % depth);
    if (ndisplay == 3)
      light[1]->send_state("camera", "main", "orbit", {{"d_az_deg", 2.0}, {"d_el_deg", (i % 40) < 20 ? 0.5 : -0.5}});
    else
      light[1]->send_state("camera", "main", "pan", {{"dx_px", (i % 40) < 20 ? 2 : -2}, {"dy_px", 1 - (i % 3)}});
    light[2]->send_state("camera", "main", "zoom", {{"factor", (i % 20) < 10 ? 1.01 : 1.0 / 1.01}});
    const double now = steady_ms();
    if (now >= next_sample) {
      const uint64_t decoded = c.stats().frames_decoded;
      Sample s;
      s.t_s = (now - t0) / 1000.0;
      s.rss_mb = rss_mb();
      s.fps = static_cast<double>(decoded - decoded_before) / ((now - last_sample) / 1000.0);
      s.fds = open_fds();
      s.errors = errors_now();
      samples.push_back(s);
      std::printf("  t=%5.0f s  %dD  rss %7.1f MB  fds %4d  frames/s %5.1f  errors %llu\n", s.t_s, ndisplay, s.rss_mb,
                  s.fds, s.fps, static_cast<unsigned long long>(s.errors));
      std::fflush(stdout);
      decoded_before = decoded;
      last_sample = now;
      next_sample = now + 10000.0;
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint64_t errors = errors_now();
  light.clear();
  c.stop();
  srv.stop();
  // RSS slope after the first minute (warm-up: caches, encoder, histories filling); the
  // process holds the server and the clients.
  std::vector<std::pair<double, double>> rss;
  for (const auto& s : samples)
    if (s.t_s >= 60.0 || cfg.soak_minutes < 2) rss.push_back({s.t_s, s.rss_mb});
  const double slope = slope_per_minute(rss);
  const Sample first = samples.empty() ? Sample{} : samples.front(), last = samples.empty() ? Sample{} : samples.back();
  const Sample warm = rss.empty() ? first : *std::find_if(samples.begin(), samples.end(), [&](const Sample& s) {
    return s.t_s == rss.front().first;
  });
  std::printf("  rss %.1f MB at %.0f s, %.1f MB at the end (%+.1f MB after warm-up; slope %.2f MB/min), fds %d -> %d, "
              "errors %llu\n",
              warm.rss_mb, warm.t_s, last.rss_mb, last.rss_mb - warm.rss_mb, slope, first.fds, last.fds,
              static_cast<unsigned long long>(errors));
  if (!cfg.json_path.empty()) {
    Json rows = Json::array();
    for (const auto& s : samples)
      rows.push_back({{"t_s", s.t_s}, {"rss_mb", s.rss_mb}, {"fds", s.fds}, {"fps", s.fps}, {"errors", s.errors}});
    std::ofstream(cfg.json_path) << Json{{"scenario", "soak"},           {"minutes", cfg.soak_minutes},
                                         {"rss_slope_mb_per_min", slope}, {"rss_growth_after_warmup_mb", last.rss_mb - warm.rss_mb},
                                         {"errors", errors},              {"samples", rows}}
                                        .dump(2)
                                 << "\n";
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace voxcast::bench
