#include "voxcast/server/outbox.hpp"

#include <cassert>

#include "voxcast/protocol/envelope.hpp"

namespace voxcast::server {

OutboxVerdict push(Outbox* box, OutboxItem item, size_t max_bytes) {
  box->bytes += item.text.size();
  box->items.push_back(std::move(item));
  if (box->bytes <= max_bytes) return OutboxVerdict::fits;
  coalesce_snapshots(box);
  // Well under the bound or not at all: a queue that hovers at it would be rescanned on
  // every frame.
  return box->bytes <= max_bytes / 4 * 3 ? OutboxVerdict::coalesced : OutboxVerdict::overflow;
}

OutboxItem pop_front(Outbox* box) {
  assert(!box->items.empty() && "pop_front on an empty outbox");
  OutboxItem item = std::move(box->items.front());
  box->items.pop_front();
  box->bytes -= item.text.size();
  return item;
}

void clear(Outbox* box) {
  box->items.clear();
  box->bytes = 0;
}

size_t coalesce_snapshots(Outbox* box) {
  bool newer_dims = false, newer_camera = false;
  size_t freed = 0;
  std::deque<OutboxItem> kept;
  // Newest first, so each type's newest snapshot is the one kept.
  for (auto it = box->items.rbegin(); it != box->items.rend(); ++it) {
    bool* newer = it->type == protocol::type::kNotifyDims     ? &newer_dims
                  : it->type == protocol::type::kNotifyCamera ? &newer_camera
                                                              : nullptr;
    if (newer && *newer) {
      freed += it->text.size();
      box->coalesced += 1;
      continue;
    }
    if (newer) *newer = true;
    kept.push_front(std::move(*it));
  }
  box->items = std::move(kept);
  box->bytes -= freed;
  return freed;
}

}  // namespace voxcast::server
