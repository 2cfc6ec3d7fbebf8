#pragma once
// TIFF, BigTIFF and OME-TIFF through libtiff: multi-page stacks (pages = the non-yx axes),
// tiled or striped, 8/16/32-bit integers and 32-bit floats, pyramids in SubIFDs.
#include <memory>
#include <string>
#include <variant>

#include "voxcast/data/chunk_cache.hpp"
#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

std::variant<std::unique_ptr<VolumeSource>, DataError> open_tiff(const std::string& path,
                                                                 std::shared_ptr<ChunkCache> cache);
bool looks_like_tiff(const std::string& path);

// OME-XML <Pixels> facts we use (exposed for tests).
struct OmePixels {
  std::string dimension_order = "XYZCT";
  int64_t size_x = 0, size_y = 0, size_z = 1, size_c = 1, size_t_ = 1;
  double physical_x = 0, physical_y = 0, physical_z = 0;
  std::string unit_x, unit_z;
  std::vector<std::string> channel_names;
  std::vector<int64_t> channel_colors;  // OME's signed RGBA integers (absent: 0)
};
std::optional<OmePixels> parse_ome_pixels(const std::string& xml);

}  // namespace voxcast::data
