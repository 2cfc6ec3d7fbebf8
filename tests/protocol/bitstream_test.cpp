#include <gtest/gtest.h>

#include <cstring>

#include "voxcast/protocol/base64.hpp"
#include "voxcast/protocol/frame_meta.hpp"
#include "voxcast/protocol/h264.hpp"
#include "voxcast/protocol/pixel_header.hpp"

using namespace voxcast::protocol;

namespace {
Bytes hex(const std::string& h) {
  Bytes b;
  for (size_t i = 0; i + 1 < h.size(); i += 2) b.push_back(static_cast<uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return b;
}
// SPS/PPS that libx264 produced for 1920x1080 (1088 coded rows, cropped to 1080).
const Bytes kSps = hex("6742c02ada01e0089f966a02020280000003008000003c478c1950");
const Bytes kPps = hex("68ce0fc8");
}  // namespace

TEST(PixelHeader, MatchesTheReferenceLayoutByteForByte) {
  PixelHeader h{0x01020304, 1.5, 1920, 1080, 1, kFlagKeyframe, 0};
  uint8_t b[kPixelHeaderSize];
  write_pixel_header(h, b);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[3], 4);
  // 1.5 as big-endian IEEE-754: 3F F8 00 00 00 00 00 00
  EXPECT_EQ(b[4], 0x3F);
  EXPECT_EQ(b[5], 0xF8);
  EXPECT_EQ(b[12], 0);
  EXPECT_EQ(b[14], 0x07);
  EXPECT_EQ(b[15], 0x80);  // 1920
  EXPECT_EQ(b[20], 1);
  EXPECT_EQ(b[21], 1);
  auto back = read_pixel_header({b, kPixelHeaderSize});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->seq, 0x01020304u);
  EXPECT_DOUBLE_EQ(back->timestamp, 1.5);
  EXPECT_TRUE(back->keyframe());
  EXPECT_FALSE(read_pixel_header({b, 23}));
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (size_t n = 0; n < 10; ++n) {
    Bytes d;
    for (size_t i = 0; i < n; ++i) d.push_back(static_cast<uint8_t>(i * 37 + 1));
    auto back = base64_decode(base64_encode(d));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, d);
  }
  EXPECT_EQ(base64_encode(Bytes{'M', 'a', 'n'}), "TWFu");
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab!d"));
}

TEST(H264, AnnexBAndAvccConvertBothWays) {
  Bytes annexb = {0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 6};
  auto nals = split_annexb(annexb);
  ASSERT_EQ(nals.size(), 3u);
  EXPECT_EQ(nals[1].size(), 2u);
  Bytes avcc = annexb_to_avcc(annexb);
  EXPECT_EQ(avcc.size(), 3u * 4 + 3 + 2 + 4);
  EXPECT_TRUE(avcc_has_idr(avcc));
  auto round = avcc_to_annexb(avcc);
  ASSERT_TRUE(round);
  EXPECT_EQ(split_annexb(*round).size(), 3u);
  Bytes truncated(avcc.begin(), avcc.end() - 1);
  EXPECT_FALSE(split_avcc(truncated));
  EXPECT_FALSE(avcc_to_annexb(Bytes{0, 0, 0, 9, 1}));
  EXPECT_FALSE(split_avcc(avcc, 3));
}

TEST(H264, ParsesSpsDimensionsWithCropping) {
  auto info = parse_sps(kSps);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->width, 1920);
  EXPECT_EQ(info->height, 1080);
  EXPECT_EQ(info->profile_idc, 66);
  EXPECT_FALSE(parse_sps(kPps));
  EXPECT_FALSE(parse_sps(Bytes{0x67, 0x42}));
  Bytes cut(kSps.begin(), kSps.begin() + 6);
  EXPECT_FALSE(parse_sps(cut));
}

TEST(H264, AvccRecordRoundTrip) {
  Bytes rec = build_avcc_record(kSps, kPps);
  EXPECT_EQ(rec[0], 1);
  EXPECT_EQ(rec[1], kSps[1]);
  EXPECT_EQ(rec[4], 0xFF);
  auto parsed = parse_avcc_record(rec);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->length_size, 4);
  EXPECT_EQ(parsed->sps[0], kSps);
  EXPECT_EQ(parsed->pps[0], kPps);
  EXPECT_FALSE(parse_avcc_record(Bytes{1, 2, 3}));
  Bytes broken = rec;
  broken[7] = 0xFF;  // SPS length past the end
  EXPECT_FALSE(parse_avcc_record(broken));
}

TEST(H264, EmulationPreventionRoundTrip) {
  Bytes rbsp = {0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 7};
  Bytes escaped = nal_payload_from_rbsp(rbsp);
  EXPECT_GT(escaped.size(), rbsp.size());
  for (size_t i = 2; i < escaped.size(); ++i)
    EXPECT_FALSE(escaped[i - 2] == 0 && escaped[i - 1] == 0 && escaped[i] <= 2) << "start-code-like bytes at " << i;
  EXPECT_EQ(rbsp_from_nal_payload(escaped), rbsp);
}

TEST(FrameMeta, TravelsInAnSeiBeforeTheSlice) {
  FrameMeta m{0x0000000100000000ULL, 1730000000.5, 1234, 5678, 1};
  Bytes au;
  append_avcc_nal(&au, kSps);
  append_avcc_nal(&au, kPps);
  append_avcc_nal(&au, Bytes{0x65, 0x88, 0x84});
  Bytes with = insert_before_first_slice(au, build_frame_meta_sei(m));
  auto nals = split_avcc(with);
  ASSERT_TRUE(nals);
  ASSERT_EQ(nals->size(), 4u);
  EXPECT_EQ(nal_type((*nals)[2][0]), nal::kSei);
  EXPECT_EQ(nal_type((*nals)[3][0]), nal::kIdr);
  auto back = find_frame_meta(with);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->scene_version, m.scene_version);
  EXPECT_DOUBLE_EQ(back->capture_time, m.capture_time);
  EXPECT_EQ(back->render_us, 1234u);
  EXPECT_EQ(back->encode_us, 5678u);
  EXPECT_EQ(back->quality, 1);
  EXPECT_EQ(back->levels_drawn, 0);
  EXPECT_FALSE(find_frame_meta(au));
}

// Found by the pixel fuzzer: a scaling list whose delta_scale is far outside [-128, 127]
// overflowed an int32 sum; such an SPS is refused.
TEST(H264, ScalingListDeltaOutOfRangeIsRefused) {
  const std::vector<uint8_t> bytes = {
      0x07, 0x64, 0xf3, 0x1f, 0xff, 0x31, 0x49, 0x04, 0x00, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x01, 0xff, 0xff, 0xff, 0x30, 0xff, 0xff, 0xff, 0x2f, 0x07, 0x07, 0x0f, 0x07, 0x01, 0x02, 0x07, 0x07,
      0x07, 0x03, 0x07, 0x07, 0x00, 0x07, 0x07, 0x00, 0x00, 0x26, 0x07, 0x07, 0x07, 0x26, 0x07, 0x00, 0x01,
      0x07, 0x00, 0x01, 0x07, 0x07, 0x04, 0x07, 0x07, 0x03, 0x07, 0x07, 0x07, 0x07, 0x00, 0x87, 0x23};
  ByteSpan all(bytes.data(), bytes.size());
  for (size_t start = 0; start < bytes.size(); ++start) (void)parse_sps(all.subspan(start));
  for (int length_size : {4, 2, 1})
    if (auto nals = split_avcc(all.subspan(kPixelHeaderSize), length_size))
      for (auto nal : *nals)
        if (!nal.empty()) (void)parse_sps(nal);
  // The failure this guards against is UBSan's signed-overflow abort (the suite runs with it).
}

TEST(FrameMeta, CarriesBrickResidencyAndReadsTheShorterLayout) {
  FrameMeta m{7, 1.5, 10, 20, kQualityPartial, 0b1101, 321};
  Bytes sei = build_frame_meta_sei(m);
  Bytes au;
  append_avcc_nal(&au, sei);
  append_avcc_nal(&au, Bytes{0x65, 0x88, 0x84});
  auto back = find_frame_meta(au);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->levels_drawn, 0b1101);
  EXPECT_EQ(back->bricks_loading, 321u);
  EXPECT_EQ(back->quality, kQualityPartial);
  // A writer of the first layout (no residency: 6 bytes shorter) still reads.
  Bytes rbsp = rbsp_from_nal_payload(ByteSpan(sei).subspan(1));
  rbsp[1] = static_cast<uint8_t>(rbsp[1] - 6);
  rbsp.erase(rbsp.end() - 7, rbsp.end() - 1);  // the residency, before the trailing bits
  Bytes old{0x06};
  Bytes payload = nal_payload_from_rbsp(rbsp);
  old.insert(old.end(), payload.begin(), payload.end());
  Bytes au_old;
  append_avcc_nal(&au_old, old);
  append_avcc_nal(&au_old, Bytes{0x65, 0x88, 0x84});
  auto back_old = find_frame_meta(au_old);
  ASSERT_TRUE(back_old);
  EXPECT_EQ(back_old->render_us, 10u);
  EXPECT_EQ(back_old->levels_drawn, 0);
  EXPECT_EQ(back_old->bricks_loading, 0u);
}
