#include "voxcast/data/chunked_source.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <unordered_set>

#include "voxcast/core/clock.hpp"

#include "voxcast/data/dtype.hpp"

namespace voxcast::data {

void ChunkedSource::finish_info() {
  ensure_levels(&info_);
  grids_.clear();
  for (const auto& l : info_.levels) {
    std::vector<int64_t> g(l.shape.size());
    for (size_t a = 0; a < l.shape.size(); ++a) g[a] = (l.shape[a] + l.chunks[a] - 1) / l.chunks[a];
    grids_.push_back(std::move(g));
  }
}

// The chunk-grid coordinates of chunk `index` (row-major in the level's grid).
std::vector<int64_t> ChunkedSource::chunk_coords(int level, uint64_t index) const {
  const auto& grid = grids_[static_cast<size_t>(level)];
  std::vector<int64_t> c(grid.size());
  for (size_t a = grid.size(); a-- > 0;) {
    c[a] = static_cast<int64_t>(index % static_cast<uint64_t>(grid[a]));
    index /= static_cast<uint64_t>(grid[a]);
  }
  return c;
}

// Calls `f(index, coords)` for each chunk overlapping `box`, in grid order.
template <typename F>
void ChunkedSource::for_each_chunk(int level, const Box& box, F&& f) const {
  const auto& l = info_.levels[static_cast<size_t>(level)];
  const auto& grid = grids_[static_cast<size_t>(level)];
  const size_t rank = l.shape.size();
  std::vector<int64_t> lo(rank), hi(rank);
  for (size_t a = 0; a < rank; ++a) {
    lo[a] = box.start[a] / l.chunks[a];
    hi[a] = (box.start[a] + box.size[a] - 1) / l.chunks[a];
  }
  std::vector<int64_t> c = lo;
  while (true) {
    uint64_t index = 0;
    for (size_t a = 0; a < rank; ++a) index = index * static_cast<uint64_t>(grid[a]) + static_cast<uint64_t>(c[a]);
    f(index, c);
    size_t a = rank;
    bool done = true;
    while (a-- > 0) {
      if (++c[a] <= hi[a]) {
        done = false;
        break;
      }
      c[a] = lo[a];
    }
    if (done) break;
  }
}

// The keys of the chunks overlapping `box`, appended to `out`: what a check or a
// de-duplication needs, without the loaders (tens of thousands of bricks ask per frame).
void ChunkedSource::chunk_keys_for(int level, const Box& box, std::vector<ChunkKey>* out) const {
  for_each_chunk(level, box, [&](uint64_t index, const std::vector<int64_t>&) { out->push_back({array_id_, level, index}); });
}

// The chunks overlapping `box`, the one nearest the box centre first.
std::vector<ChunkRequest> ChunkedSource::chunks_for(int level, const Box& box) const {
  const auto& l = info_.levels[static_cast<size_t>(level)];
  const size_t rank = l.shape.size();
  struct Item {
    double distance;
    uint64_t index;
  };
  std::vector<Item> items;
  for_each_chunk(level, box, [&](uint64_t index, const std::vector<int64_t>& c) {
    double d = 0;
    for (size_t a = 0; a < rank; ++a) {
      double centre = box.start[a] + box.size[a] * 0.5;
      double chunk_centre = (static_cast<double>(c[a]) + 0.5) * static_cast<double>(l.chunks[a]);
      d += (centre - chunk_centre) * (centre - chunk_centre);
    }
    items.push_back({d, index});
  });
  std::stable_sort(items.begin(), items.end(), [](const Item& x, const Item& y) { return x.distance < y.distance; });
  std::vector<ChunkRequest> out;
  out.reserve(items.size());
  for (const auto& it : items) {
    ChunkRequest r;
    r.key = {array_id_, level, it.index};
    r.load = [this, level, index = it.index] { return load_chunk(level, chunk_coords(level, index)); };
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<DataError> ChunkedSource::sample(SampledRead* r, double deadline_ms) const {
  if (r->level < 0 || r->level >= static_cast<int>(info_.levels.size()))
    return DataError{info_.name, "level " + std::to_string(r->level) + " does not exist"};
  const auto& l = info_.levels[static_cast<size_t>(r->level)];
  if (auto why = check_box(r->box, l.shape)) return DataError{info_.name, *why};
  const auto& grid = grids_[static_cast<size_t>(r->level)];
  const size_t rank = l.shape.size();
  const Box& box = r->box;
  if (!r->started) {
    // Per axis, the chunks that hold a sampled voxel; then every combination, nearest the
    // box centre last in `todo` (taken first).
    std::vector<std::vector<int64_t>> per_axis(rank);
    uint64_t total = 1;
    for (size_t a = 0; a < rank; ++a) {
      for (int64_t k = 0; k < r->shape[a]; ++k) {
        int64_t c = (box.start[a] + k * r->step[a]) / l.chunks[a];
        if (per_axis[a].empty() || per_axis[a].back() != c) per_axis[a].push_back(c);
      }
      total *= per_axis[a].size();
    }
    if (total > (uint64_t{1} << 26)) return DataError{info_.name, "the view needs " + std::to_string(total) + " chunks"};
    std::vector<std::pair<double, uint64_t>> order;
    order.reserve(total);
    std::vector<size_t> i(rank, 0);
    for (uint64_t n = 0; n < total; ++n) {
      double d = 0;
      uint64_t index = 0;
      for (size_t a = 0; a < rank; ++a) {
        const int64_t c = per_axis[a][i[a]];
        double centre = static_cast<double>(box.start[a]) + static_cast<double>(box.size[a]) * 0.5;
        double mid = (static_cast<double>(c) + 0.5) * static_cast<double>(l.chunks[a]);
        d += (centre - mid) * (centre - mid);
        index = index * static_cast<uint64_t>(grid[a]) + static_cast<uint64_t>(c);
      }
      order.emplace_back(-d, index);
      for (size_t a = rank; a-- > 0;) {
        if (++i[a] < per_axis[a].size()) break;
        i[a] = 0;
      }
    }
    std::sort(order.begin(), order.end());
    r->todo.resize(order.size());
    for (size_t k = 0; k < order.size(); ++k) r->todo[k] = order[k].second;
    r->chunks_total = total;
    r->started = true;
  }
  // Batches of chunks small against the budget: loaded together, sampled, let go.
  size_t chunk_bytes = dtype_size(info_.dtype);
  for (auto c : l.chunks) chunk_bytes *= static_cast<size_t>(c);
  const size_t batch_bytes = std::clamp<size_t>(cache_->stats().budget_bytes / 8, chunk_bytes, size_t{64} << 20);
  const size_t item = dtype_size(info_.dtype);
  std::vector<int64_t> out_stride(rank, 1), chunk_stride(rank, 1);
  for (size_t a = rank - 1; a > 0; --a) {
    out_stride[a - 1] = out_stride[a] * r->shape[a];
    chunk_stride[a - 1] = chunk_stride[a] * l.chunks[a];
  }
  do {
    std::vector<ChunkRequest> batch;
    for (size_t bytes = 0; !r->todo.empty() && (batch.empty() || bytes + chunk_bytes <= batch_bytes); bytes += chunk_bytes) {
      uint64_t index = r->todo.back();
      r->todo.pop_back();
      std::vector<int64_t> coords(rank);
      uint64_t idx = index;
      for (size_t a = rank; a-- > 0;) {
        coords[a] = static_cast<int64_t>(idx % static_cast<uint64_t>(grid[a]));
        idx /= static_cast<uint64_t>(grid[a]);
      }
      ChunkRequest req;
      req.key = {array_id_, r->level, index};
      req.load = [this, level = r->level, coords] { return load_chunk(level, coords); };
      batch.push_back(std::move(req));
    }
    auto got = cache_->get_all(batch);
    if (auto* err = std::get_if<DataError>(&got)) return *err;
    const auto& chunks = std::get<std::vector<std::shared_ptr<const Chunk>>>(got);
    for (size_t b = 0; b < batch.size(); ++b) {
      // The sampled indices inside this chunk, per axis: [k0, k1).
      std::vector<int64_t> c0(rank), k0(rank), k1(rank);
      uint64_t idx = batch[b].key.index;
      bool any = true;
      for (size_t a = rank; a-- > 0;) {
        c0[a] = static_cast<int64_t>(idx % static_cast<uint64_t>(grid[a])) * l.chunks[a];
        idx /= static_cast<uint64_t>(grid[a]);
        const int64_t lo = std::max(c0[a], box.start[a]) - box.start[a];
        const int64_t hi = std::min(c0[a] + l.chunks[a], box.start[a] + box.size[a]) - box.start[a];
        k0[a] = (lo + r->step[a] - 1) / r->step[a];
        k1[a] = std::min(r->shape[a], (hi + r->step[a] - 1) / r->step[a]);
        any = any && k1[a] > k0[a];
      }
      if (!any) continue;
      const Chunk& chunk = *chunks[b];
      std::vector<int64_t> k = k0;
      while (true) {
        int64_t o = 0, ci = 0;
        for (size_t a = 0; a + 1 < rank; ++a) {
          o += k[a] * out_stride[a];
          ci += (box.start[a] + k[a] * r->step[a] - c0[a]) * chunk_stride[a];
        }
        const size_t last = rank - 1;
        for (int64_t x = k0[last]; x < k1[last]; ++x) {
          float v = static_cast<float>(chunk.fill);
          if (!chunk.bytes.empty()) {
            const int64_t cx = ci + (box.start[last] + x * r->step[last] - c0[last]);
            to_float(info_.dtype, chunk.bytes.data() + static_cast<size_t>(cx) * item, 1, &v);
          }
          r->values[static_cast<size_t>(o + x)] = v;
        }
        size_t a = last;
        bool done = true;
        while (a-- > 0) {
          if (++k[a] < k1[a]) {
            done = false;
            break;
          }
          k[a] = k0[a];
        }
        if (done) break;
      }
      r->chunks_done += 1;
    }
  } while (!r->todo.empty() && steady_ms() < deadline_ms);
  r->complete = r->todo.empty();
  return std::nullopt;
}

bool ChunkedSource::request(int level, const Box& box, RequestHint hint) const {
  if (level < 0 || level >= static_cast<int>(info_.levels.size())) return true;
  if (check_box(box, info_.levels[static_cast<size_t>(level)].shape)) return true;  // read_level reports it
  if (hint.check_only) {
    std::vector<ChunkKey> keys;
    chunk_keys_for(level, box, &keys);
    return cache_->contains(keys);
  }
  return cache_->request(chunks_for(level, box), hint);
}

bool ChunkedSource::request_all(const std::vector<LevelBox>& boxes, RequestHint hint) const {
  std::vector<ChunkRequest> all;
  std::unordered_set<ChunkKey, ChunkKeyHash> seen;
  // Queued beyond what the cache holds, the last loads would evict the first before anyone
  // reads them, and a caller polling for the most urgent box would wait for ever: the
  // request takes boxes, in order, while they fit in half the cache (the rest is for
  // other views and readers). The first box is always requested.
  const size_t limit = hint.check_only ? SIZE_MAX : cache_->budget_bytes() / 2;
  const size_t item = dtype_size(info_.dtype);
  size_t bytes = 0;
  bool truncated = false;
  std::vector<ChunkKey> keys;
  for (const auto& b : boxes) {
    if (b.level < 0 || b.level >= static_cast<int>(info_.levels.size())) continue;
    const auto& l = info_.levels[static_cast<size_t>(b.level)];
    if (check_box(b.box, l.shape)) continue;  // read_level reports it
    size_t chunk_bytes = item;
    for (int64_t c : l.chunks) chunk_bytes *= static_cast<size_t>(c);
    keys.clear();
    chunk_keys_for(b.level, b.box, &keys);
    size_t fresh = 0;
    for (const ChunkKey& k : keys) fresh += seen.count(k) ? 0 : 1;
    if (fresh == 0) continue;  // inside the chunks already asked for
    if (!all.empty() && bytes + fresh * chunk_bytes > limit) {
      truncated = true;  // the rest waits for a later request (boxes inside the chunks asked for load with them)
      break;
    }
    bytes += fresh * chunk_bytes;
    for (auto& r : chunks_for(b.level, b.box))
      if (seen.insert(r.key).second) all.push_back(std::move(r));
  }
  bool ready = hint.check_only ? cache_->contains(all) : cache_->request(all, hint);
  return ready && !truncated;
}

std::optional<DataError> ChunkedSource::read_level(int level, const Box& box, float* out) const {
  if (level < 0 || level >= static_cast<int>(info_.levels.size()))
    return DataError{info_.name, "level " + std::to_string(level) + " does not exist"};
  const auto& l = info_.levels[static_cast<size_t>(level)];
  if (auto why = check_box(box, l.shape)) return DataError{info_.name, *why};
  auto requests = chunks_for(level, box);
  auto got = cache_->get_each(requests);
  // A chunk that cannot be read is shown as missing (fill) and reported once per read.
  std::optional<DataError> failed;
  auto missing = std::make_shared<const Chunk>();
  std::vector<std::shared_ptr<const Chunk>> chunks;
  chunks.reserve(got.size());
  for (auto& r : got) {
    if (auto* err = std::get_if<DataError>(&r)) {
      if (!failed) failed = *err;
      chunks.push_back(missing);
    } else {
      chunks.push_back(std::get<std::shared_ptr<const Chunk>>(r));
    }
  }
  const size_t rank = l.shape.size();
  const size_t item = dtype_size(info_.dtype);
  const auto& grid = grids_[static_cast<size_t>(level)];
  // Strides of the output box and of a chunk (C order).
  std::vector<int64_t> out_stride(rank, 1), chunk_stride(rank, 1);
  for (size_t a = rank - 1; a > 0; --a) {
    out_stride[a - 1] = out_stride[a] * box.size[a];
    chunk_stride[a - 1] = chunk_stride[a] * l.chunks[a];
  }
  for (size_t k = 0; k < requests.size(); ++k) {
    // Chunk coordinates back from the linear index.
    std::vector<int64_t> cc(rank);
    uint64_t idx = requests[k].key.index;
    for (size_t a = rank; a-- > 0;) {
      cc[a] = static_cast<int64_t>(idx % static_cast<uint64_t>(grid[a]));
      idx /= static_cast<uint64_t>(grid[a]);
    }
    // Overlap of this chunk with the box, in array coordinates.
    std::vector<int64_t> lo(rank), n(rank);
    for (size_t a = 0; a < rank; ++a) {
      int64_t c0 = cc[a] * l.chunks[a];
      int64_t s = std::max(c0, box.start[a]);
      int64_t e = std::min(c0 + l.chunks[a], box.start[a] + box.size[a]);
      lo[a] = s;
      n[a] = e - s;
    }
    const Chunk& chunk = *chunks[k];
    const int64_t row = n[rank - 1];
    std::vector<int64_t> i(rank, 0);
    while (true) {
      int64_t o = 0, ci = 0;
      for (size_t a = 0; a < rank; ++a) {
        o += (lo[a] + i[a] - box.start[a]) * out_stride[a];
        ci += (lo[a] + i[a] - cc[a] * l.chunks[a]) * chunk_stride[a];
      }
      if (chunk.bytes.empty()) {
        std::fill(out + o, out + o + row, static_cast<float>(chunk.fill));
      } else {
        to_float(info_.dtype, chunk.bytes.data() + static_cast<size_t>(ci) * item, static_cast<size_t>(row), out + o);
      }
      size_t a = rank - 1;
      bool done = true;
      while (a-- > 0) {
        if (++i[a] < n[a]) {
          done = false;
          break;
        }
        i[a] = 0;
      }
      if (done) break;
    }
  }
  if (failed) failed->partial = true;
  return failed;
}

}  // namespace voxcast::data
