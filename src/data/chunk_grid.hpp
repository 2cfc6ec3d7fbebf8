#pragma once
// Walking a chunk grid for the writers (internal to voxcast_data): every cell of an array
// of `shape` cut in `chunks`, on `threads` threads, the first error kept.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "voxcast/core/thread_pool.hpp"

namespace voxcast::data {

// `cell(coords, start)` for each grid cell: its grid coordinates and its first voxel.
using GridCellWriter = std::function<std::optional<std::string>(const std::vector<int64_t>& coords,
                                                                 const std::vector<int64_t>& start)>;

inline std::optional<std::string> for_each_grid_cell(const std::vector<int64_t>& shape, const std::vector<int64_t>& chunks,
                                                     int threads, const GridCellWriter& cell) {
  const size_t rank = shape.size();
  std::vector<int64_t> grid(rank);
  int64_t total = 1;
  for (size_t a = 0; a < rank; ++a) {
    grid[a] = (shape[a] + chunks[a] - 1) / chunks[a];
    total *= grid[a];
  }
  std::mutex error_mutex;
  std::optional<std::string> error;
  ThreadPool pool(threads);
  pool.parallel_for(static_cast<int>(total), [&](int begin, int end) {
    std::vector<int64_t> coords(rank), start(rank);
    for (int64_t k = begin; k < end; ++k) {
      int64_t idx = k;
      for (size_t a = rank; a-- > 0;) {
        coords[a] = idx % grid[a];
        idx /= grid[a];
        start[a] = coords[a] * chunks[a];
      }
      if (auto err = cell(coords, start)) {
        std::lock_guard lock(error_mutex);
        error = err;
      }
    }
  });
  return error;
}

}  // namespace voxcast::data
