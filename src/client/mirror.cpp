#include "voxcast/client/mirror.hpp"

#include <algorithm>

namespace voxcast::client {

using protocol::Json;
namespace type = protocol::type;

const LayerMirror* ClientMirror::layer(const std::string& id) const {
  for (const auto& l : layers)
    if (l.id == id) return &l;
  return nullptr;
}

int ClientMirror::axis(const std::string& label) const {
  auto it = std::find(axis_labels.begin(), axis_labels.end(), label);
  return it == axis_labels.end() ? -1 : static_cast<int>(it - axis_labels.begin());
}

namespace {
void remember_cursor(ClientMirror* m, const protocol::Envelope& e) {
  if (e.seq) m->last_seq[e.type] = *e.seq;
  if (e.delta_token) m->resume_tokens[e.type] = *e.delta_token;
}

bool apply_scene(ClientMirror* m, const protocol::Envelope& e) {
  auto scene = protocol::parse_notify_scene(e.payload);
  if (!scene) return false;
  const Json& dims = scene->viewer.value("dims", Json::object());
  ClientMirror next = *m;
  next.have_scene = true;
  try {
    next.axis_labels = dims.value("axis_labels", std::vector<std::string>{});
    next.current_step = dims.value("current_step", std::vector<int64_t>{});
    next.order = dims.value("order", std::vector<int>{});
    next.scale = dims.value("scale", std::vector<double>{});
    next.units.clear();
    next.metadata = scene->metadata && scene->metadata->is_object() ? *scene->metadata : Json::object();
    next.ndisplay = dims.value("ndisplay", 2);
    auto shapes = dims.value("level_shapes", std::vector<std::vector<int64_t>>{});
    next.shape = shapes.empty() ? std::vector<int64_t>{} : shapes.front();
    next.camera = scene->viewer.value("camera", Json::object());
    next.layers.clear();
    for (const auto& l : scene->layers) {
      LayerMirror lm;
      lm.id = l.value("layer_id", std::string());
      lm.name = l.value("name", std::string());
      lm.controls = l.value("controls", Json::object());
      lm.metadata = l.value("metadata", Json::object());
      if (next.units.empty() && l.contains("units") && l["units"].is_array())
        for (const auto& u : l["units"]) next.units.push_back(u.is_string() ? u.get<std::string>() : "");
      next.layers.push_back(std::move(lm));
    }
  } catch (const Json::exception&) {
    return false;  // wrong-typed fields inside the free-form blocks
  }
  *m = std::move(next);
  return true;
}
}  // namespace

MirrorChange apply_notify(ClientMirror* m, const protocol::Envelope& e) {
  if (e.type == type::kNotifyScene) {
    if (!apply_scene(m, e)) return MirrorChange::invalid;
    remember_cursor(m, e);
    return MirrorChange::scene;
  }
  if (e.type == type::kNotifyDims) {
    auto d = protocol::parse_notify_dims(e.payload);
    if (!d) return MirrorChange::invalid;
    m->current_step = d->current_step;
    m->ndisplay = d->ndisplay;
    if (!d->axis_labels.empty()) m->axis_labels = d->axis_labels;
    if (!d->order.empty()) m->order = d->order;
    if (!d->level_shapes.empty()) m->shape = d->level_shapes.front();
    return MirrorChange::dims;
  }
  if (e.type == type::kNotifyCamera) {
    auto c = protocol::parse_notify_camera(e.payload);
    if (!c) return MirrorChange::invalid;
    if (c->state) m->camera = *c->state;
    return MirrorChange::camera;
  }
  if (e.type == type::kNotifyLayers) {
    auto l = protocol::parse_notify_layers(e.payload);
    if (!l) return MirrorChange::invalid;
    remember_cursor(m, e);
    auto it = std::find_if(m->layers.begin(), m->layers.end(), [&](const LayerMirror& x) { return x.id == l->layer_id; });
    if (l->removed) {
      if (it != m->layers.end()) m->layers.erase(it);
      return MirrorChange::layers;
    }
    if (it == m->layers.end()) {
      m->layers.push_back(LayerMirror{l->layer_id, l->layer_id, Json::object()});
      it = m->layers.end() - 1;
    }
    if (l->controls)
      for (const auto& [k, v] : l->controls->items()) it->controls[k] = v;
    if (l->metadata && l->metadata->is_object())
      for (const auto& [k, v] : l->metadata->items()) it->metadata[k] = v;
    return MirrorChange::layers;
  }
  if (e.type == type::kNotifyStream) {
    auto s = protocol::parse_notify_stream(e.payload);
    if (!s) return MirrorChange::invalid;
    remember_cursor(m, e);
    m->stream = s.value();
    return MirrorChange::stream;
  }
  return MirrorChange::none;
}

}  // namespace voxcast::client
