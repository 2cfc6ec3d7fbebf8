#pragma once
#include <array>
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
};

// The names we render, in the order the viewer lists them.
const std::vector<std::string>& colormap_names();
// Case-insensitive lookup; nullopt for an unknown name.
std::optional<Colormap> find_colormap(std::string_view name);
// Linear interpolation in the table (nearest entry for a discrete map).
Rgb sample(const Colormap& cmap, float t);

}  // namespace voxcast::render
