// napari.auto_contrast: contrast limits for one layer from the 0.5 and 99.5 percentiles of
// what it shows now (the current plane in 2D, the volume in 3D), read at the finest
// level that keeps the read small. The caller applies them as an ordinary layer intent.
#include <cmath>

#include "server_core.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/server/data_root.hpp"
#include "voxcast/data/contrast.hpp"
#include "voxcast/protocol/json.hpp"

namespace voxcast::server {

using protocol::Json;
namespace type = protocol::type;

namespace {
constexpr int64_t kMaxVoxels = 4 << 20;

// The level-0 box at `level` (start floored, size rounded up, kept inside the level).
data::Box box_at_level(const data::Box& box0, const data::LevelInfo& level) {
  data::Box b = box0;
  for (size_t a = 0; a < b.start.size(); ++a) {
    const double f = level.factor[a] > 0 ? level.factor[a] : 1.0;
    b.start[a] = std::min<int64_t>(static_cast<int64_t>(std::floor(box0.start[a] / f)), level.shape[a] - 1);
    b.size[a] = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(box0.size[a] / f)), 1, level.shape[a] - b.start[a]);
  }
  return b;
}
}  // namespace

void Server::Core::handle_auto_contrast(const std::shared_ptr<ControlSession>& sp, const std::string& fid,
                                        const protocol::CallCommand& call) {
  ControlSession& s = *sp;
  const Json& kw = call.kwargs;
  // value() would throw on a wrong-typed "layer": read it only when it is a string.
  const std::string id = kw.contains("layer") && kw["layer"].is_string() ? kw["layer"].get<std::string>() : "";
  const render::LayerState* layer = nullptr;
  for (const auto& l : ledger.scene.layers)
    if (l.id == id) layer = &l;
  if (!layer) return s.send(command_error(fid, "command.invalid", "unknown layer '" + protocol::quote_prefix(id) + "'", {{"layer", protocol::quote_prefix(id)}}));
  auto source = ledger.scene.source;
  data::Box box0 = render::layer_read(ledger.scene.dims, render::displayed_axes(ledger.scene.dims), *layer, *source).box;
  std::weak_ptr<ControlSession> who = sp;
  const bool started = contrast.start([this, who, fid, id, source, box0] {
    const auto& levels = source->info().levels;
    size_t level = 0;
    data::Box box = box_at_level(box0, levels[0]);
    while (box.count() > kMaxVoxels && level + 1 < levels.size()) box = box_at_level(box0, levels[++level]);
    std::vector<float> values;
    std::optional<data::DataError> err;
    if (box.count() > kMaxVoxels) {
      // No level is coarse enough (single-level data): every step-th voxel of the view,
      // streamed through the chunks within the cache budget.
      std::vector<int64_t> step(box.size.size(), 1);
      int spread = 0;
      for (auto n : box.size) spread += n > 1;
      const double ratio = static_cast<double>(box.count()) / static_cast<double>(kMaxVoxels);
      const auto k = static_cast<int64_t>(std::ceil(std::pow(ratio, 1.0 / std::max(spread, 1))));
      for (size_t a = 0; a < box.size.size(); ++a)
        if (box.size[a] > 1) step[a] = k;
      auto sampled = data::make_sampled_read(static_cast<int>(level), box, step);
      while (!err && !sampled.complete) err = source->sample(&sampled, steady_ms() + 1000.0);
      values = std::move(sampled.values);
    } else {
      values.resize(static_cast<size_t>(box.count()));
      err = source->read_level(static_cast<int>(level), box, values.data());
    }
    std::optional<std::array<double, 2>> limits;
    if (!err) limits = data::percentiles(std::move(values), 0.005, 0.995);
    asio::post(io, [this, who, fid, id, err, limits, level] {
      contrast.done();
      auto s = who.lock();
      if (!s) return;
      if (err) return s->send(command_error(fid, "data.read_failed", shown_path(err->source) + ": " + shown_server_text(config.data_root, err->message)));
      if (!limits) return s->send(command_error(fid, "contrast.empty", "no finite values in view", {{"layer", id}}));
      auto lim = *limits;
      if (lim[1] <= lim[0]) lim[1] = lim[0] + 1;  // a flat view still gets a usable window
      Json result = {{"layer", id}, {"contrast_limits", {lim[0], lim[1]}}, {"level", level}};
      s->send(make(type::kReplyCommand, protocol::to_json(protocol::ReplyCommand{fid, std::move(result)}), "reply"));
    });
  });
  if (!started) return s.send(command_error(fid, "command.retryable", "contrast is being estimated; try again"));
}

}  // namespace voxcast::server
