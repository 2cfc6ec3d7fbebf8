#pragma once
// Whole-file reads and writes for the format readers (internal to voxcast_data).
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "voxcast/data/confined.hpp"

namespace voxcast::data {

// Reads `path`; *missing is set (and no error returned) when the file does not exist.
// With `confine_root` (canonical), a file that resolves outside it is refused.
inline std::optional<std::string> read_whole_file(const std::string& path, std::vector<uint8_t>* out,
                                                  bool* missing = nullptr, const std::string& confine_root = {}) {
  if (missing) *missing = false;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (errno == ENOENT && missing) {
      *missing = true;
      return std::nullopt;
    }
    return std::string("cannot open: ") + std::strerror(errno);
  }
  if (auto outside = check_opened_within(fileno(f), confine_root)) {
    std::fclose(f);
    return outside;
  }
  out->clear();
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) return "read error";
  return std::nullopt;
}

inline std::optional<std::string> write_whole_file(const std::string& path, const void* data, size_t n) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return "cannot create " + path + ": " + std::strerror(errno);
  bool ok = std::fwrite(data, 1, n, f) == n;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) return "cannot write " + path;
  return std::nullopt;
}

}  // namespace voxcast::data
