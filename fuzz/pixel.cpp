// One pixel-channel message: the 24-byte header, then the AVCC access unit with its SEI
// frame metadata; SPS and avcC parsing of what it carries; an exact still (prefix + PNG,
// decoded at the header's size as the client does, bounded small here).
#include <cstdint>
#include <span>

#include "voxcast/protocol/frame_meta.hpp"
#include "voxcast/protocol/h264.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/protocol/pixel_header.hpp"
#include "voxcast/protocol/still.hpp"

using namespace voxcast::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan all(data, size);
  (void)read_pixel_header(all);
  ByteSpan au = size >= kPixelHeaderSize ? all.subspan(kPixelHeaderSize) : all;
  if (auto h = read_pixel_header(all); h && h->codec == kCodecStillPng) {
    if (auto still = read_still(au); still && h->width > 0 && h->height > 0 && h->width * h->height <= 4096) {
      std::vector<uint8_t> rgba;
      (void)voxcast::codec::decode_png_rgba_sized(still->png, static_cast<int>(h->width), static_cast<int>(h->height), &rgba);
    }
  }
  for (int length_size : {4, 2, 1}) {
    if (auto nals = split_avcc(au, length_size)) {
      for (auto nal : *nals)
        if (!nal.empty() && nal_type(nal[0]) == 7) (void)parse_sps(nal);
    }
    (void)avcc_to_annexb(au, length_size);
    (void)avcc_has_idr(au, length_size);
    (void)find_frame_meta(au, length_size);
  }
  (void)split_annexb(all);
  (void)parse_sps(all);
  (void)parse_avcc_record(all);
  return 0;
}
