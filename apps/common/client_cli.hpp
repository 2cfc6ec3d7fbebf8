#pragma once
// The client options every client app shares (voxcast-headless, voxcast-viewer): the
// connection, TLS, decoder, presenter, log level and metrics output. Read once from the
// command line and the environment into a ClientConfig.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "common/connection_cli.hpp"
#include "voxcast/client/stream_loop.hpp"
#include "voxcast/core/log.hpp"

namespace voxcast::apps {

struct ClientCli {
  ConnectionCli connection;
  client::ClientConfig config;
  bool tls = false;
  std::string tls_fingerprint;
  std::string presenter = "server";
};

inline void add_client_options(CLI::App& app, ClientCli* c) {
  add_connection_options(app, &c->connection);
  app.add_flag("--tls", c->tls, "connect with wss (implied by tls=1 in the connection string)");
  app.add_option("--tls-ca", c->config.tls_ca_file, "verify the server's certificate against this CA bundle (PEM)")
      ->envname("VOXCAST_TLS_CA")->check(CLI::ExistingFile);
  app.add_option("--tls-fingerprint", c->tls_fingerprint, "accept exactly the server certificate with this SHA-256");
  app.add_flag("--tls-insecure", c->config.tls_insecure, "wss without verifying the server (trusted networks only)");
  app.add_option("--decoder", c->config.decoder, "auto (hardware when present), software, vaapi, cuda, videotoolbox")
      ->check(CLI::IsMember({"auto", "software", "vaapi", "cuda", "videotoolbox"}))
      ->envname("VOXCAST_DECODER")->capture_default_str();
  app.add_option("--presenter", c->presenter, "when frames are shown: server (server timestamps) or arrival")
      ->check(CLI::IsMember({"server", "arrival"}))->capture_default_str();
  app.add_option("--latency-ms", c->config.presenter.latency_ms, "presenter latency target")
      ->check(CLI::Range(0.0, 1000.0))->capture_default_str();
  app.add_option("--log-level", c->config.log_level, "debug, info, warn, error")
      ->envname("VOXCAST_LOG_LEVEL")->check(CLI::IsMember({"debug", "info", "warn", "error"}))->capture_default_str();
  app.add_flag("!--no-exact-stills", c->config.exact_stills,
               "do not ask for lossless stills when the view rests (video only, as napari-cuda)");
  app.add_option("--metrics", c->config.metrics_path, "write the client metrics (histograms) as JSON when the session ends");
}

// Resolves the parsed options into c->config (the connection string wins over the
// separate options) and applies the log level; errors are for people.
inline std::optional<std::string> resolve_client_config(ClientCli* c) {
  if (auto err = resolve_connection(&c->connection)) return err;
  c->config.connection = c->connection.options;
  if (c->tls) c->config.connection.tls = true;
  if (!c->tls_fingerprint.empty()) {
    c->config.connection.tls = true;
    c->config.connection.fingerprint = c->tls_fingerprint;
  }
  c->config.presenter.mode = c->presenter == "arrival" ? client::PresenterMode::arrival : client::PresenterMode::server_timestamp;
  LogLevel level;
  if (!parse_log_level(c->config.log_level, &level)) return "bad --log-level '" + c->config.log_level + "'";
  set_log_level(level);
  return std::nullopt;
}

}  // namespace voxcast::apps
