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

std::variant<std::vector<std::array<double, 2>>, DataError> estimate_contrast(const VolumeSource& source) {
  const VolumeInfo& info = source.info();
  const int level = static_cast<int>(info.levels.size()) - 1;
  const auto& shape = info.levels.back().shape;
  const size_t rank = shape.size();
  int channels = info.channel_axis >= 0 ? static_cast<int>(shape[static_cast<size_t>(info.channel_axis)]) : 1;
  double dlo = 0, dhi = 1;
  dtype_range(info.dtype, &dlo, &dhi);
  std::vector<std::array<double, 2>> out;
  for (int c = 0; c < channels; ++c) {
    // The middle of every axis but the last two (the plane), capped to 2048^2 voxels about the centre.
    Box box;
    box.start.assign(rank, 0);
    box.size.assign(rank, 1);
    for (size_t a = 0; a < rank; ++a) {
      if (static_cast<int>(a) == info.channel_axis) {
        box.start[a] = c;
      } else if (a + 2 >= rank) {
        box.size[a] = std::min<int64_t>(shape[a], 2048);
        box.start[a] = (shape[a] - box.size[a]) / 2;
      } else {
        box.start[a] = shape[a] / 2;
      }
    }
    std::vector<float> values(static_cast<size_t>(box.count()));
    if (auto err = source.read_level(level, box, values.data())) return *err;
    auto p = percentiles(values, 0.005, 0.995);
    std::array<double, 2> lim{dlo, dhi};
    if (p && (*p)[1] > (*p)[0]) {
      lim = *p;
    } else if (p) {
      values.erase(std::remove_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); }), values.end());
      auto mm = std::minmax_element(values.begin(), values.end());
      if (*mm.second > *mm.first) lim = {*mm.first, *mm.second};
      else if ((*p)[0] != 0) lim = {std::min(0.0, (*p)[0]), std::max(0.0, (*p)[0])};
    }
    out.push_back(lim);
  }
  return out;
}

}  // namespace voxcast::data
