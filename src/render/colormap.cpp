#include "voxcast/render/colormap.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace voxcast::render {
namespace {

using Poly = std::array<std::array<double, 3>, 7>;

// Degree-6 polynomial fits of matplotlib's perceptual maps (Matt Zucker, public domain);
// max error well under one 8-bit step.
constexpr Poly kViridis = {{{0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
                            {0.1050930431085774, 1.404613529898575, 1.384590162594685},
                            {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
                            {-4.634230498983486, -5.799100973351585, -19.33244095627987},
                            {6.228269936347081, 14.17993336680509, 56.69055260068105},
                            {4.776384997670288, -13.74514537774601, -65.35303263337234},
                            {-5.435455855934631, 4.645852612178535, 26.3124352495832}}};
constexpr Poly kMagma = {{{-0.002136485053939582, -0.000749655052795221, -0.005386127855323933},
                          {0.2516605407371642, 0.6775232436837668, 2.494026599312351},
                          {8.353717279216625, -3.577719514958484, 0.3144679030132573},
                          {-27.66873308576866, 14.26473078096533, -13.64921318813922},
                          {52.17613981234068, -27.94360607168351, 12.94416944238394},
                          {-50.76852536473588, 29.04658282127291, 4.23415299384598},
                          {18.65570506591883, -11.48977351997711, -5.601961508734096}}};
constexpr Poly kInferno = {{{0.0002189403691192265, 0.001651004631001012, -0.01948089843709184},
                            {0.1065134194856116, 0.5639564367884091, 3.932712388889277},
                            {11.60249308247187, -3.972853965665698, -15.9423941062914},
                            {-41.70399613139459, 17.43639888205313, 44.35414519872813},
                            {77.162935699427, -33.40235894210092, -81.80730925738993},
                            {-71.31942824499214, 32.62606426397723, 73.20951985803202},
                            {25.13112622477341, -12.24266895238567, -23.07032500287172}}};

Rgb eval_poly(const Poly& p, double t) {
  double c[3] = {0, 0, 0};
  for (int k = 6; k >= 0; --k)
    for (int i = 0; i < 3; ++i) c[i] = c[i] * t + p[static_cast<size_t>(k)][static_cast<size_t>(i)];
  auto f = [](double v) { return static_cast<float>(std::clamp(v, 0.0, 1.0)); };
  return {f(c[0]), f(c[1]), f(c[2])};
}

// Google's Turbo, polynomial approximation (Anton Mikhailov, Apache-2.0 snippet).
Rgb turbo(double x) {
  double x2 = x * x, x3 = x2 * x, x4 = x2 * x2, x5 = x4 * x;
  double r = 0.13572138 + 4.61539260 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5;
  double g = 0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5;
  double b = 0.10667330 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5;
  auto f = [](double v) { return static_cast<float>(std::clamp(v, 0.0, 1.0)); };
  return {f(r), f(g), f(b)};
}

// Integer labels 0..255 (contrast 0..255): 0 is black (adds nothing when blended
// additively), the others walk the hue circle by the golden angle so neighbours differ.
Colormap label_colormap() {
  Colormap c;
  c.name = "label";
  c.discrete = true;
  c.transparent_zero = true;
  for (size_t i = 1; i < 256; ++i) {
    double h = std::fmod(static_cast<double>(i) * 0.618033988749895, 1.0) * 6.0;
    double s = i % 2 ? 0.85 : 0.65, v = i % 3 ? 1.0 : 0.8;
    double f = h - std::floor(h), p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double rgb[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
    const double* o = rgb[static_cast<int>(h) % 6];
    c.table[i] = {static_cast<float>(o[0]), static_cast<float>(o[1]), static_cast<float>(o[2])};
  }
  return c;
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

std::optional<Colormap> find_colormap(std::string_view name) {
  std::string n = lower(name);
  if (n == "grey") n = "gray";
  Rgb tint{};
  bool linear = true;
  if (n == "gray") tint = {1, 1, 1};
  else if (n == "green") tint = {0, 1, 0};
  else if (n == "magenta") tint = {1, 0, 1};
  else if (n == "cyan") tint = {0, 1, 1};
  else if (n == "red") tint = {1, 0, 0};
  else if (n == "blue") tint = {0, 0, 1};
  else if (n == "yellow") tint = {1, 1, 0};
  else if (n == "viridis" || n == "magma" || n == "inferno" || n == "turbo" || n == "label") linear = false;
  else return std::nullopt;
  Colormap c;
  c.name = n;
  if (n == "label") return label_colormap();
  for (size_t i = 0; i < 256; ++i) {
    double t = static_cast<double>(i) / 255.0;
    if (linear) {
      c.table[i] = {static_cast<float>(tint.r * t), static_cast<float>(tint.g * t), static_cast<float>(tint.b * t)};
    } else if (n == "viridis") {
      c.table[i] = eval_poly(kViridis, t);
    } else if (n == "magma") {
      c.table[i] = eval_poly(kMagma, t);
    } else if (n == "inferno") {
      c.table[i] = eval_poly(kInferno, t);
    } else {
      c.table[i] = turbo(t);
    }
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
