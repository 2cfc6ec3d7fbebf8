#include "voxcast/glimport/cuda_gl_import.hpp"

#include <GL/gl.h>
#include <GL/glext.h>

#include "plane_textures.hpp"

// The loader prints to stderr by default; a missing driver is an expected outcome here,
// reported through open()'s error instead.
#define FFNV_LOG_FUNC(logctx, msg, ...) ((void)0)
#define FFNV_DEBUG_LOG_FUNC(logctx, msg, ...) ((void)0)
#include <ffnvcodec/dynlink_loader.h>

namespace voxcast::glimport {

using protocol::make_error;

struct CudaGlImporter::Impl {
  CudaFunctions* cu = nullptr;
  CUdevice device = 0;
  CUcontext context = nullptr;  // the device's primary context (retained)
  bool retained = false;
  std::string device_name;
  Nv12Textures textures;
  CUgraphicsResource resources[2] = {nullptr, nullptr};
  uint64_t imports = 0;

  std::string error_text(CUresult r) const {
    const char* name = nullptr;
    if (cu && cu->cuGetErrorName(r, &name) == CUDA_SUCCESS && name) return name;
    return "CUresult " + std::to_string(static_cast<int>(r));
  }

  void release_textures() {
    for (auto& r : resources) {
      if (r) cu->cuGraphicsUnregisterResource(r);
      r = nullptr;
    }
    GLuint names[2] = {textures.luma, textures.chroma};
    if (names[0] || names[1]) glDeleteTextures(2, names);
    textures = {};
  }

  // Two textures of the picture's size, registered with CUDA for writing.
  std::optional<protocol::Error> allocate(int width, int height) {
    release_textures();
    GLuint names[2] = {0, 0};
    create_plane_textures(names);
    GLint bound = 0;
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &bound);
    const GLint formats[2] = {GL_R8, GL_RG8};
    const GLenum layouts[2] = {GL_RED, GL_RG};
    for (int i = 0; i < 2; ++i) {
      glBindTexture(GL_TEXTURE_2D, names[i]);
      glTexImage2D(GL_TEXTURE_2D, 0, formats[i], i == 0 ? width : width / 2, i == 0 ? height : height / 2, 0,
                   layouts[i], GL_UNSIGNED_BYTE, nullptr);
    }
    glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(bound));
    textures = {names[0], names[1], width, height};
    cu->cuCtxPushCurrent(context);
    CUresult r = CUDA_SUCCESS;
    for (int i = 0; i < 2 && r == CUDA_SUCCESS; ++i)
      r = cu->cuGraphicsGLRegisterImage(&resources[i], names[i], GL_TEXTURE_2D, CU_GRAPHICS_REGISTER_FLAGS_WRITE_DISCARD);
    CUcontext popped = nullptr;
    cu->cuCtxPopCurrent(&popped);
    if (r != CUDA_SUCCESS) {
      release_textures();
      return make_error("glimport.cuda", "registering the frame textures with CUDA failed: " + error_text(r));
    }
    return std::nullopt;
  }
};

CudaGlImporter::CudaGlImporter() : impl_(std::make_unique<Impl>()) {}

protocol::Result<std::unique_ptr<CudaGlImporter>> CudaGlImporter::open() {
  std::unique_ptr<CudaGlImporter> importer(new CudaGlImporter());
  Impl& I = *importer->impl_;
  if (cuda_load_functions(&I.cu, nullptr) != 0)
    return make_error("glimport.no_cuda", "no CUDA driver here (libcuda.so.1 did not load)");
  if (CUresult r = I.cu->cuInit(0); r != CUDA_SUCCESS)
    return make_error("glimport.no_cuda", "the CUDA driver did not start: " + I.error_text(r));
  // The CUDA device(s) that drive the current GL context; none on Mesa, AMD, Intel.
  unsigned count = 0;
  CUdevice devices[4] = {};
  CUresult r = I.cu->cuGLGetDevices(&count, devices, 4, CU_GL_DEVICE_LIST_ALL);
  if (r != CUDA_SUCCESS || count == 0)
    return make_error("glimport.not_cuda_gl",
                      "the GL context is not on a CUDA GPU (cuGLGetDevices: " + I.error_text(r) + ")");
  I.device = devices[0];
  char name[128] = {};
  if (I.cu->cuDeviceGetName(name, sizeof(name) - 1, I.device) == CUDA_SUCCESS) I.device_name = name;
  // The primary context: the decoder opens its CUDA device on it too, so the pictures'
  // device pointers are valid in the context the textures are registered in. libavcodec
  // refuses a primary context that is active with other flags than its own (blocking
  // sync), so it gets those flags if it is not active yet.
  constexpr unsigned kSchedBlockingSync = 0x04;  // CU_CTX_SCHED_BLOCKING_SYNC
  unsigned flags = 0;
  int active = 0;
  if (I.cu->cuDevicePrimaryCtxGetState(I.device, &flags, &active) == CUDA_SUCCESS && !active &&
      flags != kSchedBlockingSync)
    I.cu->cuDevicePrimaryCtxSetFlags(I.device, kSchedBlockingSync);
  if (r = I.cu->cuDevicePrimaryCtxRetain(&I.context, I.device); r != CUDA_SUCCESS)
    return make_error("glimport.cuda", "retaining the CUDA context failed: " + I.error_text(r));
  I.retained = true;
  return importer;
}

CudaGlImporter::~CudaGlImporter() {
  Impl& I = *impl_;
  if (!I.cu) return;
  if (I.context) {
    I.cu->cuCtxPushCurrent(I.context);
    I.release_textures();
    CUcontext popped = nullptr;
    I.cu->cuCtxPopCurrent(&popped);
  }
  if (I.retained) I.cu->cuDevicePrimaryCtxRelease(I.device);
  cuda_free_functions(&I.cu);
}

std::optional<protocol::Error> CudaGlImporter::import(const codec::DevicePicture& picture) {
  Impl& I = *impl_;
  auto planes = picture.cuda_planes();
  if (!planes) return make_error("glimport.format", "not an NV12 CUDA picture");
  if (planes->context != I.context)
    return make_error("glimport.other_context", "the picture was decoded outside the display GPU's CUDA context");
  const int w = picture.width(), h = picture.height();
  if (w != I.textures.width || h != I.textures.height) {
    if (auto err = I.allocate(w, h)) return err;
  }
  I.cu->cuCtxPushCurrent(I.context);
  CUresult r = I.cu->cuGraphicsMapResources(2, I.resources, nullptr);
  if (r == CUDA_SUCCESS) {
    const CUdeviceptr sources[2] = {planes->luma, planes->chroma};
    const size_t pitches[2] = {planes->luma_pitch, planes->chroma_pitch};
    for (int i = 0; i < 2 && r == CUDA_SUCCESS; ++i) {
      CUarray array = nullptr;
      r = I.cu->cuGraphicsSubResourceGetMappedArray(&array, I.resources[i], 0, 0);
      if (r != CUDA_SUCCESS) break;
      CUDA_MEMCPY2D copy = {};
      copy.srcMemoryType = CU_MEMORYTYPE_DEVICE;
      copy.srcDevice = sources[i];
      copy.srcPitch = pitches[i];
      copy.dstMemoryType = CU_MEMORYTYPE_ARRAY;
      copy.dstArray = array;
      copy.WidthInBytes = static_cast<size_t>(w);  // luma: w bytes; chroma: w/2 UV pairs
      copy.Height = static_cast<size_t>(i == 0 ? h : h / 2);
      r = I.cu->cuMemcpy2D(&copy);
    }
    // Unmapping orders the copy before GL's next use of the textures.
    CUresult u = I.cu->cuGraphicsUnmapResources(2, I.resources, nullptr);
    if (r == CUDA_SUCCESS) r = u;
  }
  CUcontext popped = nullptr;
  I.cu->cuCtxPopCurrent(&popped);
  if (r != CUDA_SUCCESS) return make_error("glimport.cuda", "copying the picture into the textures failed: " + I.error_text(r));
  I.imports += 1;
  return std::nullopt;
}

const Nv12Textures& CudaGlImporter::textures() const { return impl_->textures; }
const std::string& CudaGlImporter::device_name() const { return impl_->device_name; }
std::string CudaGlImporter::describe() const { return "CUDA-GL, " + impl_->device_name; }
uint64_t CudaGlImporter::imports() const { return impl_->imports; }

}  // namespace voxcast::glimport
