#pragma once
// Decoded chunks of every open array under one byte budget: LRU eviction, decoding on
// a thread pool, requests queued by priority in lanes where the latest request wins.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

struct ChunkKey {
  uint64_t array = 0;  // unique per opened array (see next_array_id)
  int level = 0;
  uint64_t index = 0;  // linear index in the level's chunk grid
  bool operator==(const ChunkKey& o) const { return array == o.array && level == o.level && index == o.index; }
  bool operator<(const ChunkKey& o) const {
    return array != o.array ? array < o.array : (level != o.level ? level < o.level : index < o.index);
  }
};
struct ChunkKeyHash {
  size_t operator()(const ChunkKey& k) const {
    return std::hash<uint64_t>()(k.array * 0x9e3779b97f4a7c15ULL ^ (static_cast<uint64_t>(k.level) << 56) ^ k.index);
  }
};
uint64_t next_array_id();
// Added to the workers' nice value (Linux schedules threads by their own nice value).
inline constexpr int kWorkerNiceness = 4;

// A decoded chunk: native-order elements of the full chunk shape, or all `fill`.
struct Chunk {
  std::vector<uint8_t> bytes;  // empty when the chunk is missing (all fill)
  double fill = 0.0;
};
using ChunkResult = std::variant<std::shared_ptr<const Chunk>, DataError>;
using ChunkLoader = std::function<ChunkResult()>;

struct ChunkRequest {
  ChunkKey key;
  ChunkLoader load;
};

struct ChunkCacheStats {
  uint64_t hits = 0, misses = 0, loads = 0, failures = 0, cancelled = 0, evictions = 0;
  size_t resident_bytes = 0;
  size_t budget_bytes = 0;
  size_t queued = 0;
  size_t loading = 0;  // loads running on the workers now
};

class ChunkCache {
 public:
  ChunkCache(size_t budget_bytes, int threads);
  ~ChunkCache();
  ChunkCache(const ChunkCache&) = delete;
  ChunkCache& operator=(const ChunkCache&) = delete;

  // Queues the loads of `chunks` (first = most urgent) in `hint.lane`; that lane's queued
  // loads not in this list are dropped (the view moved on). True when all are in memory.
  // The caller keeps a request within budget_bytes() (more would evict its own head).
  bool request(const std::vector<ChunkRequest>& chunks, RequestHint hint);
  // True when every chunk is resident (or failed: a read will report it); queues nothing.
  bool contains(const std::vector<ChunkRequest>& chunks) const;
  bool contains(const std::vector<ChunkKey>& keys) const;
  // Loads `chunks` ahead of everything queued and waits for all; the first error wins.
  std::variant<std::vector<std::shared_ptr<const Chunk>>, DataError> get_all(const std::vector<ChunkRequest>& chunks);
  // The same, each chunk's own result: a failed chunk does not hide the others.
  std::vector<ChunkResult> get_each(const std::vector<ChunkRequest>& chunks);
  ChunkCacheStats stats() const;
  size_t budget_bytes() const { return budget_; }
  // The source of `array` is going away: its queued loads are dropped (a reader waiting
  // for one gets an error), its running loads are waited for (they read the source), and
  // its chunks leave the cache.
  void close_array(uint64_t array);
  // Starts workers until there are at least `n` (loads from remote stores mostly wait).
  void ensure_workers(int n);

 private:
  struct Entry;
  void worker();
  void insert_locked(const ChunkKey& key, std::shared_ptr<const Chunk> chunk);
  void enqueue_locked(const ChunkRequest& r, int lane, int priority);

  size_t budget_;
  mutable std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::list<ChunkKey> lru_;  // front = most recent
  std::unordered_map<ChunkKey, std::shared_ptr<Entry>, ChunkKeyHash> entries_;
  std::set<std::tuple<int, uint64_t, ChunkKey>> queue_;  // (priority, order, key)
  std::map<int, std::set<ChunkKey>> lanes_;              // queued keys per lane
  uint64_t order_ = 0;
  ChunkCacheStats stats_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// Sized from the machine: a quarter of the available memory, between 256 MB and 16 GB.
size_t default_cache_bytes();

}  // namespace voxcast::data
