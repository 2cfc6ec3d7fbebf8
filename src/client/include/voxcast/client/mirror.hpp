#pragma once
// The client's copy of the server's scene, built only from notify frames.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "voxcast/protocol/envelope.hpp"
#include "voxcast/protocol/messages.hpp"

namespace voxcast::client {

struct LayerMirror {
  std::string id;
  std::string name;
  protocol::Json controls = protocol::Json::object();
  protocol::Json metadata = protocol::Json::object();  // contrast_range, dtype, labels
};

struct ClientMirror {
  bool have_scene = false;
  std::vector<std::string> axis_labels;
  std::vector<int64_t> shape;
  std::vector<int64_t> current_step;
  std::vector<int> order;
  std::vector<double> scale;       // physical size of a step per axis (1 when unknown)
  std::vector<std::string> units;  // per axis ("" when unknown)
  protocol::Json metadata = protocol::Json::object();  // scene metadata: source, renderer, encoder
  int ndisplay = 2;
  protocol::Json camera = protocol::Json::object();  // latest pose state
  std::vector<LayerMirror> layers;
  std::optional<protocol::NotifyStream> stream;
  std::map<std::string, int64_t> last_seq;  // resumable topic -> seq
  std::map<std::string, std::string> resume_tokens;

  const LayerMirror* layer(const std::string& id) const;
  int axis(const std::string& label) const;  // -1 when unknown
};

enum class MirrorChange { none, scene, dims, camera, layers, stream, invalid };

// Applies one notify frame. Frames whose payload does not validate change nothing
// and return MirrorChange::invalid.
MirrorChange apply_notify(ClientMirror* mirror, const protocol::Envelope& e);

}  // namespace voxcast::client
