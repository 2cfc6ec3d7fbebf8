#pragma once
// Several images shown together as the channels of one source (an MRI and its atlas):
// the first image sets the grid; the others are placed by their physical scale and
// translation and sampled onto it (nearest voxel), so the renderers see one array.
#include <memory>
#include <variant>
#include <vector>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

std::variant<std::unique_ptr<VolumeSource>, DataError> stack_channels(
    std::vector<std::shared_ptr<const VolumeSource>> images, const std::string& name);

}  // namespace voxcast::data
