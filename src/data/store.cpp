#include "voxcast/data/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "voxcast/data/confined.hpp"

namespace voxcast::data {
namespace fs = std::filesystem;

std::string join_key(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a.back() == '/' ? a + b : a + "/" + b;
}

namespace {

// An open file descriptor, closed on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::optional<StoreError> read_exact(int fd, uint64_t offset, size_t n, uint8_t* dst) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = ::pread(fd, dst + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return StoreError{StoreError::Kind::io, std::string("read error: ") + std::strerror(errno)};
    }
    if (got == 0) return StoreError{StoreError::Kind::out_of_range, "the file ended early (changed while read?)"};
    done += static_cast<size_t>(got);
  }
  return std::nullopt;
}

class LocalStore final : public Store {
 public:
  LocalStore(std::string root, std::string confine) : root_(std::move(root)), confine_(std::move(confine)) {}

  std::optional<StoreError> read(const std::string& key, StoreRead* out) const override {
    return read_impl(key, std::nullopt, out);
  }
  std::optional<StoreError> read_range(const std::string& key, ByteRange range, StoreRead* out) const override {
    return read_impl(key, range, out);
  }
  bool exists(const std::string& key) const override {
    std::error_code ec;
    return fs::exists(where(key), ec);
  }
  std::vector<std::string> list(const std::string& prefix) const override {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(where(prefix), ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      std::error_code e2;
      if (it->is_directory(e2)) name += '/';
      names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string where(const std::string& key) const override { return key.empty() ? root_ : join_key(root_, key); }

 private:
  std::optional<StoreError> read_impl(const std::string& key, std::optional<ByteRange> range, StoreRead* out) const {
    out->bytes.clear();
    out->missing = false;
    out->total_size = 0;
    Fd f(::open(where(key).c_str(), O_RDONLY | O_CLOEXEC));
    if (f.fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        out->missing = true;
        return std::nullopt;
      }
      return StoreError{StoreError::Kind::io, std::string("cannot open: ") + std::strerror(errno)};
    }
    if (auto outside = check_opened_within(f.fd, confine_)) return StoreError{StoreError::Kind::io, *outside};
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return StoreError{StoreError::Kind::io, std::string("cannot stat: ") + std::strerror(errno)};
    if (S_ISDIR(st.st_mode)) return StoreError{StoreError::Kind::io, "is a directory, not a value"};
    const auto size = static_cast<uint64_t>(st.st_size);
    out->total_size = size;
    uint64_t offset = 0, length = size;
    if (range) {
      length = range->length;
      if (range->suffix) {
        if (length > size)
          return StoreError{StoreError::Kind::out_of_range, "wanted the last " + std::to_string(length) +
                                                                " bytes of a " + std::to_string(size) + "-byte file"};
        offset = size - length;
      } else {
        offset = range->offset;
        if (offset > size || length > size - offset)
          return StoreError{StoreError::Kind::out_of_range, "bytes " + std::to_string(offset) + ".." +
                                                                std::to_string(offset + length) + " lie past the end of a " +
                                                                std::to_string(size) + "-byte file"};
      }
    }
    out->bytes.resize(length);
    return read_exact(f.fd, offset, length, out->bytes.data());
  }

  std::string root_;
  std::string confine_;  // canonical directory every file must resolve into; empty: anywhere
};

}  // namespace

std::shared_ptr<const Store> open_local_store(const std::string& root, const std::string& confine_root) {
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return std::make_shared<LocalStore>(std::move(r), confine_root);
}

}  // namespace voxcast::data
