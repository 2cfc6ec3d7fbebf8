#include "voxcast/server/scene_payloads.hpp"

#include <algorithm>

#include "voxcast/render/camera2d.hpp"

namespace voxcast::server {

using protocol::Json;

Json camera_pose(const render::Scene& s) {
  if (s.dims.ndisplay == 3) {
    const auto& c = s.camera3d;
    return {{"center", c.center}, {"angles", {c.azimuth, c.elevation, c.roll}}, {"distance", c.distance},
            {"fov", c.fov}, {"zoom", c.zoom}};
  }
  auto r = render::view_rect(s.camera, s.width, s.height);
  return {{"center", {s.camera.center_x, s.camera.center_y}},
          {"zoom", s.camera.zoom},
          {"rect", {r.left, r.top, r.width, r.height}}};
}

Json layer_controls(const render::LayerState& l) {
  return {{"visible", l.visible},
          {"opacity", l.opacity},
          {"blending", render::blending_name(l.blending)},
          {"interpolation", render::interpolation_name(l.interpolation)},
          {"gamma", l.gamma},
          {"colormap", l.colormap},
          {"contrast_limits", {l.contrast_limits[0], l.contrast_limits[1]}},
          {"rendering", render::render_mode_name(l.rendering)},
          {"iso_threshold", l.iso_threshold},
          {"attenuation", l.attenuation}};
}

namespace {
constexpr size_t kMaxLabelNames = 20000;  // larger tables stay on the server (a notify stays small)
}  // namespace

protocol::Json layer_metadata(const render::Scene& s, const render::LayerState& l) {
  Json m = {{"contrast_range", {l.contrast_range[0], l.contrast_range[1]}}};
  if (s.source) {
    const auto& info = s.source->info();
    m["dtype"] = data::dtype_name(info.dtype);
    if (l.rgb) m["rgb"] = true;
    const auto ci = static_cast<size_t>(std::max(0, l.channel));
    if (ci < info.channels.size() && info.channels[ci].labels) {
      m["labels"] = true;
      // Names by id (an atlas's table), so a client can name the region under the cursor.
      const auto& table = info.channels[ci].label_table;
      if (table && !table->names.empty() && table->names.size() <= kMaxLabelNames) {
        Json names = Json::object();
        for (const auto& [id, name] : table->names) names[std::to_string(id)] = name;
        m["label_names"] = std::move(names);
      }
    }
  }
  return m;
}

protocol::NotifyDims dims_payload(const render::Scene& s) {
  protocol::NotifyDims d;
  d.current_step = s.dims.current_step;
  // The source's resolution levels over the viewer axes (the channel axis left out).
  size_t count = s.source ? s.source->info().levels.size() : 1;
  for (size_t l = 0; l < count; ++l) {
    protocol::LevelDescriptor level;
    level.index = static_cast<int>(l);
    level.path = std::to_string(l);
    for (size_t a = 0; a < s.dims.shape.size(); ++a) {
      if (!s.source) {
        level.shape.push_back(s.dims.shape[a]);
        level.downsample.push_back(1.0);
        continue;
      }
      const auto& lv = s.source->info().levels[l];
      auto src = static_cast<size_t>(s.dims.source_axis[a]);
      level.shape.push_back(lv.shape[src]);
      level.downsample.push_back(lv.factor[src]);
    }
    d.level_shapes.push_back(level.shape);
    d.levels.push_back(std::move(level));
  }
  d.current_level = 0;
  d.mode = s.dims.ndisplay == 3 ? "volume" : "plane";
  d.ndisplay = s.dims.ndisplay;
  d.downgraded = false;
  d.axis_labels = s.dims.labels;
  d.order = s.dims.order;
  d.displayed = render::displayed_axes(s.dims);
  return d;
}

protocol::NotifyScene scene_payload(const render::Scene& s, const SceneContext& ctx) {
  protocol::NotifyScene m;
  auto dims = dims_payload(s);
  Json camera = camera_pose(s);
  camera["ndisplay"] = s.dims.ndisplay;
  m.viewer = {{"settings", {{"fps_target", ctx.fps}, {"canvas_size", {s.width, s.height}}, {"volume_enabled", s.dims.shape.size() >= 3}}},
              {"dims",
               {{"ndim", s.dims.shape.size()},
                {"axis_labels", s.dims.labels},
                {"order", s.dims.order},
                {"level_shapes", dims.level_shapes},
                {"current_level", 0},
                {"current_step", s.dims.current_step},
                {"displayed", dims.displayed},
                {"ndisplay", s.dims.ndisplay},
                {"scale", s.dims.scale}}},
              {"camera", camera}};
  m.layers = Json::array();
  for (const auto& l : s.layers) {
    Json layer = {{"layer_id", l.id},
                  {"layer_type", "image"},
                  {"name", l.name},
                  {"ndim", s.dims.shape.size()},
                  {"shape", s.dims.shape},
                  {"axis_labels", s.dims.labels},
                  {"volume", s.dims.ndisplay == 3},
                  {"controls", layer_controls(l)},
                  {"level_shapes", dims.level_shapes},
                  {"metadata", layer_metadata(s, l)},
                  {"contrast_limits", {l.contrast_limits[0], l.contrast_limits[1]}},
                  {"scale", s.dims.scale}};
    if (s.source) {
      const auto& info = s.source->info();
      layer["source"] = {{"kind", info.kind}};
      Json units = Json::array();
      for (int a : s.dims.source_axis) units.push_back(info.axes[static_cast<size_t>(a)].unit);
      layer["units"] = units;
    }
    m.layers.push_back(layer);
  }
  Json meta = {{"status", "ready"}};
  if (!ctx.renderer_3d.empty()) meta["renderer"] = ctx.renderer_3d;
  if (!ctx.encoder.empty()) meta["encoder"] = ctx.encoder;
  if (s.source) {
    meta["source_kind"] = s.source->info().kind;
    meta["source_path"] = ctx.source_path.empty() ? s.source->info().name : ctx.source_path;
  }
  m.metadata = meta;
  return m;
}

}  // namespace voxcast::server
