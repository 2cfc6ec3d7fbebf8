#include "voxcast/glimport/dmabuf_gl_import.hpp"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>
#include <GL/glext.h>

#include <cstdio>
#include <cstring>

#include "plane_textures.hpp"

namespace voxcast::glimport {

using protocol::make_error;

std::vector<int32_t> dmabuf_image_attributes(const codec::DmabufPlane& p, bool pass_modifier) {
  std::vector<int32_t> a = {EGL_WIDTH,
                            p.width,
                            EGL_HEIGHT,
                            p.height,
                            EGL_LINUX_DRM_FOURCC_EXT,
                            static_cast<int32_t>(p.fourcc),
                            EGL_DMA_BUF_PLANE0_FD_EXT,
                            p.fd,
                            EGL_DMA_BUF_PLANE0_OFFSET_EXT,
                            static_cast<int32_t>(p.offset),
                            EGL_DMA_BUF_PLANE0_PITCH_EXT,
                            static_cast<int32_t>(p.pitch)};
  if (pass_modifier && p.modifier != kDrmFormatModInvalid) {
    a.insert(a.end(), {EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT, static_cast<int32_t>(p.modifier & 0xffffffffu),
                       EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT, static_cast<int32_t>(p.modifier >> 32)});
  }
  a.push_back(EGL_NONE);
  return a;
}

namespace {
bool has_extension(const char* list, const char* name) {
  if (!list) return false;
  const size_t n = std::strlen(name);
  for (const char* p = std::strstr(list, name); p; p = std::strstr(p + 1, name))
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
  return false;
}
}  // namespace

struct DmabufGlImporter::Impl {
  EGLDisplay display = EGL_NO_DISPLAY;
  PFNEGLCREATEIMAGEKHRPROC create_image = nullptr;
  PFNEGLDESTROYIMAGEKHRPROC destroy_image = nullptr;
  PFNGLEGLIMAGETARGETTEXTURE2DOESPROC image_target = nullptr;
  bool modifiers = false;
  Nv12Textures textures;
  EGLImageKHR images[2] = {EGL_NO_IMAGE_KHR, EGL_NO_IMAGE_KHR};
  uint64_t imports = 0;

  void destroy_images() {
    for (auto& image : images) {
      if (image != EGL_NO_IMAGE_KHR) destroy_image(display, image);
      image = EGL_NO_IMAGE_KHR;
    }
  }
};

DmabufGlImporter::DmabufGlImporter() : impl_(std::make_unique<Impl>()) {}

protocol::Result<std::unique_ptr<DmabufGlImporter>> DmabufGlImporter::open() {
  std::unique_ptr<DmabufGlImporter> importer(new DmabufGlImporter());
  Impl& I = *importer->impl_;
  I.display = eglGetCurrentDisplay();
  if (I.display == EGL_NO_DISPLAY || eglGetCurrentContext() == EGL_NO_CONTEXT)
    return make_error("glimport.not_egl", "the GL context is not an EGL one (dma-buf import needs EGL)");
  const char* extensions = eglQueryString(I.display, EGL_EXTENSIONS);
  if (!has_extension(extensions, "EGL_EXT_image_dma_buf_import"))
    return make_error("glimport.no_dmabuf", "the EGL display cannot import dma-bufs (no EGL_EXT_image_dma_buf_import)");
  I.modifiers = has_extension(extensions, "EGL_EXT_image_dma_buf_import_modifiers");
  I.create_image = reinterpret_cast<PFNEGLCREATEIMAGEKHRPROC>(eglGetProcAddress("eglCreateImageKHR"));
  I.destroy_image = reinterpret_cast<PFNEGLDESTROYIMAGEKHRPROC>(eglGetProcAddress("eglDestroyImageKHR"));
  I.image_target =
      reinterpret_cast<PFNGLEGLIMAGETARGETTEXTURE2DOESPROC>(eglGetProcAddress("glEGLImageTargetTexture2DOES"));
  const char* gl_extensions = reinterpret_cast<const char*>(glGetString(GL_EXTENSIONS));
  if (!I.create_image || !I.destroy_image || !I.image_target || !has_extension(gl_extensions, "GL_OES_EGL_image"))
    return make_error("glimport.no_dmabuf", "GL cannot bind EGL images to textures (no GL_OES_EGL_image)");
  GLuint names[2] = {0, 0};
  create_plane_textures(names);
  I.textures.luma = names[0];
  I.textures.chroma = names[1];
  return importer;
}

DmabufGlImporter::~DmabufGlImporter() {
  Impl& I = *impl_;
  if (I.display == EGL_NO_DISPLAY || !I.destroy_image) return;
  I.destroy_images();
  GLuint names[2] = {I.textures.luma, I.textures.chroma};
  if (names[0]) glDeleteTextures(2, names);
}

std::optional<protocol::Error> DmabufGlImporter::import(const codec::DevicePicture& picture) {
  auto planes = picture.dmabuf_planes();
  if (!planes) return make_error("glimport.format", "not a VA-API NV12 picture that exports as dma-bufs");
  return import_planes(*planes, picture.width(), picture.height());
}

std::optional<protocol::Error> DmabufGlImporter::import_planes(const codec::DmabufNv12& planes, int width, int height) {
  Impl& I = *impl_;
  // The previous picture's images go first: the caller lets that picture go after this.
  I.destroy_images();
  const codec::DmabufPlane* sources[2] = {&planes.luma, &planes.chroma};
  for (const auto* plane : sources)
    if (!I.modifiers && plane->modifier != kDrmFormatModInvalid && plane->modifier != 0)
      return make_error("glimport.egl", "the surface is tiled (format modifier) and EGL takes no modifiers");
  const GLuint targets[2] = {I.textures.luma, I.textures.chroma};
  GLint bound = 0;
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &bound);
  for (int i = 0; i < 2; ++i) {
    auto attributes = dmabuf_image_attributes(*sources[i], I.modifiers);
    I.images[i] = I.create_image(I.display, EGL_NO_CONTEXT, EGL_LINUX_DMA_BUF_EXT, nullptr, attributes.data());
    if (I.images[i] == EGL_NO_IMAGE_KHR) {
      const EGLint error = eglGetError();
      I.destroy_images();
      glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(bound));
      char why[96];
      std::snprintf(why, sizeof(why), "eglCreateImageKHR refused the dma-buf (EGL error 0x%x)", static_cast<unsigned>(error));
      return make_error("glimport.egl", why);
    }
    glBindTexture(GL_TEXTURE_2D, targets[i]);
    I.image_target(GL_TEXTURE_2D, static_cast<GLeglImageOES>(I.images[i]));
  }
  glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(bound));
  I.textures.width = width;
  I.textures.height = height;
  I.imports += 1;
  return std::nullopt;
}

const Nv12Textures& DmabufGlImporter::textures() const { return impl_->textures; }
uint64_t DmabufGlImporter::imports() const { return impl_->imports; }

}  // namespace voxcast::glimport
