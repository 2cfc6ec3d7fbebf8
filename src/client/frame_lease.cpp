#include "voxcast/client/frame_lease.hpp"

namespace voxcast::client {
namespace {
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_release_errors{0};
uint8_t bit(LeaseRole r) { return static_cast<uint8_t>(1u << static_cast<unsigned>(r)); }
}  // namespace

const char* lease_role_name(LeaseRole r) {
  switch (r) {
    case LeaseRole::decoder: return "decoder";
    case LeaseRole::cache: return "cache";
    case LeaseRole::presenter: return "presenter";
    case LeaseRole::renderer: return "renderer";
  }
  return "?";
}

FrameLease::FrameLease(std::shared_ptr<const codec::YuvImage> frame, LeaseRole first, uint32_t seq)
    : frame_(std::move(frame)), held_(bit(first)), seq_(seq) {
  g_live += 1;
}

std::shared_ptr<FrameLease> FrameLease::create(std::shared_ptr<const codec::YuvImage> frame, LeaseRole first,
                                               uint32_t seq) {
  return std::shared_ptr<FrameLease>(new FrameLease(std::move(frame), first, seq));
}

FrameLease::~FrameLease() {
  std::lock_guard lock(mutex_);
  close_locked();  // a lease dropped while held counts as closed (its owner is gone)
}

void FrameLease::close_locked() {
  if (closed_) return;
  closed_ = true;
  held_ = 0;
  frame_.reset();
  g_live -= 1;
}

LeaseResult FrameLease::acquire(LeaseRole role) {
  std::lock_guard lock(mutex_);
  if (closed_) return LeaseResult::closed;
  if (held_ & bit(role)) return LeaseResult::already_held;
  held_ |= bit(role);
  return LeaseResult::ok;
}

LeaseResult FrameLease::release(LeaseRole role) {
  std::lock_guard lock(mutex_);
  if (closed_ || !(held_ & bit(role))) {
    g_release_errors += 1;
    return LeaseResult::not_held;
  }
  held_ = static_cast<uint8_t>(held_ & ~bit(role));
  if (held_ == 0) close_locked();
  return LeaseResult::ok;
}

void FrameLease::revoke() {
  std::lock_guard lock(mutex_);
  close_locked();
}

bool FrameLease::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

bool FrameLease::held_by(LeaseRole role) const {
  std::lock_guard lock(mutex_);
  return (held_ & bit(role)) != 0;
}

std::shared_ptr<const codec::YuvImage> FrameLease::frame(LeaseRole role) const {
  std::lock_guard lock(mutex_);
  if (closed_ || !(held_ & bit(role))) return nullptr;
  return frame_;
}

int64_t FrameLease::live_leases() { return g_live.load(); }
int64_t FrameLease::release_errors() { return g_release_errors.load(); }

}  // namespace voxcast::client
