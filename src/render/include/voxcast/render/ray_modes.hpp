#pragma once
// The per-mode maths of 3D ray casting, once, for the CPU renderers and the CUDA kernels
// (compiled by the host compiler and by nvcc): how each napari mode accumulates the
// samples along a ray, when a ray may stop, which bricks it may skip, what colour it ends
// with, and how the layers' colours composite. The callers only walk the rays and sample.
// Only float/double arithmetic and the C maths functions that exist on both sides.
#include <math.h>

#include "voxcast/render/modes.hpp"

#if defined(__CUDACC__)
#define VOXCAST_HD __host__ __device__ __forceinline__
#else
#define VOXCAST_HD [[gnu::always_inline]] inline
#endif

namespace voxcast::render::ray {

// Premultiplied colour and coverage of one layer along one ray; a == 0: nothing drawn.
struct RayColor {
  float r = 0, g = 0, b = 0, a = 0;
};

// A transfer function table of kLutSize entries, `stride` floats apart (r, g, b first).
struct LutRef {
  const float* data = nullptr;
  int stride = 3;
  // Translucent: the step's opacity tabulated over the normalised value (opacity_table);
  // null: computed per sample (the GPU, where powf is cheap).
  const float* opacity = nullptr;
  float opacity_step = 0;  // the step length (voxels) the table is for
};

// Entries of an opacity table: over min(n, 0.999) in [0, 0.999], linear in between (a
// 4096-entry table is within 3e-4 of the power law even where it is steepest).
inline constexpr int kOpacitySize = 4096;

// Opacity of one translucent step of `step_voxels` voxels at normalised value `n`: the
// opacity per unit length grows with the value, independent of the step size.
VOXCAST_HD float step_opacity(float n, float step_voxels, const float* table, float table_step = 0) {
  const float m = n < 0.999f ? n : 0.999f;  // n from normalized(): not NaN
  if (table && table_step == step_voxels) {
    const float x = m * (kOpacitySize / 0.999f);
    const int i = x < kOpacitySize - 1 ? static_cast<int>(x) : kOpacitySize - 1;  // m = 0.999 may round up
    return table[i] + (table[i + 1] - table[i]) * (x - static_cast<float>(i));
  }
  return 1.0f - powf(1.0f - m, step_voxels * 0.5f);
}

// A layer's constants for one frame.
struct ModeParams {
  RenderMode mode = RenderMode::mip;
  float lo = 0, hi = 1;  // contrast limits, hi > lo
  float inv_range = 1;   // 1 / (hi - lo): a multiply per sample, not a divide (mode_params sets it)
  float iso = 0.5f;      // data units
  float attenuation = 0.05f;
};

// What a ray has gathered so far.
struct RayState {
  float best;  // mip: the maximum, minip: the minimum (±inf before the first sample)
  double sum = 0;
  int count = 0;
  float att_sum = 0, att_max = 0;
  float r = 0, g = 0, b = 0, a = 0;  // translucent, additive
};

VOXCAST_HD RayState start(const ModeParams& p) {
  RayState s;
  s.best = p.mode == RenderMode::minip ? INFINITY : -INFINITY;
  return s;
}

// The value in [0, 1] between the contrast limits; NaN reads as the lower limit.
// (Comparisons rather than fminf/fmaxf: the host compiler calls libm for those, per sample.)
VOXCAST_HD float normalized(const ModeParams& p, float v) {
  const float t = (v - p.lo) * p.inv_range;
  const float above = t > 0.0f ? t : 0.0f;  // NaN fails the comparison: 0
  return above < 1.0f ? above : 1.0f;
}

VOXCAST_HD RayColor lut_at(const LutRef& lut, float t) {
  const float* e = lut.data + static_cast<int>(t * (kLutSize - 1) + 0.5f) * lut.stride;
  return {e[0], e[1], e[2], 1.0f};
}

enum class Step { go, stop, hit };

// Takes one sample `v` of a step `step_voxels` voxels long. `stop`: nothing further can
// change the result; `hit` (iso): the caller shades the surface (iso_fraction, iso_shade).
VOXCAST_HD Step accumulate(RayState& s, const ModeParams& p, const LutRef& lut, float v, float step_voxels) {
  switch (p.mode) {  // a constant where the caller is specialised per mode
    case RenderMode::mip:
      if (v > s.best) s.best = v;
      return s.best >= p.hi ? Step::stop : Step::go;  // saturated
    case RenderMode::minip:
      s.best = fminf(s.best, v);
      return Step::go;
    case RenderMode::average:
      s.sum += v;
      ++s.count;
      return Step::go;
    case RenderMode::attenuated_mip: {
      float n = normalized(p, v);
      // Attenuation by the integral of the value up to the middle of this sample's interval.
      s.att_sum += n * step_voxels * 0.5f;
      float scaled = n * expf(-p.attenuation * fmaxf(0.0f, s.att_sum - 1.0f));
      s.att_sum += n * step_voxels * 0.5f;
      s.att_max = fmaxf(s.att_max, scaled);
      return Step::go;
    }
    case RenderMode::iso:
      return v >= p.iso ? Step::hit : Step::go;
    case RenderMode::translucent: {
      float n = normalized(p, v);
      float alpha = step_opacity(n, step_voxels, lut.opacity, lut.opacity_step);
      RayColor c = lut_at(lut, n);
      float w = (1.0f - s.a) * alpha;
      s.r += w * c.r;
      s.g += w * c.g;
      s.b += w * c.b;
      s.a += w;
      return s.a > 0.99f ? Step::stop : Step::go;  // early ray termination
    }
    case RenderMode::additive: {
      float n = normalized(p, v);
      RayColor c = lut_at(lut, n);
      float w = n * 0.02f * step_voxels;
      s.r += w * c.r;
      s.g += w * c.g;
      s.b += w * c.b;
      return Step::go;
    }
  }
  return Step::go;
}

// True when a brick whose values lie in [bmin, bmax] cannot change what the ray has.
VOXCAST_HD bool can_skip(const RayState& s, const ModeParams& p, float bmin, float bmax) {
  switch (p.mode) {
    case RenderMode::mip: return bmax <= s.best;
    case RenderMode::minip: return bmin >= s.best;
    case RenderMode::translucent:
    case RenderMode::additive:
    case RenderMode::attenuated_mip: return bmax <= p.lo;
    case RenderMode::iso: return bmax < p.iso;
    case RenderMode::average: return false;
  }
  return false;
}

// Where between the previous sample and this one the iso surface lies (0: at the
// previous, 1: at this one).
VOXCAST_HD double iso_fraction(const ModeParams& p, bool have_prev, float prev, float v) {
  if (!have_prev || v == prev) return 1.0;
  return fmin(fmax(static_cast<double>((p.iso - prev) / (v - prev)), 0.0), 1.0);
}

// Lambert shading of the surface with gradient g (world units) seen along `dir`.
VOXCAST_HD RayColor iso_shade(const LutRef& lut, double gx, double gy, double gz, const double dir[3]) {
  double gn = sqrt(gx * gx + gy * gy + gz * gz);
  double lambert = gn > 0 ? fabs(gx * dir[0] + gy * dir[1] + gz * dir[2]) / gn : 1.0;
  float shade = static_cast<float>(0.2 + 0.8 * lambert);
  const float* c = lut.data + (kLutSize - 1) * lut.stride;
  return {c[0] * shade, c[1] * shade, c[2] * shade, 1.0f};
}

// The ray's colour once it has left the volume (or stopped).
VOXCAST_HD RayColor finish(const RayState& s, const ModeParams& p, const LutRef& lut) {
  switch (p.mode) {
    case RenderMode::mip:
    case RenderMode::minip:
      if (isinf(s.best)) return {};  // every sample was skipped: all outside the limits
      return lut_at(lut, normalized(p, s.best));
    case RenderMode::average:
      if (s.count == 0) return {};
      return lut_at(lut, normalized(p, static_cast<float>(s.sum / static_cast<double>(s.count))));
    case RenderMode::attenuated_mip:
      return lut_at(lut, s.att_max);
    case RenderMode::iso:
      return {};  // no surface on this ray
    case RenderMode::translucent:
      return {s.r, s.g, s.b, s.a};
    case RenderMode::additive:
      return {fminf(s.r, 1.0f), fminf(s.g, 1.0f), fminf(s.b, 1.0f), 1.0f};
  }
  return {};
}

// Composites one layer's colour over what the layers before it left in `acc`.
VOXCAST_HD void composite(float acc[3], const RayColor& c, float opacity, Blending mode) {
  if (c.a <= 0) return;
  switch (mode) {
    case Blending::opaque:
      acc[0] = c.r;
      acc[1] = c.g;
      acc[2] = c.b;
      break;
    case Blending::translucent: {
      float a = c.a * opacity;
      acc[0] = acc[0] * (1 - a) + c.r * opacity;
      acc[1] = acc[1] * (1 - a) + c.g * opacity;
      acc[2] = acc[2] * (1 - a) + c.b * opacity;
      break;
    }
    case Blending::additive:
      acc[0] += c.r * opacity;
      acc[1] += c.g * opacity;
      acc[2] += c.b * opacity;
      break;
    case Blending::minimum:
      acc[0] += (fminf(acc[0], c.r) - acc[0]) * opacity;
      acc[1] += (fminf(acc[1], c.g) - acc[1]) * opacity;
      acc[2] += (fminf(acc[2], c.b) - acc[2]) * opacity;
      break;
  }
}

// Ray/box intersection in voxel space (voxel centres at integers, the box from -0.5 to
// n - 0.5); false when the ray misses.
VOXCAST_HD bool clip_box(const double o[3], const double d[3], const double n[3], double* t0, double* t1) {
  double lo = -INFINITY, hi = INFINITY;
  for (int i = 0; i < 3; ++i) {
    double a = -0.5, b = n[i] - 0.5;
    if (fabs(d[i]) < 1e-15) {
      if (o[i] < a || o[i] > b) return false;
      continue;
    }
    double ta = (a - o[i]) / d[i], tb = (b - o[i]) / d[i];
    if (ta > tb) {
      double t = ta;
      ta = tb;
      tb = t;
    }
    lo = fmax(lo, ta);
    hi = fmin(hi, tb);
  }
  *t0 = lo;
  *t1 = hi;
  return hi > lo;
}

VOXCAST_HD unsigned char to_u8(float v) { return static_cast<unsigned char>(fminf(fmaxf(v, 0.0f), 1.0f) * 255.0f + 0.5f); }

}  // namespace voxcast::render::ray
