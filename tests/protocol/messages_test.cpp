#include <gtest/gtest.h>

#include "voxcast/protocol/messages.hpp"

using namespace voxcast::protocol;

TEST(Messages, HelloRoundTripAndValidation) {
  SessionHello h;
  h.client = {"t", "1", "linux"};
  h.features = {{"notify.scene", true}, {"notify.dims", false}};
  h.resume_tokens = {{"notify.scene", std::nullopt}, {"notify.layers", std::string("tok")}};
  h.auth = AuthInfo{"token", std::string("secret")};
  auto back = parse_session_hello(to_json(h));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->protocols, std::vector<int>{2});
  EXPECT_EQ(back->client.platform, "linux");
  EXPECT_TRUE(back->features["notify.scene"]);
  EXPECT_FALSE(back->features["notify.dims"]);
  EXPECT_EQ(*back->resume_tokens["notify.layers"], "tok");
  EXPECT_EQ(*back->auth->token, "secret");

  Json bad = to_json(h);
  bad["protocols"] = Json::array();
  EXPECT_EQ(parse_session_hello(bad).error().code, "invalid_payload");
  bad = to_json(h);
  bad.erase("client");
  EXPECT_FALSE(parse_session_hello(bad));
  bad = to_json(h);
  bad["client"]["name"] = 3;
  EXPECT_FALSE(parse_session_hello(bad));
  bad = to_json(h);
  bad["features"]["notify.scene"] = "yes";
  EXPECT_FALSE(parse_session_hello(bad));
}

TEST(Messages, WelcomeRoundTrip) {
  SessionWelcome w;
  w.session_id = "sid";
  w.features["notify.scene"] = FeatureToggle{true, 1, true, std::nullopt, ResumeCursor{0, "t"}};
  w.features["call.command"] = FeatureToggle{true, 1, false, std::vector<std::string>{"a", "b"}, std::nullopt};
  auto back = parse_session_welcome(to_json(w));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->session_id, "sid");
  EXPECT_EQ(back->features["notify.scene"].resume_state->delta_token, "t");
  EXPECT_EQ(back->features["call.command"].commands->size(), 2u);
  Json bad = to_json(w);
  bad["protocol_version"] = 3;
  EXPECT_FALSE(parse_session_welcome(bad));
}

TEST(Messages, StateUpdateAndAck) {
  auto u = parse_state_update({{"scope", "dims"}, {"target", "z"}, {"key", "index"}, {"value", nullptr}});
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->value.is_null());
  EXPECT_FALSE(parse_state_update({{"scope", "dims"}, {"target", "z"}, {"key", "index"}}));
  EXPECT_FALSE(parse_state_update({{"scope", 1}, {"target", "z"}, {"key", "index"}, {"value", 1}}));

  AckState ok{"i", "f", true, Json(5), 9, std::nullopt};
  auto a = parse_ack_state(to_json(ok));
  ASSERT_TRUE(a);
  EXPECT_EQ(*a->version, 9);
  AckState rej{"i", "f", false, std::nullopt, std::nullopt, make_error("state.invalid", "bad")};
  auto r = parse_ack_state(to_json(rej));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error->code, "state.invalid");
  Json broken = to_json(ok);
  broken.erase("version");
  EXPECT_FALSE(parse_ack_state(broken));
  broken = to_json(rej);
  broken.erase("error");
  EXPECT_FALSE(parse_ack_state(broken));
}

TEST(Messages, CommandLane) {
  auto c = parse_call_command({{"command", "napari.pixel.request_keyframe"}});
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->args.is_array());
  EXPECT_FALSE(parse_call_command({{"command", ""}}));
  EXPECT_FALSE(parse_call_command({{"command", "x"}, {"kwargs", Json::array()}}));
  auto reply = parse_reply_command(to_json(ReplyCommand{"f", Json{{"ok", true}}}));
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply->result)["ok"], true);
  auto err = parse_error_command(to_json(ErrorCommand{"f", "command.not_found", "nope", {}}));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, "command.not_found");
  EXPECT_FALSE(parse_error_command({{"in_reply_to", "f"}, {"status", "ok"}, {"code", "c"}, {"message", "m"}}));
}

TEST(Messages, NotifyPayloads) {
  NotifyStream s;
  s.width = 1920;
  s.height = 1080;
  s.avcc_base64 = "AQID";
  auto sb = parse_notify_stream(to_json(s));
  ASSERT_TRUE(sb);
  EXPECT_EQ(sb->width, 1920);
  Json bad = to_json(s);
  bad["frame_size"] = {0, 10};
  EXPECT_FALSE(parse_notify_stream(bad));

  NotifyDims d;
  d.current_step = {3, 0, 0};
  d.levels = {LevelDescriptor{0, {10, 20, 30}, {1, 1, 1}, std::string("0")}};
  d.level_shapes = {{10, 20, 30}};
  d.axis_labels = {"z", "y", "x"};
  d.order = {0, 1, 2};
  d.displayed = {1, 2};
  Json dj = to_json(d);
  EXPECT_EQ(dj["step"], dj["current_step"]);
  auto db = parse_notify_dims(dj);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->levels[0].shape[2], 30);
  dj["ndisplay"] = 4;
  EXPECT_FALSE(parse_notify_dims(dj));

  EXPECT_FALSE(parse_notify_camera({{"mode", "pose"}, {"origin", "x"}}));
  EXPECT_TRUE(parse_notify_camera({{"mode", "pose"}, {"origin", "x"}, {"state", {{"zoom", 1.0}}}}));
  EXPECT_FALSE(parse_notify_layers({{"layer_id", "layer-0"}}));
  EXPECT_TRUE(parse_notify_layers({{"layer_id", "layer-0"}, {"controls", {{"visible", true}}}}));
  EXPECT_FALSE(parse_notify_scene({{"viewer", Json::object()}, {"layers", Json::object()}}));
  EXPECT_TRUE(parse_notify_error(to_json(NotifyError{"protocol", "c", "m", "warning", {}})));
  EXPECT_FALSE(parse_notify_error({{"domain", "d"}, {"code", "c"}, {"message", "m"}, {"severity", "fatal"}}));
}
