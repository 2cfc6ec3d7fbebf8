#pragma once
// NumPy .npy files (format 1.0) and region strings, for voxcast-info.
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

// Writes `values` (C order of `shape`) as an .npy of dtype `t` (values converted back,
// exact for every dtype up to 24-bit integers and for float32).
std::optional<std::string> write_npy(const std::string& path, DType t, const std::vector<int64_t>& shape,
                                     const std::vector<float>& values);
// "z0:z1,y0:y1,x0:x1": one entry per axis, each "a:b", "a" (one index, kept as size 1),
// ":" (all) or with an open side ("a:", ":b"); checked against `shape`.
std::variant<Box, std::string> parse_region(const std::string& text, const std::vector<int64_t>& shape);

}  // namespace voxcast::data
