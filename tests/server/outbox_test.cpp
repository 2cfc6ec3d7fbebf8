// The control outbox's byte bound (issue 16): superseded snapshots go first, then the
// verdict says the peer does not keep up.
#include <gtest/gtest.h>

#include "voxcast/server/outbox.hpp"

using namespace voxcast::server;

namespace {
OutboxItem item(const char* type, size_t bytes, char fill = 'x') { return {std::string(bytes, fill), type}; }
}  // namespace

TEST(Outbox, CountsBytesInAndOut) {
  Outbox box;
  EXPECT_EQ(push(&box, item("ack.state", 10), 100), OutboxVerdict::fits);
  EXPECT_EQ(push(&box, item("notify.dims", 20), 100), OutboxVerdict::fits);
  EXPECT_EQ(box.bytes, 30u);
  EXPECT_EQ(pop_front(&box).type, "ack.state");
  EXPECT_EQ(box.bytes, 20u);
  clear(&box);
  EXPECT_EQ(box.bytes, 0u);
  EXPECT_TRUE(box.items.empty());
}

TEST(Outbox, OnlyTheNewestSnapshotOfEachKindIsKept) {
  Outbox box;
  push(&box, item("notify.dims", 10, '1'), 1000);
  push(&box, item("ack.state", 10, 'a'), 1000);
  push(&box, item("notify.camera", 10, 'c'), 1000);
  push(&box, item("notify.dims", 10, '2'), 1000);
  push(&box, item("notify.layers", 10, 'l'), 1000);  // a delta with a seq: never dropped
  push(&box, item("notify.camera", 10, 'C'), 1000);
  EXPECT_EQ(coalesce_snapshots(&box), 20u);
  EXPECT_EQ(box.coalesced, 2u);
  EXPECT_EQ(box.bytes, 40u);
  std::string order;
  for (const auto& i : box.items) order += i.text[0];
  EXPECT_EQ(order, "a2lC") << "order kept, the newest dims and camera stay";
}

TEST(Outbox, PastTheBoundSnapshotsGoFirstThenThePeerIsOverflowing) {
  Outbox box;
  // Mostly superseded snapshots: shedding them brings the queue well under the bound.
  for (int i = 0; i < 9; ++i) ASSERT_EQ(push(&box, item("notify.dims", 10), 100), OutboxVerdict::fits);
  EXPECT_EQ(push(&box, item("notify.dims", 10), 100), OutboxVerdict::fits);
  EXPECT_EQ(push(&box, item("ack.state", 10), 100), OutboxVerdict::coalesced);
  EXPECT_EQ(box.bytes, 20u);
  // Replies cannot be dropped: once they alone pass 3/4 of the bound the peer is overflowing.
  OutboxVerdict v = OutboxVerdict::fits;
  int pushed = 0;
  while (v != OutboxVerdict::overflow && pushed < 100) {
    v = push(&box, item("ack.state", 10), 100);
    ++pushed;
  }
  EXPECT_EQ(v, OutboxVerdict::overflow);
  EXPECT_EQ(box.bytes, 110u) << "nothing but the snapshots was dropped";
}
