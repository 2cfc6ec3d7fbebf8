#include "voxcast/core/random_id.hpp"

#include <random>

namespace voxcast {
namespace {
std::mt19937_64& engine() {
  thread_local std::mt19937_64 e = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return e;
}
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

std::string random_hex(int bytes) {
  std::string out;
  out.reserve(static_cast<size_t>(bytes) * 2);
  for (int i = 0; i < bytes; ++i) {
    auto b = static_cast<unsigned>(engine()() & 0xff);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string random_uuid() {
  std::string h = random_hex(16);
  h[12] = '4';
  h[16] = kHex[8 + (std::string("0123456789abcdef").find(h[16]) & 3)];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20, 12);
}

std::string make_frame_id(const std::string& prefix) { return prefix + "-" + random_hex(16); }

std::string make_auth_token() {
  // random_device reads the kernel's entropy pool; 24 bytes → 48 hex characters.
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 24; ++i) {
    auto b = static_cast<unsigned>(rd() & 0xff);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace voxcast
