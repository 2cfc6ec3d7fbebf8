#pragma once
// Bounds on what metadata may describe, so that every element count fits int64 with room
// to spare and no single chunk allocation is huge: a 2 TB uint16 volume has 2^40 elements.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace voxcast::data {

inline constexpr int64_t kMaxElements = int64_t{1} << 52;
inline constexpr int64_t kMaxChunkElements = int64_t{1} << 28;
inline constexpr int64_t kMaxChannels = 64;  // a layer each
// Why `shape` (and `chunks`, when given: one per axis) exceed those bounds, or nullopt.
std::optional<std::string> check_extent(const std::vector<int64_t>& shape, const std::vector<int64_t>& chunks = {});

}  // namespace voxcast::data
