#include "voxcast/net/ws_stream.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <cstdint>

namespace voxcast::net {

using asio::use_awaitable;

namespace {
WsStream::Plain* plain_of(std::variant<WsStream::Plain, WsStream::Tls>& v) { return std::get_if<WsStream::Plain>(&v); }
}  // namespace

WsStream::WsStream(asio::ip::tcp::socket socket, asio::ssl::context* tls)
    : ws_(tls ? std::variant<Plain, Tls>(std::in_place_type<Tls>, std::move(socket), *tls)
              : std::variant<Plain, Tls>(std::in_place_type<Plain>, std::move(socket))) {}

WsStream::WsStream(asio::io_context& io, asio::ssl::context* tls)
    : ws_(tls ? std::variant<Plain, Tls>(std::in_place_type<Tls>, io, *tls)
              : std::variant<Plain, Tls>(std::in_place_type<Plain>, io)) {}

beast::tcp_stream& WsStream::tcp() {
  return std::visit([](auto& ws) -> beast::tcp_stream& { return beast::get_lowest_layer(ws); }, ws_);
}

void WsStream::close_socket() {
  boost::system::error_code ec;
  tcp().socket().close(ec);
}

asio::awaitable<void> WsStream::server_tls_handshake() {
  if (plain_of(ws_)) co_return;
  co_await std::get<Tls>(ws_).next_layer().async_handshake(asio::ssl::stream_base::server, use_awaitable);
}

asio::awaitable<void> WsStream::client_tls_handshake(const std::string& host) {
  if (plain_of(ws_)) co_return;
  auto& ssl = std::get<Tls>(ws_).next_layer();
  // SNI, so a server behind a name-based proxy presents the right certificate.
  SSL_set_tlsext_host_name(ssl.native_handle(), host.c_str());
  co_await ssl.async_handshake(asio::ssl::stream_base::client, use_awaitable);
}

asio::awaitable<void> WsStream::read_request(beast::flat_buffer& buffer, http::request<http::string_body>& req) {
  // The caller bounds the request by its buffer's max_size: the header must fit in it and
  // so must a body (the parser's own default would let a body grow to 1 MiB).
  const auto limit = static_cast<std::uint32_t>(std::min<std::size_t>(buffer.max_size(), 1u << 20));
  http::request_parser<http::string_body> parser;
  parser.header_limit(limit);
  parser.body_limit(limit);
  co_await std::visit([&](auto& ws) { return http::async_read(ws.next_layer(), buffer, parser, use_awaitable); }, ws_);
  req = parser.release();
}

asio::awaitable<void> WsStream::write_response(http::response<http::string_body>& res) {
  co_await std::visit([&](auto& ws) { return http::async_write(ws.next_layer(), res, use_awaitable); }, ws_);
}

asio::awaitable<void> WsStream::accept() {
  co_await std::visit([](auto& ws) { return ws.async_accept(use_awaitable); }, ws_);
}

asio::awaitable<void> WsStream::accept(const http::request<http::string_body>& req) {
  co_await std::visit([&](auto& ws) { return ws.async_accept(req, use_awaitable); }, ws_);
}

asio::awaitable<void> WsStream::handshake(const std::string& host, const std::string& target) {
  co_await std::visit([&](auto& ws) { return ws.async_handshake(host, target, use_awaitable); }, ws_);
}

asio::awaitable<size_t> WsStream::read(beast::flat_buffer& buffer) {
  return std::visit([&](auto& ws) { return ws.async_read(buffer, use_awaitable); }, ws_);
}

asio::awaitable<void> WsStream::close(const websocket::close_reason& reason) {
  co_await std::visit([&](auto& ws) { return ws.async_close(reason, use_awaitable); }, ws_);
}

void WsStream::text(bool on) {
  std::visit([on](auto& ws) { ws.text(on); }, ws_);
}
void WsStream::binary(bool on) {
  std::visit([on](auto& ws) { ws.binary(on); }, ws_);
}
bool WsStream::got_text() const {
  return std::visit([](const auto& ws) { return ws.got_text(); }, ws_);
}
bool WsStream::is_open() const {
  return std::visit([](const auto& ws) { return ws.is_open(); }, ws_);
}
void WsStream::read_message_max(size_t bytes) {
  std::visit([bytes](auto& ws) { ws.read_message_max(bytes); }, ws_);
}

}  // namespace voxcast::net
