// CUDA-GL import of hardware-decoded pictures, in a headless EGL context. On a machine
// with an NVIDIA GPU the NVDEC pictures must reach the textures bit for bit as the
// software decoder produces them; elsewhere the importer must say why it cannot work.
#include <GL/gl.h>
#include <GL/glext.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>

#include "egl_context.hpp"
#include "voxcast/codec/decoder.hpp"
#include "voxcast/codec/device_picture.hpp"
#include "voxcast/codec/encoder.hpp"
#include "voxcast/glimport/cuda_gl_import.hpp"

namespace voxcast {
namespace {

using codec::YuvImage;
using glimport::CudaGlImporter;

bool cuda_driver_loads() {
  void* lib = dlopen("libcuda.so.1", RTLD_LAZY);
  if (lib) dlclose(lib);
  return lib != nullptr;
}

// A moving pattern with sharp edges and gradients, so a wrong plane or pitch shows.
std::vector<uint8_t> pattern(int w, int h, int t) {
  std::vector<uint8_t> rgba(static_cast<size_t>(w) * static_cast<size_t>(h) * 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgba[(static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)) * 4];
      const bool box = ((x + 7 * t) / 40 + y / 40) % 2 == 0;
      p[0] = static_cast<uint8_t>(box ? 230 : (x * 255) / w);
      p[1] = static_cast<uint8_t>((y * 255) / h);
      p[2] = static_cast<uint8_t>(box ? 40 : (t * 9) & 255);
      p[3] = 255;
    }
  return rgba;
}

std::vector<protocol::Bytes> encode_clip(int w, int h, int frames) {
  codec::EncoderConfig cfg;
  cfg.width = w;
  cfg.height = h;
  cfg.threads = 2;
  cfg.backend = "x264";
  auto enc = codec::H264Encoder::open(cfg);
  EXPECT_TRUE(enc) << (enc ? "" : enc.error().message);
  std::vector<protocol::Bytes> aus;
  if (!enc) return aus;
  for (int t = 0; t < frames; ++t) {
    auto rgba = pattern(w, h, t);
    codec::rgba_to_i420(rgba.data(), w, h, w * 4, enc.value()->input(), nullptr);
    auto au = enc.value()->encode(t == 0);
    EXPECT_TRUE(au);
    if (au) aus.push_back(au->avcc);
  }
  return aus;
}

std::vector<uint8_t> read_texture(unsigned texture, GLenum layout, int w, int h, int channels) {
  std::vector<uint8_t> out(static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(channels));
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glBindTexture(GL_TEXTURE_2D, texture);
  glGetTexImage(GL_TEXTURE_2D, 0, layout, GL_UNSIGNED_BYTE, out.data());
  glBindTexture(GL_TEXTURE_2D, 0);
  return out;
}

TEST(CudaGlImport, SaysWhyItCannotWorkOrWorks) {
  auto devices = test::HeadlessGl::devices();
  if (devices.empty()) GTEST_SKIP() << "EGL lists no devices here: no headless GL context to test in";
  int contexts = 0;
  for (EGLDeviceEXT d : devices) {
    test::HeadlessGl gl(d);
    if (!gl.ok()) {
      std::printf("EGL device: no context (%s)\n", gl.error().c_str());
      continue;
    }
    contexts += 1;
    auto importer = CudaGlImporter::open();
    if (importer) {
      EXPECT_TRUE(cuda_driver_loads());
      EXPECT_FALSE(importer.value()->device_name().empty());
      std::printf("EGL device (%s): CUDA-GL import on %s\n", gl.vendor().c_str(), importer.value()->device_name().c_str());
      continue;
    }
    std::printf("EGL device (%s): %s\n", gl.vendor().c_str(), importer.error().message.c_str());
    if (!cuda_driver_loads()) {
      EXPECT_EQ(importer.error().code, "glimport.no_cuda");
      EXPECT_NE(importer.error().message.find("libcuda"), std::string::npos);
    } else {
      EXPECT_TRUE(importer.error().code == "glimport.not_cuda_gl" || importer.error().code == "glimport.no_cuda")
          << importer.error().code;
    }
  }
  if (contexts == 0) GTEST_SKIP() << "no EGL device gave a desktop GL context";
}

TEST(CudaGlImport, NvdecPicturesReachTexturesBitExact) {
  auto context = test::open_cuda_gl_context();
  if (!context.importer) GTEST_SKIP() << "no GL context on a CUDA GPU here (" << context.why_not << ")";
  CudaGlImporter* importer = context.importer.get();

  const int w = 1920, h = 1080, frames = 40, hoarded = 30;  // what a viewer shows
  auto aus = encode_clip(w, h, frames + hoarded);
  ASSERT_EQ(aus.size(), static_cast<size_t>(frames + hoarded));
  auto sw = codec::H264Decoder::open(1, codec::DecoderChoice::software);
  auto hw = codec::H264Decoder::open(1, codec::DecoderChoice::cuda);
  ASSERT_TRUE(sw);
  ASSERT_TRUE(hw) << "the GL context is on a CUDA GPU but NVDEC did not open: " << hw.error().message;
  hw.value()->keep_on_device(true);

  std::deque<std::shared_ptr<const codec::DevicePicture>> held;  // as a presenter queue would
  double import_ms = 0, download_ms = 0;
  int compared = 0;
  for (int t = 0; t < frames; ++t) {
    auto ref = sw.value()->decode(aus[static_cast<size_t>(t)]);
    auto pic = hw.value()->decode(aus[static_cast<size_t>(t)]);
    ASSERT_TRUE(ref && pic) << "frame " << t;
    ASSERT_TRUE(ref.value() && pic.value()) << "a decoder held frame " << t << " back";
    const YuvImage& expected = *ref.value();
    const YuvImage& got = *pic.value();
    ASSERT_TRUE(got.device) << "the picture left the GPU";
    EXPECT_TRUE(got.y.empty());
    ASSERT_EQ(got.device->api(), codec::DevicePicture::Api::cuda);
    auto t0 = std::chrono::steady_clock::now();
    auto err = importer->import(*got.device);
    glFinish();
    import_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_FALSE(err) << err->message;
    const auto& tex = importer->textures();
    ASSERT_EQ(tex.width, w);
    ASSERT_EQ(tex.height, h);
    auto luma = read_texture(tex.luma, GL_RED, w, h, 1);
    auto chroma = read_texture(tex.chroma, GL_RG, w / 2, h / 2, 2);
    ASSERT_EQ(luma, expected.y) << "luma differs at frame " << t;
    size_t chroma_mismatches = 0;
    for (size_t i = 0; i < expected.u.size(); ++i)
      chroma_mismatches += (chroma[2 * i] != expected.u[i]) + (chroma[2 * i + 1] != expected.v[i]);
    ASSERT_EQ(chroma_mismatches, 0u) << "chroma differs at frame " << t;
    {
      // The download path (what a display without the import pays: device to host, then
      // host to GL) gives the same picture; timed for the comparison printed below.
      auto d0 = std::chrono::steady_clock::now();
      auto down = codec::in_system_memory(got);
      download_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - d0).count();
      ASSERT_TRUE(down);
      EXPECT_EQ(down->y, expected.y);
      EXPECT_EQ(down->u, expected.u);
      EXPECT_EQ(down->v, expected.v);
    }
    held.push_back(got.device);
    if (held.size() > 8) held.pop_front();
    compared += 1;
  }
  EXPECT_EQ(importer->imports(), static_cast<uint64_t>(frames));
  // A consumer that keeps every picture (a stalled display) must not starve the decoder
  // of its surfaces: past the limit, pictures come in system memory, still exact.
  int on_device = 0, in_memory = 0;
  for (int t = frames; t < frames + hoarded; ++t) {
    auto ref = sw.value()->decode(aus[static_cast<size_t>(t)]);
    auto pic = hw.value()->decode(aus[static_cast<size_t>(t)]);
    ASSERT_TRUE(ref && pic) << "frame " << t << ": " << (pic ? "" : pic.error().message);
    ASSERT_TRUE(ref.value() && pic.value());
    if (pic.value()->device) {
      on_device += 1;
      held.push_back(pic.value()->device);
    } else {
      in_memory += 1;
      EXPECT_EQ(pic.value()->y, ref.value()->y) << "frame " << t;
    }
  }
  EXPECT_GT(on_device, 0);
  EXPECT_GT(in_memory, 0) << "the decoder kept handing out surfaces past its limit";
  held.clear();
  std::printf("a consumer holding every picture: %d stayed on the GPU, then %d came in system memory\n", on_device,
              in_memory);
  std::printf("%d NVDEC pictures (%dx%d) imported into GL on %s, bit-exact; import + glFinish %.3f ms/frame, "
              "download to system memory %.3f ms/frame (ratio %.2f)\n",
              compared, w, h, importer->device_name().c_str(), import_ms / frames, download_ms / frames,
              import_ms / download_ms);
  // A new size re-allocates the textures.
  auto small = encode_clip(320, 180, 1);
  ASSERT_EQ(small.size(), 1u);
  hw.value()->flush();
  auto pic = hw.value()->decode(small[0]);
  ASSERT_TRUE(pic && pic.value() && pic.value()->device);
  ASSERT_FALSE(importer->import(*pic.value()->device));
  EXPECT_EQ(importer->textures().width, 320);
}

}  // namespace
}  // namespace voxcast
