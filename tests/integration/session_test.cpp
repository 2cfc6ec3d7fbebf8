// Control-channel behaviour of a real server over loopback.
#include <gtest/gtest.h>

#include "fixture.hpp"
#include "voxcast/core/clock.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;

namespace {
// Connects a raw peer and completes the handshake; returns the session id.
std::string handshake(RawControl& raw, const std::string& token) {
  raw.send(hello_frame(token));
  auto w = raw.read();
  if (!w || (*w)["type"] != "session.welcome") return "";
  return (*w)["session"].get<std::string>();
}
}  // namespace

TEST(Session, HandshakeAndBaselineOrder) {
  TestServer srv;
  RawControl raw("127.0.0.1", srv.get().control_port());
  raw.send(hello_frame(srv.get().token()));
  auto welcome = raw.read();
  ASSERT_TRUE(welcome);
  ASSERT_EQ((*welcome)["type"], "session.welcome") << welcome->dump();
  auto parsed = protocol::parse_session_welcome((*welcome)["payload"]);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ((*welcome)["session"], parsed->session_id);
  EXPECT_TRUE(parsed->features["notify.error"].enabled);
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) {
    auto f = raw.read();
    ASSERT_TRUE(f) << "baseline frame " << i << " missing";
    order.push_back((*f)["type"]);
    if (i == 0) {
      EXPECT_EQ((*f)["seq"], 0);
      auto scene = protocol::parse_notify_scene((*f)["payload"]);
      ASSERT_TRUE(scene);
      EXPECT_EQ(scene->layers.size(), 2u);
      EXPECT_EQ(scene->viewer["dims"]["axis_labels"], Json({"z", "y", "x"}));
    }
    if ((*f)["type"] == "notify.stream") {
      auto s = protocol::parse_notify_stream((*f)["payload"]);
      ASSERT_TRUE(s);
      EXPECT_EQ(s->width, 320);
      EXPECT_EQ(s->height, 240);
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"notify.scene", "notify.layers", "notify.layers", "notify.dims",
                                             "notify.camera", "notify.stream"}));
}

TEST(Session, WrongTokenIsRejectedOnBothSockets) {
  TestServer srv;
  RawControl raw("127.0.0.1", srv.get().control_port());
  raw.send(hello_frame("not-the-token"));
  auto reply = raw.read();
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["type"], "session.reject");
  EXPECT_EQ((*reply)["payload"]["code"], "unauthorized");

  auto cfg = srv.client_config();
  cfg.connection.token = "bad";
  client::ClientStreamLoop c(cfg);
  auto err = c.connect();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, "unauthorized");

  // --no-auth servers take clients without a token.
  TestServerOptions open;
  open.require_token = false;
  TestServer no_auth(open);
  auto anon = no_auth.client_config();
  anon.connection.token.clear();
  client::ClientStreamLoop anon_client(anon);
  EXPECT_FALSE(anon_client.connect());
}

TEST(Session, MalformedInputGetsTypedErrorsAndTheConnectionStays) {
  TestServer srv;
  RawControl raw("127.0.0.1", srv.get().control_port());
  std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  raw.read_type("notify.stream");

  raw.send_text("{this is not json");
  auto e1 = raw.read_type("notify.error");
  ASSERT_TRUE(e1);
  EXPECT_EQ((*e1)["payload"]["code"], "protocol.invalid_json");

  raw.send({{"type", "no.such.type"}, {"version", 2}, {"session", sid}, {"timestamp", 1.0}, {"payload", Json::object()}});
  auto e2 = raw.read_type("notify.error");
  ASSERT_TRUE(e2);
  EXPECT_EQ((*e2)["payload"]["code"], "protocol.unknown_type");

  raw.send(state_update_frame(sid, "1", "dims", "z", "index", 999));
  auto a1 = raw.read_type("ack.state");
  ASSERT_TRUE(a1);
  EXPECT_EQ((*a1)["payload"]["status"], "rejected");
  EXPECT_EQ((*a1)["payload"]["error"]["code"], "state.invalid");
  EXPECT_EQ((*a1)["payload"]["in_reply_to"], "state-1");

  raw.send(state_update_frame(sid, "2", "layer", "layer-0", "opacity", "very"));
  auto a2 = raw.read_type("ack.state");
  ASSERT_TRUE(a2);
  EXPECT_EQ((*a2)["payload"]["error"]["code"], "state.invalid");

  Json no_payload = state_update_frame(sid, "3", "dims", "z", "index", 1);
  no_payload["version"] = 7;
  raw.send(no_payload);
  auto a3 = raw.read_type("ack.state");
  ASSERT_TRUE(a3);
  EXPECT_EQ((*a3)["payload"]["status"], "rejected");

  raw.send({{"type", "call.command"}, {"version", 2}, {"session", sid}, {"frame_id", "cmd-1"}, {"timestamp", 1.0},
            {"payload", {{"command", "no.such.command"}}}});
  auto c1 = raw.read_type("error.command");
  ASSERT_TRUE(c1);
  EXPECT_EQ((*c1)["payload"]["code"], "command.not_found");

  // Still usable: a valid update is accepted and acked with a version.
  raw.send(state_update_frame(sid, "4", "dims", "z", "index", 2));
  auto ok = raw.read_type("ack.state");
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["payload"]["status"], "accepted");
  EXPECT_EQ((*ok)["payload"]["applied_value"], 2);
  EXPECT_GT((*ok)["payload"]["version"].get<int64_t>(), 1);
  auto dims = raw.read_type("notify.dims");
  ASSERT_TRUE(dims);
  EXPECT_EQ((*dims)["payload"]["current_step"][0], 2);
  EXPECT_EQ((*dims)["intent_id"], "intent-4");  // the originator sees its intent
}

TEST(Session, TwoClientsSeeEachOthersChanges) {
  TestServer srv;
  client::ClientStreamLoop a(srv.client_config()), b(srv.client_config());
  ASSERT_FALSE(a.connect());
  ASSERT_FALSE(b.connect());
  ASSERT_TRUE(b.wait_until([&] { return b.mirror().have_scene; }, 5));
  a.send_state("layer", "layer-1", "opacity", 0.25);
  a.send_state("dims", "z", "index", 3);
  a.send_state("layer", "layer-0", "colormap", "inferno");
  EXPECT_TRUE(b.wait_until([&] {
    auto m = b.mirror();
    const auto* l1 = m.layer("layer-1");
    const auto* l0 = m.layer("layer-0");
    return l1 && l1->controls.value("opacity", 1.0) == 0.25 && !m.current_step.empty() && m.current_step[0] == 3 &&
           l0 && l0->controls.value("colormap", "") == "inferno";
  }, 5)) << "client b did not see client a's changes";
  // b's notifies do not carry a's intent ids.
  for (const auto& e : b.received()) {
    if (e.type == "notify.layers" || e.type == "notify.dims") {
      EXPECT_FALSE(e.intent_id.has_value());
    }
  }
}

TEST(Session, HelloTimeoutHeartbeatAndGoodbye) {
  TestServerOptions o;
  o.hello_timeout_s = 0.3;
  o.heartbeat_s = 0.2;
  TestServer srv(o);
  {
    RawControl silent("127.0.0.1", srv.get().control_port());
    auto r = silent.read(3.0);
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["type"], "session.reject");
    EXPECT_EQ((*r)["payload"]["code"], "timeout");
  }
  {
    // A peer that never acks heartbeats is told goodbye.
    RawControl deaf("127.0.0.1", srv.get().control_port());
    ASSERT_FALSE(handshake(deaf, srv.get().token()).empty());
    ASSERT_TRUE(deaf.read_type("session.heartbeat", 3.0));
    auto bye = deaf.read_type("session.goodbye", 3.0);
    ASSERT_TRUE(bye);
    EXPECT_EQ((*bye)["payload"]["code"], "timeout");
  }
  {
    // The client core acks heartbeats, so it stays.
    client::ClientStreamLoop c(srv.client_config());
    ASSERT_FALSE(c.connect());
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    for (const auto& e : c.received()) {
      EXPECT_NE(e.type, "session.goodbye");
    }
    EXPECT_EQ(srv.get().stats().control_clients, 1);
  }
  {
    RawControl polite("127.0.0.1", srv.get().control_port());
    std::string sid = handshake(polite, srv.get().token());
    polite.send({{"type", "session.goodbye"}, {"version", 2}, {"session", sid}, {"frame_id", "g"}, {"timestamp", 1.0},
                 {"payload", {{"code", "bye"}}}});
    auto bye = polite.read_type("session.goodbye", 3.0);
    ASSERT_TRUE(bye);
    EXPECT_EQ((*bye)["payload"]["code"], "bye");
  }
}

TEST(Session, TheCommandLaneSettlesEveryCallOnce) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  auto ok = c.call("napari.pixel.request_keyframe", Json::object(), 5);
  auto missing = c.call("no.such.command", Json::object(), 5);
  auto forbidden = c.call("fs.listdir", Json::object(), 5);  // the test server has no data root
  ASSERT_EQ(ok.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(ok.get().ok);
  auto m = missing.get();
  EXPECT_FALSE(m.ok);
  EXPECT_EQ(m.code, "command.not_found");
  EXPECT_EQ(forbidden.get().code, "fs.forbidden");
  // A call the server never answers in time settles with a time-out.
  auto slow = c.call("napari.pixel.request_keyframe", Json::object(), 0.0);
  auto r = slow.get();
  if (!r.ok) {
    EXPECT_EQ(r.code, "command.timeout");
  }
  // Calls outstanding at stop are settled, not left hanging.
  auto pending = c.call("napari.pixel.request_keyframe", Json::object(), 30);
  c.stop();
  ASSERT_EQ(pending.wait_for(std::chrono::seconds(1)), std::future_status::ready);
}

TEST(Session, ASliderDragIsThrottledShownAtOnceAndEndsOnTheFinalValue) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.mirror().have_scene; }, 5));
  size_t before = c.intents().size();
  // 100 moves in 200 ms, back and forth over z (8 planes), ending on 3.
  const double drag_start_ms = steady_ms();
  for (int i = 0; i < 100; ++i) {
    int64_t v = i == 99 ? 3 : (i / 3) % 8;
    c.set_dims_index("z", v);
    EXPECT_EQ(c.displayed("dims:z:index"), v) << "the slider shows the local value at once";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double drag_end_ms = steady_ms();
  ASSERT_TRUE(c.wait_until([&] {
    auto m = c.mirror();
    return !m.current_step.empty() && m.current_step[0] == 3;
  }, 5)) << "the final value reached the server";
  size_t sent = c.intents().size() - before;
  EXPECT_GE(sent, 2u);
  // At most one update per 1/60 s of the drag (as long as the drag took on a loaded machine),
  // plus the leading and trailing edges.
  const double drag_ms = drag_end_ms - drag_start_ms;
  EXPECT_LE(sent, std::max<size_t>(16, static_cast<size_t>(drag_ms / (1000.0 / 60.0)) + 3))
      << "a drag is throttled to ~60 Hz (" << drag_ms << " ms)";
  EXPECT_TRUE(c.wait_until([&] { return c.displayed("dims:z:index") == 3; }, 3));
}
