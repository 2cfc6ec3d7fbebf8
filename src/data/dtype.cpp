#include "voxcast/data/dtype.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace voxcast::data {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::b1:
    case DType::u8:
    case DType::i8: return 1;
    case DType::f16:
    case DType::u16:
    case DType::i16: return 2;
    case DType::u32:
    case DType::i32:
    case DType::f32: return 4;
    case DType::u64:
    case DType::i64:
    case DType::f64: return 8;
  }
  return 1;
}

std::optional<DType> parse_numpy_dtype(const std::string& s, bool* big_endian) {
  *big_endian = false;
  std::string body = s;
  if (!body.empty() && (body[0] == '<' || body[0] == '>' || body[0] == '|' || body[0] == '=')) {
    *big_endian = body[0] == '>';
    body = body.substr(1);
  }
  static const struct {
    const char* a;
    const char* b;
    DType t;
  } names[] = {{"u1", "uint8", DType::u8},   {"u2", "uint16", DType::u16},  {"u4", "uint32", DType::u32},
               {"i1", "int8", DType::i8},    {"i2", "int16", DType::i16},   {"i4", "int32", DType::i32},
               {"f4", "float32", DType::f32}, {"f8", "float64", DType::f64},
               {"b1", "bool", DType::b1},     {"u8", "uint64", DType::u64},  {"i8", "int64", DType::i64},
               {"f2", "float16", DType::f16}};
  for (const auto& n : names)
    if (body == n.a || body == n.b) {
      if (dtype_size(n.t) == 1) *big_endian = false;
      return n.t;
    }
  return std::nullopt;
}

std::string numpy_typestr(DType t) {
  switch (t) {
    case DType::u8: return "|u1";
    case DType::u16: return "<u2";
    case DType::u32: return "<u4";
    case DType::i8: return "|i1";
    case DType::i16: return "<i2";
    case DType::i32: return "<i4";
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::b1: return "|b1";
    case DType::u64: return "<u8";
    case DType::i64: return "<i8";
    case DType::f16: return "<f2";
  }
  return "|u1";
}

void byteswap(uint8_t* data, size_t n, size_t itemsize) {
  if (itemsize < 2) return;
  for (size_t i = 0; i < n; ++i) std::reverse(data + i * itemsize, data + (i + 1) * itemsize);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    exp = 113;
    while (!(mant & 0x400u)) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t exp = (x >> 23) & 0xffu, mant = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));
  int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow: inf
  if (e <= 0) {  // subnormal or zero, round to nearest even
    if (e < -10) return sign;
    uint32_t m = mant | 0x800000u;
    const int shift = 14 - e;
    uint32_t half = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;  // may carry into inf: correct
  return static_cast<uint16_t>(sign | half);
}

namespace {
template <typename T>
void convert(const uint8_t* src, size_t n, float* dst) {
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));
    dst[i] = static_cast<float>(v);
  }
}
template <typename T>
void store(double v, uint8_t* dst) {
  T out;
  if constexpr (std::is_floating_point_v<T>) {
    out = static_cast<T>(v);
  } else {
    // Compared as doubles: 2^63 and 2^64 are not representable in the 64-bit types.
    const double lo = static_cast<double>(std::numeric_limits<T>::min());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    const double r = std::isnan(v) ? 0.0 : std::round(v);
    out = r <= lo ? std::numeric_limits<T>::min() : r >= hi ? std::numeric_limits<T>::max() : static_cast<T>(r);
  }
  std::memcpy(dst, &out, sizeof(T));
}
}  // namespace

void to_float(DType t, const uint8_t* src, size_t n, float* dst) {
  switch (t) {
    case DType::u8: return convert<uint8_t>(src, n, dst);
    case DType::u16: return convert<uint16_t>(src, n, dst);
    case DType::u32: return convert<uint32_t>(src, n, dst);
    case DType::i8: return convert<int8_t>(src, n, dst);
    case DType::i16: return convert<int16_t>(src, n, dst);
    case DType::i32: return convert<int32_t>(src, n, dst);
    case DType::f32: return convert<float>(src, n, dst);
    case DType::f64: return convert<double>(src, n, dst);
    case DType::b1:
      for (size_t i = 0; i < n; ++i) dst[i] = src[i] ? 1.0f : 0.0f;
      return;
    case DType::u64: return convert<uint64_t>(src, n, dst);
    case DType::i64: return convert<int64_t>(src, n, dst);
    case DType::f16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + i * 2, 2);
        dst[i] = half_to_float(h);
      }
      return;
  }
}

void from_float(DType t, double v, uint8_t* dst) {
  switch (t) {
    case DType::u8: return store<uint8_t>(v, dst);
    case DType::u16: return store<uint16_t>(v, dst);
    case DType::u32: return store<uint32_t>(v, dst);
    case DType::i8: return store<int8_t>(v, dst);
    case DType::i16: return store<int16_t>(v, dst);
    case DType::i32: return store<int32_t>(v, dst);
    case DType::f32: return store<float>(v, dst);
    case DType::f64: return store<double>(v, dst);
    case DType::b1: *dst = v != 0 && !std::isnan(v) ? 1 : 0; return;
    case DType::u64: return store<uint64_t>(v, dst);
    case DType::i64: return store<int64_t>(v, dst);
    case DType::f16: {
      uint16_t h = float_to_half(static_cast<float>(v));
      std::memcpy(dst, &h, 2);
      return;
    }
  }
}

}  // namespace voxcast::data
