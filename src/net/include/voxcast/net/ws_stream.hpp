#pragma once
// One WebSocket over TCP or over TLS. The control and pixel channels of both the server
// and the client are written once against this type; whether the bytes are encrypted is
// decided when the stream is made.
#include <utility>  // boost 1.74 awaitable.hpp needs std::exchange declared first
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <string>
#include <variant>

namespace voxcast::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;

class WsStream {
 public:
  using Plain = websocket::stream<beast::tcp_stream>;
  using Tls = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

  // Server side: an accepted socket; `tls` null for plain ws.
  WsStream(asio::ip::tcp::socket socket, asio::ssl::context* tls);
  // Client side: not yet connected.
  WsStream(asio::io_context& io, asio::ssl::context* tls);

  bool is_tls() const { return std::holds_alternative<Tls>(ws_); }
  beast::tcp_stream& tcp();
  void close_socket();  // abrupt: what a network fault does

  // TLS handshake (no-op for plain); the TCP deadline in force bounds it. The client
  // passes the server's name for SNI.
  asio::awaitable<void> server_tls_handshake();
  asio::awaitable<void> client_tls_handshake(const std::string& host);

  // The HTTP upgrade request read before accepting (the pixel channel checks its token).
  asio::awaitable<void> read_request(beast::flat_buffer& buffer, http::request<http::string_body>& req);
  asio::awaitable<void> write_response(http::response<http::string_body>& res);
  asio::awaitable<void> accept();
  asio::awaitable<void> accept(const http::request<http::string_body>& req);
  asio::awaitable<void> handshake(const std::string& host, const std::string& target);

  asio::awaitable<size_t> read(beast::flat_buffer& buffer);
  template <class Buffers>
  asio::awaitable<size_t> write(const Buffers& buffers) {
    return std::visit([&](auto& ws) { return ws.async_write(buffers, asio::use_awaitable); }, ws_);
  }
  asio::awaitable<void> close(const websocket::close_reason& reason);

  template <class Option>
  void set_option(const Option& o) {
    std::visit([&](auto& ws) { ws.set_option(o); }, ws_);
  }
  void text(bool on);
  void binary(bool on);
  bool got_text() const;
  bool is_open() const;
  void read_message_max(size_t bytes);

 private:
  std::variant<Plain, Tls> ws_;
};

}  // namespace voxcast::net
