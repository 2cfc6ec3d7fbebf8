#pragma once
#include <array>
#include <optional>
#include <variant>
#include <vector>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

// Default contrast limits per channel, napari's rule (calc_data_range on the coarsest
// level, as napari does for a multiscale image): [0, 255] for uint8; otherwise the finite
// min and max of the level, or, over 1e7 voxels, of its first, middle and last plane
// (a central 62 x 62 patch of each when a plane is over 1e7 voxels); [0, 1] when all
// values are equal. napari uses the same range for the contrast slider.
std::variant<std::vector<std::array<double, 2>>, DataError> estimate_contrast(const VolumeSource& source);
// Percentiles `lo_q`, `hi_q` (0..1) of finite values; nullopt when there are none.
std::optional<std::array<double, 2>> percentiles(std::vector<float> values, double lo_q, double hi_q);

}  // namespace voxcast::data
