#pragma once
// TIFF, BigTIFF, OME-TIFF and ImageJ hyperstacks through libtiff: multi-page stacks
// (pages = the non-yx axes), tiled or striped, 8/16/32-bit integers and floats, RGB(A)
// samples (one colour layer), pyramids in SubIFDs.
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
  double time_increment = 0;  // TimeIncrement: the t axis's step
  std::string unit_x, unit_z, unit_t;
  std::vector<std::string> channel_names;
  std::vector<int64_t> channel_colors;  // OME's signed RGBA integers (absent: 0)
};
std::optional<OmePixels> parse_ome_pixels(const std::string& xml);

// ImageJ's description ("ImageJ=1.53t\nimages=..\nchannels=..\nslices=..\nframes=..\n
// spacing=..\nunit=..\nfinterval=.."): a hyperstack's sizes (pages run C fastest, then
// Z, then T) and calibration; nullopt when `text` is not one.
struct ImageJMeta {
  int64_t images = 0, channels = 1, slices = 1, frames = 1;
  double spacing = 0, finterval = 0;
  std::string unit, tunit;  // as written ("micron", "\u00B5m", "sec"); see unit_name
};
std::optional<ImageJMeta> parse_imagej(const std::string& text);
// An ImageJ/OME unit as OME-NGFF names it ("micron", "um", "µm" -> "micrometer"); "" for
// "pixel" and unknown units.
std::string unit_name(const std::string& unit);

}  // namespace voxcast::data
