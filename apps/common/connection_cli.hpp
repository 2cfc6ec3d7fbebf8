#pragma once
// Connection options shared by every client app: host/ports/token or the string the
// server prints. Resolved once into a ConnectionOptions.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "voxcast/core/connection.hpp"

namespace voxcast::apps {

struct ConnectionCli {
  std::string connect;
  ConnectionOptions options;
  bool no_auth = false;
};

inline void add_connection_options(CLI::App& app, ConnectionCli* c) {
  app.add_option("--connect", c->connect, "connection string printed by the server (voxcast://...)")
      ->envname("VOXCAST_CONNECT");
  app.add_option("--host", c->options.host, "server host")->capture_default_str();
  app.add_option("--control-port", c->options.control_port, "control WebSocket port")->capture_default_str();
  app.add_option("--pixel-port", c->options.pixel_port, "pixel WebSocket port")->capture_default_str();
  app.add_option("--token", c->options.token, "auth token")->envname("VOXCAST_TOKEN");
  app.add_flag("--no-auth", c->no_auth, "send no token (server started with --no-auth)");
}

// The connection string wins over the separate options; errors are for people.
inline std::optional<std::string> resolve_connection(ConnectionCli* c) {
  if (!c->connect.empty()) {
    std::string error;
    auto parsed = parse_connection_string(c->connect, &error);
    if (!parsed) return "bad --connect: " + error;
    c->options = *parsed;
  }
  if (c->no_auth) c->options.token.clear();
  return std::nullopt;
}

}  // namespace voxcast::apps
