#include "voxcast/data/contrast.hpp"

#include <algorithm>
#include <cmath>

namespace voxcast::data {

std::optional<std::array<double, 2>> percentiles(std::vector<float> values, double lo_q, double hi_q) {
  values.erase(std::remove_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); }), values.end());
  if (values.empty()) return std::nullopt;
  auto at = [&](double q) {
    auto k = static_cast<size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1) + 0.5);
    std::nth_element(values.begin(), values.begin() + static_cast<long>(k), values.end());
    return static_cast<double>(values[k]);
  };
  return std::array<double, 2>{at(lo_q), at(hi_q)};
}

namespace {
// min/max of the finite values; false when there are none.
bool finite_range(const std::vector<float>& v, double* lo, double* hi) {
  bool any = false;
  float a = 0, b = 0;
  for (float x : v) {
    if (!std::isfinite(x)) continue;
    if (!any) a = b = x;
    a = std::min(a, x);
    b = std::max(b, x);
    any = true;
  }
  *lo = a;
  *hi = b;
  return any;
}
}  // namespace

std::variant<std::vector<std::array<double, 2>>, DataError> estimate_contrast(const VolumeSource& source) {
  const VolumeInfo& info = source.info();
  const int level = static_cast<int>(info.levels.size()) - 1;
  const auto& shape = info.levels.back().shape;
  const size_t rank = shape.size();
  int channels = info.channel_axis >= 0 ? static_cast<int>(shape[static_cast<size_t>(info.channel_axis)]) : 1;
  std::vector<std::array<double, 2>> out;
  if (info.dtype == DType::u8) return std::vector<std::array<double, 2>>(static_cast<size_t>(channels), {0.0, 255.0});
  // An RGB image is one layer: its range spans every sample.
  const int groups = info.rgb ? 1 : channels;
  for (int c = 0; c < groups; ++c) {
    int64_t voxels = 1, plane = 1;
    for (size_t a = 0; a < rank; ++a) {
      if (static_cast<int>(a) == info.channel_axis) continue;
      voxels *= shape[a];
      if (a + 2 >= rank) plane *= shape[a];
    }
    // The boxes napari's calc_data_range reads: all of it, or (over 1e7 voxels) the first,
    // middle and last plane, each cut to a central 62 x 62 patch when itself over 1e7.
    std::vector<Box> boxes;
    for (int which = 0; which < (voxels > 10'000'000 ? 3 : 1); ++which) {
      Box box;
      box.start.assign(rank, 0);
      box.size.assign(rank, 1);
      for (size_t a = 0; a < rank; ++a) {
        if (static_cast<int>(a) == info.channel_axis) {
          box.start[a] = info.rgb ? 0 : c;
          box.size[a] = info.rgb ? shape[a] : 1;
        } else if (voxels <= 10'000'000) {
          box.size[a] = shape[a];
        } else if (a + 2 >= rank) {
          box.size[a] = plane > 10'000'000 ? std::min<int64_t>(shape[a], 62) : shape[a];
          box.start[a] = (shape[a] - box.size[a]) / 2;
        } else {
          box.start[a] = which == 0 ? 0 : which == 1 ? shape[a] / 2 : shape[a] - 1;
        }
      }
      boxes.push_back(std::move(box));
    }
    double lo = 0, hi = 0;
    bool any = false;
    for (const Box& box : boxes) {
      std::vector<float> values(static_cast<size_t>(box.count()));
      if (auto err = source.read_level(level, box, values.data())) return *err;
      double a = 0, b = 0;
      if (!finite_range(values, &a, &b)) continue;
      lo = any ? std::min(lo, a) : a;
      hi = any ? std::max(hi, b) : b;
      any = true;
    }
    // napari: all values equal (or none finite) gives [0, 1].
    if (!any || hi <= lo) lo = 0, hi = 1;
    out.push_back({lo, hi});
  }
  if (info.rgb) out.assign(static_cast<size_t>(channels), out.front());
  return out;
}

}  // namespace voxcast::data
