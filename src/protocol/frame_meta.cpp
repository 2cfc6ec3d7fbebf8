#include "voxcast/protocol/frame_meta.hpp"

#include <cstring>

namespace voxcast::protocol {
namespace {

// Random UUID identifying voxcast's frame metadata (v1 layout below).
constexpr uint8_t kUuid[16] = {0x76, 0x6f, 0x78, 0x63, 0x61, 0x73, 0x74, 0x2d,
                               0x8e, 0x1f, 0x4b, 0x52, 0xa9, 0x03, 0x6d, 0x21};
constexpr uint8_t kLayoutVersion = 1;
constexpr size_t kBodySize = 1 + 8 + 8 + 4 + 4 + 1;
constexpr size_t kResidencySize = 2 + 4;  // appended later: levels drawn, bricks loading

void put_be(Bytes* out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t get_be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Bytes build_frame_meta_sei(const FrameMeta& m) {
  Bytes rbsp;
  rbsp.push_back(5);  // payload type: user data unregistered
  rbsp.push_back(static_cast<uint8_t>(16 + kBodySize + kResidencySize));
  rbsp.insert(rbsp.end(), kUuid, kUuid + 16);
  rbsp.push_back(kLayoutVersion);
  put_be(&rbsp, m.scene_version, 8);
  uint64_t bits = 0;
  std::memcpy(&bits, &m.capture_time, 8);
  put_be(&rbsp, bits, 8);
  put_be(&rbsp, m.render_us, 4);
  put_be(&rbsp, m.encode_us, 4);
  rbsp.push_back(m.quality);
  put_be(&rbsp, m.levels_drawn, 2);
  put_be(&rbsp, m.bricks_loading, 4);
  rbsp.push_back(0x80);  // rbsp_trailing_bits
  Bytes nalu{0x06};
  Bytes payload = nal_payload_from_rbsp(rbsp);
  nalu.insert(nalu.end(), payload.begin(), payload.end());
  return nalu;
}

std::optional<FrameMeta> find_frame_meta(ByteSpan au, int length_size) {
  auto nals = split_avcc(au, length_size);
  if (!nals) return std::nullopt;
  for (auto n : *nals) {
    if (n.size() < 2 || nal_type(n[0]) != nal::kSei) continue;
    Bytes rbsp = rbsp_from_nal_payload(n.subspan(1));
    size_t i = 0;
    // Walk the SEI messages of this NAL.
    while (i + 2 <= rbsp.size() && rbsp[i] != 0x80) {
      size_t type = 0, size = 0;
      while (i < rbsp.size() && rbsp[i] == 0xFF) type += rbsp[i++];
      if (i >= rbsp.size()) break;
      type += rbsp[i++];
      while (i < rbsp.size() && rbsp[i] == 0xFF) size += rbsp[i++];
      if (i >= rbsp.size()) break;
      size += rbsp[i++];
      if (i + size > rbsp.size()) break;
      const uint8_t* body = rbsp.data() + i;
      if (type == 5 && size >= 16 + kBodySize && std::memcmp(body, kUuid, 16) == 0 && body[16] == kLayoutVersion) {
        const uint8_t* p = body + 17;
        FrameMeta m;
        m.scene_version = get_be(p, 8);
        uint64_t bits = get_be(p + 8, 8);
        std::memcpy(&m.capture_time, &bits, 8);
        m.render_us = static_cast<uint32_t>(get_be(p + 16, 4));
        m.encode_us = static_cast<uint32_t>(get_be(p + 20, 4));
        m.quality = p[24];
        if (size >= 16 + kBodySize + kResidencySize) {
          m.levels_drawn = static_cast<uint16_t>(get_be(p + 25, 2));
          m.bricks_loading = static_cast<uint32_t>(get_be(p + 27, 4));
        }
        return m;
      }
      i += size;
    }
  }
  return std::nullopt;
}

Bytes insert_before_first_slice(ByteSpan au, ByteSpan nalu, int length_size) {
  Bytes out;
  out.reserve(au.size() + nalu.size() + 4);
  auto nals = split_avcc(au, length_size);
  if (!nals) {
    out.assign(au.begin(), au.end());
    return out;
  }
  bool inserted = false;
  for (auto n : *nals) {
    if (!inserted && !n.empty() && is_vcl(nal_type(n[0]))) {
      append_avcc_nal(&out, nalu);
      inserted = true;
    }
    append_avcc_nal(&out, n);
  }
  if (!inserted) append_avcc_nal(&out, nalu);
  return out;
}

}  // namespace voxcast::protocol
