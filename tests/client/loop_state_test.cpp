#include <gtest/gtest.h>

#include "voxcast/client/loop_state.hpp"

using namespace voxcast::client;

TEST(LoopState, PrintsEveryPhaseAndTheRetryState) {
  for (auto p : {LinkPhase::idle, LinkPhase::connecting, LinkPhase::streaming, LinkPhase::reconnecting,
                 LinkPhase::pixel_reconnecting, LinkPhase::stopping, LinkPhase::stopped})
    EXPECT_STRNE(to_string(p), "?");
  LoopState s;
  s.phase = LinkPhase::reconnecting;
  s.tls = true;
  s.session_id = "0123456789abcdef";
  s.reconnect_attempts = 3;
  s.receipts = true;
  s.next_retry_ms = 400;
  s.last_error = "control channel 127.0.0.1:8081: Connection refused";
  std::string line = describe(s);
  EXPECT_NE(line.find("reconnecting (tls)"), std::string::npos) << line;
  EXPECT_NE(line.find("session 01234567"), std::string::npos) << line;
  EXPECT_NE(line.find("retry 3 in 400 ms"), std::string::npos) << line;
  EXPECT_NE(line.find("Connection refused"), std::string::npos) << line;
  auto j = to_json(s);
  EXPECT_EQ(j["phase"], "reconnecting");
  EXPECT_EQ(j["reconnect_attempts"], 3);
  EXPECT_EQ(j["tls"], true);
  EXPECT_EQ(j["receipts"], true);
  EXPECT_EQ(j.size(), 18u) << "every field is exported";  // with server_goodbye, server_error(s)
}
