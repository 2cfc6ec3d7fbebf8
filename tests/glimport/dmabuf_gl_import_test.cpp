// dma-buf import of VA-API pictures: the EGL attributes built for each plane, and open()
// naming why it cannot work in a context without the extensions (no VA-API device here:
// the import itself needs Intel or AMD graphics).
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>
#include <GL/glext.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

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

// A GL texture exported as a dma-buf (EGL_MESA_image_dma_buf_export), for feeding the
// importer real dma-bufs without a VA-API device.
struct ExportedPlane {
  GLuint texture = 0;
  EGLImageKHR image = EGL_NO_IMAGE_KHR;
  codec::DmabufPlane plane;
};

bool export_texture(GLuint texture, int w, int h, ExportedPlane* out, std::string* why) {
  EGLDisplay dpy = eglGetCurrentDisplay();
  auto create = reinterpret_cast<PFNEGLCREATEIMAGEKHRPROC>(eglGetProcAddress("eglCreateImageKHR"));
  auto query = reinterpret_cast<PFNEGLEXPORTDMABUFIMAGEQUERYMESAPROC>(eglGetProcAddress("eglExportDMABUFImageQueryMESA"));
  auto exporter = reinterpret_cast<PFNEGLEXPORTDMABUFIMAGEMESAPROC>(eglGetProcAddress("eglExportDMABUFImageMESA"));
  const char* ext = eglQueryString(dpy, EGL_EXTENSIONS);
  if (!create || !query || !exporter || !ext || !std::strstr(ext, "EGL_MESA_image_dma_buf_export") ||
      !std::strstr(ext, "EGL_KHR_gl_texture_2D_image")) {
    *why = "this EGL cannot export textures as dma-bufs (EGL_MESA_image_dma_buf_export)";
    return false;
  }
  out->texture = texture;
  out->image = create(dpy, eglGetCurrentContext(), EGL_GL_TEXTURE_2D_KHR,
                      reinterpret_cast<EGLClientBuffer>(static_cast<uintptr_t>(texture)), nullptr);
  if (out->image == EGL_NO_IMAGE_KHR) {
    *why = "eglCreateImageKHR from a texture failed";
    return false;
  }
  int fourcc = 0, planes = 0;
  EGLuint64KHR modifier = 0;
  const EGLBoolean queried = query(dpy, out->image, &fourcc, &planes, &modifier);
  if (!queried || planes != 1) {
    char text[160];
    std::snprintf(text, sizeof(text), "the export query %s (EGL error 0x%x, %d planes, fourcc 0x%x)",
                  queried ? "gave more than one plane" : "failed", static_cast<unsigned>(eglGetError()), planes,
                  static_cast<unsigned>(fourcc));
    *why = text;
    return false;
  }
  int fd = -1;
  EGLint stride = 0, offset = 0;
  if (!exporter(dpy, out->image, &fd, &stride, &offset) || fd < 0) {
    *why = "eglExportDMABUFImageMESA failed";
    return false;
  }
  out->plane = {fd, static_cast<uint32_t>(fourcc), modifier, static_cast<uint32_t>(offset), static_cast<uint32_t>(stride), w, h};
  return true;
}

TEST(DmabufGlImport, ExportedDmabufsReachTheTexturesUnchanged) {
  const int w = 64, h = 32;
  int tried = 0;
  std::string why = "EGL lists no devices";
  for (EGLDeviceEXT d : test::HeadlessGl::devices()) {
    test::HeadlessGl gl(d);
    if (!gl.ok()) continue;
    auto importer = glimport::DmabufGlImporter::open();
    if (!importer) {
      why = importer.error().message;
      continue;
    }
    // Source planes with a pattern: luma R8 w×h, chroma RG8 (w/2)×(h/2).
    std::vector<uint8_t> luma(static_cast<size_t>(w * h)), chroma(static_cast<size_t>(w * h / 2));
    for (size_t i = 0; i < luma.size(); ++i) luma[i] = static_cast<uint8_t>(i * 7 + 3);
    for (size_t i = 0; i < chroma.size(); ++i) chroma[i] = static_cast<uint8_t>(255 - i * 5);
    GLuint src[2] = {0, 0};
    glGenTextures(2, src);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glBindTexture(GL_TEXTURE_2D, src[0]);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, w, h, 0, GL_RED, GL_UNSIGNED_BYTE, luma.data());
    glBindTexture(GL_TEXTURE_2D, src[1]);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RG8, w / 2, h / 2, 0, GL_RG, GL_UNSIGNED_BYTE, chroma.data());
    glBindTexture(GL_TEXTURE_2D, 0);
    glFinish();
    ExportedPlane y, uv;
    if (!export_texture(src[0], w, h, &y, &why) || !export_texture(src[1], w / 2, h / 2, &uv, &why)) {
      glDeleteTextures(2, src);
      continue;
    }
    tried += 1;
    EXPECT_EQ(y.plane.fourcc, codec::kDrmFormatR8);
    EXPECT_EQ(uv.plane.fourcc, codec::kDrmFormatGR88);
    auto err = importer.value()->import_planes({y.plane, uv.plane}, w, h);
    ASSERT_FALSE(err) << err->message;
    const auto& t = importer.value()->textures();
    std::vector<uint8_t> got_luma(luma.size()), got_chroma(chroma.size());
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glBindTexture(GL_TEXTURE_2D, t.luma);
    glGetTexImage(GL_TEXTURE_2D, 0, GL_RED, GL_UNSIGNED_BYTE, got_luma.data());
    glBindTexture(GL_TEXTURE_2D, t.chroma);
    glGetTexImage(GL_TEXTURE_2D, 0, GL_RG, GL_UNSIGNED_BYTE, got_chroma.data());
    glBindTexture(GL_TEXTURE_2D, 0);
    EXPECT_EQ(got_luma, luma);
    EXPECT_EQ(got_chroma, chroma);
    EXPECT_EQ(importer.value()->imports(), 1u);
    std::printf("EGL device (%s): dma-bufs (modifier 0x%llx) imported and read back unchanged\n", gl.vendor().c_str(),
                static_cast<unsigned long long>(y.plane.modifier));
    auto destroy = reinterpret_cast<PFNEGLDESTROYIMAGEKHRPROC>(eglGetProcAddress("eglDestroyImageKHR"));
    for (auto* p : {&y, &uv}) {
      close(p->plane.fd);
      destroy(eglGetCurrentDisplay(), p->image);
    }
    glDeleteTextures(2, src);
  }
  if (tried == 0) GTEST_SKIP() << "no EGL context here both exports and imports dma-bufs (" << why << ")";
}

}  // namespace
}  // namespace voxcast
