#pragma once
// What the control port answers besides the control WebSocket: the browser client's
// files, the pixel channel on a path (one port is enough for an SSH tunnel or a proxy),
// /healthz and /metrics. Pure decisions here; the socket work is in front_door.cpp.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "voxcast/server/render_loop.hpp"

namespace voxcast::server {

struct ServerStats;

enum class Route {
  control_ws,    // WebSocket upgrade on any path but /pixel: protocol v2 as on the control port
  pixel_ws,      // WebSocket upgrade on /pixel: the pixel channel (token in ?token= or Bearer)
  static_file,   // GET/HEAD of the web client's files
  healthz,       // GET/HEAD /healthz
  metrics,       // GET/HEAD /metrics (Prometheus text; token checked)
  bad_method,    // anything but GET/HEAD without an upgrade
};

// The path part of a request target ("/a/b?x=1" -> "/a/b").
std::string_view target_path(std::string_view target);
Route route_request(std::string_view method, std::string_view target, bool websocket_upgrade);

// Token from `?token=` in the target or from "Authorization: Bearer ..." (`authorization`
// is that header's value, possibly empty).
std::string request_token(std::string_view target, std::string_view authorization);

// The file a GET of `path` names inside `web_root` ("/" is index.html), or nothing when the
// path is malformed, escapes the root (.., %2e%2e, symlinks out), holds a NUL or names no
// regular file.
std::optional<std::filesystem::path> resolve_web_file(const std::filesystem::path& web_root, std::string_view path);
// Content-Type by extension; application/octet-stream when unknown.
std::string content_type_for(const std::filesystem::path& file);
// True when `web_root` holds the browser client (an index.html).
bool web_client_built(const std::filesystem::path& web_root);
// The 503 page shown at / when the web client is not built: says how to build it.
std::string web_client_missing_page(const std::filesystem::path& web_root);

// Prometheus text exposition (format 0.0.4) of the server's counters.
std::string metrics_text(const ServerStats& stats);
// /healthz body (JSON).
std::string health_json(const ServerStats& stats);

// The ready-to-open browser address, Jupyter style: http(s)://HOST:PORT/?token=...
std::string browser_url(bool tls, const std::string& host, uint16_t port, const std::string& token);

}  // namespace voxcast::server
