#include "voxcast/data/volume_source.hpp"

#include <limits>

namespace voxcast::data {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::u8: return "uint8";
    case DType::u16: return "uint16";
    case DType::u32: return "uint32";
    case DType::i8: return "int8";
    case DType::i16: return "int16";
    case DType::i32: return "int32";
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::b1: return "bool";
    case DType::u64: return "uint64";
    case DType::i64: return "int64";
    case DType::f16: return "float16";
  }
  return "unknown";
}

void dtype_range(DType t, double* lo, double* hi) {
  switch (t) {
    case DType::u8: *lo = 0; *hi = 255; return;
    case DType::u16: *lo = 0; *hi = 65535; return;
    case DType::u32: *lo = 0; *hi = 4294967295.0; return;
    case DType::i8: *lo = -128; *hi = 127; return;
    case DType::i16: *lo = -32768; *hi = 32767; return;
    case DType::i32: *lo = -2147483648.0; *hi = 2147483647.0; return;
    case DType::b1: *lo = 0; *hi = 1; return;
    case DType::u64: *lo = 0; *hi = 18446744073709551615.0; return;
    case DType::i64: *lo = -9223372036854775808.0; *hi = 9223372036854775807.0; return;
    case DType::f16:
    case DType::f32:
    case DType::f64: *lo = 0; *hi = 1; return;
  }
}

int64_t Box::count() const {
  int64_t n = 1;
  for (auto s : size) n *= s;
  return n;
}

void ensure_levels(VolumeInfo* info) {
  if (!info->levels.empty()) return;
  LevelInfo l;
  l.shape = info->shape;
  l.factor.assign(info->shape.size(), 1.0);
  l.chunks = info->shape;
  info->levels.push_back(std::move(l));
}

std::optional<std::string> check_box(const Box& box, const std::vector<int64_t>& shape) {
  if (box.start.size() != shape.size() || box.size.size() != shape.size())
    return "box rank " + std::to_string(box.start.size()) + " does not match array rank " +
           std::to_string(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    if (box.start[i] < 0 || box.size[i] < 1 || box.start[i] + box.size[i] > shape[i])
      return "box outside the array on axis " + std::to_string(i);
  }
  return std::nullopt;
}

}  // namespace voxcast::data
