#include "voxcast/data/npy.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "voxcast/data/dtype.hpp"

namespace voxcast::data {

std::optional<std::string> write_npy(const std::string& path, DType t, const std::vector<int64_t>& shape,
                                     const std::vector<float>& values) {
  std::ostringstream h;
  h << "{'descr': '" << numpy_typestr(t) << "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) h << shape[i] << (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
  h << "), }";
  std::string header = h.str();
  // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return "cannot create " + path + ": " + std::strerror(errno);
  const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  auto len = static_cast<uint16_t>(header.size());
  unsigned char len_le[2] = {static_cast<unsigned char>(len & 0xFF), static_cast<unsigned char>(len >> 8)};
  bool ok = std::fwrite(magic, 1, 8, f) == 8 && std::fwrite(len_le, 1, 2, f) == 2 &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size();
  const size_t item = dtype_size(t);
  std::vector<uint8_t> buf(item * 65536);
  for (size_t i = 0; ok && i < values.size(); i += 65536) {
    size_t n = std::min<size_t>(65536, values.size() - i);
    for (size_t k = 0; k < n; ++k) from_float(t, values[i + k], buf.data() + k * item);
    ok = std::fwrite(buf.data(), item, n, f) == n;
  }
  ok = std::fclose(f) == 0 && ok;
  if (!ok) return "cannot write " + path;
  return std::nullopt;
}

std::variant<Box, std::string> parse_region(const std::string& text, const std::vector<int64_t>& shape) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : text) {
    if (c == ',') {
      parts.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur.push_back(c);
    }
  }
  parts.push_back(cur);
  if (parts.size() != shape.size())
    return "the region names " + std::to_string(parts.size()) + " axes; the dataset has " + std::to_string(shape.size());
  Box box;
  for (size_t a = 0; a < shape.size(); ++a) {
    const std::string& p = parts[a];
    auto number = [&](const std::string& s, int64_t fallback, int64_t* out) {
      if (s.empty()) {
        *out = fallback;
        return true;
      }
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (*end || errno == ERANGE) return false;
      // Past the axis either way: reported as out of range below (and no overflow on the way).
      if (v < -shape[a] || v > shape[a]) v = -shape[a] - 1;
      *out = v < 0 ? v + shape[a] : v;  // Python-style negative indices
      return true;
    };
    int64_t lo = 0, hi = 0;
    size_t colon = p.find(':');
    if (colon == std::string::npos) {
      if (!number(p, 0, &lo) || p.empty()) return "bad index '" + p + "' on axis " + std::to_string(a);
      hi = lo + 1;
    } else if (!number(p.substr(0, colon), 0, &lo) || !number(p.substr(colon + 1), shape[a], &hi)) {
      return "bad range '" + p + "' on axis " + std::to_string(a);
    }
    if (lo < 0 || hi > shape[a] || hi <= lo)
      return "range '" + p + "' is outside [0, " + std::to_string(shape[a]) + ") on axis " + std::to_string(a);
    box.start.push_back(lo);
    box.size.push_back(hi - lo);
  }
  return box;
}

}  // namespace voxcast::data
