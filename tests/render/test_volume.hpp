#pragma once
// A tiny in-memory volume with values chosen by the test.
#include <cmath>
#include <functional>
#include <mutex>
#include <set>

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

// z, y, x; `levels` levels halving every axis, each level the smooth field sampled at its
// voxel centres. Levels not in `ready` report not in memory (and still read when asked).
class FieldPyramid final : public data::VolumeSource {
 public:
  FieldPyramid(int64_t n, int levels) {
    info_.name = "field";
    info_.kind = "test";
    info_.axes = {{"z", "space", 1, 0, ""}, {"y", "space", 1, 0, ""}, {"x", "space", 1, 0, ""}};
    info_.shape = {n, n, n};
    info_.dtype = data::DType::u16;
    info_.channels = {data::make_channel("f", "gray", 0, 100)};
    for (int l = 0; l < levels; ++l) {
      int64_t s = n >> l;
      double f = static_cast<double>(n) / static_cast<double>(s);
      info_.levels.push_back({{s, s, s}, {f, f, f}, {32, 32, 32}});
    }
  }
  static float field(double z, double y, double x) {
    return static_cast<float>(50 + 45 * std::sin(0.05 * x) * std::cos(0.04 * y) * std::sin(0.03 * z + 0.5));
  }
  const data::VolumeInfo& info() const override { return info_; }
  std::optional<data::DataError> read_level(int level, const data::Box& box, float* out) const override {
    if (auto why = data::check_box(box, info_.levels[static_cast<size_t>(level)].shape)) return data::DataError{"f", *why};
    double f = info_.levels[static_cast<size_t>(level)].factor[0];
    for (int64_t z = 0; z < box.size[0]; ++z)
      for (int64_t y = 0; y < box.size[1]; ++y)
        for (int64_t x = 0; x < box.size[2]; ++x)
          *out++ = field((static_cast<double>(box.start[0] + z) + 0.5) * f - 0.5,
                         (static_cast<double>(box.start[1] + y) + 0.5) * f - 0.5,
                         (static_cast<double>(box.start[2] + x) + 0.5) * f - 0.5);
    return std::nullopt;
  }
  bool request(int level, const data::Box&, data::RequestHint hint) const override {
    std::lock_guard lock(m_);
    if (!hint.check_only) {
      ++requests;
      requested_.insert(level);
    }
    return ready.count(level) > 0;
  }
  // A requested level not yet ready is on its way (the test makes it arrive).
  bool loads_pending() const override {
    std::lock_guard lock(m_);
    for (int l : requested_)
      if (!ready.count(l)) return true;
    return false;
  }
  mutable std::set<int> ready;
  mutable int requests = 0;

 private:
  data::VolumeInfo info_;
  mutable std::mutex m_;
  mutable std::set<int> requested_;
};

}  // namespace voxcast::testing
