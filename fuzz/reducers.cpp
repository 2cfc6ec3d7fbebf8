// state.update payloads (one JSON object per line) reduced into a scene, each accepted
// one committed, so later updates see the effects of earlier ones.
#include <cstdint>
#include <string_view>

#include "voxcast/protocol/json.hpp"
#include "voxcast/protocol/messages.hpp"
#include "voxcast/render/scene.hpp"
#include "voxcast/server/reducers.hpp"

using namespace voxcast;

namespace {
data::VolumeInfo test_info() {
  data::VolumeInfo info;
  info.name = "fuzz";
  info.shape = {2, 5, 40, 30};
  info.axes = {{"c", "channel", 1.0, 0.0, ""}, {"z", "space", 2.0, 0.0, "micrometer"},
               {"y", "space", 0.5, 0.0, "micrometer"}, {"x", "space", 0.5, 0.0, "micrometer"}};
  info.channel_axis = 0;
  info.dtype = data::DType::u16;
  info.channels.resize(2);
  data::ensure_levels(&info);
  return info;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const data::VolumeInfo info = test_info();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  server::Ledger ledger;
  ledger.scene = render::make_initial_scene(info, 64, 48);
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    auto j = protocol::parse_json(text.substr(begin, end - begin));
    begin = end + 1;
    if (!j) continue;
    auto u = protocol::parse_state_update(j.value());
    if (!u) continue;
    auto r = server::reduce_state_update(ledger.scene, u.value());
    if (r) server::commit(&ledger, std::move(r).value());
  }
  return 0;
}
