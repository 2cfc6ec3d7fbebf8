#pragma once
// A tiny in-memory volume with values chosen by the test.
#include <functional>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::testing {

class FunctionVolume final : public data::VolumeSource {
 public:
  // Axes c, z, y, x; value(c, z, y, x).
  FunctionVolume(int c, int z, int y, int x, std::function<float(int, int, int, int)> value) : value_(std::move(value)) {
    info_.name = "test";
    info_.kind = "test";
    info_.axes = {{"c", "channel", 1, 0, ""}, {"z", "space", 1, 0, ""}, {"y", "space", 1, 0, ""}, {"x", "space", 1, 0, ""}};
    info_.shape = {c, z, y, x};
    info_.dtype = data::DType::u16;
    info_.channel_axis = 0;
    for (int i = 0; i < c; ++i) info_.channels.push_back(data::make_channel("ch" + std::to_string(i), i == 0 ? "red" : "green", 0, 100));
    data::ensure_levels(&info_);
  }
  const data::VolumeInfo& info() const override { return info_; }
  std::optional<data::DataError> read_level(int, const data::Box& b, float* out) const override {
    if (auto why = data::check_box(b, info_.shape)) return data::DataError{"test", *why};
    for (int64_t c = 0; c < b.size[0]; ++c)
      for (int64_t z = 0; z < b.size[1]; ++z)
        for (int64_t y = 0; y < b.size[2]; ++y)
          for (int64_t x = 0; x < b.size[3]; ++x)
            *out++ = value_(static_cast<int>(b.start[0] + c), static_cast<int>(b.start[1] + z),
                            static_cast<int>(b.start[2] + y), static_cast<int>(b.start[3] + x));
    return std::nullopt;
  }

 private:
  data::VolumeInfo info_;
  std::function<float(int, int, int, int)> value_;
};

}  // namespace voxcast::testing
