#pragma once
#include <memory>
#include <string>
#include <variant>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

// Opens what the user named: "" or "synthetic" for the built-in sample, or
// "synthetic:CxZxYxX" for a generated volume of that size.
std::variant<std::unique_ptr<VolumeSource>, DataError> open_dataset(const std::string& spec);

}  // namespace voxcast::data
