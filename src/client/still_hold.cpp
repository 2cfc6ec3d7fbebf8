#include "voxcast/client/still_hold.hpp"

#include <algorithm>

namespace voxcast::client {

bool accept_still(StillHold* h, uint64_t version) {
  if (version < h->newest_video_version) return false;
  h->held = version;
  return true;
}

bool show_video(StillHold* h, uint64_t version) {
  h->newest_video_version = std::max(h->newest_video_version, version);
  if (h->held && *h->held == version) return false;
  h->held.reset();
  return true;
}

}  // namespace voxcast::client
