#pragma once
// The state ledger and its reducers: pure functions from (scene, intent) to a new
// scene or a typed rejection. They run on the control strand only; nothing here
// locks, performs I/O or touches the renderer.
#include <cstdint>
#include <map>
#include <string>

#include "voxcast/protocol/messages.hpp"
#include "voxcast/render/scene.hpp"

namespace voxcast::server {

enum class NotifyTopic { none, dims, camera, layers };

struct Reduction {
  render::Scene scene;              // the scene after the intent
  bool changed = false;             // false for an identical re-set
  protocol::Json applied_value;     // canonical value actually applied
  std::string property;             // ledger key, e.g. "dims:current_step", "layer:layer-0:opacity"
  NotifyTopic topic = NotifyTopic::none;
  std::string layer_id;             // for NotifyTopic::layers
  protocol::Json layer_controls;    // the changed controls, for notify.layers
};

// Validates and applies one state.update. Rejections carry code "state.invalid" and
// details {scope, key, target}.
protocol::Result<Reduction> reduce_state_update(const render::Scene& scene, const protocol::StateUpdate& update);

// The authoritative scene plus versions: `version` grows by one per change; each
// property remembers the version at which it last changed (what ack.state reports,
// and what a frame's SEI scene version is compared with).
struct Ledger {
  render::Scene scene;
  uint64_t version = 1;
  std::map<std::string, uint64_t> property_versions;
};

// Applies a reduction; returns the property's version.
uint64_t commit(Ledger* ledger, Reduction reduction);

}  // namespace voxcast::server
