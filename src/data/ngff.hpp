#pragma once
// OME-NGFF 0.4 (and 0.3) multiscales/omero metadata → VolumeInfo (internal).
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

struct NgffLevel {
  std::string path;
  std::vector<double> scale;        // per axis, empty when not given
  std::vector<double> translation;  // per axis, empty when not given
};
struct NgffImage {
  std::vector<Axis> axes;  // empty: unknown (a plain array)
  std::vector<NgffLevel> levels;
  std::vector<double> global_scale;
  std::vector<double> global_translation;
  std::vector<ChannelInfo> channels;  // from omero
  std::vector<bool> channel_window;   // omero gave a window for this channel
};

std::variant<NgffImage, std::string> parse_ngff(const nlohmann::json& attrs);

// Metadata text (.zarray, .zattrs, a TIFF description) as JSON; *why is set (and null
// returned) when it is malformed or nests deeper than 64 levels: copying or dumping a
// value recurses once per level, so a file nested 150 000 deep would overflow the stack.
nlohmann::json parse_metadata_json(const std::string& text, std::string* why);
// Axes, channel axis and channels for an array of `rank` dimensions.
std::variant<VolumeInfo, std::string> ngff_volume_info(const NgffImage& image, size_t rank);
// Voxel size of level `l` over level 0, per axis.
std::vector<double> level_factors(const NgffImage& image, size_t l, size_t rank);
// Default axis names of an array without metadata: ..., "z", "y", "x".
std::vector<Axis> default_axes(size_t rank);
// Colormap name for an omero colour "RRGGBB".
std::string colormap_for_color(const std::string& hex);
// napari's rgb=True where the data says colour: a plain array (no multiscales) whose last
// axis holds 3 or 4 samples (napari's guess_rgb; axes renamed ..., y, x, c), or an
// OME-Zarr uint8 channel axis of 3 or 4 whose omero colours are red, green, blue.
void mark_rgb(VolumeInfo* info, const NgffImage& image, bool plain);
// napari's defaults: one channel gray, two magenta/green, more cycle through hues.
std::string default_channel_colormap(int channel, int channels);

class ChunkedSource;
// Contrast limits of channels without an omero window: percentiles of the coarsest level.
std::optional<DataError> fill_default_contrast(ChunkedSource& source, const NgffImage& image);

}  // namespace voxcast::data
