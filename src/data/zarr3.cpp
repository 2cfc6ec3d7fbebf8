#include "voxcast/data/zarr3.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <list>
#include <map>
#include <mutex>

#include "ngff.hpp"
#include "voxcast/core/thread_pool.hpp"
#include "voxcast/data/chunked_source.hpp"
#include "voxcast/data/dtype.hpp"
#include "voxcast/data/extent.hpp"
#include "zarr3_codecs.hpp"

namespace voxcast::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const struct {
  const char* name;
  DType type;
} kDataTypes[] = {{"bool", DType::b1},     {"int8", DType::i8},     {"int16", DType::i16},   {"int32", DType::i32},
                  {"int64", DType::i64},   {"uint8", DType::u8},    {"uint16", DType::u16},  {"uint32", DType::u32},
                  {"uint64", DType::u64},  {"float16", DType::f16}, {"float32", DType::f32}, {"float64", DType::f64}};

bool is_float(DType t) { return t == DType::f16 || t == DType::f32 || t == DType::f64; }

// fill_value in any spelling the spec allows: numbers, true/false, "NaN", "Infinity",
// "-Infinity", and "0x..." (the float's bytes, big-endian hex).
std::optional<std::string> parse_fill(const json& fv, DType t, double* value, std::vector<uint8_t>* bytes) {
  const size_t size = dtype_size(t);
  bytes->assign(size, 0);
  *value = 0;
  if (fv.is_null()) return std::nullopt;
  if (t == DType::b1) {
    if (!fv.is_boolean() && !(fv.is_number_integer() && (fv == 0 || fv == 1)))
      return std::string("fill_value of a bool array must be true or false");
    *value = fv.is_boolean() ? (fv.get<bool>() ? 1 : 0) : fv.get<double>();
    (*bytes)[0] = *value != 0;
    return std::nullopt;
  }
  if (!is_float(t)) {
    if (fv.is_number_unsigned()) {
      uint64_t u = fv.get<uint64_t>();
      *value = static_cast<double>(u);
      if (t == DType::u64) {
        std::memcpy(bytes->data(), &u, 8);
        return std::nullopt;
      }
    } else if (fv.is_number_integer()) {
      int64_t i = fv.get<int64_t>();
      *value = static_cast<double>(i);
      if (t == DType::i64) {
        std::memcpy(bytes->data(), &i, 8);
        return std::nullopt;
      }
    } else if (fv.is_number_float() && std::floor(fv.get<double>()) == fv.get<double>()) {
      *value = fv.get<double>();
    } else {
      return "fill_value " + fv.dump() + " is not an integer";
    }
    from_float(t, *value, bytes->data());
    return std::nullopt;
  }
  if (fv.is_number()) {
    *value = fv.get<double>();
  } else if (fv.is_string()) {
    std::string s = fv.get<std::string>();
    if (s == "NaN") *value = std::numeric_limits<double>::quiet_NaN();
    else if (s == "Infinity") *value = std::numeric_limits<double>::infinity();
    else if (s == "-Infinity") *value = -std::numeric_limits<double>::infinity();
    else if (s.size() == 2 + 2 * size && s.rfind("0x", 0) == 0) {
      uint64_t bits = 0;
      for (size_t i = 2; i < s.size(); ++i) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return "fill_value '" + s + "' is not hex";
        bits = bits << 4 | static_cast<uint64_t>(d);
      }
      std::memcpy(bytes->data(), &bits, size);  // little-endian host: the low bytes
      if (t == DType::f16) *value = half_to_float(static_cast<uint16_t>(bits));
      if (t == DType::f32) {
        float f;
        auto b32 = static_cast<uint32_t>(bits);
        std::memcpy(&f, &b32, 4);
        *value = f;
      }
      if (t == DType::f64) std::memcpy(value, &bits, 8);
      return std::nullopt;
    } else {
      return "fill_value '" + s + "' is not a number, NaN, Infinity, -Infinity or 0x hex of " + std::to_string(size) + " bytes";
    }
  } else {
    return "fill_value " + fv.dump() + " is not a number";
  }
  from_float(t, *value, bytes->data());
  return std::nullopt;
}

std::optional<std::string> ints(const json& j, const char* key, std::vector<int64_t>* out) {
  if (!j.contains(key) || !j[key].is_array()) return std::string(key) + " must be an array of integers";
  out->clear();
  for (const auto& v : j[key]) {
    if (!v.is_number_integer()) return std::string(key) + " must be an array of integers";
    out->push_back(v.get<int64_t>());
  }
  return std::nullopt;
}

}  // namespace

const char* zarr3_data_type(DType t) {
  for (const auto& d : kDataTypes)
    if (d.type == t) return d.name;
  return "uint8";
}

std::optional<std::string> prepare_zarr3_array(Zarr3ArrayMeta* m) {
  if (m->chunk_shape.size() != m->shape.size()) return std::string("chunk_shape must have one entry per axis of shape");
  for (size_t a = 0; a < m->shape.size(); ++a) {
    if (m->shape[a] < 0) return std::string("shape has a negative extent");
    if (m->chunk_shape[a] < 1) return std::string("chunk_shape must be positive");
  }
  if (!m->dimension_names.empty() && m->dimension_names.size() != m->shape.size())
    return std::string("dimension_names must have one entry per axis");
  if (auto e = parse_fill(m->fill_value, m->dtype, &m->fill, &m->fill_bytes)) return e;
  auto chain = std::make_shared<Zarr3Chain>();
  if (auto e = parse_zarr3_codecs(m->codecs, m->chunk_shape, dtype_size(m->dtype), chain.get())) return e;
  // What is allocated at once: an inner chunk when shards are read by byte range, else a
  // whole chunk-grid cell.
  const ShardingSpec* shard = byte_range_sharding(*chain);
  if (auto why = check_extent(m->shape, shard ? shard->chunk_shape : m->chunk_shape)) return why;
  m->chain = chain;
  return std::nullopt;
}

std::variant<Zarr3ArrayMeta, std::string> parse_zarr3_array(const std::string& text) {
  std::string why;
  json j = parse_metadata_json(text, &why);
  if (!why.empty()) return why;
  if (!j.is_object()) return std::string("not a JSON object");
  if (j.value("zarr_format", 0) != 3) return std::string("zarr_format must be 3");
  if (j.value("node_type", "") != "array") return std::string("node_type must be 'array'");
  Zarr3ArrayMeta m;
  if (auto e = ints(j, "shape", &m.shape)) return *e;
  const json& dt = j.value("data_type", json());
  if (!dt.is_string()) return std::string("data_type must be a string (") + (dt.is_null() ? "none" : dt.dump()) + " is not supported)";
  bool known = false;
  for (const auto& d : kDataTypes)
    if (dt == d.name) {
      m.dtype = d.type;
      known = true;
    }
  if (!known) return "unsupported data type '" + dt.get<std::string>() + "'";
  const json& grid = j.value("chunk_grid", json());
  if (!grid.is_object() || grid.value("name", "") != "regular")
    return "unsupported chunk grid '" + (grid.is_object() ? grid.value("name", std::string("?")) : grid.dump()) +
           "' (regular is supported)";
  if (!grid.contains("configuration") || !grid["configuration"].is_object())
    return std::string("chunk_grid needs a configuration with chunk_shape");
  if (auto e = ints(grid["configuration"], "chunk_shape", &m.chunk_shape)) return "chunk_grid " + *e;
  const json& keys = j.value("chunk_key_encoding", json({{"name", "default"}}));
  std::string kname = keys.is_object() ? keys.value("name", std::string()) : std::string();
  if (kname != "default" && kname != "v2") return "unsupported chunk key encoding '" + kname + "'";
  m.v2_keys = kname == "v2";
  m.separator = m.v2_keys ? '.' : '/';
  if (keys.contains("configuration") && keys["configuration"].is_object() && keys["configuration"].contains("separator")) {
    const json& s = keys["configuration"]["separator"];
    if (s != "/" && s != ".") return std::string("chunk key separator must be '/' or '.'");
    m.separator = s.get<std::string>()[0];
  }
  if (j.contains("storage_transformers") && !(j["storage_transformers"].is_array() && j["storage_transformers"].empty()))
    return std::string("storage transformers are not supported");
  if (j.contains("dimension_names") && !j["dimension_names"].is_null()) {
    if (!j["dimension_names"].is_array()) return std::string("dimension_names must be an array");
    for (const auto& n : j["dimension_names"]) m.dimension_names.push_back(n.is_string() ? n.get<std::string>() : "");
  }
  m.fill_value = j.value("fill_value", json());
  if (!j.contains("codecs")) return std::string("no codecs");
  m.codecs = j["codecs"];
  if (j.contains("attributes") && j["attributes"].is_object()) m.attributes = j["attributes"];
  if (auto e = prepare_zarr3_array(&m)) return *e;
  return m;
}

std::string zarr3_array_json(const Zarr3ArrayMeta& m) {
  json j = {{"zarr_format", 3},
            {"node_type", "array"},
            {"shape", m.shape},
            {"data_type", zarr3_data_type(m.dtype)},
            {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", m.chunk_shape}}}}},
            {"chunk_key_encoding",
             {{"name", m.v2_keys ? "v2" : "default"}, {"configuration", {{"separator", std::string(1, m.separator)}}}}},
            {"fill_value", m.fill_value},
            {"codecs", m.codecs},
            {"attributes", m.attributes}};
  if (!m.dimension_names.empty()) j["dimension_names"] = m.dimension_names;
  return j.dump(2);
}

std::string zarr3_chunk_key(const Zarr3ArrayMeta& m, const std::vector<int64_t>& coords) {
  std::string key = m.v2_keys ? "" : "c";
  for (size_t a = 0; a < coords.size(); ++a) {
    if (a || !m.v2_keys) key += m.separator;
    key += std::to_string(coords[a]);
  }
  if (coords.empty() && m.v2_keys) key = "0";
  return key;
}

json zarr3_codecs(const Compressor& c, bool crc32c, bool big_endian) {
  json list = json::array({{{"name", "bytes"}, {"configuration", {{"endian", big_endian ? "big" : "little"}}}}});
  if (c.id == "blosc") {
    const char* shuffle = c.shuffle == 2 ? "bitshuffle" : c.shuffle == 0 ? "noshuffle" : "shuffle";
    list.push_back({{"name", "blosc"},
                    {"configuration", {{"cname", c.cname}, {"clevel", c.clevel}, {"shuffle", shuffle}, {"blocksize", c.blocksize}}}});
  } else if (!c.id.empty()) {
    list.push_back({{"name", c.id}, {"configuration", {{"level", c.clevel}}}});
  }
  if (crc32c) list.push_back({{"name", "crc32c"}});
  return list;
}

json zarr3_sharding_codecs(const std::vector<int64_t>& inner, const Compressor& c, bool index_at_end, bool crc32c) {
  return json::array({{{"name", "sharding_indexed"},
                       {"configuration",
                        {{"chunk_shape", inner},
                         {"codecs", zarr3_codecs(c, crc32c)},
                         {"index_codecs", zarr3_codecs(Compressor{}, true)},
                         {"index_location", index_at_end ? "end" : "start"}}}}});
}

}  // namespace voxcast::data
