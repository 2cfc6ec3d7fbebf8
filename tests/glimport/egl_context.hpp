#pragma once
// A headless GL context for tests: EGL on a device (EGL_EXT_platform_device), no window,
// no surface. On a machine with an NVIDIA driver one of the devices is the GPU; under
// Mesa there is a software device.
#include <EGL/egl.h>
#include <EGL/eglext.h>

#include <memory>
#include <string>
#include <vector>

#include "voxcast/glimport/cuda_gl_import.hpp"

namespace voxcast::test {

class HeadlessGl {
 public:
  // Every EGL device this machine lists (empty when EGL cannot enumerate them).
  static std::vector<EGLDeviceEXT> devices() {
    auto query = reinterpret_cast<PFNEGLQUERYDEVICESEXTPROC>(eglGetProcAddress("eglQueryDevicesEXT"));
    if (!query) return {};
    EGLint n = 0;
    if (!query(0, nullptr, &n) || n <= 0) return {};
    std::vector<EGLDeviceEXT> out(static_cast<size_t>(n));
    if (!query(n, out.data(), &n)) return {};
    out.resize(static_cast<size_t>(n));
    return out;
  }

  // A desktop GL context on `device`, made current; ok() says whether it worked.
  explicit HeadlessGl(EGLDeviceEXT device) {
    if (const char* why = init(device)) error_ = why;
  }
  ~HeadlessGl() {
    if (context_ != EGL_NO_CONTEXT) {
      eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
      eglDestroyContext(display_, context_);
    }
    if (initialized_) eglTerminate(display_);
  }
  HeadlessGl(const HeadlessGl&) = delete;
  HeadlessGl& operator=(const HeadlessGl&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& vendor() const { return vendor_; }

 private:
  // Null when the context is current, else why not.
  const char* init(EGLDeviceEXT device) {
    auto platform = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(eglGetProcAddress("eglGetPlatformDisplayEXT"));
    if (!platform) return "no eglGetPlatformDisplayEXT";
    display_ = platform(EGL_PLATFORM_DEVICE_EXT, device, nullptr);
    if (display_ == EGL_NO_DISPLAY || !eglInitialize(display_, nullptr, nullptr)) return "eglInitialize failed";
    initialized_ = true;
    if (!eglBindAPI(EGL_OPENGL_API)) return "no desktop GL on this device";
    const EGLint attributes[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};
    EGLConfig config = nullptr;
    EGLint count = 0;
    if (!eglChooseConfig(display_, attributes, &config, 1, &count) || count == 0) return "no GL config";
    context_ = eglCreateContext(display_, config, EGL_NO_CONTEXT, nullptr);
    if (context_ == EGL_NO_CONTEXT) return "eglCreateContext failed";
    if (!eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_)) return "surfaceless context refused";
    const char* vendor = eglQueryString(display_, EGL_VENDOR);
    vendor_ = vendor ? vendor : "?";
    return nullptr;
  }

  EGLDisplay display_ = EGL_NO_DISPLAY;
  EGLContext context_ = EGL_NO_CONTEXT;
  bool initialized_ = false;
  std::string error_, vendor_;
};

// The first EGL device whose context runs on a CUDA GPU, made current, with its
// importer; `why_not` says why there is none.
struct CudaGlContext {
  std::unique_ptr<HeadlessGl> gl;
  std::unique_ptr<glimport::CudaGlImporter> importer;
  std::string why_not = "EGL lists no devices";
};
inline CudaGlContext open_cuda_gl_context() {
  CudaGlContext out;
  for (EGLDeviceEXT d : HeadlessGl::devices()) {
    auto gl = std::make_unique<HeadlessGl>(d);
    if (!gl->ok()) continue;
    auto opened = glimport::CudaGlImporter::open();
    if (opened) {
      out.gl = std::move(gl);
      out.importer = std::move(opened).value();
      return out;
    }
    out.why_not = opened.error().message;
  }
  return out;
}

}  // namespace voxcast::test
