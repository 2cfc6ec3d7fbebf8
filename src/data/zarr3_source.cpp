// Reading Zarr v3 arrays and OME-Zarr 0.5 images through a Store.
#include <functional>
#include <list>
#include <map>
#include <mutex>

#include "ngff.hpp"
#include "voxcast/data/chunked_source.hpp"
#include "voxcast/data/dtype.hpp"
#include "voxcast/data/zarr3.hpp"
#include "zarr3_codecs.hpp"

namespace voxcast::data {
using nlohmann::json;

namespace {

// Decoded shard indexes, least recently used dropped past a byte bound: a view reads
// many inner chunks of one shard, and each would otherwise re-read the index.
class ShardIndexCache {
 public:
  using Index = std::shared_ptr<const std::vector<uint64_t>>;  // empty vector: the shard is missing
  explicit ShardIndexCache(size_t budget) : budget_(budget) {}
  Index get(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second.second);
    return it->second.first;
  }
  void put(const std::string& key, Index index) {
    std::lock_guard lock(mutex_);
    if (map_.count(key)) return;
    lru_.push_front(key);
    bytes_ += cost(*index);
    map_.emplace(key, std::make_pair(std::move(index), lru_.begin()));
    while (bytes_ > budget_ && lru_.size() > 1) {
      auto victim = map_.find(lru_.back());
      bytes_ -= cost(*victim->second.first);
      map_.erase(victim);
      lru_.pop_back();
    }
  }

 private:
  static size_t cost(const std::vector<uint64_t>& v) { return v.size() * 8 + 128; }
  std::mutex mutex_;
  std::list<std::string> lru_;
  std::map<std::string, std::pair<Index, std::list<std::string>::iterator>> map_;
  size_t bytes_ = 0, budget_;
};

struct Level3 {
  std::string prefix;  // the array's key prefix in the store
  Zarr3ArrayMeta meta;
  const ShardingSpec* shard = nullptr;  // inner chunks read by byte range
};

class Zarr3Source final : public ChunkedSource {
 public:
  Zarr3Source(std::shared_ptr<ChunkCache> cache, std::shared_ptr<const Store> store, VolumeInfo info,
              std::vector<Level3> levels)
      : ChunkedSource(std::move(cache)), store_(std::move(store)), levels_(std::move(levels)), indexes_(size_t{32} << 20) {
    info_ = std::move(info);
    finish_info();
  }
  ~Zarr3Source() override { close_loads(); }  // before the levels and store the loads read

 protected:
  ChunkResult load_chunk(int level, const std::vector<int64_t>& coords) const override {
    const Level3& l = levels_[static_cast<size_t>(level)];
    const size_t itemsize = dtype_size(l.meta.dtype);
    auto chunk = std::make_shared<Chunk>();
    chunk->fill = l.meta.fill;
    if (!l.shard) {
      std::string key = join_key(l.prefix, zarr3_chunk_key(l.meta, coords));
      StoreRead got;
      if (auto e = store_->read(key, &got)) return DataError{store_->where(key), e->message};
      if (got.missing) return std::shared_ptr<const Chunk>(chunk);
      if (auto e = decode_zarr3_chunk(*l.meta.chain, got.bytes.data(), got.bytes.size(), l.meta.chunk_shape, itemsize,
                                      l.meta.fill_bytes, &chunk->bytes))
        return DataError{store_->where(key), *e};
      return std::shared_ptr<const Chunk>(chunk);
    }
    // An inner chunk: find its shard, the shard's index, then read just its bytes.
    const ShardingSpec& s = *l.shard;
    const size_t rank = coords.size();
    std::vector<int64_t> shard(rank);
    uint64_t inner = 0;
    for (size_t a = 0; a < rank; ++a) {
      shard[a] = coords[a] / s.per_shard[a];
      inner = inner * static_cast<uint64_t>(s.per_shard[a]) + static_cast<uint64_t>(coords[a] % s.per_shard[a]);
    }
    std::string key = join_key(l.prefix, zarr3_chunk_key(l.meta, shard));
    auto index = indexes_.get(key);
    if (!index) {
      StoreRead got;
      auto range = s.index_at_end ? ByteRange::last(s.index_bytes) : ByteRange::at(0, s.index_bytes);
      if (auto e = store_->read_range(key, range, &got)) {
        std::string why = e->kind == StoreError::Kind::out_of_range
                              ? "truncated shard: smaller than its " + std::to_string(s.index_bytes) + "-byte index (" + e->message + ")"
                              : e->message;
        return DataError{store_->where(key), why};
      }
      auto decoded = std::make_shared<std::vector<uint64_t>>();
      if (!got.missing) {
        if (auto e = decode_shard_index(s, got.bytes.data(), got.bytes.size(), decoded.get()))
          return DataError{store_->where(key), *e};
        for (uint64_t k = 0; k < s.inner_count; ++k) {
          uint64_t off = (*decoded)[2 * k], len = (*decoded)[2 * k + 1];
          if (off != kEmptyInner && got.total_size && (off > got.total_size || len > got.total_size - off))
            return DataError{store_->where(key), "shard index: inner chunk " + std::to_string(k) + " at bytes " +
                                                     std::to_string(off) + "+" + std::to_string(len) + " lies past the end of the " +
                                                     std::to_string(got.total_size) + "-byte shard"};
        }
      }
      index = decoded;
      indexes_.put(key, index);
    }
    if (index->empty()) return std::shared_ptr<const Chunk>(chunk);  // missing shard: fill
    uint64_t off = (*index)[2 * inner], len = (*index)[2 * inner + 1];
    if (off == kEmptyInner) return std::shared_ptr<const Chunk>(chunk);  // empty inner chunk: fill
    StoreRead got;
    if (auto e = store_->read_range(key, ByteRange::at(off, len), &got))
      return DataError{store_->where(key), "inner chunk " + std::to_string(inner) + ": " + e->message};
    if (got.missing) return DataError{store_->where(key), "the shard disappeared while reading"};
    if (auto e = decode_zarr3_chunk(s.codecs, got.bytes.data(), got.bytes.size(), s.chunk_shape, itemsize,
                                    l.meta.fill_bytes, &chunk->bytes))
      return DataError{store_->where(key), "inner chunk " + std::to_string(inner) + ": " + *e};
    return std::shared_ptr<const Chunk>(chunk);
  }

 private:
  std::shared_ptr<const Store> store_;
  std::vector<Level3> levels_;
  mutable ShardIndexCache indexes_;
};

std::optional<std::string> read_json(const Store& store, const std::string& key, json* out) {
  StoreRead got;
  if (auto e = store.read(key, &got)) return e->message;
  if (got.missing) return std::string("missing");
  std::string why;
  *out = parse_metadata_json(std::string(got.bytes.begin(), got.bytes.end()), &why);
  if (!why.empty()) return why;
  if (!out->is_object()) return std::string("not a JSON object");
  return std::nullopt;
}

std::variant<Level3, DataError> read_array(const Store& store, const std::string& prefix) {
  std::string key = join_key(prefix, "zarr.json");
  StoreRead got;
  if (auto e = store.read(key, &got)) return DataError{store.where(key), e->message};
  if (got.missing) return DataError{store.where(key), "no zarr.json (not a Zarr v3 array)"};
  auto parsed = parse_zarr3_array(std::string(got.bytes.begin(), got.bytes.end()));
  if (auto* why = std::get_if<std::string>(&parsed)) return DataError{store.where(key), "array: " + *why};
  Level3 l;
  l.prefix = prefix;
  l.meta = std::get<Zarr3ArrayMeta>(parsed);
  l.shard = byte_range_sharding(*l.meta.chain);
  return l;
}

std::string describe_codecs(const Zarr3ArrayMeta& m) {
  std::string s;
  std::function<void(const json&)> walk = [&](const json& list) {
    for (const auto& c : list) {
      std::string name = c.is_object() ? c.value("name", std::string("?")) : c.is_string() ? c.get<std::string>() : "?";
      if (name == "bytes") continue;
      if (!s.empty()) s += "+";
      if (name == "blosc" && c.contains("configuration")) name += "/" + c["configuration"].value("cname", std::string("lz4"));
      s += name;
      if (name == "sharding_indexed" && c.contains("configuration") && c["configuration"].contains("codecs")) {
        s += "(";
        size_t before = s.size();
        walk(c["configuration"]["codecs"]);
        if (s.size() == before) s += "raw";
        s += ")";
      }
    }
  };
  walk(m.codecs);
  return s.empty() ? "none" : s;
}

std::variant<std::unique_ptr<VolumeSource>, DataError> open_impl(std::shared_ptr<const Store> store, const std::string& name,
                                                                 std::shared_ptr<ChunkCache> cache, bool estimate_contrast) {
  json root;
  if (auto e = read_json(*store, "zarr.json", &root))
    return DataError{store->where("zarr.json"), *e == "missing" ? "no zarr.json (not a Zarr v3 store)" : *e};
  if (root.value("zarr_format", 0) != 3) return DataError{store->where("zarr.json"), "zarr_format must be 3"};
  const std::string node = root.value("node_type", "");
  NgffImage image;
  bool ome = false;
  if (node == "group") {
    const json& attrs = root.value("attributes", json::object());
    // OME-Zarr 0.5 keeps its metadata under "ome"; a 0.4-style layout directly in the attributes is read too.
    const json& ome_attrs = attrs.contains("ome") && attrs["ome"].is_object() ? attrs["ome"] : attrs;
    if (!ome_attrs.contains("multiscales"))
      return DataError{store->where("zarr.json"), "a Zarr group without OME-Zarr multiscales metadata (no image to show)"};
    auto parsed = parse_ngff(ome_attrs);
    if (auto* why = std::get_if<std::string>(&parsed)) return DataError{store->where("zarr.json"), *why};
    image = std::get<NgffImage>(parsed);
    ome = true;
  } else if (node == "array") {
    image.levels.push_back({"", {}, {}});
  } else {
    return DataError{store->where("zarr.json"), "node_type must be 'group' or 'array'"};
  }
  std::vector<Level3> levels;
  for (const auto& level : image.levels) {
    auto l = read_array(*store, level.path);
    if (auto* err = std::get_if<DataError>(&l)) return *err;
    levels.push_back(std::move(std::get<Level3>(l)));
    const auto& m = levels.back().meta;
    if (m.shape.size() != levels.front().meta.shape.size())
      return DataError{store->where(join_key(level.path, "zarr.json")), "level rank differs from level 0"};
    if (m.dtype != levels.front().meta.dtype)
      return DataError{store->where(join_key(level.path, "zarr.json")), "level data type differs from level 0"};
  }
  const Zarr3ArrayMeta& m0 = levels.front().meta;
  if (image.axes.empty() && !m0.dimension_names.empty()) {
    auto axes = default_axes(m0.shape.size());
    for (size_t a = 0; a < axes.size(); ++a) {
      const std::string& n = m0.dimension_names[a];
      if (n.empty()) continue;
      axes[a].name = n;
      axes[a].type = n == "t" ? "time" : n == "c" ? "channel" : (n == "z" || n == "y" || n == "x") ? "space" : "";
    }
    image.axes = axes;
  }
  auto info = ngff_volume_info(image, m0.shape.size());
  if (auto* why = std::get_if<std::string>(&info)) return DataError{store->where("zarr.json"), *why};
  VolumeInfo vi = std::get<VolumeInfo>(info);
  vi.name = name;
  vi.kind = ome ? "ome-zarr-0.5" : "zarr3";
  vi.shape = m0.shape;
  vi.dtype = m0.dtype;
  vi.codecs = {describe_codecs(m0)};
  for (size_t l = 0; l < levels.size(); ++l) {
    LevelInfo li;
    li.shape = levels[l].meta.shape;
    li.chunks = levels[l].shard ? levels[l].shard->chunk_shape : levels[l].meta.chunk_shape;
    li.factor = level_factors(image, l, vi.shape.size());
    vi.levels.push_back(std::move(li));
  }
  auto src = std::make_unique<Zarr3Source>(std::move(cache), store, std::move(vi), std::move(levels));
  if (estimate_contrast)
    if (auto err = fill_default_contrast(*src, image)) return *err;
  return std::unique_ptr<VolumeSource>(std::move(src));
}

}  // namespace

std::variant<std::unique_ptr<VolumeSource>, DataError> open_zarr3(std::shared_ptr<const Store> store, const std::string& name,
                                                                  std::shared_ptr<ChunkCache> cache) {
  return open_impl(std::move(store), name, std::move(cache), true);
}

std::variant<std::unique_ptr<VolumeSource>, DataError> open_zarr3_array(std::shared_ptr<const Store> store,
                                                                        const std::string& name,
                                                                        std::shared_ptr<ChunkCache> cache) {
  return open_impl(std::move(store), name, std::move(cache), false);
}

}  // namespace voxcast::data
