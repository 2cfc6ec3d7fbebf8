#include "voxcast/data/procedural.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "voxcast/data/chunked_source.hpp"

namespace voxcast::data {
namespace {

constexpr int64_t kCell = 64;         // lattice spacing (level-0 voxels)
constexpr double kRadius = 22.0;      // cell radius
constexpr double kBackground = 100.0;

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

class ProceduralCells final : public ChunkedSource {
 public:
  ProceduralCells(const ProceduralOptions& o, std::shared_ptr<ChunkCache> cache) : ChunkedSource(std::move(cache)), o_(o) {
    info_.name = "procedural:" + std::to_string(o.size) + ":" + std::to_string(o.levels);
    info_.kind = "procedural";
    info_.axes = {{"z", "space", 1, 0, "micrometer"}, {"y", "space", 1, 0, "micrometer"}, {"x", "space", 1, 0, "micrometer"}};
    info_.shape = {o.size, o.size, o.size};
    info_.dtype = DType::u16;
    info_.channels = {make_channel("cells", "gray", 90, 1200)};
    for (int l = 0; l < o.levels; ++l) {
      int64_t s = std::max<int64_t>(1, o.size >> l);
      double f = static_cast<double>(o.size) / static_cast<double>(s);
      info_.levels.push_back({{s, s, s}, {f, f, f}, {o.chunk, o.chunk, o.chunk}});
    }
    finish_info();
  }
  ~ProceduralCells() override { close_loads(); }  // before the options the loads read

 protected:
  ChunkResult load_chunk(int level, const std::vector<int64_t>& coords) const override {
    const auto& lv = info_.levels[static_cast<size_t>(level)];
    const double f = lv.factor[0];
    const int64_t n = o_.chunk;
    // The level-0 extent of the chunk; no cell near it: the whole chunk is background.
    double lo[3], hi[3];
    for (size_t a = 0; a < 3; ++a) {
      lo[a] = static_cast<double>(coords[a] * n) * f;
      hi[a] = static_cast<double>((coords[a] + 1) * n) * f;
    }
    bool any = false;
    for (int64_t cz = static_cast<int64_t>(lo[0]) / kCell; !any && cz * kCell < hi[0]; ++cz)
      for (int64_t cy = static_cast<int64_t>(lo[1]) / kCell; !any && cy * kCell < hi[1]; ++cy)
        for (int64_t cx = static_cast<int64_t>(lo[2]) / kCell; !any && cx * kCell < hi[2]; ++cx) any = cell(cz, cy, cx).on;
    auto chunk = std::make_shared<Chunk>();
    chunk->fill = kBackground;
    if (!any) return std::shared_ptr<const Chunk>(std::move(chunk));
    chunk->bytes.resize(static_cast<size_t>(n * n * n) * 2);
    auto* out = reinterpret_cast<uint16_t*>(chunk->bytes.data());
    for (int64_t z = 0; z < n; ++z) {
      double pz = (static_cast<double>(coords[0] * n + z) + 0.5) * f - 0.5;
      for (int64_t y = 0; y < n; ++y) {
        double py = (static_cast<double>(coords[1] * n + y) + 0.5) * f - 0.5;
        for (int64_t x = 0; x < n; ++x) {
          double px = (static_cast<double>(coords[2] * n + x) + 0.5) * f - 0.5;
          *out++ = static_cast<uint16_t>(std::clamp(value(pz, py, px), 0.0, 65535.0));
        }
      }
    }
    return std::shared_ptr<const Chunk>(std::move(chunk));
  }

 private:
  struct Cell {
    bool on;
    double z, y, x, bright;
  };
  Cell cell(int64_t cz, int64_t cy, int64_t cx) const {
    uint64_t h = mix(o_.seed ^ mix(static_cast<uint64_t>(cz) * 73856093ULL ^ static_cast<uint64_t>(cy) * 19349663ULL ^
                                   static_cast<uint64_t>(cx) * 83492791ULL));
    auto u = [&](int k) { return static_cast<double>((h >> (k * 10)) & 1023) / 1023.0; };
    const double j = (kCell - 2 * kRadius) * 0.5;  // the cell stays inside its lattice box
    return {u(0) < 0.3, (cz + 0.5) * kCell + (u(1) - 0.5) * 2 * j, (cy + 0.5) * kCell + (u(2) - 0.5) * 2 * j,
            (cx + 0.5) * kCell + (u(3) - 0.5) * 2 * j, 600 + 600 * u(4)};
  }
  double value(double z, double y, double x) const {
    Cell c = cell(static_cast<int64_t>(z) / kCell, static_cast<int64_t>(y) / kCell, static_cast<int64_t>(x) / kCell);
    if (!c.on) return kBackground;
    double d2 = ((z - c.z) * (z - c.z) + (y - c.y) * (y - c.y) + (x - c.x) * (x - c.x)) / (kRadius * kRadius);
    if (d2 >= 1) return kBackground;
    // A bright rim (membrane) and a textured interior (nucleus-like).
    double rim = std::exp(-std::pow((std::sqrt(d2) - 0.85) / 0.08, 2));
    double tex = 0.5 + 0.5 * std::sin(0.7 * x) * std::sin(0.6 * y) * std::sin(0.5 * z);
    return kBackground + c.bright * (0.9 * rim + 0.35 * tex * (1 - d2));
  }

  ProceduralOptions o_;
};

}  // namespace

std::unique_ptr<VolumeSource> make_procedural_cells(const ProceduralOptions& options, std::shared_ptr<ChunkCache> cache) {
  return std::make_unique<ProceduralCells>(options, std::move(cache));
}

}  // namespace voxcast::data
