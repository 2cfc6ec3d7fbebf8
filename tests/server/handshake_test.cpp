#include <gtest/gtest.h>

#include "voxcast/protocol/envelope.hpp"
#include "voxcast/server/handshake.hpp"

using namespace voxcast;
using namespace voxcast::server;
using protocol::Json;

namespace {
Json hello_json(Json features, std::optional<std::string> token) {
  Json payload = {{"protocols", {2}},
                  {"client", {{"name", "t"}, {"version", "1"}, {"platform", "p"}}},
                  {"features", features},
                  {"resume_tokens", {{"notify.scene", nullptr}}}};
  if (token) payload["auth"] = {{"type", "token"}, {"token", *token}};
  return {{"type", "session.hello"}, {"version", 2}, {"frame_id", "hello-1"}, {"timestamp", 1.0}, {"payload", payload}};
}
Json base_features() { return {{"notify.scene", true}, {"notify.layers", true}, {"notify.stream", true}}; }
HandshakePolicy policy() {
  HandshakePolicy p;
  p.token = "sekrit";
  p.commands = {"napari.pixel.request_keyframe"};
  return p;
}
}  // namespace

TEST(Handshake, AcceptsAGoodHelloAndNegotiatesFeaturesBothWays) {
  Json f = base_features();
  f["notify.dims"] = true;
  f["notify.camera"] = false;
  auto out = evaluate_hello(hello_json(f, "sekrit").dump(), policy());
  ASSERT_FALSE(out.reject) << out.reject->message;
  EXPECT_TRUE(out.features.count("notify.dims"));
  EXPECT_FALSE(out.features.count("notify.camera"));  // the peer said no
  EXPECT_FALSE(out.features.count("notify.error"));   // additions only when asked
  EXPECT_TRUE(out.features.count("call.command"));
  auto w = make_welcome("sid", out.features, policy());
  EXPECT_TRUE(w.features["notify.dims"].enabled);
  EXPECT_FALSE(w.features["notify.camera"].enabled);
  EXPECT_FALSE(w.features.count("notify.error"));
  EXPECT_EQ(w.features["call.command"].commands->front(), "napari.pixel.request_keyframe");
  EXPECT_TRUE(protocol::parse_session_welcome(protocol::to_json(w)));
}

TEST(Handshake, RejectsInTheReferenceOrder) {
  auto p = policy();
  EXPECT_EQ(evaluate_hello("nope", p).reject->code, "invalid_json");
  EXPECT_EQ(evaluate_hello(R"({"type":"state.update"})", p).reject->code, "unexpected_message");
  Json j = hello_json(base_features(), "sekrit");
  j["version"] = 1;
  EXPECT_EQ(evaluate_hello(j.dump(), p).reject->code, "invalid_payload");
  j = hello_json(base_features(), "sekrit");
  j["payload"]["protocols"] = {1};
  EXPECT_EQ(evaluate_hello(j.dump(), p).reject->code, "protocol_mismatch");
  EXPECT_EQ(evaluate_hello(hello_json(base_features(), "wrong").dump(), p).reject->code, "unauthorized");
  EXPECT_EQ(evaluate_hello(hello_json(base_features(), std::nullopt).dump(), p).reject->code, "unauthorized");
  Json f = base_features();
  f["notify.stream"] = false;
  EXPECT_EQ(evaluate_hello(hello_json(f, "sekrit").dump(), p).reject->code, "unsupported_features");
  p.require_token = false;
  EXPECT_FALSE(evaluate_hello(hello_json(base_features(), std::nullopt).dump(), p).reject);
}

TEST(Handshake, TokenComparison) {
  EXPECT_TRUE(token_matches("abc", "abc"));
  EXPECT_FALSE(token_matches("abc", "abd"));
  EXPECT_FALSE(token_matches("abc", "ab"));
  EXPECT_FALSE(token_matches("abc", "abcd"));
  EXPECT_FALSE(token_matches("", ""));
}
