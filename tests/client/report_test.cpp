#include <gtest/gtest.h>

#include "voxcast/client/report.hpp"

using namespace voxcast::client;

TEST(Report, LatencyIsSendToFirstFrameShowingTheAckedVersion) {
  std::vector<IntentRecord> intents(3);
  intents[0] = {"f1", "i1", 100, 101, true, 5, 0, ""};
  intents[1] = {"f2", "i2", 110, 111, true, 6, 0, ""};
  intents[2] = {"f3", "i3", 120, 121, false, 0, nullptr, "state.invalid"};
  std::vector<FrameRecord> frames(3);
  frames[0].decoded = true;
  frames[0].decoded_ms = 105;
  frames[0].scene_version = 4;
  frames[1].decoded = true;
  frames[1].decoded_ms = 130;
  frames[1].scene_version = 6;  // answers both: version 6 includes version 5
  frames[2].decoded = false;
  size_t unanswered = 99;
  auto lat = intent_latencies_ms(intents, frames, &unanswered);
  ASSERT_EQ(lat.size(), 2u);
  EXPECT_DOUBLE_EQ(lat[0], 30);
  EXPECT_DOUBLE_EQ(lat[1], 20);
  EXPECT_EQ(unanswered, 0u);
  intents[1].version = 9;
  intent_latencies_ms(intents, frames, &unanswered);
  EXPECT_EQ(unanswered, 1u);
  auto r = make_report(intents, frames);
  EXPECT_EQ(r.frames_decoded, 2u);
  EXPECT_NEAR(r.fps, 1.0 / 0.025, 1e-9);
}
