#pragma once
#include <string>

namespace voxcast {

// Lower-case hex of `bytes` random bytes from a per-thread CSPRNG-seeded engine.
std::string random_hex(int bytes);
// RFC 4122 version-4 UUID text.
std::string random_uuid();
// `prefix-<32 hex>`: frame ids as the reference produces them.
std::string make_frame_id(const std::string& prefix);
// Unpredictable token for authentication (from /dev/urandom via std::random_device).
std::string make_auth_token();

}  // namespace voxcast
