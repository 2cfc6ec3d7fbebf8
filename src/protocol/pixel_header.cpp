#include "voxcast/protocol/pixel_header.hpp"

#include <cstring>

namespace voxcast::protocol {
namespace {
void put_u32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
uint32_t get_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
}  // namespace

void write_pixel_header(const PixelHeader& h, uint8_t* out) {
  put_u32(out, h.seq);
  uint64_t bits = 0;
  std::memcpy(&bits, &h.timestamp, 8);
  put_u32(out + 4, static_cast<uint32_t>(bits >> 32));
  put_u32(out + 8, static_cast<uint32_t>(bits));
  put_u32(out + 12, h.width);
  put_u32(out + 16, h.height);
  out[20] = h.codec;
  out[21] = h.flags;
  out[22] = static_cast<uint8_t>(h.reserved >> 8);
  out[23] = static_cast<uint8_t>(h.reserved);
}

std::optional<PixelHeader> read_pixel_header(std::span<const uint8_t> m) {
  if (m.size() < kPixelHeaderSize) return std::nullopt;
  PixelHeader h;
  const uint8_t* p = m.data();
  h.seq = get_u32(p);
  uint64_t bits = (uint64_t{get_u32(p + 4)} << 32) | get_u32(p + 8);
  std::memcpy(&h.timestamp, &bits, 8);
  h.width = get_u32(p + 12);
  h.height = get_u32(p + 16);
  h.codec = p[20];
  h.flags = p[21];
  h.reserved = static_cast<uint16_t>((p[22] << 8) | p[23]);
  return h;
}

std::vector<uint8_t> build_pixel_message(const PixelHeader& h, std::span<const uint8_t> payload) {
  std::vector<uint8_t> out(kPixelHeaderSize + payload.size());
  write_pixel_header(h, out.data());
  if (!payload.empty()) std::memcpy(out.data() + kPixelHeaderSize, payload.data(), payload.size());
  return out;
}

}  // namespace voxcast::protocol
