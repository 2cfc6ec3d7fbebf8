#include "voxcast/codec/yuv.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "voxcast/core/thread_pool.hpp"

namespace voxcast::codec {

void YuvImage::resize(int w, int h) {
  width = w;
  height = h;
  y.resize(static_cast<size_t>(w) * static_cast<size_t>(h));
  u.resize(static_cast<size_t>(w / 2) * static_cast<size_t>(h / 2));
  v.resize(u.size());
}

YuvPlanes YuvImage::planes() { return {y.data(), u.data(), v.data(), width, width / 2, width / 2}; }

namespace {
// Fixed-point (x 2^16) BT.709 limited-range coefficients.
constexpr int kYR = 11966, kYG = 40254, kYB = 4064;     // 0.18259 0.61423 0.06201
constexpr int kUR = -6596, kUG = -22189, kUB = 28784;   // -0.10064 -0.33857 0.43922
constexpr int kVR = 28784, kVG = -26145, kVB = -2639;   // 0.43922 -0.39894 -0.04027

void convert_rows(const uint8_t* rgba, int width, int stride, int row_pair_begin, int row_pair_end, const YuvPlanes& o) {
  for (int pair = row_pair_begin; pair < row_pair_end; ++pair) {
    int y0 = pair * 2;
    const uint8_t* r0 = rgba + static_cast<size_t>(y0) * static_cast<size_t>(stride);
    const uint8_t* r1 = r0 + stride;
    uint8_t* Y0 = o.y + static_cast<size_t>(y0) * static_cast<size_t>(o.y_stride);
    uint8_t* Y1 = Y0 + o.y_stride;
    uint8_t* U = o.u + static_cast<size_t>(pair) * static_cast<size_t>(o.u_stride);
    uint8_t* V = o.v + static_cast<size_t>(pair) * static_cast<size_t>(o.v_stride);
    for (int x = 0; x < width; ++x) {
      const uint8_t* p = r0 + x * 4;
      const uint8_t* q = r1 + x * 4;
      Y0[x] = static_cast<uint8_t>((kYR * p[0] + kYG * p[1] + kYB * p[2] + (16 << 16) + 32768) >> 16);
      Y1[x] = static_cast<uint8_t>((kYR * q[0] + kYG * q[1] + kYB * q[2] + (16 << 16) + 32768) >> 16);
    }
    for (int x = 0; x < width / 2; ++x) {
      const uint8_t* p = r0 + x * 8;
      const uint8_t* q = r1 + x * 8;
      int r = p[0] + p[4] + q[0] + q[4];
      int g = p[1] + p[5] + q[1] + q[5];
      int b = p[2] + p[6] + q[2] + q[6];
      // Sums of four: divide by 4 inside the shift (18 = 16 + 2).
      U[x] = static_cast<uint8_t>((kUR * r + kUG * g + kUB * b + (128 << 18) + (1 << 17)) >> 18);
      V[x] = static_cast<uint8_t>((kVR * r + kVG * g + kVB * b + (128 << 18) + (1 << 17)) >> 18);
    }
  }
}

inline uint8_t clamp8(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }
}  // namespace

void rgba_to_i420(const uint8_t* rgba, int width, int height, int stride, const YuvPlanes& out, ThreadPool* pool) {
  assert(width % 2 == 0 && height % 2 == 0 && "I420 needs even dimensions");
  int pairs = height / 2;
  if (pool) {
    pool->parallel_for(pairs, [&](int b, int e) { convert_rows(rgba, width, stride, b, e, out); });
  } else {
    convert_rows(rgba, width, stride, 0, pairs, out);
  }
}

void i420_to_rgba(const uint8_t* Y, int ys, const uint8_t* U, int us, const uint8_t* V, int vs, int width, int height,
                  uint8_t* rgba) {
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      int c = 76309 * (Y[static_cast<size_t>(y) * static_cast<size_t>(ys) + static_cast<size_t>(x)] - 16);
      int d = U[static_cast<size_t>(y / 2) * static_cast<size_t>(us) + static_cast<size_t>(x / 2)] - 128;
      int e = V[static_cast<size_t>(y / 2) * static_cast<size_t>(vs) + static_cast<size_t>(x / 2)] - 128;
      uint8_t* p = rgba + (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 4;
      p[0] = clamp8((c + 117489 * e + 32768) >> 16);
      p[1] = clamp8((c - 13975 * d - 34925 * e + 32768) >> 16);
      p[2] = clamp8((c + 138438 * d + 32768) >> 16);
      p[3] = 255;
    }
  }
}

double psnr_rgba(const uint8_t* a, const uint8_t* b, int width, int height) {
  double se = 0;
  size_t n = static_cast<size_t>(width) * static_cast<size_t>(height);
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) {
      double d = static_cast<double>(a[i * 4 + static_cast<size_t>(c)]) - b[i * 4 + static_cast<size_t>(c)];
      se += d * d;
    }
  }
  double mse = se / (static_cast<double>(n) * 3.0);
  if (mse <= 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace voxcast::codec
