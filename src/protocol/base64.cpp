#include "voxcast/protocol/base64.hpp"

namespace voxcast::protocol {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::span<const uint8_t> d) {
  std::string out;
  out.reserve((d.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < d.size(); i += 3) {
    uint32_t v = (uint32_t{d[i]} << 16) | (uint32_t{d[i + 1]} << 8) | d[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == d.size()) {
    uint32_t v = uint32_t{d[i]} << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == d.size()) {
    uint32_t v = (uint32_t{d[i]} << 16) | (uint32_t{d[i + 1]} << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view t) {
  if (t.size() % 4 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(t.size() / 4 * 3);
  for (size_t i = 0; i < t.size(); i += 4) {
    int a = decode_char(t[i]), b = decode_char(t[i + 1]);
    if (a < 0 || b < 0) return std::nullopt;
    bool last = i + 4 == t.size();
    bool pad2 = last && t[i + 2] == '=' && t[i + 3] == '=';
    bool pad1 = last && !pad2 && t[i + 3] == '=';
    int c = pad2 ? 0 : decode_char(t[i + 2]);
    int d = (pad1 || pad2) ? 0 : decode_char(t[i + 3]);
    if (c < 0 || d < 0) return std::nullopt;
    uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
    out.push_back(static_cast<uint8_t>(v >> 16));
    if (!pad2) out.push_back(static_cast<uint8_t>(v >> 8));
    if (!pad1 && !pad2) out.push_back(static_cast<uint8_t>(v));
  }
  return out;
}

}  // namespace voxcast::protocol
