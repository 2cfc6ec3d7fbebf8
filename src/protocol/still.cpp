#include "voxcast/protocol/still.hpp"

#include "voxcast/protocol/receipt.hpp"

#include <array>

namespace voxcast::protocol {
namespace {
constexpr std::array<uint8_t, 8> kPngSignature{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};

void put_be(Bytes* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t get_be(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}
}  // namespace

Bytes build_still_payload(const StillMeta& meta, ByteSpan png) {
  Bytes out;
  out.reserve(kStillPrefixSize + png.size());
  put_be(&out, meta.scene_version, 8);
  put_be(&out, meta.render_us, 4);
  put_be(&out, meta.png_us, 4);
  out.insert(out.end(), png.begin(), png.end());
  return out;
}

Result<StillView> read_still(ByteSpan payload) {
  if (payload.size() < kStillPrefixSize + kPngSignature.size())
    return make_error("pixel.invalid", "still payload shorter than its prefix and a PNG signature",
                      {{"bytes", payload.size()}});
  StillView v;
  v.meta.scene_version = get_be(payload.data(), 8);
  v.meta.render_us = static_cast<uint32_t>(get_be(payload.data() + 8, 4));
  v.meta.png_us = static_cast<uint32_t>(get_be(payload.data() + 12, 4));
  v.png = payload.subspan(kStillPrefixSize);
  for (size_t i = 0; i < kPngSignature.size(); ++i)
    if (v.png[i] != kPngSignature[i]) return make_error("pixel.invalid", "still payload is not a PNG");
  return v;
}

bool target_asks_for_stills(std::string_view target) { return target_has_query_pair(target, "still=png"); }

}  // namespace voxcast::protocol
