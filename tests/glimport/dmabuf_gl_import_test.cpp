// dma-buf import of VA-API pictures: the EGL attributes built for each plane, and open()
// naming why it cannot work in a context without the extensions (no VA-API device here:
// the import itself needs Intel or AMD graphics).
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "egl_context.hpp"
#include "voxcast/glimport/dmabuf_gl_import.hpp"

namespace voxcast {
namespace {

using glimport::dmabuf_image_attributes;

int32_t attribute(const std::vector<int32_t>& a, int32_t key) {
  for (size_t i = 0; i + 1 < a.size(); i += 2)
    if (a[i] == key) return a[i + 1];
  return -1;
}

TEST(DmabufGlImport, PlaneAttributesCarryFormatPitchAndModifier) {
  codec::DmabufPlane chroma{9, codec::kDrmFormatGR88, 0x0100000000000002ULL, 2048 * 1088, 2048, 960, 540};
  auto a = dmabuf_image_attributes(chroma, true);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a.back(), EGL_NONE);
  EXPECT_EQ(a.size() % 2, 1u);
  EXPECT_EQ(attribute(a, EGL_WIDTH), 960);
  EXPECT_EQ(attribute(a, EGL_HEIGHT), 540);
  EXPECT_EQ(attribute(a, EGL_LINUX_DRM_FOURCC_EXT), static_cast<int32_t>(codec::kDrmFormatGR88));
  EXPECT_EQ(attribute(a, EGL_DMA_BUF_PLANE0_FD_EXT), 9);
  EXPECT_EQ(attribute(a, EGL_DMA_BUF_PLANE0_OFFSET_EXT), 2048 * 1088);
  EXPECT_EQ(attribute(a, EGL_DMA_BUF_PLANE0_PITCH_EXT), 2048);
  EXPECT_EQ(attribute(a, EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT), 2);
  EXPECT_EQ(attribute(a, EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT), 0x01000000);
  // Without modifier support, or with no modifier from the exporter, none is passed.
  EXPECT_EQ(attribute(dmabuf_image_attributes(chroma, false), EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT), -1);
  chroma.modifier = glimport::kDrmFormatModInvalid;
  EXPECT_EQ(attribute(dmabuf_image_attributes(chroma, true), EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT), -1);
}

TEST(DmabufGlImport, OpenNeedsAnEglContextWithDmabufImport) {
  // No context current: not EGL.
  auto none = glimport::DmabufGlImporter::open();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, "glimport.not_egl");
  auto opened = glimport::open_frame_importer();
  EXPECT_FALSE(opened.importer);
  EXPECT_NE(opened.why_not.find("EGL"), std::string::npos) << opened.why_not;
  // An EGL context: it opens, or names the missing extension.
  int contexts = 0;
  for (EGLDeviceEXT d : test::HeadlessGl::devices()) {
    test::HeadlessGl gl(d);
    if (!gl.ok()) continue;
    contexts += 1;
    auto importer = glimport::DmabufGlImporter::open();
    if (importer) {
      EXPECT_NE(importer.value()->textures().luma, 0u);
      EXPECT_EQ(importer.value()->imports(), 0u);
      std::printf("EGL device (%s): dma-buf import available\n", gl.vendor().c_str());
    } else {
      EXPECT_EQ(importer.error().code, "glimport.no_dmabuf") << importer.error().message;
      std::printf("EGL device (%s): %s\n", gl.vendor().c_str(), importer.error().message.c_str());
    }
  }
  if (contexts == 0) GTEST_SKIP() << "no EGL device gave a desktop GL context";
}

}  // namespace
}  // namespace voxcast
