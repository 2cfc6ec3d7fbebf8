#include "voxcast/data/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace voxcast::data {
namespace {

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  double uniform() { return static_cast<double>((s_ = splitmix(s_)) >> 11) * 0x1.0p-53; }
  double range(double a, double b) { return a + (b - a) * uniform(); }

 private:
  uint64_t s_;
};

struct Cell {
  double z, y, x;   // centre in voxels
  double r;         // cell radius in xy voxels (z radius is r / kZScale)
  double nucleus;   // nucleus radius as a fraction of r
  double bright_n;  // nucleus brightness
  double bright_m;  // membrane brightness
  double phase;
};

constexpr double kZScale = 2.0;  // z voxels are twice as thick as xy voxels

class InMemoryVolume final : public VolumeSource {
 public:
  InMemoryVolume(VolumeInfo info, std::vector<uint16_t> data) : info_(std::move(info)), data_(std::move(data)) {
    ensure_levels(&info_);
    strides_.assign(info_.shape.size(), 1);
    for (int i = static_cast<int>(info_.shape.size()) - 2; i >= 0; --i)
      strides_[static_cast<size_t>(i)] = strides_[static_cast<size_t>(i) + 1] * info_.shape[static_cast<size_t>(i) + 1];
  }
  const VolumeInfo& info() const override { return info_; }

  std::optional<DataError> read_level(int level, const Box& box, float* out) const override {
    if (level != 0) return DataError{info_.name, "level " + std::to_string(level) + " does not exist"};
    if (auto why = check_box(box, info_.shape)) return DataError{info_.name, *why};
    const size_t rank = info_.shape.size();
    // Iterate over all rows (last axis contiguous).
    std::vector<int64_t> idx(rank, 0);
    const int64_t row = box.size[rank - 1];
    const int64_t rows = box.count() / row;
    for (int64_t r = 0; r < rows; ++r) {
      int64_t offset = 0;
      for (size_t a = 0; a < rank; ++a) offset += (box.start[a] + idx[a]) * strides_[a];
      const uint16_t* src = data_.data() + offset;
      for (int64_t k = 0; k < row; ++k) out[k] = static_cast<float>(src[k]);
      out += row;
      for (int a = static_cast<int>(rank) - 2; a >= 0; --a) {
        auto ua = static_cast<size_t>(a);
        if (++idx[ua] < box.size[ua]) break;
        idx[ua] = 0;
      }
    }
    return std::nullopt;
  }

 private:
  VolumeInfo info_;
  std::vector<uint16_t> data_;
  std::vector<int64_t> strides_;
};

std::vector<Cell> place_cells(const SyntheticOptions& o) {
  Rng rng(o.seed);
  std::vector<Cell> cells;
  const double spacing = 46.0;
  const double zspacing = spacing / kZScale;
  for (double z = zspacing * 0.5; z < static_cast<double>(o.depth); z += zspacing) {
    for (double y = spacing * 0.5; y < static_cast<double>(o.height); y += spacing) {
      for (double x = spacing * 0.5; x < static_cast<double>(o.width); x += spacing) {
        if (rng.uniform() < 0.12) continue;  // gaps, like real tissue
        Cell c;
        c.z = z + rng.range(-0.3, 0.3) * zspacing;
        c.y = y + rng.range(-0.3, 0.3) * spacing;
        c.x = x + rng.range(-0.3, 0.3) * spacing;
        c.r = rng.range(17.0, 24.0);
        c.nucleus = rng.range(0.42, 0.55);
        c.bright_n = rng.range(1600.0, 4200.0);
        c.bright_m = rng.range(900.0, 1800.0);
        c.phase = rng.range(0.0, 6.283);
        cells.push_back(c);
      }
    }
  }
  return cells;
}

// Adds one cell's nucleus (channel 0) and membrane (channel 1) into float planes.
void draw_cell(const Cell& c, const SyntheticOptions& o, float* nuclei, float* membranes) {
  const double rz = c.r / kZScale;
  const double reach = 1.25;
  auto lo = [](double v) { return static_cast<int64_t>(std::floor(v)); };
  int64_t z0 = std::max<int64_t>(0, lo(c.z - rz * reach)), z1 = std::min<int64_t>(o.depth - 1, lo(c.z + rz * reach) + 1);
  int64_t y0 = std::max<int64_t>(0, lo(c.y - c.r * reach)), y1 = std::min<int64_t>(o.height - 1, lo(c.y + c.r * reach) + 1);
  int64_t x0 = std::max<int64_t>(0, lo(c.x - c.r * reach)), x1 = std::min<int64_t>(o.width - 1, lo(c.x + c.r * reach) + 1);
  const double membrane_width = 1.6;  // voxels (xy)
  for (int64_t z = z0; z <= z1; ++z) {
    double dz = (static_cast<double>(z) - c.z) * kZScale;
    for (int64_t y = y0; y <= y1; ++y) {
      double dy = static_cast<double>(y) - c.y;
      size_t row = static_cast<size_t>((z * o.height + y) * o.width);
      for (int64_t x = x0; x <= x1; ++x) {
        double dx = static_cast<double>(x) - c.x;
        double d = std::sqrt(dx * dx + dy * dy + dz * dz) / c.r;  // 1.0 at the membrane
        if (d > reach) continue;
        double dn = d / c.nucleus;
        if (dn < 1.2) {
          double body = dn < 1.0 ? 1.0 - 0.35 * dn * dn * dn * dn : std::max(0.0, 0.65 - (dn - 1.0) * 3.25);
          double texture = 0.78 + 0.22 * std::sin(0.9 * static_cast<double>(x) + c.phase) *
                                      std::sin(0.7 * static_cast<double>(y) - c.phase) *
                                      std::cos(1.1 * static_cast<double>(z) + 0.5 * c.phase);
          nuclei[row + static_cast<size_t>(x)] += static_cast<float>(c.bright_n * body * texture);
        }
        double m = (d - 1.0) * c.r / membrane_width;
        if (std::abs(m) < 4.0) {
          double wobble = 0.8 + 0.2 * std::sin(3.0 * std::atan2(dy, dx) + c.phase);
          membranes[row + static_cast<size_t>(x)] += static_cast<float>(c.bright_m * wobble * std::exp(-m * m));
        }
      }
    }
  }
}

}  // namespace

std::unique_ptr<VolumeSource> make_synthetic_cells(const SyntheticOptions& o) {
  VolumeInfo info;
  info.name = "synthetic-cells";
  info.kind = "synthetic";
  info.axes = {{"c", "channel", 1.0, 0.0, ""}, {"z", "space", 0.5 * kZScale, 0.0, "micrometer"},
               {"y", "space", 0.5, 0.0, "micrometer"}, {"x", "space", 0.5, 0.0, "micrometer"}};
  info.shape = {o.channels, o.depth, o.height, o.width};
  info.dtype = DType::u16;
  info.channel_axis = 0;
  const char* names[] = {"nuclei", "membranes", "channel-2", "channel-3"};
  const char* cmaps[] = {"magenta", "green", "cyan", "red"};
  for (int c = 0; c < o.channels; ++c)
    info.channels.push_back(make_channel(names[c % 4], cmaps[c % 4], 100.0, c == 0 ? 3600.0 : 2000.0));

  const auto voxels = static_cast<size_t>(o.depth * o.height * o.width);
  std::vector<float> nuclei(voxels, 0.0f), membranes(voxels, 0.0f);
  for (const Cell& c : place_cells(o)) draw_cell(c, o, nuclei.data(), membranes.data());

  std::vector<uint16_t> data(voxels * static_cast<size_t>(o.channels));
  for (int c = 0; c < o.channels; ++c) {
    const float* signal = c % 2 == 0 ? nuclei.data() : membranes.data();
    uint16_t* out = data.data() + voxels * static_cast<size_t>(c);
    const uint64_t salt = splitmix(o.seed * 31 + static_cast<uint64_t>(c));
    for (size_t i = 0; i < voxels; ++i) {
      // Background + shot noise (variance ~ signal) + read noise, from a per-voxel hash.
      uint64_t h = splitmix(i ^ salt);
      double g = (static_cast<double>(h & 0xffff) + static_cast<double>((h >> 16) & 0xffff) +
                  static_cast<double>((h >> 32) & 0xffff) + static_cast<double>((h >> 48) & 0xffff)) /
                     65535.0 - 2.0;
      g *= 1.7320508;  // unit variance
      double s = 100.0 + signal[i];
      double v = s + g * (std::sqrt(s) * 2.0 + 12.0);
      out[i] = static_cast<uint16_t>(std::clamp(v, 0.0, 65535.0));
    }
  }
  return std::make_unique<InMemoryVolume>(std::move(info), std::move(data));
}

}  // namespace voxcast::data
