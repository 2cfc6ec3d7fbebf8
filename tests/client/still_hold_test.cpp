#include "voxcast/client/still_hold.hpp"

#include <gtest/gtest.h>

namespace voxcast::client {
namespace {

TEST(StillHold, AStillCoversItsVersionUntilTheSceneChanges) {
  StillHold h;
  EXPECT_TRUE(show_video(&h, 5));    // motion
  EXPECT_TRUE(show_video(&h, 7));    // the refinement of the resting view
  EXPECT_TRUE(accept_still(&h, 7));  // then its exact still
  EXPECT_FALSE(show_video(&h, 7));   // a keyframe for a newcomer: the still stays
  EXPECT_TRUE(h.held.has_value());
  EXPECT_TRUE(show_video(&h, 8));    // motion again: video at once
  EXPECT_FALSE(h.held.has_value());
  EXPECT_TRUE(show_video(&h, 8));
}

TEST(StillHold, AStillOlderThanTheNewestVideoIsStale) {
  StillHold h;
  EXPECT_TRUE(show_video(&h, 9));
  EXPECT_FALSE(accept_still(&h, 8));  // the user moved on while it travelled
  EXPECT_FALSE(h.held.has_value());
  EXPECT_TRUE(show_video(&h, 9));
}

TEST(StillHold, VersionsNeverGoBackwards) {
  StillHold h;
  EXPECT_TRUE(show_video(&h, 12));
  EXPECT_TRUE(show_video(&h, 3));  // a restarted server counts again; the frame is shown
  EXPECT_EQ(h.newest_video_version, 12u);
  EXPECT_TRUE(accept_still(&h, 12));
}

}  // namespace
}  // namespace voxcast::client
