// voxcast-server: serves one dataset over the control and pixel WebSockets.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "voxcast/codec/encoder.hpp"
#include "voxcast/core/log.hpp"
#include "remote_flags.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/server/http_routes.hpp"
#include "voxcast/server/server.hpp"

using namespace voxcast;

namespace {
// The browser client installed beside the binary: build/bin/voxcast-server serves build/web.
std::string default_web_root() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return (exe.parent_path().parent_path() / "web").string();
}

bool parse_size(const std::string& s, int* w, int* h) {
  char tail = 0;
  return std::sscanf(s.c_str(), "%dx%d%c", w, h, &tail) == 2 && *w > 0 && *h > 0;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"voxcast-server: renders a volume next to the data and streams it as H.264"};
  server::ServerConfig cfg;
  std::string dataset = "brain";
  double cache_mb = 0;
  std::string size = "1920x1080";
  std::string log_level = "info";
  std::string connection_file;
  bool no_auth = false;
  app.add_option("dataset", dataset, std::string("dataset to serve: ") + data::dataset_kinds())->capture_default_str();
  app.add_option("--data-root", cfg.data_root, "directory clients may browse (fs.listdir) and open datasets from")
      ->envname("VOXCAST_DATA_ROOT");
  app.add_option("--cache-mb", cache_mb, "decoded-chunk cache size in MB (0: a quarter of the free memory)")
      ->check(CLI::Range(0.0, 1e7))->capture_default_str();
  app.add_option("--host", cfg.host, "address to bind (loopback unless told otherwise)")->envname("VOXCAST_HOST")->capture_default_str();
  app.add_option("--control-port", cfg.control_port, "control WebSocket port (0 picks a free one)")->capture_default_str();
  app.add_option("--pixel-port", cfg.pixel_port, "pixel WebSocket port (0 picks a free one)")->capture_default_str();
  app.add_option("--token", cfg.token, "auth token (default: a random one, printed)")->envname("VOXCAST_TOKEN");
  app.add_flag("--no-auth", no_auth, "accept clients without a token (loopback development)");
  app.add_option("--tls-cert", cfg.tls_cert_file, "TLS certificate chain (PEM): both channels become wss")
      ->envname("VOXCAST_TLS_CERT")->check(CLI::ExistingFile);
  app.add_option("--tls-key", cfg.tls_key_file, "TLS private key (PEM) for --tls-cert")
      ->envname("VOXCAST_TLS_KEY")->check(CLI::ExistingFile);
  app.add_flag("--tls-self-signed", cfg.tls_self_signed,
               "serve wss with a certificate made at start; the connection string pins its fingerprint")
      ->excludes("--tls-cert");
  app.add_option("--size", size, "video size WxH (even)")->capture_default_str();
  app.add_option("--fps", cfg.fps, "stream frame rate advertised to clients")->check(CLI::Range(1.0, 240.0))->capture_default_str();
  app.add_option("--crf", cfg.crf, "x264 quality while interacting (lower is better)")->check(CLI::Range(0, 51))->capture_default_str();
  app.add_option("--still-crf", cfg.still_crf, "x264 quality of the refinement pass once the view is still (-1: off)")
      ->check(CLI::Range(-1, 51))->capture_default_str();
  bool no_rate_control = false;
  app.add_flag("--no-rate-control", no_rate_control,
               "send every client the stream as quality alone makes it, whatever its link carries");
  app.add_option("--frame-ms", cfg.frame_ms, "3D frame-time budget while the camera moves (adaptive resolution)")
      ->check(CLI::Range(1.0, 1000.0))->capture_default_str();
  app.add_option("--renderer", cfg.renderer, "3D renderer: auto (CUDA when a GPU is present), cuda, cpu")
      ->check(CLI::IsMember({"auto", "cuda", "cpu"}))->capture_default_str();
  app.add_option("--volume-mb", cfg.volume_mb, "3D on the CPU: memory for the volume (whole or its bricks)")
      ->check(CLI::Range(16.0, 1e7))->capture_default_str();
  app.add_option("--gpu-mb", cfg.gpu_mb, "3D on CUDA: GPU memory for the volume (its texture or the brick pool)")
      ->check(CLI::Range(16.0, 1e7))->capture_default_str();
  app.add_option("--bricks", cfg.bricks, "3D multiresolution bricks: auto (when the finest level does not fit), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))->capture_default_str();
  app.add_option("--encoder", cfg.encoder, "H.264 encoder: auto (NVENC when the GPU has one), x264, nvenc")
      ->check(CLI::IsMember({"auto", "x264", "nvenc"}))->capture_default_str();
  app.add_option("--threads", cfg.threads, "render/encode threads (0: all cores)")->capture_default_str();
  app.add_option("--heartbeat", cfg.heartbeat_s, "heartbeat period in seconds")->check(CLI::Range(0.05, 3600.0))->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn, error")->capture_default_str();
  app.add_option("--connection-file", connection_file,
                 "also write the connection string (line 1) and the browser URL (line 2) to this file");
  cfg.web_root = default_web_root();
  app.add_option("--web-root", cfg.web_root, "the browser client's files, served on the control port")
      ->envname("VOXCAST_WEB_ROOT");
  apps::RemoteFlags remote;
  apps::add_remote_flags(app, &remote);
  app.add_option("--allow-remote", cfg.remote_allow,
                 "URL prefix (http://, https://, s3://) under which clients may open datasets with napari.load_zarr; repeatable");
  CLI11_PARSE(app, argc, argv);
  cfg.remote = apps::resolve_remote(remote);
  cfg.rate_control = !no_rate_control;

  LogLevel level;
  if (!parse_log_level(log_level, &level)) {
    std::fprintf(stderr, "voxcast-server: bad --log-level '%s'\n", log_level.c_str());
    return 2;
  }
  set_log_level(level);
  codec::set_library_logging(level == LogLevel::debug);
  if (!parse_size(size, &cfg.width, &cfg.height)) {
    std::fprintf(stderr, "voxcast-server: bad --size '%s' (expected WxH)\n", size.c_str());
    return 2;
  }
  cfg.require_token = !no_auth;
  cfg.source_label = dataset;

  cfg.cache = std::make_shared<data::ChunkCache>(
      cache_mb > 0 ? static_cast<size_t>(cache_mb * 1024 * 1024) : data::default_cache_bytes(), 0);
  if (dataset == "brain" && !data::brain_sample_available())
    log_info("server", "the brain sample (Debian's mricron-data) is not installed: serving the synthetic sample");
  data::OpenOptions open_options;
  open_options.cache = cfg.cache;
  open_options.remote = cfg.remote;
  auto opened = data::open_dataset(dataset, open_options);
  if (auto* err = std::get_if<data::DataError>(&opened)) {
    std::fprintf(stderr, "voxcast-server: %s: %s\n", err->source.c_str(), err->message.c_str());
    return 1;
  }
  // Block the stop signals before any thread starts, then wait for one here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::Server srv(cfg, std::move(std::get<0>(opened)));
  if (auto err = srv.start()) {
    std::fprintf(stderr, "voxcast-server: %s\n", err->message.c_str());
    return 1;
  }
  std::string conn = srv.connection_string();
  auto started = srv.stats().render;
  std::printf("voxcast-server ready: %s at %dx%d, encoder %s, 3D on %s\n", dataset.c_str(), cfg.width, cfg.height,
              started.encoder.c_str(), started.renderer_3d.c_str());
  const char* scheme = srv.tls() ? "wss" : "ws";
  std::printf("  control %s://%s:%u   pixel %s://%s:%u\n", scheme, cfg.host.c_str(), srv.control_port(), scheme,
              cfg.host.c_str(), srv.pixel_port());
  if (srv.tls()) std::printf("  TLS certificate SHA-256 %s\n", srv.tls_fingerprint().c_str());
  std::string url = srv.browser_url();
  if (server::web_client_built(cfg.web_root))
    std::printf("  open in a browser:\n    %s\n", url.c_str());
  else
    std::printf("  the web client is not built (scripts/build-web.sh builds it; needs Node.js and npm)\n");
  std::printf("  connect with:\n    voxcast-headless --connect '%s'\n", conn.c_str());
  std::fflush(stdout);
  if (!connection_file.empty()) {
    // Written whole, then renamed: a script waiting for the file never reads half of it.
    std::string partial = connection_file + ".partial";
    {
      std::ofstream f(partial);
      f << conn << "\n" << url << "\n";
    }
    std::error_code ec;
    std::filesystem::rename(partial, connection_file, ec);
  }
  int sig = 0;
  sigwait(&signals, &sig);
  log_info("server", "stopping");
  srv.stop();
  auto st = srv.stats();
  log_info("server", "frames sent " + std::to_string(st.frames_sent) + "; render: " + server::describe(st.render));
  return 0;
}
