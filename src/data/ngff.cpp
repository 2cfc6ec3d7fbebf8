#include "ngff.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "voxcast/data/chunked_source.hpp"
#include "voxcast/data/contrast.hpp"

namespace voxcast::data {
using nlohmann::json;

namespace {
// A string member of an untrusted object, or "" (json::value throws when the member is
// there with another type).
std::string string_or_empty(const json& o, const char* key) {
  if (!o.is_object() || !o.contains(key) || !o[key].is_string()) return "";
  return o[key].get<std::string>();
}

std::optional<std::string> read_transforms(const json& list, std::vector<double>* scale, std::vector<double>* translation) {
  if (!list.is_array()) return "coordinateTransformations must be an array";
  for (const auto& t : list) {
    if (!t.is_object()) return std::string("each coordinate transformation must be an object");
    std::string type = string_or_empty(t, "type");
    auto numbers = [&](const char* key, std::vector<double>* out) -> std::optional<std::string> {
      if (!t.contains(key) || !t[key].is_array()) return type + " transformation needs a '" + key + "' array";
      out->clear();
      for (const auto& v : t[key]) {
        if (!v.is_number()) return std::string(key) + " values must be numbers";
        out->push_back(v.get<double>());
      }
      return std::nullopt;
    };
    if (type == "scale") {
      if (auto e = numbers("scale", scale)) return e;
    } else if (type == "translation") {
      if (auto e = numbers("translation", translation)) return e;
    } else if (type != "identity") {
      return "unsupported coordinate transformation '" + type + "'";
    }
  }
  return std::nullopt;
}
}  // namespace

nlohmann::json parse_metadata_json(const std::string& text, std::string* why) {
  constexpr int kMaxDepth = 64;
  bool too_deep = false;
  // The parser itself is iterative; the callback keeps anything deeper from being built.
  auto j = nlohmann::json::parse(
      text,
      [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth <= kMaxDepth) return true;
        too_deep = true;
        return false;
      },
      false);
  why->clear();
  if (too_deep) *why = "JSON nests deeper than " + std::to_string(kMaxDepth) + " levels";
  else if (j.is_discarded()) *why = "not valid JSON";
  if (!why->empty()) return nullptr;
  return j;
}

std::variant<NgffImage, std::string> parse_ngff(const json& attrs) {
  NgffImage image;
  // operator[] on a const json asserts on a missing key; the attributes are untrusted.
  if (!attrs.is_object() || !attrs.contains("multiscales")) return std::string("the attributes have no multiscales");
  const json& ms = attrs["multiscales"];
  if (!ms.is_array() || ms.empty() || !ms[0].is_object()) return std::string("multiscales must be a non-empty array");
  const json& m = ms[0];
  if (m.contains("axes")) {
    if (!m["axes"].is_array()) return std::string("multiscales axes must be an array");
    for (const auto& a : m["axes"]) {
      Axis ax;
      if (a.is_string()) {  // NGFF 0.3: names only
        ax.name = a.get<std::string>();
      } else if (a.is_object() && a.contains("name") && a["name"].is_string()) {
        ax.name = a["name"].get<std::string>();
        ax.type = string_or_empty(a, "type");
        ax.unit = string_or_empty(a, "unit");
      } else {
        return std::string("each axis needs a name");
      }
      if (ax.type.empty()) {
        ax.type = ax.name == "t" ? "time" : ax.name == "c" ? "channel" : (ax.name == "z" || ax.name == "y" || ax.name == "x") ? "space" : "";
      }
      image.axes.push_back(ax);
    }
  }
  if (!m.contains("datasets") || !m["datasets"].is_array() || m["datasets"].empty())
    return std::string("multiscales needs a non-empty datasets array");
  for (const auto& d : m["datasets"]) {
    if (!d.is_object() || !d.contains("path") || !d["path"].is_string()) return std::string("each dataset needs a path");
    NgffLevel l;
    l.path = d["path"].get<std::string>();
    if (l.path.find("..") != std::string::npos || (!l.path.empty() && l.path[0] == '/'))
      return "dataset path '" + l.path + "' leaves the store";
    if (d.contains("coordinateTransformations"))
      if (auto e = read_transforms(d["coordinateTransformations"], &l.scale, &l.translation)) return *e;
    image.levels.push_back(std::move(l));
  }
  if (m.contains("coordinateTransformations"))
    if (auto e = read_transforms(m["coordinateTransformations"], &image.global_scale, &image.global_translation)) return *e;
  if (attrs.contains("omero") && attrs["omero"].is_object() && attrs["omero"].contains("channels") &&
      attrs["omero"]["channels"].is_array()) {
    for (const auto& c : attrs["omero"]["channels"]) {
      ChannelInfo ch;
      bool window = false;
      if (c.is_object()) {
        ch.name = string_or_empty(c, "label");
        if (c.contains("color") && c["color"].is_string()) ch.colormap = colormap_for_color(c["color"].get<std::string>());
        if (c.contains("window") && c["window"].is_object()) {
          const json& w = c["window"];
          if (w.contains("start") && w.contains("end") && w["start"].is_number() && w["end"].is_number()) {
            ch.contrast_lo = w["start"].get<double>();
            ch.contrast_hi = w["end"].get<double>();
            window = ch.contrast_hi > ch.contrast_lo;
          }
          // The slider spans the window's min..max (the data range omero states) when given.
          if (w.contains("min") && w.contains("max") && w["min"].is_number() && w["max"].is_number()) {
            ch.range_lo = w["min"].get<double>();
            ch.range_hi = w["max"].get<double>();
          }
        }
      }
      image.channels.push_back(ch);
      image.channel_window.push_back(window);
    }
  }
  return image;
}

std::vector<Axis> default_axes(size_t rank) {
  static const char* tail[] = {"x", "y", "z", "t"};
  std::vector<Axis> axes(rank);
  for (size_t i = 0; i < rank; ++i) {
    size_t from_end = rank - 1 - i;
    axes[i].name = from_end < 4 ? tail[from_end] : "dim_" + std::to_string(i);
    axes[i].type = from_end < 3 ? "space" : (from_end == 3 ? "time" : "");
  }
  return axes;
}

std::string colormap_for_color(const std::string& hex) {
  unsigned r = 0, g = 0, b = 0;
  std::string h = hex.size() >= 6 ? hex.substr(hex.size() - 6) : hex;
  if (h.size() != 6 || h.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos ||
      std::sscanf(h.c_str(), "%02x%02x%02x", &r, &g, &b) != 3)
    return "";
  // napari makes a colormap from black to exactly this colour; the primaries keep their names.
  static const std::pair<unsigned, const char*> named[] = {{0xffffff, "gray"},  {0xff0000, "red"},   {0x00ff00, "green"},
                                                           {0x0000ff, "blue"},  {0x00ffff, "cyan"},  {0xff00ff, "magenta"},
                                                           {0xffff00, "yellow"}};
  const unsigned rgb = (r << 16) | (g << 8) | b;
  for (const auto& [value, name] : named)
    if (rgb == value) return name;
  if (rgb == 0) return "gray";  // black would show nothing
  char out[8];
  std::snprintf(out, sizeof out, "#%02x%02x%02x", r, g, b);
  return out;
}

void mark_rgb(VolumeInfo* info, const NgffImage& image, bool plain) {
  const size_t rank = info->shape.size();
  if (rank < 3) return;
  if (plain) {
    const int64_t samples = info->shape.back();
    if (info->channel_axis >= 0 || (samples != 3 && samples != 4)) return;
    std::vector<Axis> axes = default_axes(rank - 1);
    axes.push_back(Axis{"c", "channel", 1.0, 0.0, ""});
    info->axes = std::move(axes);
    info->channel_axis = static_cast<int>(rank) - 1;
    info->rgb = true;
    return;
  }
  if (info->channel_axis < 0 || info->dtype != DType::u8) return;
  const int64_t samples = info->shape[static_cast<size_t>(info->channel_axis)];
  if ((samples != 3 && samples != 4) || image.channels.size() < 3) return;
  const char* primaries[] = {"red", "green", "blue"};
  for (size_t c = 0; c < 3; ++c)
    if (image.channels[c].colormap != primaries[c]) return;
  info->rgb = true;
}

std::string default_channel_colormap(int channel, int channels) {
  if (channels <= 1) return "gray";
  if (channels == 2) return channel == 0 ? "magenta" : "green";
  static const char* cycle[] = {"cyan", "yellow", "magenta", "red", "green", "blue"};  // napari's CYMRGB
  return cycle[channel % 6];
}

std::variant<VolumeInfo, std::string> ngff_volume_info(const NgffImage& image, size_t rank) {
  VolumeInfo info;
  info.axes = image.axes.empty() ? default_axes(rank) : image.axes;
  if (info.axes.size() != rank)
    return "multiscales has " + std::to_string(info.axes.size()) + " axes but the array has " + std::to_string(rank);
  const NgffLevel& l0 = image.levels.front();
  for (size_t a = 0; a < rank; ++a) {
    double s = a < l0.scale.size() ? l0.scale[a] : 1.0;
    double t = a < l0.translation.size() ? l0.translation[a] : 0.0;
    double gs = a < image.global_scale.size() ? image.global_scale[a] : 1.0;
    double gt = a < image.global_translation.size() ? image.global_translation[a] : 0.0;
    if (!(s > 0) || !(gs > 0) || !std::isfinite(s * gs)) return "scale must be positive on axis " + info.axes[a].name;
    info.axes[a].scale = s * gs;
    info.axes[a].translation = t * gs + gt;
    if (info.axes[a].type == "channel") {
      if (info.channel_axis >= 0) return std::string("more than one channel axis");
      info.channel_axis = static_cast<int>(a);
    }
  }
  return info;
}

std::vector<double> level_factors(const NgffImage& image, size_t l, size_t rank) {
  std::vector<double> f(rank, 1.0);
  if (l >= image.levels.size()) return f;
  const auto& s0 = image.levels.front().scale;
  const auto& sl = image.levels[l].scale;
  for (size_t a = 0; a < rank; ++a)
    if (a < s0.size() && a < sl.size() && s0[a] > 0) f[a] = sl[a] / s0[a];
  return f;
}

std::optional<DataError> fill_default_contrast(ChunkedSource& source, const NgffImage& image) {
  const VolumeInfo& info = source.info();
  int channels = info.channel_axis >= 0 ? static_cast<int>(info.shape[static_cast<size_t>(info.channel_axis)]) : 1;
  // Channel names and colours first (omero, else defaults); contrast from the data where omero is silent.
  std::vector<ChannelInfo> resolved(static_cast<size_t>(channels));
  bool need_estimate = false;
  for (int c = 0; c < channels; ++c) {
    auto uc = static_cast<size_t>(c);
    ChannelInfo& ch = resolved[uc];
    if (uc < image.channels.size()) ch = image.channels[uc];
    if (ch.name.empty()) ch.name = channels > 1 ? info.name + " [" + std::to_string(c) + "]" : info.name;
    if (ch.colormap.empty()) ch.colormap = default_channel_colormap(c, channels);
    bool has_window = uc < image.channel_window.size() && image.channel_window[uc];
    if (!has_window) dtype_range(info.dtype, &ch.contrast_lo, &ch.contrast_hi);
    need_estimate = need_estimate || !has_window;
  }
  source.set_channels(resolved);
  if (!need_estimate) return std::nullopt;
  auto est = estimate_contrast(source);
  // Unreadable data at open (a corrupt chunk) leaves the dtype range: the rest can still be shown.
  if (std::holds_alternative<DataError>(est)) return std::nullopt;
  const auto& lims = std::get<std::vector<std::array<double, 2>>>(est);
  for (int c = 0; c < channels; ++c) {
    auto uc = static_cast<size_t>(c);
    bool has_window = uc < image.channel_window.size() && image.channel_window[uc];
    if (has_window) continue;
    // napari: limits and slider both span the data's range.
    resolved[uc].contrast_lo = resolved[uc].range_lo = lims[uc][0];
    resolved[uc].contrast_hi = resolved[uc].range_hi = lims[uc][1];
  }
  source.set_channels(std::move(resolved));
  return std::nullopt;
}

}  // namespace voxcast::data
