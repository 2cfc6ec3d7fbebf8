#include "voxcast/data/chunked_source.hpp"

#include <algorithm>
#include <cmath>

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

// The chunks overlapping `box`, the one nearest the box centre first.
std::vector<ChunkRequest> ChunkedSource::chunks_for(int level, const Box& box) const {
  const auto& l = info_.levels[static_cast<size_t>(level)];
  const auto& grid = grids_[static_cast<size_t>(level)];
  const size_t rank = l.shape.size();
  std::vector<int64_t> lo(rank), hi(rank);
  for (size_t a = 0; a < rank; ++a) {
    lo[a] = box.start[a] / l.chunks[a];
    hi[a] = (box.start[a] + box.size[a] - 1) / l.chunks[a];
  }
  struct Item {
    double distance;
    std::vector<int64_t> coords;
    uint64_t index;
  };
  std::vector<Item> items;
  std::vector<int64_t> c = lo;
  while (true) {
    double d = 0;
    uint64_t index = 0;
    for (size_t a = 0; a < rank; ++a) {
      double centre = box.start[a] + box.size[a] * 0.5;
      double chunk_centre = (static_cast<double>(c[a]) + 0.5) * static_cast<double>(l.chunks[a]);
      d += (centre - chunk_centre) * (centre - chunk_centre);
      index = index * static_cast<uint64_t>(grid[a]) + static_cast<uint64_t>(c[a]);
    }
    items.push_back({d, c, index});
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
  std::stable_sort(items.begin(), items.end(), [](const Item& x, const Item& y) { return x.distance < y.distance; });
  std::vector<ChunkRequest> out;
  out.reserve(items.size());
  for (auto& it : items) {
    ChunkRequest r;
    r.key = {array_id_, level, it.index};
    r.load = [this, level, coords = std::move(it.coords)] { return load_chunk(level, coords); };
    out.push_back(std::move(r));
  }
  return out;
}

bool ChunkedSource::request(int level, const Box& box, RequestHint hint) const {
  if (level < 0 || level >= static_cast<int>(info_.levels.size())) return true;
  if (check_box(box, info_.levels[static_cast<size_t>(level)].shape)) return true;  // read_level reports it
  return hint.check_only ? cache_->contains(chunks_for(level, box)) : cache_->request(chunks_for(level, box), hint);
}

std::optional<DataError> ChunkedSource::read_level(int level, const Box& box, float* out) const {
  if (level < 0 || level >= static_cast<int>(info_.levels.size()))
    return DataError{info_.name, "level " + std::to_string(level) + " does not exist"};
  const auto& l = info_.levels[static_cast<size_t>(level)];
  if (auto why = check_box(box, l.shape)) return DataError{info_.name, *why};
  auto requests = chunks_for(level, box);
  auto got = cache_->get_all(requests);
  if (auto* err = std::get_if<DataError>(&got)) return *err;
  const auto& chunks = std::get<std::vector<std::shared_ptr<const Chunk>>>(got);
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
  return std::nullopt;
}

}  // namespace voxcast::data
