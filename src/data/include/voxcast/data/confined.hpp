#pragma once
// Confinement of what a dataset reads to a directory (the server's data root): a symlink
// inside a dataset may lead elsewhere inside the root, never out of it.
#include <filesystem>
#include <optional>
#include <string>

namespace voxcast::data {

// True when `path` is `root` or below it (both canonical, compared component-wise).
bool path_is_within(const std::filesystem::path& path, const std::filesystem::path& root);

// For an open descriptor: nullopt when `root` is empty or the file the kernel opened
// (every symlink resolved) lies inside `root` (canonical); else why not.
std::optional<std::string> check_opened_within(int fd, const std::string& root);

}  // namespace voxcast::data
