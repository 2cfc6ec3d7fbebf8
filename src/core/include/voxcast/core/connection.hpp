#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace voxcast {

// Where a client finds a server; shared by every app.
struct ConnectionOptions {
  std::string host = "127.0.0.1";
  uint16_t control_port = 8081;
  uint16_t pixel_port = 8082;
  std::string token;  // empty: no auth (server started with --no-auth)
  bool tls = false;         // wss on both channels
  std::string fingerprint;  // SHA-256 of the server's certificate to pin (self-signed servers)
};

// The ready-to-paste string the server prints:
//   voxcast://HOST:CONTROL_PORT?pixel=PIXEL_PORT&token=TOKEN[&tls=1[&fp=SHA256]]
std::string format_connection_string(const ConnectionOptions& c);
// Parses it back; on error returns nullopt and writes a reason to *error.
std::optional<ConnectionOptions> parse_connection_string(const std::string& text, std::string* error);

}  // namespace voxcast
