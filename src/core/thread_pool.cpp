#include "voxcast/core/thread_pool.hpp"

#include <algorithm>

namespace voxcast {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

bool ThreadPool::run_one_chunk() {
  // Called with mutex_ held; releases it while the chunk runs.
  if (!job_ || next_ >= n_) return false;
  int begin = next_;
  int end = std::min(n_, begin + chunk_);
  next_ = end;
  const auto* job = job_;
  mutex_.unlock();
  (*job)(begin, end);
  mutex_.lock();
  remaining_ -= end - begin;
  if (remaining_ == 0) done_.notify_all();
  return true;
}

void ThreadPool::worker_loop() {
  std::unique_lock lock(mutex_);
  uint64_t seen = 0;
  while (true) {
    wake_.wait(lock, [&] { return stop_ || (job_ && generation_ != seen && next_ < n_); });
    if (stop_) return;
    while (run_one_chunk()) {
    }
    seen = generation_;
  }
}

void ThreadPool::parallel_for(int n, const std::function<void(int, int)>& fn) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1) {
    fn(0, n);
    return;
  }
  std::unique_lock lock(mutex_);
  job_ = &fn;
  n_ = n;
  next_ = 0;
  remaining_ = n;
  chunk_ = std::max(1, n / (size() * 4));
  ++generation_;
  wake_.notify_all();
  while (run_one_chunk()) {
  }
  done_.wait(lock, [&] { return remaining_ == 0; });
  job_ = nullptr;
}

}  // namespace voxcast
