#include "voxcast/server/server.hpp"

#include <utility>  // boost 1.74 awaitable.hpp needs std::exchange declared first
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <future>

#include "server_core.hpp"
#include "voxcast/core/connection.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/core/random_id.hpp"
#include "voxcast/net/tls.hpp"
#include "voxcast/server/data_root.hpp"
#include "voxcast/server/http_routes.hpp"
#include "voxcast/server/stream_encoders.hpp"

namespace voxcast::server {

using asio::use_awaitable;

Server::Core::Core(ServerConfig cfg, std::unique_ptr<data::VolumeSource> src)
    : config(std::move(cfg)), source(std::move(src)) {
  scene_context.source_path = shown_server_path(config.data_root, config.source_label);
  scene_context.fps = config.fps;
  handshake.require_token = config.require_token;
  handshake.token = config.token;
  handshake.heartbeat_s = config.heartbeat_s;
  admission_limits.per_ip = config.unauthenticated_per_ip;
  admission_limits.total = config.unauthenticated_total;
  handshake.commands = {"napari.pixel.request_keyframe", "fs.listdir", "napari.load_zarr", "napari.screenshot",
                       "napari.auto_contrast"};
}

std::string Server::Core::shown_path(const std::string& path) const { return shown_server_path(config.data_root, path); }

void Server::Core::send_read_error(ControlSession& s, const data::DataError& err) {
  send_error(s, "data.read_failed", shown_path(err.source) + ": " + shown_server_text(config.data_root, err.message),
             {{"file", shown_path(err.source)}});
}

ServerStats Server::Core::stats_now() const {
  ServerStats s = counters;
  s.control_clients = static_cast<int>(control_sessions.size());
  s.pixel_clients = static_cast<int>(pixel_sessions.size());
  s.render = render_loop->state();
  s.unauthenticated = admission.total;
  s.connections_refused = admission.refused;
  for (const auto& p : pixel_sessions) {
    const LinkRateState& l = p->link().state();
    s.pixel_links.push_back({l.cap_bps, l.delivered_bps, l.base_ms, l.last_flight_ms, p->state().stream_step,
                             p->state().stream_switches, p->frames_in_flight()});
  }
  return s;
}

void Server::Core::publish_scene_change() {
  render_loop->submit(std::make_shared<const render::Scene>(ledger.scene));
}

void Server::Core::on_frame(std::shared_ptr<const OutgoingFrame> frame) {
  if (stopping) return;
  // The stream's configuration is the uncapped encode's (capped ones have the same SPS),
  // or the first capped one's when nobody is uncapped.
  const bool configures = frame->cap_step == stream_steps.front();
  if (configures && frame->keyframe && !frame->sps.empty() && !frame->pps.empty()) {
    protocol::Bytes avcc = protocol::build_avcc_record(frame->sps, frame->pps);
    if (avcc != stream.avcc) {
      // notify.stream goes out only when the configuration really changes.
      stream.avcc = std::move(avcc);
      stream.width = static_cast<int>(frame->width);
      stream.height = static_cast<int>(frame->height);
      counters.stream_configs += 1;
      broadcast_control(stream_envelope(), nullptr, nullptr, std::nullopt);
    }
  }
  for (const auto& p : pixel_sessions) {
    if (frame->still && !p->state().wants_still) continue;  // never offered: they did not ask
    if (!p->offer(frame)) counters.frames_skipped += 1;
  }
  if (std::exchange(stream_steps_dirty, false)) update_stream_steps();
  update_pixel_readiness();
}

void Server::Core::update_stream_steps() {
  std::vector<int> wanted;
  for (const auto& p : pixel_sessions) {
    wanted.push_back(p->state().wanted_step);
    wanted.push_back(p->state().stream_step);  // until it has moved
  }
  std::vector<int> steps = stream_steps_for(wanted);
  for (const auto& p : pixel_sessions) {
    const int target = served_step(steps, p->state().wanted_step);
    if (target != p->state().target_step && target != p->state().stream_step) render_loop->request_keyframe(target);
    p->set_target_step(target);
  }
  if (steps != stream_steps) {
    stream_steps = steps;
    render_loop->set_stream_steps(steps);
  }
}

void Server::Core::update_pixel_readiness() {
  int ready = 0;
  for (const auto& p : pixel_sessions) ready += p->ready_for_frame() ? 1 : 0;
  render_loop->set_ready_viewers(ready);
}

void Server::Core::pixel_attached(const std::shared_ptr<PixelSession>& p) {
  pixel_sessions.insert(p);
  counters.pixel_clients = static_cast<int>(pixel_sessions.size());
  if (p->state().wants_still) render_loop->set_still_viewers(++counters.still_clients);
  render_loop->set_viewers(counters.pixel_clients);
  update_pixel_readiness();
  render_loop->request_keyframe();  // a new viewer starts at an IDR
  update_stream_steps();
  log_info("pixel", "pixel client attached (" + std::to_string(counters.pixel_clients) + " now)");
}

void Server::Core::pixel_detached(const std::shared_ptr<PixelSession>& p) {
  if (pixel_sessions.erase(p) && p->state().wants_still) render_loop->set_still_viewers(--counters.still_clients);
  counters.pixel_clients = static_cast<int>(pixel_sessions.size());
  render_loop->set_viewers(counters.pixel_clients);
  update_pixel_readiness();
  update_stream_steps();
  log_info("pixel", "pixel client left (" + std::to_string(counters.pixel_clients) + " now)");
}

void Server::Core::control_detached(const std::shared_ptr<ControlSession>& s) {
  if (control_sessions.erase(s)) log_info("control", "session " + s->id() + " closed");
  counters.control_clients = static_cast<int>(control_sessions.size());
}

asio::awaitable<void> Server::Core::accept_control() {
  while (!stopping) {
    boost::system::error_code ec;
    tcp::socket socket = co_await control_acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      co_await after_accept_error(control_acceptor, ec);
      continue;
    }
    auto ticket = admit_connection(socket);
    if (!ticket) continue;
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(io, serve_control_port(std::move(socket), std::move(*ticket)), asio::detached);
  }
}

asio::awaitable<void> Server::Core::accept_pixel() {
  while (!stopping) {
    boost::system::error_code ec;
    tcp::socket socket = co_await pixel_acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      co_await after_accept_error(pixel_acceptor, ec);
      continue;
    }
    auto ticket = admit_connection(socket);
    if (!ticket) continue;
    socket.set_option(tcp::no_delay(true), ec);
    auto p = std::make_shared<PixelSession>(*this, std::move(socket));
    p->hold(std::move(*ticket));
    p->start();
  }
}

std::optional<AdmissionTicket> Server::Core::admit_connection(tcp::socket& socket) {
  boost::system::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  std::string ip = ec ? "?" : peer.address().to_string();
  if (!admit(&admission, admission_limits, ip)) {
    log_debug("net", "refused a connection from " + ip + ": too many unauthenticated connections");
    if (!tls) send_refusal(socket.native_handle(), "too many connections waiting to authenticate");
    socket.close(ec);
    return std::nullopt;
  }
  return AdmissionTicket(&admission, ip);
}

asio::awaitable<void> Server::Core::after_accept_error(tcp::acceptor& acceptor, const boost::system::error_code& ec) {
  if (out_of_descriptors(ec.value())) {
    // The pending connection stays queued and every accept fails at once: take it with the
    // spare descriptor and close it (its peer sees a clean close and the queue moves).
    log_info("net", "at the descriptor limit (" + ec.message() + "): refusing a connection");
    spare_fd.release();
    boost::system::error_code e2;
    acceptor.non_blocking(true, e2);
    tcp::socket doomed(io);
    acceptor.accept(doomed, e2);
    if (!e2) {
      admission.refused += 1;
      if (!tls) send_refusal(doomed.native_handle(), "the server is out of file descriptors");
    }
    doomed.close(e2);
    acceptor.non_blocking(false, e2);
    spare_fd.reserve();
  }
  asio::steady_timer pause(io, std::chrono::milliseconds(50));
  boost::system::error_code wait_ec;
  co_await pause.async_wait(asio::redirect_error(use_awaitable, wait_ec));
}

Server::Server(ServerConfig config, std::unique_ptr<data::VolumeSource> source)
    : core_(std::make_unique<Core>(std::move(config), std::move(source))) {}

Server::~Server() { stop(); }

namespace {
std::optional<protocol::Error> listen_on(tcp::acceptor& a, const std::string& host, uint16_t port, const char* what) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return protocol::make_error("server.config", std::string("bad --host '") + host + "': " + ec.message());
  tcp::endpoint ep(address, port);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return protocol::make_error("server.bind", std::string("cannot listen for the ") + what + " channel on " + host +
                                                   ":" + std::to_string(port) + ": " + ec.message());
  return std::nullopt;
}

// The TLS context from the configured files, or from a certificate made now for the
// names a client may use to reach this host.
std::optional<protocol::Error> make_tls(const ServerConfig& cfg, std::shared_ptr<asio::ssl::context>* ctx,
                                        std::string* fingerprint) {
  net::TlsServerOptions options;
  if (cfg.tls_self_signed) {
    std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
    if (cfg.host != "127.0.0.1" && cfg.host != "0.0.0.0" && cfg.host != "::") names.push_back(cfg.host);
    auto made = net::make_self_signed_certificate(names);
    if (auto* e = std::get_if<net::TlsError>(&made)) return protocol::make_error("server.tls", e->message);
    auto& pem = std::get<net::CertificatePem>(made);
    options = {pem.certificate, pem.private_key};
  } else {
    std::string error;
    if (!net::read_text_file(cfg.tls_cert_file, &options.certificate_pem, &error) ||
        !net::read_text_file(cfg.tls_key_file, &options.private_key_pem, &error))
      return protocol::make_error("server.tls", error);
  }
  auto fp = net::certificate_fingerprint(options.certificate_pem);
  if (auto* e = std::get_if<net::TlsError>(&fp)) return protocol::make_error("server.tls", e->message);
  auto made = net::make_server_context(options);
  if (auto* e = std::get_if<net::TlsError>(&made)) return protocol::make_error("server.tls", e->message);
  *ctx = std::get<0>(made);
  *fingerprint = std::get<std::string>(fp);
  return std::nullopt;
}
}  // namespace

std::optional<protocol::Error> Server::start() {
  Core& c = *core_;
  if (c.config.width % 2 || c.config.height % 2 || c.config.width < 16 || c.config.height < 16)
    return protocol::make_error("server.config", "--size must be even and at least 16x16");
  if (c.config.require_token && c.config.token.empty()) c.config.token = make_auth_token();
  c.handshake.token = c.config.token;
  if (c.config.tls_cert_file.empty() != c.config.tls_key_file.empty())
    return protocol::make_error("server.config", "TLS needs both a certificate and a key file");
  if (c.config.tls_self_signed || !c.config.tls_cert_file.empty())
    if (auto err = make_tls(c.config, &c.tls, &c.tls_fingerprint)) return err;
  if (auto err = listen_on(c.control_acceptor, c.config.host, c.config.control_port, "control")) return err;
  if (auto err = listen_on(c.pixel_acceptor, c.config.host, c.config.pixel_port, "pixel")) return err;

  c.ledger.scene = render::make_initial_scene(c.source->info(), c.config.width, c.config.height);
  c.ledger.scene.source = c.source;
  c.ledger.scene.version = c.ledger.version;

  RenderLoopConfig rc;
  rc.encoder.width = c.config.width;
  rc.encoder.height = c.config.height;
  rc.encoder.fps = c.config.fps;
  rc.encoder.crf = c.config.crf;
  rc.encoder.threads = c.config.threads;
  rc.render_threads = c.config.threads;
  rc.still_crf = c.config.still_crf;
  rc.frame_ms = c.config.frame_ms;
  rc.renderer = c.config.renderer;
  rc.volume_mb = c.config.volume_mb;
  rc.gpu_mb = c.config.gpu_mb;
  rc.bricks = c.config.bricks;
  rc.encoder.backend = c.config.encoder;
  Core* core = &c;
  c.render_loop = std::make_unique<RenderLoop>(
      rc,
      [core](std::shared_ptr<const OutgoingFrame> f) { asio::post(core->io, [core, f] { core->on_frame(f); }); },
      [core](const data::DataError& err) {
        asio::post(core->io, [core, err] {
          core->read_error = err;
          for (const auto& s : core->control_sessions) core->send_read_error(*s, err);
        });
      });
  if (auto err = c.render_loop->start(std::make_shared<const render::Scene>(c.ledger.scene))) return err;
  {
    auto started = c.render_loop->state();
    c.scene_context.renderer_3d = started.renderer_3d;
    c.scene_context.encoder = started.encoder;
  }

  c.work.emplace(c.io.get_executor());
  asio::co_spawn(c.io, c.accept_control(), asio::detached);
  asio::co_spawn(c.io, c.accept_pixel(), asio::detached);
  c.io_thread = std::thread([core] { core->io.run(); });
  return std::nullopt;
}

void Server::stop() {
  Core& c = *core_;
  if (!c.io_thread.joinable()) return;
  if (c.render_loop) c.render_loop->stop();
  std::promise<void> closed;
  asio::post(c.io, [&c, &closed] {
    c.stopping = true;
    boost::system::error_code ec;
    c.control_acceptor.close(ec);
    c.pixel_acceptor.close(ec);
    for (const auto& s : c.control_sessions) {
      protocol::Envelope bye;
      bye.type = protocol::type::kSessionGoodbye;
      bye.frame_id = now_frame_id("goodbye");
      bye.payload = protocol::to_json(protocol::SessionGoodbye{"server_shutdown", "server is shutting down", "shutdown"});
      s->send(std::move(bye));
      s->close(websocket::close_code::going_away, "server shutdown");
    }
    for (const auto& p : c.pixel_sessions) p->close();
    closed.set_value();
  });
  closed.get_future().wait();
  // Give the goodbyes a moment to leave, then stop regardless of slow peers.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < deadline) {
    auto idle = std::make_shared<std::promise<bool>>();
    auto answer = idle->get_future();
    asio::post(c.io, [&c, idle] { idle->set_value(c.control_sessions.empty() && c.pixel_sessions.empty()); });
    if (answer.wait_for(std::chrono::milliseconds(100)) == std::future_status::ready && answer.get()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  c.work.reset();
  c.io.stop();
  c.io_thread.join();
  c.loader.join();
  c.screenshot.join();
  c.contrast.join();
}

uint16_t Server::control_port() const { return core_->control_acceptor.local_endpoint().port(); }
uint16_t Server::pixel_port() const { return core_->pixel_acceptor.local_endpoint().port(); }
const std::string& Server::token() const { return core_->config.token; }

std::string Server::connection_string() const {
  ConnectionOptions o;
  o.host = core_->config.host == "0.0.0.0" ? "127.0.0.1" : core_->config.host;
  o.control_port = control_port();
  o.pixel_port = pixel_port();
  o.token = core_->config.require_token ? core_->config.token : "";
  o.tls = tls();
  // A self-signed certificate is trusted by its fingerprint; a CA-signed one by its CA.
  if (core_->config.tls_self_signed) o.fingerprint = core_->tls_fingerprint;
  return format_connection_string(o);
}

std::string Server::browser_url() const {
  return server::browser_url(tls(), core_->config.host, control_port(),
                             core_->config.require_token ? core_->config.token : "");
}

bool Server::tls() const { return core_->tls != nullptr; }
const std::string& Server::tls_fingerprint() const { return core_->tls_fingerprint; }

ServerStats Server::stats() const {
  Core& c = *core_;
  if (!c.io_thread.joinable()) return c.counters;
  std::promise<ServerStats> p;
  asio::post(c.io, [&c, &p] {
    p.set_value(c.stats_now());
  });
  return p.get_future().get();
}

}  // namespace voxcast::server
