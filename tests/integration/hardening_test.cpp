// Hostile and unlucky input against a real server and a real client (issue 16): each test
// reproduces one failure that used to crash, leak or misbehave.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "fake_server.hpp"
#include "fixture.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;

namespace {
constexpr int kDeep = 150000;  // far past any stack's worth of recursion

std::string nested_arrays(int depth) { return std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']'); }

// A frame's JSON text with `raw` spliced in as the value of payload key `key`.
std::string with_raw_value(Json frame, const std::string& key, const std::string& raw) {
  frame["payload"][key] = "@@RAW@@";
  std::string text = frame.dump();
  text.replace(text.find("\"@@RAW@@\""), 9, raw);
  return text;
}

std::string handshake(RawControl& raw, const std::string& token) {
  raw.send(hello_frame(token));
  auto w = raw.read();
  if (!w || (*w)["type"] != "session.welcome") return "";
  return (*w)["session"].get<std::string>();
}
}  // namespace

TEST(Hardening, DeeplyNestedHelloIsRejectedBeforeAuthentication) {
  TestServer srv;
  {
    // Within the pre-authentication message limit (64 KiB) and far too deep: a typed reject.
    RawControl raw("127.0.0.1", srv.get().control_port());
    raw.send_text(with_raw_value(hello_frame(srv.get().token()), "extra", nested_arrays(30000)));
    auto reply = raw.read();
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["type"], "session.reject");
    EXPECT_EQ((*reply)["payload"]["code"], "json_too_deep");
  }
  {
    // Past the pre-authentication limit: closed before anything is parsed (the close code,
    // 1009, is checked in HardeningSocket.MessagesBeforeAuthenticationAreSmall).
    RawControl raw("127.0.0.1", srv.get().control_port());
    raw.send_text(with_raw_value(hello_frame(srv.get().token()), "extra", nested_arrays(kDeep)));
    EXPECT_FALSE(raw.read()) << "a 300 KB hello is read before authentication";
  }
  // The server is still there for the next client.
  RawControl ok("127.0.0.1", srv.get().control_port());
  EXPECT_FALSE(handshake(ok, srv.get().token()).empty());
}

TEST(Hardening, DeeplyNestedStateUpdateValueGetsATypedRejection) {
  TestServer srv;
  RawControl raw("127.0.0.1", srv.get().control_port());
  std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  raw.read_type("notify.stream");
  raw.send_text(with_raw_value(state_update_frame(sid, "1", "dims", "z", "index", 0), "value", nested_arrays(kDeep)));
  auto ack = raw.read_type("ack.state");
  ASSERT_TRUE(ack);
  EXPECT_EQ((*ack)["payload"]["status"], "rejected");
  EXPECT_EQ((*ack)["payload"]["error"]["code"], "state.invalid");
  EXPECT_EQ((*ack)["payload"]["in_reply_to"], "state-1");
  // Deep in a frame of an unknown lane: a notify.error, and the connection stays.
  raw.send_text(R"({"type":"x.y","version":2,"timestamp":1,"payload":{"a":)" + nested_arrays(kDeep) + "}}");
  auto err = raw.read_type("notify.error");
  ASSERT_TRUE(err);
  EXPECT_EQ((*err)["payload"]["code"], "protocol.json_too_deep");
  raw.send(state_update_frame(sid, "2", "dims", "z", "index", 2));
  auto ok = raw.read_type("ack.state");
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["payload"]["status"], "accepted");
}

TEST(Hardening, TheClientSurvivesADeeplyNestedFrameFromTheServer) {
  std::promise<bool> answered;
  FakeControlServer fake([&](FakeControlServer::Conn& c) {
    if (!c.read_text(5)) return answered.set_value(false);
    c.send_text(welcome_frame("s-deep").dump());
    c.send_text(R"({"type":"notify.dims","version":2,"session":"s-deep","frame_id":"d1","timestamp":1,"payload":{"x":)" +
                nested_arrays(kDeep) + "}}");
    // A client that is still reading answers the heartbeat.
    c.send_text(Json{{"type", "session.heartbeat"}, {"version", 2}, {"session", "s-deep"}, {"frame_id", "hb1"},
                     {"timestamp", 1.0}, {"payload", Json::object()}}.dump());
    bool acked = false;
    for (int i = 0; i < 20 && !acked; ++i) {
      auto t = c.read_text(0.5);
      if (!t) break;
      acked = t->find("session.ack") != std::string::npos;
    }
    answered.set_value(acked);
  });
  client::ClientConfig cfg;
  cfg.connection.host = "127.0.0.1";
  cfg.connection.control_port = fake.port();
  cfg.connect_pixels = false;
  cfg.reconnect = false;
  client::ClientStreamLoop c(cfg);
  auto err = c.connect();
  ASSERT_FALSE(err) << err->message;
  auto f = answered.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(f.get());
  c.stop();
}

TEST(Hardening, AServerThatWelcomesAndDropsGetsNoReconnectStorm) {
  FakeControlServer fake([](FakeControlServer::Conn& c) {
    if (c.read_text(5)) c.send_text(welcome_frame("s-drop").dump());
  });  // the connection closes when the script returns
  client::ClientConfig cfg;
  cfg.connection.host = "127.0.0.1";
  cfg.connection.control_port = fake.port();
  cfg.connect_pixels = false;
  client::ClientStreamLoop c(cfg);
  ASSERT_FALSE(c.connect());
  std::string reason;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto s = c.loop_state();
    if (s.phase == client::LinkPhase::reconnecting && !s.last_error.empty()) reason = s.last_error;
  }
  const int attempts = fake.connections();
  c.stop();
  // Jittered doubling from 50 ms to the 1 s cap: 12 to 25 sessions in 10 s (was ~12 000).
  EXPECT_GE(attempts, 5);
  EXPECT_LE(attempts, 30);
  EXPECT_NE(reason.find("connection lost"), std::string::npos) << reason;
}
