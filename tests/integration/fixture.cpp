#include "fixture.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <thread>

#include "voxcast/codec/png.hpp"
#include "voxcast/data/synthetic.hpp"
#include "voxcast/protocol/base64.hpp"

namespace voxcast::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using protocol::Json;

namespace {
class NoiseVolume final : public data::VolumeSource {
 public:
  NoiseVolume() {
    info_.name = "noise";
    info_.kind = "test";
    info_.axes = {{"z", "space", 1, 0, ""}, {"y", "space", 1, 0, ""}, {"x", "space", 1, 0, ""}};
    info_.shape = {8, 240, 320};
    info_.dtype = data::DType::u8;
    info_.channels = {data::make_channel("noise", "gray", 0, 255)};
    info_.levels.push_back({info_.shape, {1, 1, 1}, {8, 240, 320}});
  }
  const data::VolumeInfo& info() const override { return info_; }
  std::optional<data::DataError> read_level(int, const data::Box& box, float* out) const override {
    if (auto why = data::check_box(box, info_.shape)) return data::DataError{"noise", *why};
    for (int64_t z = 0; z < box.size[0]; ++z)
      for (int64_t y = 0; y < box.size[1]; ++y)
        for (int64_t x = 0; x < box.size[2]; ++x) {
          uint64_t h = static_cast<uint64_t>(((box.start[0] + z) * 240 + box.start[1] + y) * 320 + box.start[2] + x);
          h = (h ^ (h >> 13)) * 0x9E3779B97F4A7C15ull;
          *out++ = static_cast<float>((h >> 56) & 0xff);
        }
    return std::nullopt;
  }

 private:
  data::VolumeInfo info_;
};
}  // namespace

std::unique_ptr<data::VolumeSource> make_noise_volume() { return std::make_unique<NoiseVolume>(); }

TestServer::TestServer(TestServerOptions o) {
  server::ServerConfig cfg;
  cfg.host = "127.0.0.1";
  cfg.control_port = o.control_port;
  cfg.pixel_port = o.pixel_port;
  cfg.require_token = o.require_token;
  cfg.token = "test-token";
  cfg.width = 320;
  cfg.height = 240;
  cfg.threads = 2;
  cfg.heartbeat_s = o.heartbeat_s;
  cfg.hello_timeout_s = o.hello_timeout_s;
  cfg.source_label = "synthetic";
  cfg.data_root = o.data_root;
  cfg.tls_self_signed = o.tls_self_signed;
  cfg.tls_cert_file = o.tls_cert_file;
  cfg.tls_key_file = o.tls_key_file;
  cfg.web_root = o.web_root;
  cfg.unauthenticated_per_ip = o.unauthenticated_per_ip;
  cfg.unauthenticated_total = o.unauthenticated_total;
  cfg.bricks = o.bricks;
  data::SyntheticOptions so;
  so.depth = 8;
  so.height = 96;
  so.width = 128;
  server_ = std::make_unique<server::Server>(cfg, o.make_source ? o.make_source() : data::make_synthetic_cells(so));
  auto err = server_->start();
  if (err) throw std::runtime_error("server did not start: " + err->message);
  // The first frame is rendered at start; wait for its stream configuration.
  for (int i = 0; i < 1000 && server_->stats().stream_configs == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

TestServer::~TestServer() { server_->stop(); }

RestartableServer::RestartableServer(TestServerOptions o) : options_(std::move(o)) {
  server_ = std::make_unique<TestServer>(options_);
  options_.control_port = server_->get().control_port();
  options_.pixel_port = server_->get().pixel_port();
}

void RestartableServer::restart() { server_ = std::make_unique<TestServer>(options_); }

ConnectionOptions TestServer::connection(bool with_token) const {
  ConnectionOptions c;
  c.host = "127.0.0.1";
  c.control_port = server_->control_port();
  c.pixel_port = server_->pixel_port();
  c.token = with_token ? server_->token() : "";
  c.tls = server_->tls();
  if (c.tls && !server_->tls_fingerprint().empty()) c.fingerprint = server_->tls_fingerprint();
  return c;
}

client::ClientConfig TestServer::client_config() const {
  client::ClientConfig c;
  c.connection = connection();
  c.name = "voxcast-test";
  return c;
}

struct RawControl::Impl {
  asio::io_context io;
  beast::websocket::stream<tcp::socket> ws{io};
};

RawControl::RawControl(const std::string& host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  tcp::endpoint ep(asio::ip::make_address(host), port);
  impl_->ws.next_layer().connect(ep);
  impl_->ws.handshake(host + ":" + std::to_string(port), "/");
  impl_->ws.text(true);
}

RawControl::~RawControl() {
  boost::system::error_code ec;
  impl_->ws.next_layer().close(ec);
}

void RawControl::send_text(const std::string& text) {
  boost::system::error_code ec;
  impl_->ws.write(asio::buffer(text), ec);
}

std::optional<Json> RawControl::read(double timeout_s) {
  if (closed_) return std::nullopt;
  timeval tv{};
  tv.tv_sec = static_cast<long>(timeout_s);
  tv.tv_usec = static_cast<long>((timeout_s - static_cast<double>(tv.tv_sec)) * 1e6);
  setsockopt(impl_->ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  beast::flat_buffer buf;
  boost::system::error_code ec;
  impl_->ws.read(buf, ec);
  if (ec) {
    closed_ = true;  // a timed-out Beast stream cannot be read again
    return std::nullopt;
  }
  Json j = Json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

int RawControl::close_code() const { return closed_ ? static_cast<int>(impl_->ws.reason().code) : 0; }

std::optional<Json> RawControl::read_type(const std::string& type, double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    auto j = read(std::max(0.01, left));
    if (!j) return std::nullopt;
    if ((*j)["type"] == type) return j;
  }
  return std::nullopt;
}

Json hello_frame(const std::string& token, bool want_errors) {
  Json features = {{"notify.scene", true}, {"notify.layers", true}, {"notify.stream", true},
                   {"notify.dims", true},  {"notify.camera", true}};
  if (want_errors) features["notify.error"] = true;
  Json payload = {{"protocols", {2}},
                  {"client", {{"name", "raw-test"}, {"version", "1"}, {"platform", "test"}}},
                  {"features", features},
                  {"resume_tokens", {{"notify.scene", nullptr}, {"notify.layers", nullptr}, {"notify.stream", nullptr}}}};
  if (!token.empty()) payload["auth"] = {{"type", "token"}, {"token", token}};
  return {{"type", "session.hello"}, {"version", 2}, {"frame_id", "hello-test"}, {"timestamp", 1.0}, {"payload", payload}};
}

Json state_update_frame(const std::string& session, const std::string& id, const std::string& scope,
                        const std::string& target, const std::string& key, Json value) {
  return {{"type", "state.update"}, {"version", 2},           {"session", session},
          {"frame_id", "state-" + id}, {"intent_id", "intent-" + id}, {"timestamp", 2.0},
          {"payload", {{"scope", scope}, {"target", target}, {"key", key}, {"value", value}}}};
}

std::optional<Picture> screenshot_picture(const client::CommandResult& reply) {
  if (!reply.ok) return std::nullopt;
  auto bytes = protocol::base64_decode(reply.result.value("data", std::string()));
  if (!bytes) return std::nullopt;
  Picture p;
  if (codec::decode_png_rgba(*bytes, &p.rgba, &p.width, &p.height)) return std::nullopt;
  return p;
}

}  // namespace voxcast::testing
