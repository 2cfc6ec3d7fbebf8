#include "zarr3_codecs.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

#include "voxcast/data/dtype.hpp"

namespace voxcast::data {
using nlohmann::json;

namespace {

uint64_t product(const std::vector<int64_t>& v) {
  uint64_t n = 1;
  for (auto x : v) n *= static_cast<uint64_t>(x);
  return n;
}

std::optional<std::string> parse_compressor3(const std::string& name, const json& cfg, size_t itemsize, Compressor* c) {
  c->id = name;
  auto integer = [&](const char* key, int fallback) {
    return cfg.contains(key) && cfg[key].is_number_integer() ? cfg[key].get<int>() : fallback;
  };
  if (name == "blosc") {
    c->cname = cfg.value("cname", std::string("lz4"));
    static const char* known[] = {"lz4", "lz4hc", "zstd", "zlib", "blosclz"};
    if (std::none_of(std::begin(known), std::end(known), [&](const char* k) { return c->cname == k; }))
      return "blosc: unsupported cname '" + c->cname + "'";
    c->clevel = integer("clevel", 5);
    // The spec spells shuffle as a name; numcodecs-based writers (zarrita) as 0/1/2.
    const json& sh = cfg.value("shuffle", json("noshuffle"));
    std::string shuffle = sh.is_string() ? sh.get<std::string>()
                          : sh.is_number_integer() && sh.get<int>() >= 0 && sh.get<int>() <= 2
                              ? std::array<const char*, 3>{"noshuffle", "shuffle", "bitshuffle"}[sh.get<size_t>()]
                              : sh.dump();
    if (shuffle == "noshuffle") c->shuffle = 0;
    else if (shuffle == "shuffle") c->shuffle = 1;
    else if (shuffle == "bitshuffle") c->shuffle = 2;
    else return "blosc: unsupported shuffle '" + shuffle + "'";
    c->blocksize = integer("blocksize", 0);
    (void)itemsize;  // decoding reads the type size from blosc's header
    return std::nullopt;
  }
  c->clevel = integer("level", name == "zstd" ? 3 : 5);
  return std::nullopt;
}

std::optional<std::string> parse_chain(const json& list, std::vector<int64_t> shape, size_t itemsize, Zarr3Chain* out);

std::optional<std::string> parse_sharding(const json& cfg, const std::vector<int64_t>& shard_shape, size_t itemsize,
                                          ShardingSpec* s) {
  if (!cfg.is_object()) return std::string("sharding_indexed needs a configuration");
  if (!cfg.contains("chunk_shape") || !cfg["chunk_shape"].is_array() || cfg["chunk_shape"].size() != shard_shape.size())
    return std::string("sharding_indexed: chunk_shape must have one entry per axis");
  for (size_t a = 0; a < shard_shape.size(); ++a) {
    const json& v = cfg["chunk_shape"][a];
    if (!v.is_number_integer() || v.get<int64_t>() < 1) return std::string("sharding_indexed: chunk_shape must be positive integers");
    int64_t c = v.get<int64_t>();
    if (shard_shape[a] % c != 0)
      return "sharding_indexed: inner chunk " + std::to_string(c) + " does not divide the shard's " +
             std::to_string(shard_shape[a]) + " on axis " + std::to_string(a);
    s->chunk_shape.push_back(c);
    s->per_shard.push_back(shard_shape[a] / c);
  }
  // The index is read and kept whole: 2^22 inner chunks (a 64 MiB index) is far past any
  // writer's choice (a 1024^3 shard of 64^3 chunks has 4096). Checked per axis, so the
  // product cannot wrap.
  constexpr uint64_t kMaxInner = uint64_t{1} << 22;
  s->inner_count = 1;
  for (auto n : s->per_shard) {
    s->inner_count *= static_cast<uint64_t>(n);
    if (s->inner_count > kMaxInner)
      return std::string("sharding_indexed: more than 4194304 inner chunks per shard");
  }
  if (!cfg.contains("codecs")) return std::string("sharding_indexed: no codecs");
  if (auto e = parse_chain(cfg["codecs"], s->chunk_shape, itemsize, &s->codecs)) return "sharding_indexed inner " + *e;
  std::vector<int64_t> index_shape = s->per_shard;
  index_shape.push_back(2);
  json index_codecs = cfg.contains("index_codecs") ? cfg["index_codecs"]
                                                    : json::array({{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}},
                                                                   {{"name", "crc32c"}}});
  if (auto e = parse_chain(index_codecs, index_shape, 8, &s->index_codecs)) return "sharding_indexed index " + *e;
  // The index must have a size known ahead (it is found by position): only fixed-size codecs.
  s->index_bytes = s->inner_count * 16;
  for (const auto& c : s->index_codecs.codecs) {
    if (c.kind == Zarr3Codec::Kind::crc32c) s->index_bytes += 4;
    else if (c.kind != Zarr3Codec::Kind::bytes && c.kind != Zarr3Codec::Kind::transpose)
      return "sharding_indexed: index codec '" + c.name + "' has no fixed size";
  }
  std::string where = cfg.value("index_location", std::string("end"));
  if (where != "end" && where != "start") return "sharding_indexed: index_location must be 'start' or 'end', not '" + where + "'";
  s->index_at_end = where == "end";
  return std::nullopt;
}

std::optional<std::string> parse_chain(const json& list, std::vector<int64_t> shape, size_t itemsize, Zarr3Chain* out) {
  if (!list.is_array()) return std::string("codecs must be an array");
  out->codecs.clear();
  int stage = 0;  // 0: array→array, 1: after array→bytes
  for (const auto& entry : list) {
    Zarr3Codec c;
    json cfg = json::object();
    if (entry.is_string()) {
      c.name = entry.get<std::string>();
    } else if (entry.is_object() && entry.contains("name") && entry["name"].is_string()) {
      c.name = entry["name"].get<std::string>();
      if (entry.contains("configuration")) cfg = entry["configuration"];
    } else {
      return std::string("each codec needs a name");
    }
    if (!cfg.is_object()) return "codec '" + c.name + "': configuration must be an object";
    const std::string& n = c.name;
    if (n == "transpose") {
      c.kind = Zarr3Codec::Kind::transpose;
      const json& o = cfg.value("order", json());
      if (o.is_string() && (o == "C" || o == "F")) {  // early drafts
        for (size_t a = 0; a < shape.size(); ++a) c.order.push_back(o == "C" ? a : shape.size() - 1 - a);
      } else if (o.is_array() && o.size() == shape.size()) {
        for (const auto& v : o) {
          if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= static_cast<int64_t>(shape.size()))
            return std::string("transpose: order must be a permutation of the axes");
          c.order.push_back(v.get<size_t>());
        }
        std::vector<size_t> sorted = c.order;
        std::sort(sorted.begin(), sorted.end());
        for (size_t a = 0; a < sorted.size(); ++a)
          if (sorted[a] != a) return std::string("transpose: order must be a permutation of the axes");
      } else {
        return std::string("transpose: order must be a permutation of the axes");
      }
      if (stage != 0) return std::string("transpose (array→array) after an array→bytes codec");
      std::vector<int64_t> t(shape.size());
      for (size_t a = 0; a < shape.size(); ++a) t[a] = shape[c.order[a]];
      shape = t;
    } else if (n == "bytes" || n == "endian") {
      c.kind = Zarr3Codec::Kind::bytes;
      std::string endian = cfg.contains("endian") && cfg["endian"].is_string() ? cfg["endian"].get<std::string>() : "";
      if (endian.empty() && itemsize > 1) return std::string("bytes: endian must be 'little' or 'big'");
      if (!endian.empty() && endian != "little" && endian != "big") return "bytes: unsupported endian '" + endian + "'";
      c.big_endian = endian == "big";
      if (stage != 0) return std::string("two array→bytes codecs");
      stage = 1;
    } else if (n == "sharding_indexed") {
      c.kind = Zarr3Codec::Kind::sharding;
      auto spec = std::make_shared<ShardingSpec>();
      if (auto e = parse_sharding(cfg, shape, itemsize, spec.get())) return e;
      c.sharding = spec;
      if (stage != 0) return std::string("two array→bytes codecs");
      stage = 1;
    } else if (n == "blosc" || n == "zstd" || n == "gzip" || n == "zlib") {
      c.kind = Zarr3Codec::Kind::compressor;
      if (auto e = parse_compressor3(n, cfg, itemsize, &c.compressor)) return e;
      if (stage != 1) return "codec '" + n + "' (bytes→bytes) before the array→bytes codec";
    } else if (n == "crc32c") {
      c.kind = Zarr3Codec::Kind::crc32c;
      if (stage != 1) return std::string("codec 'crc32c' (bytes→bytes) before the array→bytes codec");
    } else {
      return "unsupported codec '" + n + "'";
    }
    out->codecs.push_back(std::move(c));
  }
  if (stage != 1) return std::string("codecs lack an array→bytes codec (bytes or sharding_indexed)");
  return std::nullopt;
}

// Between C order of `shape` (decoded) and C order of the shape permuted by `order`
// (encoded): `encode` transposes, otherwise it undoes the transpose. One walk serves both;
// only the copy's direction differs.
void transpose(const std::vector<size_t>& order, const std::vector<int64_t>& shape, size_t itemsize, bool encode,
               const std::vector<uint8_t>& in, std::vector<uint8_t>* out) {
  const size_t rank = shape.size();
  std::vector<int64_t> stride(rank, 1), enc_shape(rank), step(rank);
  for (size_t a = rank; a-- > 1;) stride[a - 1] = stride[a] * shape[a];
  for (size_t a = 0; a < rank; ++a) {
    enc_shape[a] = shape[order[a]];
    step[a] = stride[order[a]];
  }
  out->resize(in.size());
  std::vector<int64_t> e(rank, 0);
  const size_t n = in.size() / itemsize;
  int64_t o = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t decoded = static_cast<size_t>(o) * itemsize, encoded = k * itemsize;
    if (encode) std::memcpy(out->data() + encoded, in.data() + decoded, itemsize);
    else std::memcpy(out->data() + decoded, in.data() + encoded, itemsize);
    for (size_t a = rank; a-- > 0;) {
      o += step[a];
      if (++e[a] < enc_shape[a]) break;
      o -= step[a] * enc_shape[a];
      e[a] = 0;
    }
  }
}

// Copies inner chunk `inner` (C order of spec.chunk_shape) into or out of `shard`.
void copy_inner(const ShardingSpec& s, const std::vector<int64_t>& shard_shape, uint64_t linear, size_t itemsize,
                uint8_t* shard, uint8_t* inner, bool into_shard) {
  const size_t rank = shard_shape.size();
  std::vector<int64_t> origin(rank);
  for (size_t a = rank; a-- > 0;) {
    origin[a] = static_cast<int64_t>(linear % static_cast<uint64_t>(s.per_shard[a])) * s.chunk_shape[a];
    linear /= static_cast<uint64_t>(s.per_shard[a]);
  }
  std::vector<int64_t> stride(rank, 1);
  for (size_t a = rank; a-- > 1;) stride[a - 1] = stride[a] * shard_shape[a];
  const size_t row = static_cast<size_t>(s.chunk_shape[rank - 1]) * itemsize;
  const uint64_t rows = product(s.chunk_shape) / static_cast<uint64_t>(s.chunk_shape[rank - 1]);
  std::vector<int64_t> i(rank, 0);
  for (uint64_t r = 0; r < rows; ++r) {
    int64_t off = 0;
    for (size_t a = 0; a < rank; ++a) off += (origin[a] + i[a]) * stride[a];
    uint8_t* sp = shard + static_cast<size_t>(off) * itemsize;
    uint8_t* ip = inner + r * row;
    if (into_shard) std::memcpy(sp, ip, row);
    else std::memcpy(ip, sp, row);
    for (size_t a = rank - 1; a-- > 0;) {
      if (++i[a] < s.chunk_shape[a]) break;
      i[a] = 0;
    }
  }
}

std::optional<std::string> decode_shard(const ShardingSpec& s, const uint8_t* in, size_t n,
                                        const std::vector<int64_t>& shape, size_t itemsize,
                                        const std::vector<uint8_t>& fill, std::vector<uint8_t>* out) {
  if (n < s.index_bytes)
    return "shard of " + std::to_string(n) + " bytes is smaller than its index (" + std::to_string(s.index_bytes) + " bytes)";
  const uint8_t* index_at = s.index_at_end ? in + n - s.index_bytes : in;
  std::vector<uint64_t> index;
  if (auto e = decode_shard_index(s, index_at, s.index_bytes, &index)) return e;
  out->clear();
  const size_t inner_bytes = product(s.chunk_shape) * itemsize;
  std::vector<uint8_t> inner;
  for (uint64_t k = 0; k < s.inner_count; ++k) {
    uint64_t off = index[2 * k], len = index[2 * k + 1];
    if (off == kEmptyInner && len == kEmptyInner) continue;
    if (off > n || len > n - off)
      return "inner chunk " + std::to_string(k) + " at bytes " + std::to_string(off) + "+" + std::to_string(len) +
             " lies past the end of the " + std::to_string(n) + "-byte shard";
    if (out->empty()) {  // the first stored inner chunk: the rest starts as fill
      out->resize(product(shape) * itemsize);
      for (size_t i = 0; i < out->size(); i += itemsize) std::memcpy(out->data() + i, fill.data(), itemsize);
    }
    if (auto e = decode_zarr3_chunk(s.codecs, in + off, len, s.chunk_shape, itemsize, fill, &inner))
      return "inner chunk " + std::to_string(k) + ": " + *e;
    if (inner.empty()) continue;  // a nested shard of fill
    if (inner.size() != inner_bytes) return "inner chunk " + std::to_string(k) + " decoded to the wrong size";
    copy_inner(s, shape, k, itemsize, out->data(), inner.data(), true);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_zarr3_codecs(const json& list, const std::vector<int64_t>& chunk_shape, size_t itemsize,
                                              Zarr3Chain* out) {
  return parse_chain(list, chunk_shape, itemsize, out);
}

const ShardingSpec* byte_range_sharding(const Zarr3Chain& chain) {
  if (chain.codecs.size() == 1 && chain.codecs[0].kind == Zarr3Codec::Kind::sharding) return chain.codecs[0].sharding.get();
  return nullptr;
}

std::optional<std::string> decode_shard_index(const ShardingSpec& s, const uint8_t* in, size_t n, std::vector<uint64_t>* out) {
  std::vector<int64_t> shape = s.per_shard;
  shape.push_back(2);
  std::vector<uint8_t> bytes;
  if (auto e = decode_zarr3_chunk(s.index_codecs, in, n, shape, 8, std::vector<uint8_t>(8, 0xff), &bytes))
    return "shard index: " + *e;
  if (bytes.size() != s.inner_count * 16) return std::string("shard index decoded to the wrong size");
  out->resize(2 * s.inner_count);
  std::memcpy(out->data(), bytes.data(), bytes.size());
  for (uint64_t k = 0; k < s.inner_count; ++k)
    if (((*out)[2 * k] == kEmptyInner) != ((*out)[2 * k + 1] == kEmptyInner))
      return "shard index: entry " + std::to_string(k) + " is half empty (corrupt index)";
  return std::nullopt;
}

std::optional<std::string> decode_zarr3_chunk(const Zarr3Chain& chain, const uint8_t* in, size_t n,
                                              const std::vector<int64_t>& shape, size_t itemsize,
                                              const std::vector<uint8_t>& fill, std::vector<uint8_t>* out) {
  // Shapes seen by each array→array codec and by the array→bytes codec.
  std::vector<std::vector<int64_t>> shapes{shape};
  size_t a2b = 0;
  while (chain.codecs[a2b].kind == Zarr3Codec::Kind::transpose) {
    const auto& o = chain.codecs[a2b].order;
    std::vector<int64_t> t(shape.size());
    for (size_t a = 0; a < t.size(); ++a) t[a] = shapes.back()[o[a]];
    shapes.push_back(t);
    ++a2b;
  }
  const Zarr3Codec& ab = chain.codecs[a2b];
  const uint64_t raw = product(shapes.back()) * itemsize;
  // Sizes before each bytes→bytes codec (0: unknown), for the decompressors.
  std::vector<uint64_t> sizes{ab.kind == Zarr3Codec::Kind::bytes ? raw : 0};
  for (size_t k = a2b + 1; k < chain.codecs.size(); ++k)
    sizes.push_back(chain.codecs[k].kind == Zarr3Codec::Kind::crc32c && sizes.back() ? sizes.back() + 4 : 0);
  std::vector<uint8_t> buf(in, in + n), next;
  for (size_t k = chain.codecs.size(); k-- > a2b + 1;) {
    const Zarr3Codec& c = chain.codecs[k];
    const uint64_t want = sizes[k - a2b - 1];
    if (c.kind == Zarr3Codec::Kind::crc32c) {
      if (buf.size() < 4) return std::string("crc32c: data shorter than its checksum");
      uint32_t stored;
      std::memcpy(&stored, buf.data() + buf.size() - 4, 4);
      uint32_t got = crc32c(buf.data(), buf.size() - 4);
      if (stored != got) return "crc32c checksum mismatch (stored " + std::to_string(stored) + ", computed " + std::to_string(got) + ")";
      buf.resize(buf.size() - 4);
    } else {
      auto e = want ? decompress(c.compressor, buf.data(), buf.size(), want, &next)
                    : decompress_bounded(c.compressor, buf.data(), buf.size(), size_t{1} << 34, &next);
      if (e) return c.name + ": " + *e;
      buf.swap(next);
    }
  }
  if (ab.kind == Zarr3Codec::Kind::bytes) {
    if (buf.size() != raw) return "bytes: " + std::to_string(buf.size()) + " bytes where the chunk needs " + std::to_string(raw);
    if (ab.big_endian) byteswap(buf.data(), buf.size() / itemsize, itemsize);
  } else {
    if (auto e = decode_shard(*ab.sharding, buf.data(), buf.size(), shapes.back(), itemsize, fill, &next)) return e;
    buf.swap(next);
    if (buf.empty()) {  // all fill
      out->clear();
      return std::nullopt;
    }
  }
  for (size_t k = a2b; k-- > 0;) {
    transpose(chain.codecs[k].order, shapes[k], itemsize, false, buf, &next);
    buf.swap(next);
  }
  out->swap(buf);
  return std::nullopt;
}

std::vector<uint8_t> encode_zarr3_chunk(const Zarr3Chain& chain, const uint8_t* in, const std::vector<int64_t>& shape,
                                        size_t itemsize, const std::vector<uint8_t>& fill) {
  std::vector<int64_t> cur = shape;
  std::vector<uint8_t> buf(in, in + product(shape) * itemsize), next;
  for (const auto& c : chain.codecs) {
    switch (c.kind) {
      case Zarr3Codec::Kind::transpose: {
        transpose(c.order, cur, itemsize, true, buf, &next);
        buf.swap(next);
        std::vector<int64_t> t(cur.size());
        for (size_t a = 0; a < t.size(); ++a) t[a] = cur[c.order[a]];
        cur = t;
        break;
      }
      case Zarr3Codec::Kind::bytes:
        if (c.big_endian) byteswap(buf.data(), buf.size() / itemsize, itemsize);
        break;
      case Zarr3Codec::Kind::sharding: {
        const ShardingSpec& s = *c.sharding;
        std::vector<uint64_t> index(2 * s.inner_count, kEmptyInner);
        std::vector<uint8_t> body, inner(product(s.chunk_shape) * itemsize);
        const uint64_t base = s.index_at_end ? 0 : s.index_bytes;
        for (uint64_t k = 0; k < s.inner_count; ++k) {
          copy_inner(s, cur, k, itemsize, buf.data(), inner.data(), false);
          bool all_fill = true;
          for (size_t i = 0; all_fill && i < inner.size(); i += itemsize) all_fill = !std::memcmp(inner.data() + i, fill.data(), itemsize);
          if (all_fill) continue;
          auto enc = encode_zarr3_chunk(s.codecs, inner.data(), s.chunk_shape, itemsize, fill);
          index[2 * k] = base + body.size();
          index[2 * k + 1] = enc.size();
          body.insert(body.end(), enc.begin(), enc.end());
        }
        std::vector<int64_t> index_shape = s.per_shard;
        index_shape.push_back(2);
        std::vector<uint8_t> raw(index.size() * 8);
        std::memcpy(raw.data(), index.data(), raw.size());
        auto idx = encode_zarr3_chunk(s.index_codecs, raw.data(), index_shape, 8, std::vector<uint8_t>(8, 0xff));
        if (s.index_at_end) {
          body.insert(body.end(), idx.begin(), idx.end());
        } else {
          body.insert(body.begin(), idx.begin(), idx.end());
        }
        buf.swap(body);
        break;
      }
      case Zarr3Codec::Kind::compressor:
        buf = compress(c.compressor, buf.data(), buf.size(), itemsize);
        break;
      case Zarr3Codec::Kind::crc32c: {
        uint32_t crc = crc32c(buf.data(), buf.size());
        const auto* p = reinterpret_cast<const uint8_t*>(&crc);
        buf.insert(buf.end(), p, p + 4);
        break;
      }
    }
  }
  return buf;
}

}  // namespace voxcast::data
