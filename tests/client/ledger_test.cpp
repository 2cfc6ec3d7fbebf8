#include <gtest/gtest.h>

#include "voxcast/client/ledger.hpp"

using namespace voxcast::client;
using nlohmann::json;

TEST(ClientLedger, AStaleNotifyDoesNotMoveTheSlider) {
  ClientLedger l;
  apply_notify(&l, "dims:z:index", 10, 5);
  record_intent(&l, "dims:z:index", "i1", 11, 0);
  record_intent(&l, "dims:z:index", "i2", 12, 5);
  EXPECT_EQ(displayed_value(l, "dims:z:index"), 12);
  // The server echoes an intermediate state (other client, or our first intent): the
  // slider stays at the newest local value.
  apply_notify(&l, "dims:z:index", 11, 6);
  EXPECT_EQ(displayed_value(l, "dims:z:index"), 12);
  // An older notify than what is confirmed is ignored and counted.
  apply_notify(&l, "dims:z:index", 3, 4);
  EXPECT_EQ(l.stale_notifies, 1u);
  // Acks settle the intents in order; then the confirmed value shows.
  EXPECT_EQ(apply_ack(&l, "i1", true, 11, 6), "dims:z:index");
  EXPECT_EQ(displayed_value(l, "dims:z:index"), 12);
  apply_ack(&l, "i2", true, 12, 7);
  EXPECT_FALSE(has_pending(l, "dims:z:index"));
  EXPECT_EQ(displayed_value(l, "dims:z:index"), 12);
  EXPECT_EQ(l.properties["dims:z:index"].confirmed_version, 7);
}

TEST(ClientLedger, ARejectionRestoresTheConfirmedValue) {
  ClientLedger l;
  apply_notify(&l, "layer:layer-0:opacity", 0.8, 3);
  record_intent(&l, "layer:layer-0:opacity", "bad", 7.0, 0);
  EXPECT_EQ(displayed_value(l, "layer:layer-0:opacity"), 7.0);
  apply_ack(&l, "bad", false, nullptr, 0);
  EXPECT_EQ(displayed_value(l, "layer:layer-0:opacity"), 0.8);
  EXPECT_EQ(l.rejected, 1u);
  EXPECT_FALSE(apply_ack(&l, "unknown", true, 1, 9));
}

TEST(ClientLedger, UnansweredIntentsExpireAndTheNewestAreReplayedAfterAReconnect) {
  ClientLedger l;
  l.ack_timeout_ms = 250;
  apply_notify(&l, "dims:z:index", 1, 1);
  record_intent(&l, "dims:z:index", "a", 2, 0);
  record_intent(&l, "camera:main:zoom", "b", json{{"factor", 2.0}}, 10);
  record_intent(&l, "dims:z:index", "c", 3, 20);
  auto replay = intents_to_replay(l);
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_EQ(replay[0].first, "camera:main:zoom");  // oldest newest-intent first
  EXPECT_EQ(replay[1].second, 3);
  auto expired = expire_intents(&l, 265);
  EXPECT_EQ(expired.size(), 2u);
  EXPECT_EQ(displayed_value(l, "dims:z:index"), 3);  // "c" (sent at 20) is still young
  expire_intents(&l, 300);
  EXPECT_EQ(displayed_value(l, "dims:z:index"), 1);
  EXPECT_EQ(l.expired, 3u);
  EXPECT_TRUE(l.intent_property.empty());
}
