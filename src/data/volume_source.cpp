#include "voxcast/data/volume_source.hpp"

#include <algorithm>
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

SampledRead make_sampled_read(int level, const Box& box, const std::vector<int64_t>& step) {
  SampledRead r;
  r.level = level;
  r.box = box;
  r.step = step;
  size_t n = 1;
  for (size_t a = 0; a < box.size.size(); ++a) {
    r.shape.push_back((box.size[a] + step[a] - 1) / step[a]);
    n *= static_cast<size_t>(r.shape.back());
  }
  r.values.assign(n, 0.0f);
  return r;
}

std::optional<DataError> VolumeSource::sample(SampledRead* r, double deadline_ms) const {
  (void)deadline_ms;
  // Row by row along the last axis: a row of the box in memory at a time.
  const size_t rank = r->box.size.size();
  if (rank == 0) return DataError{info().name, "a sampled read needs at least one axis"};
  Box row = r->box;
  std::vector<float> buf(static_cast<size_t>(r->box.size[rank - 1]));
  std::vector<int64_t> i(rank, 0);
  const int64_t n = r->shape[rank - 1];
  for (size_t k = 0; k < r->values.size(); k += static_cast<size_t>(n)) {
    for (size_t a = 0; a + 1 < rank; ++a) {
      row.start[a] = r->box.start[a] + i[a] * r->step[a];
      row.size[a] = 1;
    }
    if (auto err = read_level(r->level, row, buf.data())) return err;
    for (int64_t x = 0; x < n; ++x) r->values[k + static_cast<size_t>(x)] = buf[static_cast<size_t>(x * r->step[rank - 1])];
    for (size_t a = rank - 1; a-- > 0;) {
      if (++i[a] < r->shape[a]) break;
      i[a] = 0;
    }
  }
  r->complete = true;
  return std::nullopt;
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
