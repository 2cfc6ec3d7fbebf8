#include <gtest/gtest.h>

#include "voxcast/client/mirror.hpp"

using namespace voxcast;
using namespace voxcast::client;
using protocol::Json;

namespace {
protocol::Envelope notify(const char* type, Json payload, std::optional<int64_t> seq = std::nullopt) {
  protocol::Envelope e;
  e.type = type;
  e.session = "s";
  e.frame_id = "f";
  e.timestamp = 1;
  e.payload = std::move(payload);
  if (seq) {
    e.seq = *seq;
    e.delta_token = "tok" + std::to_string(*seq);
  }
  return e;
}
}  // namespace

TEST(Mirror, SceneThenDeltas) {
  ClientMirror m;
  Json scene = {{"viewer",
                 {{"dims", {{"axis_labels", {"z", "y", "x"}}, {"current_step", {5, 0, 0}}, {"order", {0, 1, 2}},
                            {"ndisplay", 2}, {"level_shapes", {{10, 20, 30}}}}},
                  {"camera", {{"zoom", 1.5}}}}},
                {"layers", {{{"layer_id", "layer-0"}, {"name", "nuclei"}, {"controls", {{"opacity", 1.0}}}}}}};
  EXPECT_EQ(apply_notify(&m, notify("notify.scene", scene, 0)), MirrorChange::scene);
  EXPECT_TRUE(m.have_scene);
  EXPECT_EQ(m.axis("z"), 0);
  EXPECT_EQ(m.shape[2], 30);
  EXPECT_EQ(m.layer("layer-0")->name, "nuclei");
  EXPECT_EQ(m.resume_tokens["notify.scene"], "tok0");

  Json dims = {{"step", {7, 0, 0}}, {"levels", Json::array()}, {"current_level", 0}, {"level_shapes", {{10, 20, 30}}},
               {"mode", "plane"}, {"ndisplay", 2}};
  EXPECT_EQ(apply_notify(&m, notify("notify.dims", dims)), MirrorChange::dims);
  EXPECT_EQ(m.current_step[0], 7);

  EXPECT_EQ(apply_notify(&m, notify("notify.layers", {{"layer_id", "layer-0"}, {"controls", {{"opacity", 0.25}}}}, 1)),
            MirrorChange::layers);
  EXPECT_EQ(m.layer("layer-0")->controls["opacity"], 0.25);
  EXPECT_EQ(m.last_seq["notify.layers"], 1);

  EXPECT_EQ(apply_notify(&m, notify("notify.camera", {{"mode", "pose"}, {"origin", "x"}, {"state", {{"zoom", 3.0}}}})),
            MirrorChange::camera);
  EXPECT_EQ(m.camera["zoom"], 3.0);
}

TEST(Mirror, InvalidPayloadsChangeNothing) {
  ClientMirror m;
  m.current_step = {1};
  EXPECT_EQ(apply_notify(&m, notify("notify.dims", {{"step", "x"}})), MirrorChange::invalid);
  EXPECT_EQ(m.current_step[0], 1);
  EXPECT_EQ(apply_notify(&m, notify("notify.scene", {{"viewer", {{"dims", {{"ndisplay", "two"}}}}}, {"layers", Json::array()}}, 0)),
            MirrorChange::invalid);
  EXPECT_FALSE(m.have_scene);
  EXPECT_EQ(apply_notify(&m, notify("notify.telemetry", Json::object())), MirrorChange::none);
}
