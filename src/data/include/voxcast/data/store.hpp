#pragma once
// Where a dataset's bytes live: every reader asks a Store for values by key ("0/c/1/2",
// ".zarray", "zarr.json"), whole or by byte range. Local files now; HTTP(S) and S3 come
// behind the same interface.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace voxcast::data {

// A byte range of a value: `length` bytes from `offset`, or, when `suffix`, its last
// `length` bytes (a shard index at the end of a shard of unknown size).
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool suffix = false;
  static ByteRange at(uint64_t offset, uint64_t length) { return {offset, length, false}; }
  static ByteRange last(uint64_t length) { return {0, length, true}; }
};

struct StoreError {
  enum class Kind { io, out_of_range };
  Kind kind = Kind::io;
  std::string message;
};

// What a read got: the bytes, or `missing` (no such key: Zarr's fill), or an error.
struct StoreRead {
  std::vector<uint8_t> bytes;
  bool missing = false;
  uint64_t total_size = 0;  // size of the whole value, when the store knows it
};

class Store {
 public:
  virtual ~Store() = default;
  // The whole value of `key`.
  virtual std::optional<StoreError> read(const std::string& key, StoreRead* out) const = 0;
  // Exactly `range` of `key`; a range that does not lie inside the value is an
  // out_of_range error (never a short read).
  virtual std::optional<StoreError> read_range(const std::string& key, ByteRange range, StoreRead* out) const = 0;
  virtual bool exists(const std::string& key) const = 0;
  // Names directly under `prefix` ("" = the root), sorted; directories end with '/'.
  virtual std::vector<std::string> list(const std::string& prefix) const = 0;
  // Where `key` is, for error messages ("/data/x.zarr/0/c/1/2").
  virtual std::string where(const std::string& key) const = 0;
};

// Files under the directory `root`; keys are relative paths with '/'. With `confine_root`
// (canonical), a file that resolves outside it (through a symlink) is an error.
std::shared_ptr<const Store> open_local_store(const std::string& root, const std::string& confine_root = {});

// "a/b" + "c" = "a/b/c"; either side may be empty.
std::string join_key(const std::string& a, const std::string& b);

}  // namespace voxcast::data
