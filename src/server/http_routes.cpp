#include "voxcast/server/http_routes.hpp"

#include <nlohmann/json.hpp>
#include <sstream>

#include "voxcast/server/server.hpp"

namespace voxcast::server {

namespace fs = std::filesystem;

std::string_view target_path(std::string_view target) {
  auto q = target.find_first_of("?#");
  return q == std::string_view::npos ? target : target.substr(0, q);
}

Route route_request(std::string_view method, std::string_view target, bool websocket_upgrade) {
  std::string_view path = target_path(target);
  if (websocket_upgrade) return path == "/pixel" ? Route::pixel_ws : Route::control_ws;
  if (method != "GET" && method != "HEAD") return Route::bad_method;
  if (path == "/healthz") return Route::healthz;
  if (path == "/metrics") return Route::metrics;
  return Route::static_file;
}

std::string request_token(std::string_view target, std::string_view authorization) {
  auto q = target.find('?');
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view kv = query.substr(0, amp);
      if (kv.substr(0, 6) == "token=") return std::string(kv.substr(6));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  if (authorization.substr(0, 7) == "Bearer ") return std::string(authorization.substr(7));
  return {};
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; nothing on a malformed escape or a decoded NUL.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

bool inside(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *r != *q) return false;
  return true;
}
}  // namespace

std::optional<fs::path> resolve_web_file(const fs::path& web_root, std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  auto decoded = percent_decode(path);
  if (!decoded) return std::nullopt;
  std::string rel = decoded->substr(1);
  if (rel.empty() || rel.back() == '/') rel += "index.html";
  // Every segment must be a plain name: no "..", no ".", no empty ones ("//").
  std::string_view rest(rel);
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == ".." || segment.find('\\') != std::string_view::npos)
      return std::nullopt;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::error_code ec;
  fs::path root = fs::canonical(web_root, ec);
  if (ec) return std::nullopt;
  fs::path file = fs::canonical(root / rel, ec);  // follows symlinks: the target must stay inside
  if (ec || !inside(root, file) || !fs::is_regular_file(file, ec)) return std::nullopt;
  return file;
}

std::string content_type_for(const fs::path& file) {
  std::string ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".wasm") return "application/wasm";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool web_client_built(const fs::path& web_root) {
  std::error_code ec;
  return !web_root.empty() && fs::is_regular_file(web_root / "index.html", ec);
}

std::string web_client_missing_page(const fs::path& web_root) {
  (void)web_root;  // never shown: it would reveal a server path
  return "<!doctype html><meta charset=utf-8><title>voxcast</title>"
         "<body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">"
         "<h1>The voxcast web client is not built</h1>"
         "<p>This server has no browser client to serve. On the server, build it with "
         "<code>scripts/build-web.sh</code> (needs Node.js and npm; <code>scripts/build.sh</code> "
         "does it when they are installed), or start the server with <code>--web-root DIR</code>.</p>"
         "<p>The desktop viewer and <code>voxcast-headless</code> connect as before.</p></body>\n";
}

std::string metrics_text(const ServerStats& s) {
  std::ostringstream o;
  auto metric = [&o](const char* name, const char* type, const char* help, double value) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << value << '\n';
  };
  metric("voxcast_control_clients", "gauge", "Control sessions open now.", s.control_clients);
  metric("voxcast_pixel_clients", "gauge", "Pixel channels open now.", s.pixel_clients);
  metric("voxcast_frames_sent_total", "counter", "Access units written to pixel clients.",
         static_cast<double>(s.frames_sent));
  metric("voxcast_stills_sent_total", "counter", "Exact stills (lossless PNG) written to pixel clients that take them.",
         static_cast<double>(s.stills_sent));
  int capped = 0;
  for (const auto& l : s.pixel_links) capped += l.stream_step >= 0 ? 1 : 0;
  metric("voxcast_pixel_capped_clients", "gauge", "Pixel clients whose stream is capped to fit their link.", capped);
  metric("voxcast_capped_encodes_total", "counter", "Encodes made for capped links (beside the uncapped stream).",
         static_cast<double>(s.render.capped_encodes));
  metric("voxcast_frames_skipped_total", "counter", "Frames a pixel client skipped (waiting for a keyframe or behind).",
         static_cast<double>(s.frames_skipped));
  metric("voxcast_stream_configs_total", "counter", "notify.stream broadcasts (the avcC changed).",
         static_cast<double>(s.stream_configs));
  metric("voxcast_datasets_loaded_total", "counter", "Datasets opened at run time.",
         static_cast<double>(s.datasets_loaded));
  metric("voxcast_unauthenticated_connections", "gauge", "Connections not yet authenticated (or plain HTTP).",
         s.unauthenticated);
  metric("voxcast_connections_refused_total", "counter",
         "Connections turned away: over an unauthenticated limit or at the descriptor limit.",
         static_cast<double>(s.connections_refused));
  metric("voxcast_notifies_coalesced_total", "counter", "Superseded notify.dims/camera dropped from a full outbox.",
         static_cast<double>(s.notifies_coalesced));
  metric("voxcast_sessions_shed_total", "counter", "Control sessions closed because they did not read.",
         static_cast<double>(s.sessions_shed));
  metric("voxcast_render_frames_total", "counter", "Frames rendered and encoded.", static_cast<double>(s.render.frames));
  metric("voxcast_render_keyframes_total", "counter", "IDR frames encoded.", static_cast<double>(s.render.keyframes));
  metric("voxcast_render_refinements_total", "counter", "Refinement frames (still view, finer data).",
         static_cast<double>(s.render.refinements + s.render.data_refinements));
  metric("voxcast_render_errors_total", "counter", "Frames that failed to render or encode.",
         static_cast<double>(s.render.render_errors));
  metric("voxcast_scene_version", "gauge", "Scene version last rendered.", static_cast<double>(s.render.rendered_version));
  o << "# HELP voxcast_build_info The 3D renderer and the encoder in use.\n# TYPE voxcast_build_info gauge\n"
    << "voxcast_build_info{renderer_3d=\"" << s.render.renderer_3d << "\",encoder=\"" << s.render.encoder << "\"} 1\n";
  return o.str();
}

std::string health_json(const ServerStats& s) {
  nlohmann::json j = {{"status", "ok"},
                      {"control_clients", s.control_clients},
                      {"pixel_clients", s.pixel_clients},
                      {"frames_sent", s.frames_sent},
                      {"rendered_version", s.render.rendered_version},
                      {"renderer_3d", s.render.renderer_3d},
                      {"encoder", s.render.encoder}};
  if (!s.render.last_error.empty()) j["last_error"] = s.render.last_error;
  return j.dump() + "\n";
}

std::string browser_url(bool tls, const std::string& host, uint16_t port, const std::string& token) {
  std::string shown = (host == "0.0.0.0" || host.empty()) ? "127.0.0.1" : host == "::" ? "[::1]" : host;
  if (shown.find(':') != std::string::npos && shown.front() != '[') shown = "[" + shown + "]";
  std::string url = std::string(tls ? "https://" : "http://") + shown + ":" + std::to_string(port) + "/";
  if (!token.empty()) url += "?token=" + token;
  return url;
}

}  // namespace voxcast::server
