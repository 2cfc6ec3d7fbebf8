#include "voxcast/data/extent.hpp"

namespace voxcast::data {

namespace {
// The product of `v`, or nullopt once it passes `limit` (never overflows).
std::optional<int64_t> bounded_product(const std::vector<int64_t>& v, int64_t limit) {
  int64_t n = 1;
  for (auto x : v) {
    if (x < 0) return std::nullopt;
    if (x != 0 && n > limit / x) return std::nullopt;
    n *= x;
  }
  return n;
}
}  // namespace

std::optional<std::string> check_extent(const std::vector<int64_t>& shape, const std::vector<int64_t>& chunks) {
  if (!bounded_product(shape, kMaxElements)) return std::string("the shape describes more than 2^52 elements");
  if (!chunks.empty() && !bounded_product(chunks, kMaxChunkElements))
    return std::string("a chunk holds more than 2^28 elements");
  return std::nullopt;
}

}  // namespace voxcast::data
