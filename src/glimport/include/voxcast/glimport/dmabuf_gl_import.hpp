#pragma once
// VA-API pictures into GL without a copy: each plane's dma-buf becomes an EGLImage bound
// to a texture (EGL_EXT_image_dma_buf_import + GL_OES_EGL_image), so the textures alias
// the decoder's surface. Needs an EGL context (Wayland; X11 with Qt's xcb_egl).
#include <cstdint>
#include <vector>

#include "voxcast/glimport/frame_importer.hpp"

namespace voxcast::glimport {

// The eglCreateImageKHR attributes for one plane (EGL_NONE-terminated). The format
// modifier goes in only when the display takes modifiers and the plane has one.
std::vector<int32_t> dmabuf_image_attributes(const codec::DmabufPlane& plane, bool pass_modifier);
// DRM_FORMAT_MOD_INVALID: the exporter did not say (the driver's implicit layout).
constexpr uint64_t kDrmFormatModInvalid = 0x00ffffffffffffffULL;

class DmabufGlImporter final : public FrameImporter {
 public:
  // Errors: "glimport.not_egl" (the current context is not an EGL one, e.g. GLX),
  // "glimport.no_dmabuf" (the EGL display or GL lacks the extensions).
  static protocol::Result<std::unique_ptr<DmabufGlImporter>> open();
  ~DmabufGlImporter() override;  // the GL context current: images and textures go
  DmabufGlImporter(const DmabufGlImporter&) = delete;
  DmabufGlImporter& operator=(const DmabufGlImporter&) = delete;

  // "glimport.format" (not a VA-API NV12 picture), "glimport.egl" (the driver refused it).
  std::optional<protocol::Error> import(const codec::DevicePicture& picture) override;
  // The same for planes already described as dma-bufs (import() maps the picture, then
  // calls this); the fds stay the caller's.
  std::optional<protocol::Error> import_planes(const codec::DmabufNv12& planes, int width, int height);
  const Nv12Textures& textures() const override;
  std::string describe() const override { return "VA-API dma-buf, EGL"; }
  uint64_t imports() const override;

 private:
  DmabufGlImporter();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxcast::glimport
