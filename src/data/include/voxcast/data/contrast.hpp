#pragma once
#include <array>
#include <optional>
#include <variant>
#include <vector>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

// Default contrast limits per channel: the 0.5 and 99.5 percentiles of the middle plane
// of the coarsest level (napari-cuda's rule, but on the coarsest level so opening a
// terabyte dataset reads a few chunks). Falls back to min/max, then to the dtype range.
std::variant<std::vector<std::array<double, 2>>, DataError> estimate_contrast(const VolumeSource& source);
// Percentiles `lo_q`, `hi_q` (0..1) of finite values; nullopt when there are none.
std::optional<std::array<double, 2>> percentiles(std::vector<float> values, double lo_q, double hi_q);

}  // namespace voxcast::data
