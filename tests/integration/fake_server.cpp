#include "fake_server.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <thread>

namespace voxcast::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using protocol::Json;

struct FakeControlServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0};
  std::thread thread;
};

namespace {
struct FakeConn final : FakeControlServer::Conn {
  explicit FakeConn(tcp::socket s) : ws(std::move(s)) {}
  std::optional<std::string> read_text(double timeout_s) override {
    timeval tv{};
    tv.tv_sec = static_cast<long>(timeout_s);
    tv.tv_usec = static_cast<long>((timeout_s - static_cast<double>(tv.tv_sec)) * 1e6);
    setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    beast::flat_buffer buf;
    boost::system::error_code ec;
    ws.read(buf, ec);
    if (ec) return std::nullopt;
    return beast::buffers_to_string(buf.data());
  }
  void send_text(const std::string& text) override {
    boost::system::error_code ec;
    ws.text(true);
    ws.write(asio::buffer(text), ec);
  }
  beast::websocket::stream<tcp::socket> ws;
};
}  // namespace

FakeControlServer::FakeControlServer(Script script) : impl_(std::make_unique<Impl>()) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->acceptor.non_blocking(true);
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->thread = std::thread([impl = impl_.get(), script = std::move(script)] {
    while (!impl->stop) {
      boost::system::error_code ec;
      tcp::socket sock(impl->io);
      impl->acceptor.accept(sock, ec);
      if (ec) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      impl->accepted += 1;
      sock.non_blocking(false);
      FakeConn conn(std::move(sock));
      timeval tv{2, 0};
      setsockopt(conn.ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      conn.ws.accept(ec);
      if (!ec) script(conn);
      conn.ws.next_layer().close(ec);
    }
  });
}

FakeControlServer::~FakeControlServer() {
  impl_->stop = true;
  impl_->thread.join();
}

int FakeControlServer::connections() const { return impl_->accepted; }

Json welcome_frame(const std::string& session) {
  protocol::SessionWelcome w;
  w.session_id = session;
  w.heartbeat_s = 15.0;
  for (const char* f : {"notify.scene", "notify.layers", "notify.stream", "notify.dims", "notify.camera"})
    w.features[f].enabled = true;
  return {{"type", "session.welcome"}, {"version", 2}, {"session", session}, {"frame_id", "welcome-test"},
          {"timestamp", 1.0}, {"payload", protocol::to_json(w)}};
}

}  // namespace voxcast::testing
