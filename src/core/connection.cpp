#include "voxcast/core/connection.hpp"

#include <charconv>

namespace voxcast {
namespace {
bool parse_port(std::string_view s, uint16_t* out) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > 65535) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}
}  // namespace

std::string format_connection_string(const ConnectionOptions& c) {
  std::string host = c.host.find(':') != std::string::npos ? "[" + c.host + "]" : c.host;
  std::string s = "voxcast://" + host + ":" + std::to_string(c.control_port) +
                  "?pixel=" + std::to_string(c.pixel_port);
  if (!c.token.empty()) s += "&token=" + c.token;
  if (c.tls) s += "&tls=1";
  if (c.tls && !c.fingerprint.empty()) s += "&fp=" + c.fingerprint;
  return s;
}

std::optional<ConnectionOptions> parse_connection_string(const std::string& text, std::string* error) {
  const std::string scheme = "voxcast://";
  auto fail = [&](const std::string& why) -> std::optional<ConnectionOptions> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (text.rfind(scheme, 0) != 0) return fail("connection string must start with voxcast://");
  std::string_view rest(text);
  rest.remove_prefix(scheme.size());
  auto q = rest.find('?');
  std::string_view authority = rest.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
  ConnectionOptions c;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated [ in host");
    c.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') port_text = authority.substr(close + 2);
  } else {
    auto colon = authority.rfind(':');
    c.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (c.host.empty()) return fail("missing host");
  if (!port_text.empty() && !parse_port(port_text, &c.control_port)) return fail("bad control port");
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) return fail("bad query item '" + std::string(kv) + "'");
    auto key = kv.substr(0, eq);
    auto value = kv.substr(eq + 1);
    if (key == "pixel") {
      if (!parse_port(value, &c.pixel_port)) return fail("bad pixel port");
    } else if (key == "token") {
      c.token = std::string(value);
    } else if (key == "tls") {
      if (value != "0" && value != "1") return fail("bad tls value (0 or 1)");
      c.tls = value == "1";
    } else if (key == "fp") {
      c.fingerprint = std::string(value);
    }  // unknown keys are ignored so later versions can add some
  }
  if (!c.fingerprint.empty()) c.tls = true;  // a pin only makes sense over TLS
  return c;
}

}  // namespace voxcast
