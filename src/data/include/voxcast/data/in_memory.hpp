#pragma once
// An array held whole in memory in its own dtype (NIfTI volumes, test data).
#include <memory>
#include <vector>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

class InMemoryArray final : public VolumeSource {
 public:
  // `bytes`: native-order elements of info.dtype in C order of info.shape.
  InMemoryArray(VolumeInfo info, std::vector<uint8_t> bytes);
  const VolumeInfo& info() const override { return info_; }
  std::optional<DataError> read_level(int level, const Box& box, float* out) const override;
  size_t resident_bytes() const override { return bytes_.size(); }
  VolumeInfo& mutable_info() { return info_; }  // before the source is shared

 private:
  VolumeInfo info_;
  std::vector<uint8_t> bytes_;
  std::vector<int64_t> strides_;
};

}  // namespace voxcast::data
