#include "voxcast/data/chunk_cache.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>

namespace voxcast::data {

uint64_t next_array_id() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

namespace {
// A failed chunk is not read again for a while (a corrupt file stays corrupt; a store that
// failed after its retries gets a rest); then a new request tries once more.
constexpr auto kRetryFailedAfter = std::chrono::seconds(30);
}  // namespace

// State of one key: queued, loading, resident, or failed (sticks for kRetryFailedAfter).
struct ChunkCache::Entry {
  enum class State { queued, loading, resident, failed } state = State::queued;
  ChunkLoader load;
  std::shared_ptr<const Chunk> chunk;
  DataError error;
  std::chrono::steady_clock::time_point failed_at;
  int lane = 0;
  int priority = 0;
  uint64_t order = 0;
  int waiters = 0;  // blocking get_all calls: never cancelled
  size_t bytes = 0;
  std::list<ChunkKey>::iterator lru;
};

ChunkCache::ChunkCache(size_t budget_bytes, int threads) : budget_(budget_bytes) {
  stats_.budget_bytes = budget_bytes;
  if (threads <= 0) threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { worker(); });
}

void ChunkCache::ensure_workers(int n) {
  std::lock_guard lock(mutex_);
  while (!stop_ && workers_.size() < static_cast<size_t>(n)) workers_.emplace_back([this] { worker(); });
}

ChunkCache::~ChunkCache() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ChunkCache::enqueue_locked(const ChunkRequest& r, int lane, int priority) {
  auto found = entries_.find(r.key);
  if (found != entries_.end() && found->second->state == Entry::State::failed && found->second->waiters == 0 &&
      std::chrono::steady_clock::now() - found->second->failed_at > kRetryFailedAfter)
    entries_.erase(found);  // its rest is over: load it again
  auto& e = entries_[r.key];
  if (!e) {
    e = std::make_shared<Entry>();
    e->load = r.load;
  } else if (e->state != Entry::State::queued) {
    return;  // loading, resident or failed: nothing to queue
  } else {
    queue_.erase({e->priority, e->order, r.key});
    lanes_[e->lane].erase(r.key);
  }
  e->lane = lane;
  e->priority = priority;
  e->order = order_++;
  queue_.insert({priority, e->order, r.key});
  lanes_[lane].insert(r.key);
}

bool ChunkCache::request(const std::vector<ChunkRequest>& chunks, RequestHint hint) {
  bool all = true;
  {
    std::lock_guard lock(mutex_);
    std::set<ChunkKey> wanted;
    for (const auto& r : chunks) wanted.insert(r.key);
    // Latest wins: drop this lane's queued loads the new request does not need.
    auto& lane = lanes_[hint.lane];
    for (auto it = lane.begin(); it != lane.end();) {
      auto e = entries_.find(*it);
      if (!wanted.count(*it) && e != entries_.end() && e->second->state == Entry::State::queued &&
          e->second->waiters == 0) {
        queue_.erase({e->second->priority, e->second->order, *it});
        entries_.erase(e);
        stats_.cancelled += 1;
        it = lane.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& r : chunks) {
      enqueue_locked(r, hint.lane, hint.priority);  // queues what is absent (or failed long ago)
      const auto& e = entries_.at(r.key);
      if (e->state != Entry::State::resident && e->state != Entry::State::failed) all = false;
    }
  }
  if (!all) work_cv_.notify_all();
  return all;
}

bool ChunkCache::contains(const std::vector<ChunkRequest>& chunks) const {
  std::vector<ChunkKey> keys;
  keys.reserve(chunks.size());
  for (const auto& r : chunks) keys.push_back(r.key);
  return contains(keys);
}

bool ChunkCache::contains(const std::vector<ChunkKey>& keys) const {
  std::lock_guard lock(mutex_);
  for (const auto& k : keys) {
    auto e = entries_.find(k);
    if (e == entries_.end() || (e->second->state != Entry::State::resident && e->second->state != Entry::State::failed))
      return false;
  }
  return true;
}

std::variant<std::vector<std::shared_ptr<const Chunk>>, DataError> ChunkCache::get_all(
    const std::vector<ChunkRequest>& chunks) {
  auto each = get_each(chunks);
  std::vector<std::shared_ptr<const Chunk>> out;
  out.reserve(each.size());
  for (auto& r : each) {
    if (auto* err = std::get_if<DataError>(&r)) return *err;
    out.push_back(std::get<std::shared_ptr<const Chunk>>(r));
  }
  return out;
}

std::vector<ChunkResult> ChunkCache::get_each(const std::vector<ChunkRequest>& chunks) {
  std::unique_lock lock(mutex_);
  std::vector<std::shared_ptr<Entry>> held;
  held.reserve(chunks.size());
  bool queued = false;
  for (const auto& r : chunks) {
    auto it = entries_.find(r.key);
    if (it != entries_.end() && it->second->state == Entry::State::resident) {
      stats_.hits += 1;
      lru_.splice(lru_.begin(), lru_, it->second->lru);
    } else {
      stats_.misses += 1;
      // Ahead of every queued request; never cancelled while we wait.
      if (it == entries_.end() || it->second->state == Entry::State::queued || it->second->state == Entry::State::failed) {
        enqueue_locked(r, -1, -1);
        queued = queued || entries_.at(r.key)->state == Entry::State::queued;
      }
    }
    auto& e = entries_[r.key];
    e->waiters += 1;
    held.push_back(e);
  }
  if (queued) work_cv_.notify_all();
  auto settled = [](const Entry& e) { return e.state == Entry::State::resident || e.state == Entry::State::failed; };
  done_cv_.wait(lock, [&] {
    return stop_ || std::all_of(held.begin(), held.end(), [&](const auto& e) { return settled(*e); });
  });
  std::vector<ChunkResult> out;
  out.reserve(held.size());
  for (auto& e : held) {
    e->waiters -= 1;
    if (e->state == Entry::State::failed) out.emplace_back(e->error);
    else if (stop_ && !e->chunk) out.emplace_back(DataError{"chunk cache", "shutting down"});
    else out.emplace_back(e->chunk);
  }
  return out;
}

void ChunkCache::insert_locked(const ChunkKey& key, std::shared_ptr<const Chunk> chunk) {
  auto& e = entries_[key];
  e->chunk = std::move(chunk);
  e->bytes = e->chunk->bytes.size() + sizeof(Chunk) + 64;
  e->state = Entry::State::resident;
  lru_.push_front(key);
  e->lru = lru_.begin();
  stats_.resident_bytes += e->bytes;
  while (stats_.resident_bytes > budget_ && lru_.size() > 1) {
    ChunkKey victim = lru_.back();
    auto v = entries_.find(victim);
    lru_.pop_back();
    stats_.resident_bytes -= v->second->bytes;
    // A blocked reader keeps its shared_ptr; the entry goes back to "not present".
    entries_.erase(v);
    stats_.evictions += 1;
  }
}

void ChunkCache::close_array(uint64_t array) {
  std::unique_lock lock(mutex_);
  auto of_array = [&](const auto& kv) { return kv.first.array == array; };
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = *it->second;
    if (!of_array(*it) || e.state != Entry::State::queued) {
      ++it;
      continue;
    }
    queue_.erase({e.priority, e.order, it->first});
    lanes_[e.lane].erase(it->first);
    if (e.waiters > 0) {  // a reader still waits: it gets an error, not a hang
      e.state = Entry::State::failed;
      e.failed_at = std::chrono::steady_clock::now();
      e.error = DataError{"chunk cache", "the dataset was closed"};
      e.load = nullptr;
      ++it;
      continue;
    }
    it = entries_.erase(it);
    stats_.cancelled += 1;
  }
  done_cv_.notify_all();
  // A running load reads its source: wait for it (it settles, and is dropped below).
  done_cv_.wait(lock, [&] {
    return std::none_of(entries_.begin(), entries_.end(),
                        [&](const auto& kv) { return of_array(kv) && kv.second->state == Entry::State::loading; });
  });
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = *it->second;
    if (!of_array(*it) || e.waiters > 0) {
      ++it;
      continue;
    }
    if (e.state == Entry::State::resident) {
      lru_.erase(e.lru);
      stats_.resident_bytes -= e.bytes;
    }
    it = entries_.erase(it);
  }
}

void ChunkCache::worker() {
  // Loads (decompression, generation) yield to the render and encode threads: with every
  // core loading, a moving 3D frame's own work took twice as long on the H200. Idle cores
  // still go to the loads; a reader waiting for its data leaves its core idle.
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  if (errno == 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), std::min(19, nice + kWorkerNiceness));
  std::unique_lock lock(mutex_);
  while (true) {
    work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) {
      done_cv_.notify_all();
      return;
    }
    auto [priority, order, key] = *queue_.begin();
    queue_.erase(queue_.begin());
    auto entry = entries_.at(key);
    lanes_[entry->lane].erase(key);
    entry->state = Entry::State::loading;
    ChunkLoader load = entry->load;
    stats_.loading += 1;
    lock.unlock();
    ChunkResult result = load();
    lock.lock();
    stats_.loading -= 1;
    stats_.loads += 1;
    // The entry may have been evicted and recreated meanwhile only if it was resident;
    // a loading entry is never erased, so `entry` is still the one in the map.
    if (auto* chunk = std::get_if<std::shared_ptr<const Chunk>>(&result)) {
      insert_locked(key, *chunk);
    } else {
      entry->state = Entry::State::failed;
      entry->failed_at = std::chrono::steady_clock::now();
      entry->error = std::get<DataError>(result);
      entry->load = nullptr;
      stats_.failures += 1;
    }
    done_cv_.notify_all();
  }
}

ChunkCacheStats ChunkCache::stats() const {
  std::lock_guard lock(mutex_);
  ChunkCacheStats s = stats_;
  s.queued = queue_.size();
  return s;
}

size_t default_cache_bytes() {
  size_t avail = 0;
  std::ifstream f("/proc/meminfo");
  std::string name;
  size_t kb = 0;
  std::string unit;
  while (f >> name >> kb >> unit) {
    if (name == "MemAvailable:") {
      avail = kb * 1024;
      break;
    }
  }
  if (avail == 0) avail = static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGE_SIZE));
  return std::clamp<size_t>(avail / 4, size_t{256} << 20, size_t{16} << 30);
}

}  // namespace voxcast::data
