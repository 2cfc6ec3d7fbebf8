#pragma once
// Which pictures are shown around exact stills (docs/messages.md, "Exact stills"): a still
// covers the video of its scene version until the scene changes; a still older than the
// newest video is stale.
#include <cstdint>
#include <optional>

namespace voxcast::client {

struct StillHold {
  uint64_t newest_video_version = 0;  // scene version of the newest video frame received
  std::optional<uint64_t> held;       // scene version of the still on screen (or queued to be)
};

// A still of `version` arrived: true when it is to be shown (it is not stale).
bool accept_still(StillHold* h, uint64_t version);
// A video frame of `version` decoded: true when it is to be shown (false while a still of
// the same version covers it; another version ends the still).
bool show_video(StillHold* h, uint64_t version);

}  // namespace voxcast::client
