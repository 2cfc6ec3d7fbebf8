// voxcast-info: what a dataset is (axes, units, levels, dtype, chunking, codecs,
// channels), and a region of any level written as a NumPy .npy file.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "voxcast/data/dtype.hpp"
#include "voxcast/data/npy.hpp"
#include "remote_flags.hpp"
#include "voxcast/data/open_dataset.hpp"

using namespace voxcast;

namespace {
std::string join(const std::vector<int64_t>& v, const char* sep = " x ") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + std::to_string(v[i]);
  return s;
}

void print_info(const std::string& path, const data::VolumeInfo& info) {
  std::printf("%s\n", path.c_str());
  std::printf("  name      %s\n", info.name.c_str());
  std::printf("  format    %s\n", info.kind.c_str());
  std::printf("  dtype     %s\n", data::dtype_name(info.dtype));
  std::printf("  shape     %s\n", join(info.shape).c_str());
  double bytes = 1;
  for (auto s : info.shape) bytes *= static_cast<double>(s);
  bytes *= static_cast<double>(data::dtype_size(info.dtype));
  std::printf("  size      %.3g GB logical (level 0)\n", bytes / 1e9);
  std::printf("  axes\n");
  for (size_t a = 0; a < info.axes.size(); ++a) {
    const auto& ax = info.axes[a];
    std::printf("    %-6s %-8s scale %-10g translation %-10g %s%s\n", ax.name.c_str(),
                ax.type.empty() ? "-" : ax.type.c_str(), ax.scale, ax.translation, ax.unit.c_str(),
                static_cast<int>(a) == info.channel_axis ? "  (channel axis)" : "");
  }
  std::printf("  levels\n");
  for (size_t l = 0; l < info.levels.size(); ++l) {
    const auto& lv = info.levels[l];
    std::string f;
    for (size_t a = 0; a < lv.factor.size(); ++a) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%g", a ? " x " : "", lv.factor[a]);
      f += buf;
    }
    std::printf("    %zu  shape %-28s downsample %-20s chunks %s\n", l, join(lv.shape).c_str(), f.c_str(),
                join(lv.chunks).c_str());
  }
  std::string codecs;
  for (const auto& c : info.codecs) codecs += (codecs.empty() ? "" : ", ") + c;
  std::printf("  codecs    %s\n", codecs.empty() ? "-" : codecs.c_str());
  std::printf("  channels\n");
  for (size_t c = 0; c < info.channels.size(); ++c) {
    const auto& ch = info.channels[c];
    std::printf("    %zu  %-20s colormap %-8s contrast [%g, %g]%s\n", c, ch.name.c_str(), ch.colormap.c_str(),
                ch.contrast_lo, ch.contrast_hi, ch.labels ? "  labels" : "");
  }
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"voxcast-info: prints a dataset's metadata; with --region and --out writes that region as .npy"};
  std::string path, region, out;
  int level = 0;
  app.add_option("dataset", path, std::string("what to open: ") + data::dataset_kinds())->required();
  app.add_option("--level", level, "multiscale level of --region")->capture_default_str();
  app.add_option("--region", region, "region to write, every axis in the dataset's order: \"z0:z1,y0:y1,x0:x1\"");
  app.add_option("--out", out, "the .npy file to write the region to");
  apps::RemoteFlags remote;
  apps::add_remote_flags(app, &remote);
  CLI11_PARSE(app, argc, argv);
  data::OpenOptions open_options;
  open_options.remote = apps::resolve_remote(remote);
  auto opened = data::open_dataset(path, open_options);
  if (auto* err = std::get_if<data::DataError>(&opened)) {
    std::fprintf(stderr, "voxcast-info: %s: %s\n", err->source.c_str(), err->message.c_str());
    return 1;
  }
  const auto& src = *std::get<0>(opened);
  const auto& info = src.info();
  if (out.empty() != region.empty()) {
    std::fprintf(stderr, "voxcast-info: --region and --out go together\n");
    return 2;
  }
  if (out.empty()) {
    print_info(path, info);
    return 0;
  }
  if (level < 0 || level >= static_cast<int>(info.levels.size())) {
    std::fprintf(stderr, "voxcast-info: --level %d: the dataset has levels 0..%zu\n", level, info.levels.size() - 1);
    return 2;
  }
  auto box = data::parse_region(region, info.levels[static_cast<size_t>(level)].shape);
  if (auto* why = std::get_if<std::string>(&box)) {
    std::fprintf(stderr, "voxcast-info: --region: %s\n", why->c_str());
    return 2;
  }
  const auto& b = std::get<data::Box>(box);
  std::vector<float> values(static_cast<size_t>(b.count()));
  if (auto err = src.read_level(level, b, values.data())) {
    std::fprintf(stderr, "voxcast-info: %s: %s\n", err->source.c_str(), err->message.c_str());
    return 1;
  }
  if (auto err = data::write_npy(out, info.dtype, b.size, values)) {
    std::fprintf(stderr, "voxcast-info: %s\n", err->c_str());
    return 1;
  }
  std::printf("wrote %s: level %d, region %s, shape (%s), %s\n", out.c_str(), level, region.c_str(),
              join(b.size, ", ").c_str(), data::dtype_name(info.dtype));
  return 0;
}
