// The client core hands NVDEC pictures to a display without leaving the GPU: with
// keep_frames_on_device(true) the presented leases carry device pictures, a GL context
// on the same GPU imports them, and the picture equals the one a download gives.
#include <GL/gl.h>
#include <GL/glext.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "../integration/fixture.hpp"
#include "egl_context.hpp"
#include "voxcast/client/frame_lease.hpp"
#include "voxcast/codec/device_picture.hpp"
#include "voxcast/glimport/cuda_gl_import.hpp"

namespace voxcast {
namespace {

TEST(CudaGlImport, StreamLoopKeepsNvdecPicturesOnTheGpu) {
  auto context = test::open_cuda_gl_context();
  if (!context.importer) GTEST_SKIP() << "no GL context on a CUDA GPU here (" << context.why_not << ")";
  glimport::CudaGlImporter* importer = context.importer.get();

  testing::TestServer server;
  auto config = server.client_config();
  config.decoder = "cuda";
  client::ClientStreamLoop loop(config);
  loop.keep_frames_on_device(true);
  ASSERT_FALSE(loop.connect());
  ASSERT_TRUE(loop.wait_until([&] { return loop.stats().frames_decoded >= 1; }, 10));
  EXPECT_EQ(loop.stats().decoder, "cuda");
  int imported = 0;
  for (int z = 1; z <= 3; ++z) {
    // A slider move: a new frame arrives; the presented one is imported.
    const uint64_t before = loop.metrics().frames_presented;
    loop.set_dims_index("z", z);
    ASSERT_TRUE(loop.wait_until([&] { return loop.metrics().frames_presented > before; }, 10));
    auto lease = loop.acquire_presented();
    if (!lease) continue;
    auto frame = lease->frame(client::LeaseRole::renderer);
    ASSERT_TRUE(frame);
    ASSERT_TRUE(frame->device) << "the presented picture went through system memory";
    EXPECT_TRUE(frame->y.empty());
    ASSERT_FALSE(importer->import(*frame->device));
    // What the textures hold is what a download of the same picture gives.
    auto down = codec::in_system_memory(*frame);
    ASSERT_TRUE(down);
    const auto& t = importer->textures();
    std::vector<uint8_t> luma(static_cast<size_t>(t.width) * static_cast<size_t>(t.height));
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glBindTexture(GL_TEXTURE_2D, t.luma);
    glGetTexImage(GL_TEXTURE_2D, 0, GL_RED, GL_UNSIGNED_BYTE, luma.data());
    glBindTexture(GL_TEXTURE_2D, 0);
    EXPECT_EQ(luma, down->y);
    EXPECT_EQ(lease->release(client::LeaseRole::renderer), client::LeaseResult::ok);
    imported += 1;
  }
  EXPECT_EQ(imported, 3);
  // latest_picture() (reports, PSNR checks) still gives system memory.
  auto pic = loop.latest_picture();
  ASSERT_TRUE(pic);
  EXPECT_FALSE(pic->device);
  EXPECT_EQ(pic->y.size(), static_cast<size_t>(pic->width) * static_cast<size_t>(pic->height));
  std::printf("stream loop: %d presented NVDEC pictures imported into GL on %s\n", imported, importer->device_name().c_str());
  loop.stop();
  EXPECT_EQ(client::FrameLease::live_leases(), 0);
}

}  // namespace
}  // namespace voxcast
