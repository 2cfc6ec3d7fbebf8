#pragma once
// A decoded frame shared by roles (decoder, cache, presenter, renderer). Each role
// acquires once and releases exactly once; the frame is freed when the last role lets
// go, and nobody can acquire it again after that. Readers get the frame as a shared_ptr,
// so a session ending (revoke) never frees a frame under a draw in progress — the
// reference's zero-copy use-after-free cannot happen here.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "voxcast/codec/yuv.hpp"

namespace voxcast::client {

enum class LeaseRole : uint8_t { decoder = 0, cache = 1, presenter = 2, renderer = 3 };
const char* lease_role_name(LeaseRole r);

enum class LeaseResult { ok, closed, already_held, not_held };

class FrameLease {
 public:
  // A lease held by `first`; live_leases() counts it until it closes.
  static std::shared_ptr<FrameLease> create(std::shared_ptr<const codec::YuvImage> frame, LeaseRole first,
                                            uint32_t seq = 0);
  ~FrameLease();
  FrameLease(const FrameLease&) = delete;
  FrameLease& operator=(const FrameLease&) = delete;

  LeaseResult acquire(LeaseRole role);  // closed: the frame is gone; already_held: a role acquires once
  LeaseResult release(LeaseRole role);  // not_held: a second release is an error (counted)
  // Frees the frame for every role (the session ended); later acquires fail.
  void revoke();
  bool closed() const;
  bool held_by(LeaseRole role) const;
  // The frame while `role` holds the lease (keeps it alive for the caller), else null.
  std::shared_ptr<const codec::YuvImage> frame(LeaseRole role) const;
  uint32_t seq() const { return seq_; }

  // Debug counters: leases created and not yet closed; releases that were errors.
  static int64_t live_leases();
  static int64_t release_errors();

 private:
  FrameLease(std::shared_ptr<const codec::YuvImage> frame, LeaseRole first, uint32_t seq);
  void close_locked();

  mutable std::mutex mutex_;
  std::shared_ptr<const codec::YuvImage> frame_;
  uint8_t held_ = 0;  // bit per role
  bool closed_ = false;
  uint32_t seq_ = 0;
};

}  // namespace voxcast::client
