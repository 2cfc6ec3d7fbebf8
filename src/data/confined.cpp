#include "voxcast/data/confined.hpp"

#include <unistd.h>

#include <algorithm>

namespace voxcast::data {
namespace fs = std::filesystem;

bool path_is_within(const fs::path& path, const fs::path& root) {
  auto [p, r] = std::mismatch(path.begin(), path.end(), root.begin(), root.end());
  return r == root.end();
}

std::optional<std::string> check_opened_within(int fd, const std::string& root) {
  if (root.empty()) return std::nullopt;
  // /proc names the file actually opened, so a symlink swapped in after a check cannot
  // slip through.
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  std::error_code ec;
  fs::path opened = fs::read_symlink(link, ec);
  if (ec) return "cannot tell where the file leads";
  if (!path_is_within(opened, fs::path(root))) return "a symlink leads outside the data root";
  return std::nullopt;
}

}  // namespace voxcast::data
