#include <gtest/gtest.h>

#include "voxcast/protocol/envelope.hpp"

using namespace voxcast::protocol;

TEST(Envelope, ParsesAStateUpdate) {
  auto e = parse_envelope(
      R"({"type":"state.update","version":2,"session":"s1","frame_id":"f1","timestamp":1.5,"intent_id":"i1",)"
      R"("payload":{"scope":"dims","target":"z","key":"index","value":3},"unknown_field":7})");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->type, "state.update");
  EXPECT_EQ(*e->session, "s1");
  EXPECT_EQ(*e->intent_id, "i1");
  EXPECT_DOUBLE_EQ(e->timestamp, 1.5);
  EXPECT_EQ(e->payload["value"], 3);
}

TEST(Envelope, RejectsMalformedJson) {
  auto e = parse_envelope("{not json");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, "invalid_json");
  EXPECT_FALSE(parse_envelope("[1,2]"));
  EXPECT_FALSE(parse_envelope(R"({"type":"x","version":2,"timestamp":NaN,"payload":{}})"));
}

TEST(Envelope, EnforcesVersionTimestampAndPayload) {
  EXPECT_EQ(parse_envelope(R"({"type":"session.ack","version":1,"session":"s","frame_id":"f","timestamp":1,"payload":{}})")
                .error().code, "invalid_envelope");
  EXPECT_FALSE(parse_envelope(R"({"type":"session.ack","version":2,"session":"s","frame_id":"f","payload":{}})"));
  EXPECT_FALSE(parse_envelope(R"({"type":"session.ack","version":2,"session":"s","frame_id":"f","timestamp":1,"payload":[]})"));
  EXPECT_FALSE(parse_envelope(R"({"type":"session.ack","version":2,"session":5,"frame_id":"f","timestamp":1,"payload":{}})"));
  EXPECT_FALSE(parse_envelope(R"({"type":"","version":2,"timestamp":1,"payload":{}})"));
}

TEST(Envelope, AppliesPerTypeRules) {
  // state.update needs intent_id
  EXPECT_FALSE(parse_envelope(R"({"type":"state.update","version":2,"session":"s","frame_id":"f","timestamp":1,"payload":{}})"));
  // hello must not carry a session
  EXPECT_FALSE(parse_envelope(R"({"type":"session.hello","version":2,"session":"s","frame_id":"f","timestamp":1,"payload":{}})"));
  // notify.scene needs seq 0 and a token
  EXPECT_FALSE(parse_envelope(R"({"type":"notify.scene","version":2,"session":"s","timestamp":1,"payload":{}})"));
  EXPECT_FALSE(parse_envelope(R"({"type":"notify.scene","version":2,"session":"s","timestamp":1,"seq":3,"delta_token":"t","payload":{}})"));
  EXPECT_TRUE(parse_envelope(R"({"type":"notify.scene","version":2,"session":"s","timestamp":1,"seq":0,"delta_token":"t","payload":{}})"));
  // notify.dims needs frame_id or intent_id and must not carry seq
  EXPECT_FALSE(parse_envelope(R"({"type":"notify.dims","version":2,"session":"s","timestamp":1,"payload":{}})"));
  EXPECT_TRUE(parse_envelope(R"({"type":"notify.dims","version":2,"session":"s","intent_id":"i","timestamp":1,"payload":{}})"));
  EXPECT_FALSE(parse_envelope(R"({"type":"notify.dims","version":2,"session":"s","frame_id":"f","seq":1,"delta_token":"t","timestamp":1,"payload":{}})"));
  // ack.state must not carry an envelope intent_id
  EXPECT_FALSE(parse_envelope(R"({"type":"ack.state","version":2,"session":"s","frame_id":"f","intent_id":"i","timestamp":1,"payload":{}})"));
}

TEST(Envelope, UnknownTypesParseForTheDispatcher) {
  auto e = parse_envelope(R"({"type":"ping","version":2,"timestamp":1,"payload":{}})");
  ASSERT_TRUE(e);
  EXPECT_FALSE(is_known_type(e->type));
  EXPECT_TRUE(is_known_type("notify.layers"));
}

TEST(Envelope, RoundTripsThroughText) {
  Envelope e;
  e.type = type::kNotifyLayers;
  e.session = "abc";
  e.frame_id = "notify-layers-1";
  e.timestamp = 1730000000.25;
  e.seq = 7;
  e.delta_token = "tok";
  e.intent_id = "intent-1";
  e.payload = {{"layer_id", "layer-0"}, {"controls", {{"opacity", 0.5}}}};
  auto back = parse_envelope(serialize(e));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(envelope_to_json(back.value()), envelope_to_json(e));
}
