#include <gtest/gtest.h>

#include "voxcast/data/synthetic.hpp"
#include "voxcast/server/reducers.hpp"

using namespace voxcast;
using namespace voxcast::server;
using protocol::Json;
using protocol::StateUpdate;

namespace {
render::Scene scene() {
  data::VolumeInfo info;
  info.name = "t";
  info.axes = {{"c", "channel", 1, 0, ""}, {"z", "space", 1, 0, ""}, {"y", "space", 1, 0, ""}, {"x", "space", 1, 0, ""}};
  info.shape = {2, 10, 20, 30};
  info.channel_axis = 0;
  info.channels = {data::make_channel("a", "magenta", 0, 100), data::make_channel("b", "green", 0, 100)};
  return render::make_initial_scene(info, 64, 48);
}
protocol::Result<Reduction> run(const render::Scene& s, std::string scope, std::string target, std::string key, Json v) {
  return reduce_state_update(s, StateUpdate{std::move(scope), std::move(target), std::move(key), std::move(v)});
}
}  // namespace

TEST(Reducers, DimsIndexAndStep) {
  auto s = scene();
  auto r = run(s, "dims", "z", "index", 7);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->scene.dims.current_step[0], 7);
  EXPECT_EQ(r->applied_value, 7);
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->topic, NotifyTopic::dims);
  EXPECT_TRUE(run(s, " DIMS ", "Z", "Index", 7));  // scope/key trimmed and lower-cased, labels case-insensitive
  EXPECT_TRUE(run(s, "dims", "0", "index", 7));    // axis by index
  auto step = run(s, "dims", "z", "step", 100);
  ASSERT_TRUE(step);
  EXPECT_EQ(step->applied_value, 9);  // a relative step clamps at the end
  auto same = run(s, "dims", "z", "index", s.dims.current_step[0]);
  ASSERT_TRUE(same);
  EXPECT_FALSE(same->changed);
}

TEST(Reducers, DimsRejectsBadInputWithStateInvalid) {
  auto s = scene();
  for (auto [target, key, value] : std::vector<std::tuple<std::string, std::string, Json>>{
           {"z", "index", 10}, {"z", "index", -1}, {"z", "index", "3"}, {"z", "index", 2.5},
           {"z", "index", true}, {"q", "index", 1}, {"", "index", 1}, {"z", "bogus", 1}}) {
    auto r = run(s, "dims", target, key, value);
    ASSERT_FALSE(r) << target << " " << key << " " << value;
    EXPECT_EQ(r.error().code, "state.invalid");
    EXPECT_EQ(r.error().details["scope"], "dims");
  }
}

TEST(Reducers, ViewNdisplay) {
  auto s = scene();
  auto two = run(s, "view", "main", "ndisplay", 2);
  ASSERT_TRUE(two);
  EXPECT_FALSE(two->changed);
  auto three = run(s, "view", "main", "ndisplay", 3);
  ASSERT_TRUE(three);
  EXPECT_TRUE(three->changed);
  EXPECT_EQ(three->scene.dims.ndisplay, 3);
  EXPECT_FALSE(run(s, "view", "main", "ndisplay", "x"));
  EXPECT_FALSE(run(s, "view", "main", "ndisplay", 4));
}

TEST(Reducers, Camera3DOrbitZoomPanSetAndTheToggleKeepsBothCameras) {
  auto s = scene();
  auto three = run(s, "view", "main", "ndisplay", 3)->scene;
  auto orbit = run(three, "camera", "main", "orbit", Json{{"d_az_deg", 30}, {"d_el_deg", 100}});
  ASSERT_TRUE(orbit) << orbit.error().message;
  EXPECT_DOUBLE_EQ(orbit->scene.camera3d.azimuth, 30);
  EXPECT_DOUBLE_EQ(orbit->scene.camera3d.elevation, 89);  // clamped
  EXPECT_EQ(orbit->applied_value["d_az_deg"], 30.0);
  EXPECT_EQ(orbit->applied_value["pose"]["angles"], Json({30.0, 89.0, 0.0}));  // acked with the applied pose
  EXPECT_EQ(orbit->scene.camera.zoom, s.camera.zoom);     // the 2D camera is untouched
  auto zoom = run(orbit->scene, "camera", "main", "zoom", Json{{"factor", 0.5}});
  ASSERT_TRUE(zoom);
  EXPECT_DOUBLE_EQ(zoom->scene.camera3d.zoom, orbit->scene.camera3d.zoom * 2);
  auto set = run(zoom->scene, "camera", "main", "set", Json{{"angles", {10, 20, 0}}, {"fov", 45}});
  ASSERT_TRUE(set);
  EXPECT_DOUBLE_EQ(set->scene.camera3d.fov, 45);
  EXPECT_FALSE(run(zoom->scene, "camera", "main", "set", Json{{"fov", 200}}));
  EXPECT_FALSE(run(zoom->scene, "camera", "main", "set", Json{{"center", {1, 2}}}));
  EXPECT_TRUE(run(zoom->scene, "camera", "main", "pan", Json{{"dx_px", 5}, {"dy_px", 0}}));
  auto back = run(set->scene, "view", "main", "ndisplay", 2)->scene;
  auto again = run(back, "view", "main", "ndisplay", 3)->scene;
  EXPECT_DOUBLE_EQ(again.camera3d.azimuth, 10);  // each mode keeps its camera
  EXPECT_DOUBLE_EQ(back.camera.zoom, s.camera.zoom);
}

TEST(Reducers, CameraZoomPanSetReset) {
  auto s = scene();
  auto z = run(s, "camera", "main", "zoom", Json{{"factor", 0.5}, {"anchor_px", {32, 24}}});
  ASSERT_TRUE(z) << z.error().message;
  EXPECT_DOUBLE_EQ(z->scene.camera.zoom, s.camera.zoom * 2);
  EXPECT_NEAR(z->scene.camera.center_x, s.camera.center_x, 1e-9);  // anchored at the centre
  auto p = run(s, "camera", "", "pan", Json{{"dx_px", 10}, {"dy_px", 0}});
  ASSERT_TRUE(p);
  EXPECT_LT(p->scene.camera.center_x, s.camera.center_x);
  auto set = run(s, "camera", "main", "set", Json{{"rect", {0, 0, 10, 10}}});
  ASSERT_TRUE(set);
  EXPECT_DOUBLE_EQ(set->scene.camera.center_x, 5);
  auto reset = run(set->scene, "camera", "main", "reset", Json{{"reason", "user"}});
  ASSERT_TRUE(reset);
  EXPECT_DOUBLE_EQ(reset->scene.camera.zoom, s.camera.zoom);
  EXPECT_EQ(reset->applied_value["reason"], "user");
  EXPECT_FALSE(run(s, "camera", "main", "zoom", Json{{"factor", 0}}));
  EXPECT_FALSE(run(s, "camera", "main", "zoom", Json{{"factor", 2}, {"anchor_px", "x"}}));
  EXPECT_FALSE(run(s, "camera", "main", "pan", Json{{"dx_px", "a"}, {"dy_px", 0}}));
  EXPECT_FALSE(run(s, "camera", "main", "set", Json::object()));
  EXPECT_FALSE(run(s, "camera", "main", "set", Json{{"rect", {0, 0, -1, 1}}}));
  EXPECT_FALSE(run(s, "camera", "main", "set", Json{{"center", {1}}}));
  EXPECT_FALSE(run(s, "camera", "main", "orbit", Json{{"d_az_deg", 1}, {"d_el_deg", 0}}));
  EXPECT_FALSE(run(s, "camera", "side", "reset", nullptr));
}

TEST(Reducers, LayerControls) {
  auto s = scene();
  auto o = run(s, "layer", "layer-1", "opacity", 1.7);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->applied_value, 1.0);
  EXPECT_EQ(o->layer_controls, (Json{{"opacity", 1.0}}));
  auto cl = run(s, "layer", "layer-0", "contrast_limits", Json{{"lo", 50}, {"hi", 10}});
  ASSERT_TRUE(cl);
  EXPECT_EQ(cl->applied_value, Json({10.0, 50.0}));
  auto cm = run(s, "layer", "layer-0", "colormap", "VIRIDIS");
  ASSERT_TRUE(cm);
  EXPECT_EQ(cm->applied_value, "viridis");
  EXPECT_EQ(cm->property, "layer:layer-0:colormap");
  auto vis = run(s, "layer", "layer-0", "visible", "off");
  ASSERT_TRUE(vis);
  EXPECT_EQ(vis->applied_value, false);
  EXPECT_TRUE(run(s, "layer", "layer-0", "gamma", 0.5));
  EXPECT_TRUE(run(s, "layer", "layer-0", "blending", Json{{"name", "translucent"}}));
  EXPECT_TRUE(run(s, "layer", "layer-0", "interpolation", "linear"));
  EXPECT_TRUE(run(s, "layer", "", "opacity", 0.3));  // empty target means layer-0
  auto mode = run(s, "layer", "layer-0", "rendering", "ATTENUATED_MIP");
  ASSERT_TRUE(mode);
  EXPECT_EQ(mode->applied_value, "attenuated_mip");
  EXPECT_EQ(run(s, "layer", "layer-0", "attenuation", -1)->applied_value, 0.0);
  EXPECT_TRUE(run(s, "layer", "layer-0", "iso_threshold", 250));
  for (auto [target, key, value] : std::vector<std::tuple<std::string, std::string, Json>>{
           {"layer-9", "opacity", 0.5}, {"layer-0", "opacity", "half"}, {"layer-0", "gamma", 0},
           {"layer-0", "contrast_limits", {1, 1}}, {"layer-0", "contrast_limits", {1}}, {"layer-0", "colormap", "nope"},
           {"layer-0", "blending", "maximum"}, {"layer-0", "interpolation", "lanczos"}, {"layer-0", "visible", "maybe"},
           {"layer-0", "rendering", "volumetric"}, {"layer-0", "iso_threshold", "x"}, {"layer-0", "nope", 1}}) {
    auto r = run(s, "layer", target, key, value);
    ASSERT_FALSE(r) << target << " " << key << " " << value;
    EXPECT_EQ(r.error().code, "state.invalid");
  }
  EXPECT_FALSE(run(s, "volume", "", "render_mode", "mip"));
  EXPECT_FALSE(run(s, "", "", "x", 1));
}

TEST(Ledger, VersionsGrowOnlyOnChange) {
  Ledger l;
  l.scene = scene();
  auto a = run(l.scene, "dims", "z", "index", 1);
  ASSERT_TRUE(a);
  EXPECT_EQ(commit(&l, a.value()), 2u);
  EXPECT_EQ(l.scene.version, 2u);
  auto same = run(l.scene, "dims", "z", "index", 1);
  EXPECT_EQ(commit(&l, same.value()), 2u);
  auto op = run(l.scene, "layer", "layer-0", "opacity", 0.5);
  EXPECT_EQ(commit(&l, op.value()), 3u);
  auto again = run(l.scene, "dims", "z", "index", 1);
  EXPECT_EQ(commit(&l, again.value()), 2u);  // that property last changed at version 2
  EXPECT_EQ(l.version, 3u);
}

#include "voxcast/server/render_loop.hpp"

TEST(FramePacer, JitterAtTheCapIsFreeAndFasterInputIsHeldToIt) {
  FramePacer p{60.0, 2.0, 0.0};
  EXPECT_EQ(frame_wait_seconds(&p, 0.0), 0.0);
  EXPECT_EQ(frame_wait_seconds(&p, 0.001), 0.0);  // a burst of two passes
  double w = frame_wait_seconds(&p, 0.002);
  EXPECT_NEAR(w, 1.0 / 60 - 0.002 + 0.0, 0.002);
  // Asking at 240 Hz for a second yields about 60 frames.
  FramePacer q{60.0, 2.0, 0.0};
  double t = 0;
  int frames = 0;
  while (t < 1.0) {
    t += frame_wait_seconds(&q, t);
    ++frames;
    t += 1.0 / 240;
  }
  EXPECT_NEAR(frames, 62, 3);
  // At the cap with jitter (±3 ms) nothing waits.
  FramePacer r{60.0, 2.0, 0.0};
  double waited = 0;
  for (int i = 0; i < 120; ++i) waited += frame_wait_seconds(&r, i / 60.0 + ((i % 2) ? 0.003 : -0.003) + 0.01);
  EXPECT_EQ(waited, 0.0);
}
