#include "voxcast/render/scene.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "voxcast/render/camera2d.hpp"
#include "voxcast/render/camera3d.hpp"

namespace voxcast::render {
namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

const char* blending_name(Blending b) {
  switch (b) {
    case Blending::opaque: return "opaque";
    case Blending::translucent: return "translucent";
    case Blending::additive: return "additive";
    case Blending::minimum: return "minimum";
  }
  return "additive";
}

std::optional<Blending> parse_blending(std::string_view s) {
  std::string n = lower(s);
  if (n == "opaque") return Blending::opaque;
  if (n == "translucent" || n == "translucent_no_depth") return Blending::translucent;
  if (n == "additive") return Blending::additive;
  if (n == "minimum") return Blending::minimum;
  return std::nullopt;
}

const char* interpolation_name(Interpolation i) { return i == Interpolation::nearest ? "nearest" : "linear"; }

std::optional<Interpolation> parse_interpolation(std::string_view s) {
  std::string n = lower(s);
  if (n == "nearest") return Interpolation::nearest;
  if (n == "linear" || n == "bilinear") return Interpolation::linear;
  return std::nullopt;
}

const char* render_mode_name(RenderMode m) {
  switch (m) {
    case RenderMode::mip: return "mip";
    case RenderMode::minip: return "minip";
    case RenderMode::average: return "average";
    case RenderMode::attenuated_mip: return "attenuated_mip";
    case RenderMode::iso: return "iso";
    case RenderMode::translucent: return "translucent";
    case RenderMode::additive: return "additive";
  }
  return "mip";
}

std::optional<RenderMode> parse_render_mode(std::string_view s) {
  std::string n = lower(s);
  for (auto m : {RenderMode::mip, RenderMode::minip, RenderMode::average, RenderMode::attenuated_mip, RenderMode::iso,
                 RenderMode::translucent, RenderMode::additive})
    if (n == render_mode_name(m)) return m;
  return std::nullopt;
}

std::vector<int> displayed_axes(const DimsState& d) {
  auto n = static_cast<size_t>(std::min<int>(d.ndisplay, static_cast<int>(d.order.size())));
  return std::vector<int>(d.order.end() - static_cast<long>(n), d.order.end());
}

int find_axis(const DimsState& d, const std::string& target) {
  std::string t = lower(target);
  for (size_t i = 0; i < d.labels.size(); ++i)
    if (lower(d.labels[i]) == t) return static_cast<int>(i);
  int index = -1;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), index);
  if (ec == std::errc() && p == t.data() + t.size() && index >= 0 && index < static_cast<int>(d.labels.size()))
    return index;
  return -1;
}

LayerRead layer_read(const DimsState& d, const std::vector<int>& shown_axes, const LayerState& layer,
                     const data::VolumeSource& source) {
  LayerRead r;
  const auto& info = source.info();
  r.key = {static_cast<int64_t>(reinterpret_cast<intptr_t>(&source)), layer.channel};
  r.key.insert(r.key.end(), shown_axes.begin(), shown_axes.end());
  r.box.start.assign(info.shape.size(), 0);
  r.box.size.assign(info.shape.size(), 1);
  for (size_t a = 0; a < d.shape.size(); ++a) {
    auto src = static_cast<size_t>(d.source_axis[a]);
    bool shown = std::find(shown_axes.begin(), shown_axes.end(), static_cast<int>(a)) != shown_axes.end();
    r.box.start[src] = shown ? 0 : d.current_step[a];
    r.box.size[src] = shown ? d.shape[a] : 1;
    r.key.push_back(shown ? -1 : d.current_step[a]);
  }
  if (info.channel_axis >= 0) r.box.start[static_cast<size_t>(info.channel_axis)] = layer.channel;
  return r;
}

Scene make_initial_scene(const data::VolumeInfo& info, int width, int height) {
  Scene s;
  s.width = width;
  s.height = height;
  for (size_t a = 0; a < info.shape.size(); ++a) {
    if (static_cast<int>(a) == info.channel_axis) continue;
    s.dims.labels.push_back(info.axes[a].name);
    s.dims.shape.push_back(info.shape[a]);
    s.dims.scale.push_back(info.axes[a].scale > 0 ? info.axes[a].scale : 1.0);
    s.dims.source_axis.push_back(static_cast<int>(a));
  }
  const size_t n = s.dims.shape.size();
  for (size_t i = 0; i < n; ++i) {
    s.dims.order.push_back(static_cast<int>(i));
    s.dims.current_step.push_back(s.dims.shape[i] / 2);
  }
  s.dims.ndisplay = 2;
  s.camera = fit_camera(s.dims, width, height);
  double lo = 0, hi = 1;
  data::dtype_range(info.dtype, &lo, &hi);
  int channels = info.channel_axis >= 0 ? static_cast<int>(info.shape[static_cast<size_t>(info.channel_axis)]) : 1;
  // An RGB(A) image is one layer drawn in colour (napari's rgb=True).
  const int layers = info.rgb ? 1 : channels;
  for (int c = 0; c < layers; ++c) {
    LayerState l;
    l.id = "layer-" + std::to_string(c);
    l.channel = info.channel_axis >= 0 ? c : -1;
    l.rgb = info.rgb;
    const data::ChannelInfo* ch = static_cast<size_t>(c) < info.channels.size() ? &info.channels[static_cast<size_t>(c)] : nullptr;
    l.name = ch && !ch->name.empty() && !info.rgb ? ch->name : info.name;
    l.colormap = ch && !ch->colormap.empty() ? ch->colormap : (layers == 1 ? "gray" : "green");
    if (info.rgb) l.colormap = "gray";
    l.contrast_limits = ch ? std::array<double, 2>{ch->contrast_lo, ch->contrast_hi} : std::array<double, 2>{lo, hi};
    l.contrast_range = {lo, hi};
    if (ch && ch->range_hi > ch->range_lo) l.contrast_range = {ch->range_lo, ch->range_hi};
    // The slider always reaches the limits it starts at.
    l.contrast_range = {std::min(l.contrast_range[0], l.contrast_limits[0]), std::max(l.contrast_range[1], l.contrast_limits[1])};
    // napari: channel layers blend additively; a lone image is translucent over black.
    l.blending = layers > 1 ? Blending::additive : Blending::translucent;
    if (ch && !ch->blending.empty())
      if (auto b = parse_blending(ch->blending)) l.blending = *b;
    if (ch) l.opacity = ch->opacity;
    l.iso_threshold = 0.5 * (l.contrast_limits[0] + l.contrast_limits[1]);
    s.layers.push_back(l);
  }
  if (n >= 3) s.camera3d = fit_camera3d(s.dims, width, height);
  return s;
}

}  // namespace voxcast::render
