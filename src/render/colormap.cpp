#include "voxcast/render/colormap.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

#include "colormap_tables.hpp"

namespace voxcast::render {
namespace {

Rgb from_table(const float (&t)[256][3], size_t i) { return {t[i][0], t[i][1], t[i][2]}; }

// The table behind the "label" name (3D and legacy users index it by value 0..255).
Colormap label_colormap() {
  Colormap c;
  c.name = "label";
  c.discrete = true;
  c.transparent_zero = true;
  c.labels = true;
  for (size_t i = 0; i < 256; ++i) c.table[i] = label_color(static_cast<int64_t>(i));
  return c;
}

// "#rrggbb" (or "rrggbb"): its channels in 0..1; false when it is not one.
bool parse_hex(std::string_view s, Rgb* out) {
  if (!s.empty() && s[0] == '#') s.remove_prefix(1);
  if (s.size() != 6) return false;
  auto digit = [](char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  float v[3];
  for (size_t i = 0; i < 3; ++i) {
    int hi = digit(s[2 * i]), lo = digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    v[i] = static_cast<float>(hi * 16 + lo) / 255.0f;
  }
  *out = {v[0], v[1], v[2]};
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

const std::vector<std::string>& colormap_names() {
  static const std::vector<std::string> names = {"gray",    "green", "magenta", "cyan",    "red",
                                                 "blue",    "yellow", "viridis", "magma", "inferno",
                                                 "turbo", "label"};
  return names;
}

Rgb label_color(int64_t id) {
  if (id == 0) return {0, 0, 0};
  constexpr int64_t n = kLabelCycle;
  const int64_t k = ((id - 1) % n + n) % n + 1;  // Python's modulo: negative ids cycle too
  const unsigned char* c = kNapariLabelColors[k];
  return {static_cast<float>(c[0]) / 255.0f, static_cast<float>(c[1]) / 255.0f, static_cast<float>(c[2]) / 255.0f};
}

std::optional<Colormap> find_colormap(std::string_view name) {
  std::string n = lower(name);
  if (n == "grey") n = "gray";
  if (n == "label" || n == "labels") return label_colormap();
  Colormap c;
  c.name = n;
  const float(*table)[256][3] = n == "viridis" ? &kViridisTable
                               : n == "magma"  ? &kMagmaTable
                               : n == "inferno" ? &kInfernoTable
                               : n == "turbo"  ? &kTurboTable
                                               : nullptr;
  if (table) {
    for (size_t i = 0; i < 256; ++i) c.table[i] = from_table(*table, i);
    return c;
  }
  // napari's simple colormaps: black to one colour, linearly (a named primary or "#rrggbb",
  // as napari makes of an OME channel colour).
  static const std::pair<const char*, Rgb> named[] = {{"gray", {1, 1, 1}},    {"green", {0, 1, 0}}, {"magenta", {1, 0, 1}},
                                                      {"cyan", {0, 1, 1}},    {"red", {1, 0, 0}},   {"blue", {0, 0, 1}},
                                                      {"yellow", {1, 1, 0}}};
  Rgb tint{};
  bool found = false;
  for (const auto& [nm, rgb] : named)
    if (n == nm) {
      tint = rgb;
      found = true;
    }
  if (!found) {
    if (!parse_hex(n, &tint)) return std::nullopt;
    char hex[8];
    std::snprintf(hex, sizeof hex, "#%02x%02x%02x", static_cast<unsigned>(std::lround(tint.r * 255)),
                  static_cast<unsigned>(std::lround(tint.g * 255)), static_cast<unsigned>(std::lround(tint.b * 255)));
    c.name = hex;
  }
  for (size_t i = 0; i < 256; ++i) {
    auto t = static_cast<float>(i) / 255.0f;
    c.table[i] = {tint.r * t, tint.g * t, tint.b * t};
  }
  return c;
}

Rgb sample(const Colormap& cmap, float t) {
  t = std::clamp(t, 0.0f, 1.0f) * 255.0f;
  if (cmap.discrete) return cmap.table[static_cast<size_t>(t + 0.5f)];
  auto i = static_cast<size_t>(t);
  if (i >= 255) return cmap.table[255];
  float f = t - static_cast<float>(i);
  const Rgb& a = cmap.table[i];
  const Rgb& b = cmap.table[i + 1];
  return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

}  // namespace voxcast::render
