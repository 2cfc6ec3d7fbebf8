// The control port's HTTP face: the browser client's files, /healthz, /metrics and the
// pixel channel on /pixel, beside the unchanged control WebSocket.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <filesystem>
#include <fstream>

#include "fixture.hpp"
#include "voxcast/protocol/pixel_header.hpp"

using namespace voxcast;
using namespace voxcast::testing;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

namespace {
struct Reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  std::string csp;
};

// One blocking GET (or other method) on a fresh connection, 5 s at most.
Reply request(uint16_t port, const std::string& target, http::verb method = http::verb::get,
              const std::string& bearer = "") {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(method == http::verb::head);  // a HEAD answer has Content-Length but no body
  http::read(stream, buffer, parser);
  const auto& res = parser.get();
  Reply r;
  r.status = res.result_int();
  r.content_type = std::string(res[http::field::content_type]);
  r.body = res.body();
  r.csp = std::string(res["Content-Security-Policy"]);
  return r;
}

struct WebRoot {
  fs::path dir;
  WebRoot() {
    dir = fs::temp_directory_path() / ("voxcast-web-" + std::to_string(::getpid()) + "-" +
                                       std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(dir / "assets");
    std::ofstream(dir / "index.html") << "<!doctype html><title>voxcast</title><script src=app.js></script>";
    std::ofstream(dir / "app.js") << "console.log('voxcast');";
    std::ofstream(dir / "assets" / "style.css") << "body{}";
    std::ofstream(dir.parent_path() / (dir.filename().string() + "-secret.txt")) << "secret";
    fs::create_symlink(dir.parent_path() / (dir.filename().string() + "-secret.txt"), dir / "leak.txt");
  }
  ~WebRoot() {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::remove(dir.parent_path() / (dir.filename().string() + "-secret.txt"), ec);
  }
};
}  // namespace

TEST(Http, ServesTheWebClientFromTheControlPort) {
  WebRoot web;
  TestServerOptions o;
  o.web_root = web.dir.string();
  TestServer srv(o);
  uint16_t port = srv.get().control_port();
  auto index = request(port, "/?token=test-token");
  EXPECT_EQ(index.status, 200u);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<title>voxcast</title>"), std::string::npos);
  EXPECT_NE(index.csp.find("default-src 'self'"), std::string::npos);
  auto js = request(port, "/app.js");
  EXPECT_EQ(js.status, 200u);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.body, "console.log('voxcast');");
  EXPECT_EQ(request(port, "/assets/style.css").status, 200u);
  auto head = request(port, "/app.js", http::verb::head);
  EXPECT_EQ(head.status, 200u);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.content_type, "text/javascript; charset=utf-8");
  // Nothing outside the web root, however it is spelled.
  for (const char* bad : {"/../secret.txt", "/%2e%2e/etc/passwd", "/assets/../../x", "/leak.txt", "/nope.js",
                          "/app.js%00.html", "//etc/passwd"})
    EXPECT_EQ(request(port, bad).status, 404u) << bad;
  EXPECT_EQ(request(port, "/", http::verb::post).status, 405u);
  EXPECT_EQ(srv.get().browser_url(), "http://127.0.0.1:" + std::to_string(port) + "/?token=test-token");
}

TEST(Http, SaysWhenTheWebClientIsNotBuilt) {
  TestServer srv;  // no web root
  auto r = request(srv.get().control_port(), "/");
  EXPECT_EQ(r.status, 503u);
  EXPECT_NE(r.body.find("web client is not built"), std::string::npos);
  EXPECT_NE(r.body.find("scripts/build-web.sh"), std::string::npos);
}

TEST(Http, HealthAndMetrics) {
  TestServer srv;
  uint16_t port = srv.get().control_port();
  auto health = request(port, "/healthz");
  EXPECT_EQ(health.status, 200u);
  auto j = protocol::Json::parse(health.body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(request(port, "/metrics").status, 401u);
  EXPECT_EQ(request(port, "/metrics?token=wrong").status, 401u);
  auto m = request(port, "/metrics", http::verb::get, "test-token");
  ASSERT_EQ(m.status, 200u);
  EXPECT_NE(m.body.find("# TYPE voxcast_frames_sent_total counter"), std::string::npos);
  EXPECT_NE(m.body.find("voxcast_render_frames_total "), std::string::npos);
  EXPECT_EQ(request(port, "/metrics?token=test-token").status, 200u);
}

TEST(Http, ControlWebSocketStillWorksOnThePort) {
  WebRoot web;
  TestServerOptions o;
  o.web_root = web.dir.string();
  TestServer srv(o);
  RawControl raw("127.0.0.1", srv.get().control_port());
  raw.send(hello_frame(srv.get().token()));
  auto welcome = raw.read();
  ASSERT_TRUE(welcome);
  EXPECT_EQ((*welcome)["type"], "session.welcome");
}

TEST(Http, PixelChannelOnTheControlPort) {
  TestServer srv;
  uint16_t port = srv.get().control_port();
  asio::io_context io;
  {
    // Without the token the upgrade is refused.
    beast::websocket::stream<beast::tcp_stream> ws(io);
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(5));
    beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    EXPECT_THROW(ws.handshake("127.0.0.1", "/pixel"), boost::system::system_error);
  }
  beast::websocket::stream<beast::tcp_stream> ws(io);
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ws.handshake("127.0.0.1", "/pixel?token=test-token");
  beast::flat_buffer buffer;
  ws.read(buffer);  // a new viewer starts at an IDR
  ASSERT_GE(buffer.size(), protocol::kPixelHeaderSize);
  auto header = protocol::read_pixel_header(std::span<const uint8_t>(static_cast<const uint8_t*>(buffer.data().data()), buffer.size()));
  ASSERT_TRUE(header);
  EXPECT_EQ(header->seq, 0u);
  EXPECT_TRUE(header->flags & protocol::kFlagKeyframe);
  EXPECT_EQ(header->width, 320u);
}

TEST(Http, HttpsWithTls) {
  WebRoot web;
  TestServerOptions o;
  o.web_root = web.dir.string();
  o.tls_self_signed = true;
  TestServer srv(o);
  uint16_t port = srv.get().control_port();
  EXPECT_EQ(srv.get().browser_url(), "https://127.0.0.1:" + std::to_string(port) + "/?token=test-token");
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);  // the test checks routing, net_tests check certificates
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  beast::get_lowest_layer(stream).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  stream.handshake(asio::ssl::stream_base::client);
  http::request<http::string_body> req{http::verb::get, "/app.js", 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "console.log('voxcast');");
}

TEST(Http, GarbageGetsABadRequestAndTheServerGoesOn) {
  TestServer srv;
  uint16_t port = srv.get().control_port();
  {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string hello("\x16\x03\x01\x02\x00garbage that is no request\r\n\r\n");
    asio::write(stream, asio::buffer(hello));
    std::string answer;
    boost::system::error_code ec;
    std::array<char, 256> buf{};
    while (!ec && answer.size() < 12) {
      size_t n = stream.read_some(asio::buffer(buf), ec);
      answer.append(buf.data(), n);
    }
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 400") << answer;
  }
  EXPECT_EQ(request(port, "/healthz").status, 200u);
}
