#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace voxcast::render {

struct Rgb {
  float r = 0, g = 0, b = 0;
};

// A named colormap sampled at 256 points (t in [0, 1]).
struct Colormap {
  std::string name;
  std::array<Rgb, 256> table;
  bool discrete = false;  // labels: the nearest entry, never a blend of two labels
  bool transparent_zero = false;  // labels: entry 0 (background) shows what lies beneath
  bool labels = false;  // values are label ids, coloured by label_color (any size), not by contrast
};

// The names we render, in the order the viewer lists them. find_colormap also takes
// "#rrggbb": black to that colour (napari's colormap of one colour, OME channel colours).
const std::vector<std::string>& colormap_names();
// Case-insensitive lookup; nullopt for an unknown name. Named maps keep their name,
// colours come back as lower-case "#rrggbb".
std::optional<Colormap> find_colormap(std::string_view name);

// napari's default label colours (CyclicLabelColormap of label_colormap(49, seed=0.5)):
// id 0 is the background (black here; renderers do not draw it), id k > 0 takes colour
// (k - 1) % 49 + 1, so ids of any size are coloured, neighbours distinctly.
inline constexpr int kLabelCycle = 49;
Rgb label_color(int64_t id);
// Linear interpolation in the table (nearest entry for a discrete map).
Rgb sample(const Colormap& cmap, float t);

}  // namespace voxcast::render
