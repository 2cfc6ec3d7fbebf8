#pragma once
// A control session's queue of serialized frames, bounded in bytes (issue 16): when a
// peer stops reading, superseded snapshots (notify.dims, notify.camera: only the newest
// of each matters) are dropped first; if that does not bring the queue well under its
// bound, the session has to be closed. Plain data on the network thread.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

namespace voxcast::server {

struct OutboxItem {
  std::string text;
  std::string type;
};

struct Outbox {
  std::deque<OutboxItem> items;
  size_t bytes = 0;        // queued, not yet handed to the writer
  uint64_t coalesced = 0;  // superseded snapshots dropped so far
};

enum class OutboxVerdict { fits, coalesced, overflow };

// Queues one frame; past `max_bytes` sheds superseded snapshots. `overflow`: still more
// than 3/4 of `max_bytes` after that (the peer does not keep up); nothing is dropped
// besides the snapshots, the caller decides what to do.
OutboxVerdict push(Outbox* box, OutboxItem item, size_t max_bytes);
// The oldest frame; the outbox must not be empty.
OutboxItem pop_front(Outbox* box);
void clear(Outbox* box);
// Drops every notify.dims / notify.camera that a newer one of its type follows; returns
// the bytes freed.
size_t coalesce_snapshots(Outbox* box);

}  // namespace voxcast::server
