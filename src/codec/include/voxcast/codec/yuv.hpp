#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace voxcast {
class ThreadPool;
}

namespace voxcast::codec {

class DevicePicture;

// Writable views of the three planes of an I420 (4:2:0) picture.
struct YuvPlanes {
  uint8_t* y = nullptr;
  uint8_t* u = nullptr;
  uint8_t* v = nullptr;
  int y_stride = 0;
  int u_stride = 0;
  int v_stride = 0;
};

// An I420 picture with tightly packed planes. A hardware decoder asked to keep its
// pictures on the GPU leaves the planes empty and sets `device` instead
// (in_system_memory() in device_picture.hpp brings such a picture over). An exact still
// (a lossless picture from the server, docs/messages.md) leaves them empty and sets `rgba`.
struct YuvImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> y, u, v;
  std::shared_ptr<const DevicePicture> device;
  std::vector<uint8_t> rgba;  // an exact still: RGBA8, width * height * 4 bytes
  bool exact() const { return !rgba.empty(); }
  void resize(int w, int h);
  YuvPlanes planes();
};

// BT.709 limited range ("tv"), what the encoder signals in its VUI. Chroma is the
// average of each 2x2 block. Width and height must be even. `pool` may be null.
void rgba_to_i420(const uint8_t* rgba, int width, int height, int rgba_stride, const YuvPlanes& out, ThreadPool* pool);
void i420_to_rgba(const uint8_t* y, int y_stride, const uint8_t* u, int u_stride, const uint8_t* v, int v_stride,
                  int width, int height, uint8_t* rgba);

// Peak signal-to-noise ratio of two same-size RGBA images over the RGB channels.
double psnr_rgba(const uint8_t* a, const uint8_t* b, int width, int height);

}  // namespace voxcast::codec
