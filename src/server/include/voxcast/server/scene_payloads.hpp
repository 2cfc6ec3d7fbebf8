#pragma once
// Builds the notify payloads of protocol v2 from the ledger's scene.
#include "voxcast/data/volume_source.hpp"
#include "voxcast/protocol/messages.hpp"
#include "voxcast/render/scene.hpp"

namespace voxcast::server {

struct SceneContext {
  std::string source_path;  // as the user named it (never resolved to an absolute path)
  double fps = 60.0;
  std::string renderer_3d;  // what the render loop chose at start ("cuda", "cpu")
  std::string encoder;      // "libx264", "h264_nvenc"
};

protocol::NotifyScene scene_payload(const render::Scene& s, const SceneContext& ctx);
protocol::NotifyDims dims_payload(const render::Scene& s);
// {center:[x,y], zoom, rect:[left, bottom, width, height]} (2D pose).
protocol::Json camera_pose(const render::Scene& s);
protocol::Json layer_controls(const render::LayerState& l);
// Layer metadata for notify.layers: the contrast range (what a contrast slider spans:
// napari's contrast_limits_range), the dtype, whether the layer is RGB or holds labels,
// and a label image's names by id ("label_names": {"1": "Precentral_L", ...}).
protocol::Json layer_metadata(const render::Scene& s, const render::LayerState& l);

}  // namespace voxcast::server
