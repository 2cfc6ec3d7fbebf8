#pragma once
#include <cstdint>

namespace voxcast {

// Seconds since the Unix epoch (the wire's `timestamp`).
double wall_seconds();
// Monotonic milliseconds, for measuring intervals.
double steady_ms();

}  // namespace voxcast
