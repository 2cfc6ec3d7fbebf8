#include "voxcast/data/in_memory.hpp"

#include "voxcast/data/dtype.hpp"

namespace voxcast::data {

InMemoryArray::InMemoryArray(VolumeInfo info, std::vector<uint8_t> bytes) : info_(std::move(info)), bytes_(std::move(bytes)) {
  ensure_levels(&info_);
  strides_.assign(info_.shape.size(), 1);
  for (size_t a = info_.shape.size(); a-- > 1;) strides_[a - 1] = strides_[a] * info_.shape[a];
}

std::optional<DataError> InMemoryArray::read_level(int level, const Box& box, float* out) const {
  if (level != 0) return DataError{info_.name, "level " + std::to_string(level) + " does not exist"};
  if (auto why = check_box(box, info_.shape)) return DataError{info_.name, *why};
  const size_t rank = info_.shape.size();
  const size_t item = dtype_size(info_.dtype);
  const int64_t row = box.size[rank - 1];
  const int64_t rows = box.count() / row;
  std::vector<int64_t> i(rank, 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t offset = 0;
    for (size_t a = 0; a < rank; ++a) offset += (box.start[a] + i[a]) * strides_[a];
    to_float(info_.dtype, bytes_.data() + static_cast<size_t>(offset) * item, static_cast<size_t>(row), out);
    out += row;
    for (size_t a = rank - 1; a-- > 0;) {
      if (++i[a] < box.size[a]) break;
      i[a] = 0;
    }
  }
  return std::nullopt;
}

}  // namespace voxcast::data
