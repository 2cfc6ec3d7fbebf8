// The control port: its first request decides what a connection is. A WebSocket upgrade
// becomes the control session (or, on /pixel, a pixel session); anything else is plain
// HTTP — the browser client's files, /healthz, /metrics — answered with keep-alive until
// the peer closes or goes idle. napari-cuda's clients only ever send the upgrade, so
// what they see on this port is unchanged.
#include <utility>  // boost 1.74 awaitable.hpp needs std::exchange declared first
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fstream>
#include <sstream>

#include "server_core.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/server/http_routes.hpp"

namespace voxcast::server {

namespace http = beast::http;

namespace {
constexpr auto kFirstRequestTimeout = std::chrono::seconds(10);
constexpr auto kKeepAliveIdle = std::chrono::seconds(30);
constexpr std::uintmax_t kMaxServedFile = 32u << 20;

http::response<http::string_body> plain_response(http::status status, unsigned version, std::string content_type,
                                                 std::string body) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::server, "voxcast");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  res.body() = std::move(body);
  return res;
}

std::string_view view_of(beast::string_view s) { return {s.data(), s.size()}; }
}  // namespace

std::optional<http::response<http::string_body>> refusal_for_read_error(const boost::system::error_code& ec) {
  if (ec.category() != http::make_error_code(http::error::bad_method).category()) return std::nullopt;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;  // the peer left
  http::status status = http::status::bad_request;
  std::string body = "voxcast: not an HTTP request\n";
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    status = http::status::request_header_fields_too_large;
    body = "voxcast: the request header is over " + std::to_string(kMaxHttpRequestBytes) + " bytes\n";
  } else if (ec == http::error::body_limit) {
    status = http::status::payload_too_large;
    body = "voxcast: the request body is over " + std::to_string(kMaxHttpRequestBytes) + " bytes\n";
  }
  // Not HTTP (a TLS hello on a plain port, garbage) or too big: say so, as a WebSocket
  // server does, so the peer reads a clear failure rather than a reset.
  auto res = plain_response(status, 11, "text/plain", std::move(body));
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

http::response<http::string_body> Server::Core::answer_http(const http::request<http::string_body>& req) {
  std::string_view target = view_of(req.target());
  Route route = route_request(view_of(req.method_string()), target, false);
  http::response<http::string_body> res;
  switch (route) {
    case Route::bad_method:
      res = plain_response(http::status::method_not_allowed, req.version(), "text/plain", "GET or HEAD only\n");
      res.set(http::field::allow, "GET, HEAD");
      break;
    case Route::healthz:
      res = plain_response(http::status::ok, req.version(), "application/json", health_json(stats_now()));
      break;
    case Route::metrics: {
      auto auth = req.find(http::field::authorization);
      std::string given = request_token(target, auth == req.end() ? std::string_view() : view_of(auth->value()));
      if (config.require_token && !token_matches(config.token, given)) {
        res = plain_response(http::status::unauthorized, req.version(), "text/plain",
                             "voxcast metrics: give the token as ?token= or Authorization: Bearer\n");
        res.set(http::field::www_authenticate, "Bearer");
        break;
      }
      res = plain_response(http::status::ok, req.version(), "text/plain; version=0.0.4", metrics_text(stats_now()));
      break;
    }
    case Route::static_file: {
      std::filesystem::path root(config.web_root);
      std::string_view path = target_path(target);
      if (!web_client_built(root)) {
        res = plain_response(path == "/" ? http::status::service_unavailable : http::status::not_found, req.version(),
                             "text/html; charset=utf-8", web_client_missing_page(root));
        break;
      }
      auto file = resolve_web_file(root, path);
      std::error_code ec;
      if (!file || std::filesystem::file_size(*file, ec) > kMaxServedFile || ec) {
        res = plain_response(http::status::not_found, req.version(), "text/plain", "not found\n");
        break;
      }
      std::ifstream in(*file, std::ios::binary);
      std::ostringstream body;
      body << in.rdbuf();
      if (!in.good() && !in.eof()) {
        res = plain_response(http::status::internal_server_error, req.version(), "text/plain", "cannot read the file\n");
        break;
      }
      res = plain_response(http::status::ok, req.version(), content_type_for(*file), body.str());
      // The page loads nothing from anywhere else and talks only to this origin.
      res.set("Content-Security-Policy",
              "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; "
              "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
      break;
    }
    case Route::control_ws:
    case Route::pixel_ws:
      assert(false && "upgrades are not answered as HTTP");
      break;
  }
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  if (req.method() == http::verb::head) {
    auto length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  return res;
}

asio::awaitable<void> Server::Core::serve_control_port(tcp::socket socket, AdmissionTicket ticket) {
  net::WsStream ws(std::move(socket), tls.get());
  try {
    ws.tcp().expires_after(kFirstRequestTimeout);
    co_await ws.server_tls_handshake();
    // Bounded before authentication: a request that does not fit ends the connection.
    beast::flat_buffer buffer(kMaxHttpRequestBytes);
    for (bool first = true; !stopping; first = false) {
      http::request<http::string_body> req;
      ws.tcp().expires_after(first ? kFirstRequestTimeout : kKeepAliveIdle);
      std::optional<http::response<http::string_body>> refusal;
      try {
        co_await ws.read_request(buffer, req);
      } catch (const boost::system::system_error& e) {
        refusal = refusal_for_read_error(e.code());
        if (!refusal) throw;
      }
      if (refusal) {
        co_await ws.write_response(*refusal);
        break;
      }
      ws.tcp().expires_never();
      if (websocket::is_upgrade(req)) {
        if (route_request(view_of(req.method_string()), view_of(req.target()), true) == Route::pixel_ws) {
          auto p = std::make_shared<PixelSession>(*this, std::move(ws), std::move(req));
          p->hold(std::move(ticket));
          p->start();
        } else {
          auto c = std::make_shared<ControlSession>(*this, std::move(ws), std::move(req));
          c->hold(std::move(ticket));
          c->start();
        }
        co_return;
      }
      auto res = answer_http(req);
      co_await ws.write_response(res);
      if (!res.keep_alive()) break;
    }
    boost::system::error_code ec;
    ws.tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
  } catch (const boost::system::system_error& e) {
    log_debug("http", std::string("connection ended: ") + e.code().message());
  }
}

}  // namespace voxcast::server
