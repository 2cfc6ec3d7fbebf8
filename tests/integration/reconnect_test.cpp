// Faults on loopback: the server dies and comes back, the pixel socket drops alone.
#include <gtest/gtest.h>

#include "fixture.hpp"
#include "voxcast/core/clock.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;

TEST(Reconnect, PlannedShutdownIsWaitedOutCalmly) {
  RestartableServer srv;
  client::ClientConfig cc = srv.get().client_config();  // default back-off: 50 ms doubling to 1 s
  client::ClientStreamLoop c(cc);
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.stats().frames_decoded > 0; }, 5));
  srv.kill();  // a planned stop: the server says goodbye first
  ASSERT_TRUE(c.wait_until([&] { return c.loop_state().phase == client::LinkPhase::reconnecting; }, 5));
  int most_attempts = 0;
  double until = steady_ms() + 3000;
  while (steady_ms() < until) {
    most_attempts = std::max(most_attempts, c.loop_state().reconnect_attempts);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto outage = c.loop_state();
  EXPECT_NE(outage.server_goodbye.find("server_shutdown"), std::string::npos) << client::describe(outage);
  EXPECT_NE(outage.last_error.find("waiting for it to come back"), std::string::npos) << outage.last_error;
  EXPECT_GE(most_attempts, 2) << "it keeps asking";
  EXPECT_LE(most_attempts, 5) << "a handful of attempts in 3 s, not a storm";
  srv.restart();
  double back_ms = steady_ms();
  EXPECT_TRUE(c.wait_until([&] { return c.stats().reconnects >= 1 && c.stats().link == "up"; }, 5));
  EXPECT_LT(steady_ms() - back_ms, 1500) << "noticed within about a second";
  auto loop = c.loop_state();
  EXPECT_TRUE(loop.server_goodbye.empty()) << client::describe(loop);
  EXPECT_TRUE(loop.last_error.empty());
}

TEST(Reconnect, ServerRestartResumesTheSessionAndRestoresTheView) {
  RestartableServer srv;
  client::ClientConfig cc = srv.get().client_config();
  cc.reconnect_min_ms = 20;
  cc.reconnect_max_ms = 200;
  client::ClientStreamLoop c(cc);
  ASSERT_FALSE(c.connect());
  c.send_state("dims", "z", "index", 5);
  c.send_state("camera", "main", "set", Json{{"zoom", 3.0}});
  ASSERT_TRUE(c.wait_until([&] {
    auto m = c.mirror();
    return !m.current_step.empty() && m.current_step[0] == 5 && m.camera.value("zoom", 0.0) == 3.0;
  }, 5));
  ASSERT_TRUE(c.wait_until([&] { return c.stats().frames_decoded > 0; }, 5));

  srv.kill();  // the server process dies: sockets close
  ASSERT_TRUE(c.wait_until([&] { return c.stats().link != "up"; }, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    auto outage = c.loop_state();
    EXPECT_EQ(outage.phase, client::LinkPhase::reconnecting) << client::describe(outage);
    EXPECT_FALSE(outage.control_up);
    EXPECT_GE(outage.reconnect_attempts, 1) << "the server is down: attempts fail and back off";
    EXPECT_FALSE(outage.last_error.empty());
  }
  srv.restart();  // back on the same ports, in its default state
  double back_ms = steady_ms();
  EXPECT_TRUE(c.wait_until([&] {
    if (c.stats().reconnects < 1) return false;
    for (const auto& f : c.frames())
      if (f.decoded && f.presented_ms > back_ms) return true;
    return false;
  }, 5)) << "a new frame is presented (not only decoded) after the server is back";
  double first_frame_ms = steady_ms() - back_ms;
  EXPECT_LT(first_frame_ms, 1000) << "a new frame within 1 s of the server being back";
  // The view the user had is re-applied on the new session: dims and camera.
  EXPECT_TRUE(c.wait_until([&] {
    auto m = c.mirror();
    return !m.current_step.empty() && m.current_step[0] == 5 && m.camera.value("zoom", 0.0) == 3.0;
  }, 5)) << "dims/camera not restored";
  auto s = c.stats();
  EXPECT_EQ(s.link, "up");
  auto loop = c.loop_state();
  EXPECT_EQ(loop.phase, client::LinkPhase::streaming) << client::describe(loop);
  EXPECT_EQ(loop.sessions, 2u);
  EXPECT_TRUE(loop.control_up && loop.pixel_up);
  EXPECT_EQ(loop.session_id, c.session_id());
  EXPECT_GE(s.restored_properties, 2u);
  EXPECT_EQ(srv.get().get().stats().control_clients, 1);
}

TEST(Reconnect, IntentsTheServerNeverConfirmedAreReplayedOnTheNewSession) {
  RestartableServer srv;
  client::ClientConfig cc = srv.get().client_config();
  cc.reconnect_min_ms = 20;
  cc.reconnect_max_ms = 100;
  client::ClientStreamLoop c(cc);
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.mirror().have_scene && !c.mirror().layers.empty(); }, 5));
  const std::string layer = c.mirror().layers.front().id;
  srv.kill();
  ASSERT_TRUE(c.wait_until([&] { return c.loop_state().phase == client::LinkPhase::reconnecting; }, 5));
  // The user keeps working while the link is down: the controls keep their new values
  // longer than the ack time-out (nothing can answer them), then the server gets them.
  c.send_state("layer", layer, "opacity", 0.25);
  c.set_dims_index("z", 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  EXPECT_EQ(c.displayed("layer:" + layer + ":opacity"), 0.25);
  EXPECT_EQ(c.displayed("dims:z:index"), 6);
  srv.restart();
  EXPECT_TRUE(c.wait_until([&] {
    auto m = c.mirror();
    const auto* l = m.layer(layer);
    return l && l->controls.value("opacity", 1.0) == 0.25 && !m.current_step.empty() && m.current_step[0] == 6;
  }, 5)) << "unconfirmed intents not replayed";
  EXPECT_GE(c.stats().replayed_intents, 2u);
  EXPECT_EQ(c.displayed("layer:" + layer + ":opacity"), 0.25);
  // Settled: nothing is left pending once the new session acked the replay.
  EXPECT_TRUE(c.wait_until([&] { return c.intents().back().acked_ms > 0; }, 5));
}

TEST(Reconnect, APixelSocketDropIsReopenedAndDecodingResumesAtAKeyframe) {
  TestServer srv;
  client::ClientConfig cc = srv.client_config();
  cc.reconnect_min_ms = 20;
  client::ClientStreamLoop c(cc);
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.stats().frames_decoded > 0; }, 5));
  std::string session = c.session_id();
  c.simulate_pixel_loss();
  ASSERT_TRUE(c.wait_until([&] { return c.stats().pixel_reconnects >= 1; }, 5));
  uint64_t decoded = c.stats().frames_decoded;
  // Frames after the reopen decode (the first one an IDR), under the same control session.
  for (int i = 0; i < 40 && c.stats().frames_decoded < decoded + 3; ++i) {
    c.send_state("dims", "z", "index", i % 8);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  auto s = c.stats();
  EXPECT_GE(s.frames_decoded, decoded + 3);
  EXPECT_EQ(s.decode_errors, 0u);
  EXPECT_EQ(s.reconnects, 0u);
  EXPECT_EQ(c.session_id(), session);
  bool keyframe_after = false;
  auto frames = c.frames();
  for (size_t i = 0; i < frames.size(); ++i)
    if (frames[i].decoded && i > 0 && frames[i].keyframe) keyframe_after = true;
  EXPECT_TRUE(keyframe_after);
}
