#include "voxcast/data/dtype.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace voxcast::data {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::u8:
    case DType::i8: return 1;
    case DType::u16:
    case DType::i16: return 2;
    case DType::u32:
    case DType::i32:
    case DType::f32: return 4;
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
               {"f4", "float32", DType::f32}, {"f8", "float64", DType::f64}};
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
  }
  return "|u1";
}

void byteswap(uint8_t* data, size_t n, size_t itemsize) {
  if (itemsize < 2) return;
  for (size_t i = 0; i < n; ++i) std::reverse(data + i * itemsize, data + (i + 1) * itemsize);
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
    double lo = static_cast<double>(std::numeric_limits<T>::min());
    double hi = static_cast<double>(std::numeric_limits<T>::max());
    out = static_cast<T>(std::clamp(std::round(v), lo, hi));
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
  }
}

}  // namespace voxcast::data
