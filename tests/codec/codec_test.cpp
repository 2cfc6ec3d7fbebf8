#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "voxcast/codec/decoder.hpp"
#include "voxcast/codec/device_picture.hpp"
#include "voxcast/codec/encoder.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/codec/yuv.hpp"
#include "voxcast/protocol/h264.hpp"

using namespace voxcast;
using namespace voxcast::codec;

namespace {
std::vector<uint8_t> pattern(int w, int h, int t) {
  std::vector<uint8_t> rgba(static_cast<size_t>(w) * h * 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgba[(static_cast<size_t>(y) * w + x) * 4];
      double cx = x - w / 2.0 - t * 2, cy = y - h / 2.0;
      double r = std::sqrt(cx * cx + cy * cy);
      p[0] = static_cast<uint8_t>(127 + 120 * std::sin(r / 6.0));
      p[1] = static_cast<uint8_t>((x * 255) / w);
      p[2] = static_cast<uint8_t>((y * 255) / h);
      p[3] = 255;
    }
  return rgba;
}
}  // namespace

TEST(Yuv, RoundTripIsCloseForSmoothImages) {
  const int w = 64, h = 48;
  auto rgba = pattern(w, h, 0);
  YuvImage yuv;
  yuv.resize(w, h);
  rgba_to_i420(rgba.data(), w, h, w * 4, yuv.planes(), nullptr);
  std::vector<uint8_t> back(rgba.size());
  i420_to_rgba(yuv.y.data(), w, yuv.u.data(), w / 2, yuv.v.data(), w / 2, w, h, back.data());
  EXPECT_GT(psnr_rgba(rgba.data(), back.data(), w, h), 30.0);
  // Pure colours land on the BT.709 limited-range values.
  std::vector<uint8_t> white(2 * 2 * 4, 255), black(2 * 2 * 4, 0);
  for (size_t i = 3; i < black.size(); i += 4) black[i] = 255;
  YuvImage one;
  one.resize(2, 2);
  rgba_to_i420(white.data(), 2, 2, 8, one.planes(), nullptr);
  EXPECT_EQ(one.y[0], 235);
  EXPECT_EQ(one.u[0], 128);
  rgba_to_i420(black.data(), 2, 2, 8, one.planes(), nullptr);
  EXPECT_EQ(one.y[0], 16);
}

TEST(Codec, EncodesOneAccessUnitPerFrameAndDecodesIt) {
  EncoderConfig cfg;
  cfg.width = 160;
  cfg.height = 96;
  cfg.threads = 2;
  auto enc = H264Encoder::open(cfg);
  ASSERT_TRUE(enc) << enc.error().message;
  auto dec = H264Decoder::open();
  ASSERT_TRUE(dec) << dec.error().message;
  for (int t = 0; t < 6; ++t) {
    auto rgba = pattern(cfg.width, cfg.height, t);
    rgba_to_i420(rgba.data(), cfg.width, cfg.height, cfg.width * 4, enc.value()->input(), nullptr);
    bool force = t == 4;
    auto au = enc.value()->encode(force);
    ASSERT_TRUE(au) << au.error().message;
    EXPECT_EQ(au->keyframe, t == 0 || force) << "frame " << t;
    if (au->keyframe) {
      // SPS/PPS travel in every keyframe; the SPS gives the real size.
      auto ps = protocol::find_parameter_sets(au->avcc);
      ASSERT_FALSE(ps.sps.empty());
      ASSERT_FALSE(ps.pps.empty());
      auto info = protocol::parse_sps(ps.sps);
      ASSERT_TRUE(info);
      EXPECT_EQ(info->width, cfg.width);
      EXPECT_EQ(info->height, cfg.height);
    }
    auto pic = dec.value()->decode(au->avcc);
    ASSERT_TRUE(pic) << pic.error().message;
    ASSERT_TRUE(pic.value().has_value()) << "decoder held frame " << t << " back";
    std::vector<uint8_t> back(rgba.size());
    const auto& p = *pic.value();
    i420_to_rgba(p.y.data(), p.width, p.u.data(), p.width / 2, p.v.data(), p.width / 2, p.width, p.height, back.data());
    EXPECT_GT(psnr_rgba(rgba.data(), back.data(), cfg.width, cfg.height), 28.0);
  }
}

TEST(Codec, LowerCrfGivesHigherQuality) {
  EncoderConfig cfg;
  cfg.width = 128;
  cfg.height = 128;
  auto enc = H264Encoder::open(cfg);
  auto dec = H264Decoder::open();
  ASSERT_TRUE(enc && dec);
  auto rgba = pattern(cfg.width, cfg.height, 3);
  double psnr[2] = {0, 0};
  for (int pass = 0; pass < 2; ++pass) {
    rgba_to_i420(rgba.data(), cfg.width, cfg.height, cfg.width * 4, enc.value()->input(), nullptr);
    auto au = enc.value()->encode(false, pass == 0 ? 40 : 10);
    ASSERT_TRUE(au);
    auto pic = dec.value()->decode(au->avcc);
    ASSERT_TRUE(pic && pic.value());
    std::vector<uint8_t> back(rgba.size());
    const auto& p = *pic.value();
    i420_to_rgba(p.y.data(), p.width, p.u.data(), p.width / 2, p.v.data(), p.width / 2, p.width, p.height, back.data());
    psnr[pass] = psnr_rgba(rgba.data(), back.data(), cfg.width, cfg.height);
  }
  EXPECT_GT(psnr[1], psnr[0] + 3.0);
}

// A link's cap: a VBV of about one frame keeps every frame near cap / fps (the keyframe
// included), where quality alone makes frames several times larger; it still decodes.
TEST(Codec, ABitrateCapKeepsEachFrameNearItsShareOfTheLink) {
  double mean_bytes[2] = {0, 0};
  size_t largest[2] = {0, 0};
  const double cap = 250e3, fps = 60;
  for (int capped = 0; capped < 2; ++capped) {
    EncoderConfig cfg;
    cfg.width = 320;
    cfg.height = 192;
    cfg.fps = fps;
    cfg.threads = 1;
    cfg.max_bitrate_bps = capped ? cap : 0;
    auto enc = H264Encoder::open(cfg);
    ASSERT_TRUE(enc) << enc.error().message;
    auto dec = H264Decoder::open();
    ASSERT_TRUE(dec);
    const int frames = 30;
    for (int t = 0; t < frames; ++t) {
      auto rgba = pattern(cfg.width, cfg.height, t * 3);
      rgba_to_i420(rgba.data(), cfg.width, cfg.height, cfg.width * 4, enc.value()->input(), nullptr);
      auto au = enc.value()->encode(t == 15);
      ASSERT_TRUE(au) << au.error().message;
      mean_bytes[capped] += static_cast<double>(au->avcc.size()) / frames;
      if (t > 0) largest[capped] = std::max(largest[capped], au->avcc.size());
      auto pic = dec.value()->decode(au->avcc);
      ASSERT_TRUE(pic && pic.value()) << "frame " << t;
    }
  }
  const double share = cap / 8 / fps;  // 521 bytes
  std::printf("uncapped %.0f B/frame (largest %zu), capped at 250 kbit/s %.0f B/frame (largest %zu), share %.0f\n",
              mean_bytes[0], largest[0], mean_bytes[1], largest[1], share);
  EXPECT_GT(mean_bytes[0], 3 * share);     // the pattern needs more than the link carries
  EXPECT_LT(mean_bytes[1], 1.5 * share);   // the cap holds on average
  EXPECT_LT(static_cast<double>(largest[1]), 4 * share);  // and a forced IDR stays near it too
}

TEST(Codec, RejectsBadInput) {
  EncoderConfig cfg;
  cfg.width = 101;
  EXPECT_FALSE(H264Encoder::open(cfg));
  auto dec = H264Decoder::open();
  ASSERT_TRUE(dec);
  protocol::Bytes garbage = {0, 0, 0, 50, 1, 2};
  EXPECT_FALSE(dec.value()->decode(garbage));
}

TEST(Png, WritesAndReadsBack) {
  auto rgba = pattern(20, 10, 0);
  std::string path = ::testing::TempDir() + "voxcast_png_test.png";
  ASSERT_FALSE(write_png_rgba(path, rgba.data(), 20, 10));
  std::vector<uint8_t> back;
  int w = 0, h = 0;
  ASSERT_FALSE(read_png_rgba(path, &back, &w, &h));
  EXPECT_EQ(w, 20);
  EXPECT_EQ(back, rgba);
}

TEST(Codec, NvencWhenTheGpuHasOneOtherwiseX264) {
  EncoderConfig cfg;
  cfg.width = 64;
  cfg.height = 64;
  auto enc = H264Encoder::open(cfg);  // backend auto
  ASSERT_TRUE(enc) << enc.error().message;
  if (enc.value()->name() == "libx264") {
    EXPECT_FALSE(enc.value()->fallback_reason().empty()) << "auto must say why NVENC was not used";
    cfg.backend = "nvenc";
    auto forced = H264Encoder::open(cfg);
    ASSERT_FALSE(forced) << "nvenc cannot open where auto fell back";
    EXPECT_NE(forced.error().message.find("h264_nvenc"), std::string::npos);
  } else {
    EXPECT_EQ(enc.value()->name(), "h264_nvenc");
  }
  cfg.backend = "x264";
  auto x264 = H264Encoder::open(cfg);
  ASSERT_TRUE(x264);
  EXPECT_EQ(x264.value()->name(), "libx264");
  EXPECT_TRUE(x264.value()->fallback_reason().empty());
  cfg.backend = "vp9";
  EXPECT_FALSE(H264Encoder::open(cfg));
}

TEST(Decoder, HardwareChoiceFallsBackOrFailsClearly) {
  using namespace voxcast::codec;
  EXPECT_EQ(parse_decoder_choice("auto"), DecoderChoice::automatic);
  EXPECT_EQ(parse_decoder_choice("nvdec"), DecoderChoice::cuda);
  EXPECT_FALSE(parse_decoder_choice("quantum"));
  auto sw = H264Decoder::open(1, DecoderChoice::software);
  ASSERT_TRUE(sw);
  EXPECT_FALSE(sw.value()->hardware());
  EXPECT_EQ(sw.value()->name(), "software");
  // auto always opens: a hardware decoder when the machine has one, else software with the reason.
  auto a = H264Decoder::open(1, DecoderChoice::automatic);
  ASSERT_TRUE(a) << a.error().message;
  if (!a.value()->hardware()) {
    EXPECT_FALSE(a.value()->fallback_reason().empty());
    // Naming a device that is not there is an error, not a silent fallback.
    auto v = H264Decoder::open(1, DecoderChoice::vaapi);
    if (!v) {
      EXPECT_EQ(v.error().code, "decoder.unavailable");
    }
  }
}

TEST(DevicePicture, Nv12PlanesFromEitherDrmLayout) {
  using namespace voxcast::codec;
  // VA-API's export: two layers, R8 and GR88, here in one object.
  DrmLayout separate;
  separate.objects = {{7, 0x0100000000000002ULL}};
  separate.layers = {{kDrmFormatR8, {{0, 0, 2048}}}, {kDrmFormatGR88, {{0, 2048 * 1088, 2048}}}};
  auto p = nv12_planes_from_drm(separate, 1920, 1080);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->luma.fd, 7);
  EXPECT_EQ(p->luma.fourcc, kDrmFormatR8);
  EXPECT_EQ(p->luma.width, 1920);
  EXPECT_EQ(p->luma.height, 1080);
  EXPECT_EQ(p->luma.pitch, 2048u);
  EXPECT_EQ(p->luma.modifier, 0x0100000000000002ULL);
  EXPECT_EQ(p->chroma.fourcc, kDrmFormatGR88);
  EXPECT_EQ(p->chroma.offset, 2048u * 1088u);
  EXPECT_EQ(p->chroma.width, 960);
  EXPECT_EQ(p->chroma.height, 540);
  // One NV12 layer with two planes in two objects.
  DrmLayout composed;
  composed.objects = {{3, 0}, {4, 0}};
  composed.layers = {{kDrmFormatNV12, {{0, 0, 640}, {1, 64, 640}}}};
  auto q = nv12_planes_from_drm(composed, 640, 360);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->luma.fd, 3);
  EXPECT_EQ(q->chroma.fd, 4);
  EXPECT_EQ(q->chroma.offset, 64u);
  EXPECT_EQ(q->chroma.fourcc, kDrmFormatGR88);
  // Anything else is refused rather than guessed: another format, a missing object.
  DrmLayout other = separate;
  other.layers[1].fourcc = drm_fourcc('R', 'G', '8', '8');
  EXPECT_FALSE(nv12_planes_from_drm(other, 1920, 1080));
  DrmLayout dangling = composed;
  dangling.layers[0].planes[1].object = 5;
  EXPECT_FALSE(nv12_planes_from_drm(dangling, 640, 360));
  EXPECT_EQ(kDrmFormatNV12, 0x3231564eu);  // 'NV12' as the kernel defines it
}
