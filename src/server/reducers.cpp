#include "voxcast/server/reducers.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "voxcast/protocol/json.hpp"
#include "voxcast/render/camera2d.hpp"
#include "voxcast/render/camera3d.hpp"
#include "voxcast/render/colormap.hpp"

namespace voxcast::server {
namespace {

using protocol::Error;
using protocol::Json;
using protocol::Result;
using protocol::StateUpdate;
using render::Scene;

std::string trim_lower(std::string s, bool lower) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  if (lower)
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Ctx {
  std::string scope, target, key;
  Error invalid(const std::string& message) const {
    return protocol::make_error("state.invalid", message,
                                {{"scope", protocol::quote_prefix(scope)},
                                 {"key", protocol::quote_prefix(key)},
                                 {"target", protocol::quote_prefix(target)}});
  }
};

bool finite_number(const Json& j, double* out) {
  if (!j.is_number()) return false;
  double v = j.get<double>();
  if (!std::isfinite(v)) return false;
  *out = v;
  return true;
}

// Integers from the wire saturate at the int64 range (2^63 reads as INT64_MAX), so a
// relative step clamps as a slider would instead of wrapping; non-integers are refused.
bool json_integer(const Json& j, int64_t* out) {
  if (j.is_number_unsigned() && !protocol::json_int64(j)) {
    *out = std::numeric_limits<int64_t>::max();
    return true;
  }
  auto v = protocol::json_int64(j);
  if (!v) return false;
  *out = *v;
  return true;
}

Result<Reduction> reduce_view(const Scene& s, const Json& value, const Ctx& c) {
  if (c.key != "ndisplay") return c.invalid("unsupported view key '" + protocol::quote_prefix(c.key) + "'");
  int64_t nd = 2;
  if (!value.is_null() && !json_integer(value, &nd)) return c.invalid("ndisplay must be an integer");
  if (nd != 2 && nd != 3) return c.invalid("ndisplay must be 2 or 3");
  if (nd == 3 && s.dims.shape.size() < 3) return c.invalid("3D needs a dataset with at least three axes");
  Reduction r{s, s.dims.ndisplay != nd, nd, "view:ndisplay", NotifyTopic::dims, {}, {}};
  r.scene.dims.ndisplay = static_cast<int>(nd);
  return r;
}

Result<Reduction> reduce_dims(const Scene& s, const Json& value, const Ctx& c) {
  if (c.key != "index" && c.key != "step") return c.invalid("unsupported dims key '" + protocol::quote_prefix(c.key) + "'");
  if (c.target.empty()) return c.invalid("dims axis target required");
  int axis = render::find_axis(s.dims, c.target);
  if (axis < 0) return c.invalid("unknown axis '" + protocol::quote_prefix(c.target) + "'");
  int64_t v = 0;
  if (value.is_boolean() || !json_integer(value, &v)) return c.invalid(c.key + " must be an integer");
  auto a = static_cast<size_t>(axis);
  int64_t size = s.dims.shape[a];
  int64_t next = 0;
  if (c.key == "index") {
    if (v < 0 || v >= size)
      return c.invalid("index " + std::to_string(v) + " out of range [0, " + std::to_string(size - 1) + "] for axis '" +
                       s.dims.labels[a] + "'");
    next = v;
  } else {
    // A relative step clamps at the ends, as a slider does.
    // Bounded first so the sum cannot overflow (current_step is in [0, size)).
    next = std::clamp<int64_t>(s.dims.current_step[a] + std::clamp<int64_t>(v, -size, size), 0, size - 1);
  }
  Reduction r{s, false, next, "dims:current_step", NotifyTopic::dims, {}, {}};
  r.changed = s.dims.current_step[a] != next;
  r.scene.dims.current_step[a] = next;
  return r;
}

bool read_pair(const Json& j, double* a, double* b) {
  return j.is_array() && j.size() >= 2 && finite_number(j[0], a) && finite_number(j[1], b);
}

bool camera_ok(const render::Camera2D& cam) {
  return std::isfinite(cam.center_x) && std::isfinite(cam.center_y) && std::isfinite(cam.zoom) && cam.zoom > 1e-9 &&
         cam.zoom < 1e9;
}

bool read_vec(const Json& j, size_t n, double* out) {
  if (!j.is_array() || j.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (!finite_number(j[i], &out[i])) return false;
  return true;
}

bool camera3d_ok(const render::Camera3D& cam) {
  return std::isfinite(cam.zoom) && cam.zoom > 1e-9 && cam.zoom < 1e9 && std::isfinite(cam.distance) &&
         cam.distance > 0 && cam.fov >= 0 && cam.fov < 180;
}

Json pose3d(const render::Camera3D& cam) {
  return {{"center", cam.center}, {"angles", {cam.azimuth, cam.elevation, cam.roll}}, {"distance", cam.distance},
          {"fov", cam.fov}, {"zoom", cam.zoom}};
}

// Camera intents while ndisplay is 3: the orbit camera.
Result<Reduction> reduce_camera3d(const Scene& s, const Json& value, const Ctx& c) {
  Reduction r{s, true, nullptr, "camera:main3d", NotifyTopic::camera, {}, {}};
  render::Camera3D& cam = r.scene.camera3d;
  if (c.key == "orbit") {
    double az = 0, el = 0;
    if (!value.is_object() || !finite_number(value.value("d_az_deg", Json(0.0)), &az) ||
        !finite_number(value.value("d_el_deg", Json(0.0)), &el))
      return c.invalid("orbit needs {d_az_deg: number, d_el_deg: number}");
    cam = render::orbit(s.camera3d, az, el);
    r.applied_value = {{"d_az_deg", az}, {"d_el_deg", el}};
  } else if (c.key == "zoom") {
    double factor = 0;
    if (!value.is_object() || !finite_number(value.value("factor", Json()), &factor) || factor <= 0)
      return c.invalid("zoom needs {factor: number > 0}");
    cam = render::zoom3d(s.camera3d, factor);
    r.applied_value = {{"factor", factor}};
  } else if (c.key == "pan") {
    double dx = 0, dy = 0;
    if (!value.is_object() || !finite_number(value.value("dx_px", Json()), &dx) ||
        !finite_number(value.value("dy_px", Json()), &dy))
      return c.invalid("pan needs {dx_px: number, dy_px: number}");
    cam = render::pan3d(s.camera3d, dx, dy, s.height);
    r.changed = dx != 0 || dy != 0;
    r.applied_value = {{"dx_px", dx}, {"dy_px", dy}};
  } else if (c.key == "reset") {
    cam = render::fit_camera3d(s.dims, s.width, s.height);
    cam.fov = s.camera3d.fov;  // keep the user's projection
    r.applied_value = {{"reason", value.is_string() ? value.get<std::string>() : std::string("state.update")}};
  } else if (c.key == "set") {
    if (!value.is_object()) return c.invalid("set needs an object");
    bool any = false;
    double v3[3];
    if (value.contains("center")) {
      if (!read_vec(value["center"], 3, v3)) return c.invalid("center must be [x, y, z] numbers in 3D");
      cam.center = {v3[0], v3[1], v3[2]};
      any = true;
    }
    if (value.contains("angles")) {
      if (!read_vec(value["angles"], 3, v3)) return c.invalid("angles must be [azimuth, elevation, roll] numbers");
      cam.azimuth = v3[0];
      cam.elevation = std::clamp(v3[1], -89.0, 89.0);
      cam.roll = v3[2];
      any = true;
    }
    for (const char* k : {"distance", "fov", "zoom"}) {
      if (!value.contains(k)) continue;
      double v = 0;
      if (!finite_number(value[k], &v)) return c.invalid(std::string(k) + " must be a number");
      (std::string(k) == "distance" ? cam.distance : std::string(k) == "fov" ? cam.fov : cam.zoom) = v;
      any = true;
    }
    if (!any) return c.invalid("set needs one of center, angles, distance, fov, zoom");
    r.applied_value = pose3d(cam);
  } else {
    return c.invalid("unsupported camera key '" + protocol::quote_prefix(c.key) + "'");
  }
  if (!camera3d_ok(cam)) return c.invalid("resulting camera is out of range (fov in [0, 180), distance and zoom > 0)");
  // The ack carries the pose the intent produced next to the applied delta.
  if (c.key != "set") r.applied_value["pose"] = pose3d(cam);
  return r;
}

Result<Reduction> reduce_camera(const Scene& s, const Json& value, const Ctx& c) {
  std::string target = trim_lower(c.target, true);
  if (!target.empty() && target != "main") return c.invalid("camera target must be 'main'");
  if (s.dims.ndisplay == 3) return reduce_camera3d(s, value, c);
  Reduction r{s, true, nullptr, "camera:main", NotifyTopic::camera, {}, {}};
  render::Camera2D& cam = r.scene.camera;
  if (c.key == "zoom") {
    double factor = 0, ax = s.width * 0.5, ay = s.height * 0.5;
    if (!value.is_object() || !value.contains("factor") || !finite_number(value["factor"], &factor) || factor <= 0)
      return c.invalid("zoom needs {factor: number > 0, anchor_px: [x, y]}");
    if (value.contains("anchor_px") && !read_pair(value["anchor_px"], &ax, &ay))
      return c.invalid("anchor_px must be [x, y] numbers");
    // Anchors arrive with the origin at the bottom-left of the video.
    cam = render::zoom_about(s.camera, factor, ax, s.height - ay, s.width, s.height);
    r.applied_value = {{"factor", factor}, {"anchor_px", {ax, ay}}};
  } else if (c.key == "pan") {
    double dx = 0, dy = 0;
    if (!value.is_object() || !finite_number(value.value("dx_px", Json()), &dx) ||
        !finite_number(value.value("dy_px", Json()), &dy))
      return c.invalid("pan needs {dx_px: number, dy_px: number}");
    cam = render::pan_by(s.camera, dx, dy);
    r.changed = dx != 0 || dy != 0;
    r.applied_value = {{"dx_px", dx}, {"dy_px", dy}};
  } else if (c.key == "reset") {
    cam = render::fit_camera(s.dims, s.width, s.height);
    std::string reason = value.is_object() && value.contains("reason") && value["reason"].is_string()
                             ? value["reason"].get<std::string>()
                             : (value.is_string() ? value.get<std::string>() : "state.update");
    r.applied_value = {{"reason", reason}};
  } else if (c.key == "set") {
    if (!value.is_object()) return c.invalid("set needs an object with center, zoom or rect");
    Json applied = Json::object();
    if (value.contains("angles")) return c.invalid("camera angles need 3D (ndisplay 3)");
    if (value.contains("center")) {
      double x = 0, y = 0;
      if (!read_pair(value["center"], &x, &y)) return c.invalid("center must be [x, y] numbers");
      cam.center_x = x;
      cam.center_y = y;
    }
    if (value.contains("zoom")) {
      double z = 0;
      if (!finite_number(value["zoom"], &z) || z <= 0) return c.invalid("zoom must be a number > 0");
      cam.zoom = z;
    }
    if (value.contains("rect")) {
      const Json& rj = value["rect"];
      double l, b, w, h;
      if (!rj.is_array() || rj.size() < 4 || !finite_number(rj[0], &l) || !finite_number(rj[1], &b) ||
          !finite_number(rj[2], &w) || !finite_number(rj[3], &h) || w <= 0 || h <= 0)
        return c.invalid("rect must be [left, bottom, width, height] with width, height > 0");
      cam = render::camera_from_rect({l, b, w, h}, s.width, s.height);
    }
    if (!value.contains("center") && !value.contains("zoom") && !value.contains("rect"))
      return c.invalid("set needs one of center, zoom, rect");
    auto rect = render::view_rect(cam, s.width, s.height);
    r.applied_value = {{"center", {cam.center_x, cam.center_y}}, {"zoom", cam.zoom},
                       {"rect", {rect.left, rect.top, rect.width, rect.height}}};
  } else if (c.key == "orbit") {
    return c.invalid("camera orbit needs 3D (ndisplay 3)");
  } else {
    return c.invalid("unsupported camera key '" + protocol::quote_prefix(c.key) + "'");
  }
  if (!camera_ok(cam)) return c.invalid("resulting camera is out of range");
  return r;
}

std::optional<bool> parse_bool(const Json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0.0;
  if (v.is_string()) {
    std::string s = trim_lower(v.get<std::string>(), true);
    if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
    if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  }
  return std::nullopt;
}

Result<Reduction> reduce_layer(const Scene& s, const Json& value, const Ctx& c) {
  std::string id = c.target.empty() ? "layer-0" : c.target;
  auto it = std::find_if(s.layers.begin(), s.layers.end(), [&](const render::LayerState& l) { return l.id == id; });
  if (it == s.layers.end()) return c.invalid("unknown layer '" + protocol::quote_prefix(id) + "'");
  Reduction r{s, false, nullptr, "layer:" + id + ":" + c.key, NotifyTopic::layers, id, {}};
  render::LayerState& L = r.scene.layers[static_cast<size_t>(it - s.layers.begin())];
  const render::LayerState& old = *it;
  if (c.key == "visible") {
    auto b = parse_bool(value);
    if (!b) return c.invalid("visible must be a boolean");
    L.visible = *b;
    r.applied_value = *b;
    r.changed = old.visible != L.visible;
  } else if (c.key == "opacity") {
    double v;
    if (!finite_number(value, &v)) return c.invalid("opacity must be a number");
    L.opacity = std::clamp(v, 0.0, 1.0);
    r.applied_value = L.opacity;
    r.changed = old.opacity != L.opacity;
  } else if (c.key == "gamma") {
    double v;
    if (!finite_number(value, &v) || v <= 0 || v > 100) return c.invalid("gamma must be a number in (0, 100]");
    L.gamma = v;
    r.applied_value = v;
    r.changed = old.gamma != v;
  } else if (c.key == "contrast_limits") {
    double lo, hi;
    bool ok = read_pair(value, &lo, &hi) ||
              (value.is_object() && finite_number(value.value("lo", Json()), &lo) &&
               finite_number(value.value("hi", Json()), &hi));
    if (!ok) return c.invalid("contrast_limits must be [lo, hi] numbers");
    if (hi < lo) std::swap(lo, hi);
    if (hi == lo) return c.invalid("contrast_limits must span a range (lo < hi)");
    L.contrast_limits = {lo, hi};
    r.applied_value = {lo, hi};
    r.changed = old.contrast_limits != L.contrast_limits;
  } else if (c.key == "colormap") {
    std::string name = value.is_string() ? value.get<std::string>()
                       : (value.is_object() && value.contains("name") && value["name"].is_string())
                           ? value["name"].get<std::string>()
                           : std::string();
    auto cmap = render::find_colormap(name);
    if (!cmap) {
      std::string names;
      for (const auto& n : render::colormap_names()) names += (names.empty() ? "" : ", ") + n;
      return c.invalid("unknown colormap '" + protocol::quote_prefix(name) + "'; available: " + names);
    }
    L.colormap = cmap->name;
    r.applied_value = cmap->name;
    r.changed = old.colormap != L.colormap;
  } else if (c.key == "blending") {
    std::string name = value.is_string() ? value.get<std::string>()
                       : (value.is_object() && value.contains("name") && value["name"].is_string())
                           ? value["name"].get<std::string>()
                           : std::string();
    auto b = render::parse_blending(name);
    if (!b) return c.invalid("blending must be one of opaque, translucent, additive, minimum");
    L.blending = *b;
    r.applied_value = render::blending_name(*b);
    r.changed = old.blending != L.blending;
  } else if (c.key == "interpolation" || c.key == "interpolation2d") {
    auto i = value.is_string() ? render::parse_interpolation(value.get<std::string>()) : std::nullopt;
    if (!i) return c.invalid("interpolation must be nearest or linear");
    L.interpolation = *i;
    r.applied_value = render::interpolation_name(*i);
    r.changed = old.interpolation != L.interpolation;
  } else if (c.key == "rendering") {
    auto m = value.is_string() ? render::parse_render_mode(value.get<std::string>()) : std::nullopt;
    if (!m) return c.invalid("rendering must be one of mip, minip, average, attenuated_mip, iso, translucent, additive");
    L.rendering = *m;
    r.applied_value = render::render_mode_name(*m);
    r.changed = old.rendering != L.rendering;
  } else if (c.key == "iso_threshold") {
    double v;
    if (!finite_number(value, &v)) return c.invalid("iso_threshold must be a number");
    L.iso_threshold = v;
    r.applied_value = v;
    r.changed = old.iso_threshold != v;
  } else if (c.key == "attenuation") {
    double v;
    if (!finite_number(value, &v)) return c.invalid("attenuation must be a number");
    L.attenuation = std::max(0.0, v);
    r.applied_value = L.attenuation;
    r.changed = old.attenuation != L.attenuation;
  } else {
    return c.invalid("unsupported layer key '" + protocol::quote_prefix(c.key) + "'");
  }
  std::string control = c.key == "interpolation2d" ? "interpolation" : c.key;
  r.property = "layer:" + id + ":" + control;
  r.layer_controls = {{control, r.applied_value}};
  return r;
}

}  // namespace

Result<Reduction> reduce_state_update(const Scene& scene, const StateUpdate& u) {
  Ctx c{trim_lower(u.scope, true), trim_lower(u.target, false), trim_lower(u.key, true)};
  if (c.scope.empty() || c.key.empty()) return c.invalid("scope/key required");
  if (c.scope == "view") return reduce_view(scene, u.value, c);
  if (c.scope == "dims") return reduce_dims(scene, u.value, c);
  if (c.scope == "camera") return reduce_camera(scene, u.value, c);
  if (c.scope == "layer") return reduce_layer(scene, u.value, c);
  return c.invalid("unsupported scope '" + protocol::quote_prefix(c.scope) + "'");
}

uint64_t commit(Ledger* ledger, Reduction r) {
  if (r.changed) {
    ledger->version += 1;
    ledger->scene = std::move(r.scene);
    ledger->scene.version = ledger->version;
    ledger->property_versions[r.property] = ledger->version;
    return ledger->version;
  }
  auto it = ledger->property_versions.find(r.property);
  return it == ledger->property_versions.end() ? 1 : it->second;
}

}  // namespace voxcast::server
