#include "voxcast/data/zarr.hpp"

#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "chunk_grid.hpp"
#include "file_io.hpp"
#include "labels.hpp"
#include "ngff.hpp"
#include "voxcast/core/thread_pool.hpp"
#include "voxcast/data/chunked_source.hpp"
#include "voxcast/data/dtype.hpp"
#include "voxcast/data/extent.hpp"
#include "voxcast/data/zarr3.hpp"

namespace voxcast::data {
namespace fs = std::filesystem;
using nlohmann::json;

std::variant<ZarrArrayMeta, std::string> parse_zarray(const std::string& text) {
  std::string why;
  const json j = parse_metadata_json(text, &why);
  if (!why.empty()) return why;
  if (!j.is_object()) return std::string("not a JSON object");
  ZarrArrayMeta m;
  if (!j.contains("zarr_format") || j["zarr_format"] != 2) return std::string("zarr_format must be 2");
  auto ints = [&](const char* k, std::vector<int64_t>* out) -> bool {
    if (!j.contains(k) || !j[k].is_array()) return false;
    for (const auto& v : j[k]) {
      if (!v.is_number_integer()) return false;
      out->push_back(v.get<int64_t>());
    }
    return true;
  };
  if (!ints("shape", &m.shape)) return std::string("shape must be an array of integers");
  if (!ints("chunks", &m.chunks) || m.chunks.size() != m.shape.size())
    return std::string("chunks must be integers, one per axis of shape");
  for (size_t a = 0; a < m.shape.size(); ++a) {
    if (m.shape[a] < 0) return std::string("shape has a negative extent");
    if (m.chunks[a] < 1) return std::string("chunks must be positive");
  }
  if (auto why = check_extent(m.shape, m.chunks)) return *why;
  if (!j.contains("dtype") || !j["dtype"].is_string()) return std::string("dtype must be a string");
  auto dt = parse_numpy_dtype(j["dtype"].get<std::string>(), &m.big_endian);
  if (!dt) return "unsupported dtype '" + j["dtype"].get<std::string>() + "' (u1, u2, u4, i1, i2, i4, f4, f8 are)";
  m.dtype = *dt;
  if (j.contains("order") && j["order"] != "C") return std::string("only C order is supported");
  if (j.contains("filters") && !j["filters"].is_null() && !(j["filters"].is_array() && j["filters"].empty()))
    return std::string("filters are not supported");
  if (auto err = parse_compressor(j.value("compressor", json()), &m.compressor)) return *err;
  if (j.contains("dimension_separator")) {
    std::string sep = j["dimension_separator"].is_string() ? j["dimension_separator"].get<std::string>() : "";
    if (sep != "." && sep != "/") return std::string("dimension_separator must be '.' or '/'");
    m.separator = sep[0];
  }
  const json& fv = j.value("fill_value", json());
  if (fv.is_number()) {
    m.fill_value = fv.get<double>();
  } else if (fv.is_string()) {
    std::string s = fv.get<std::string>();
    m.fill_value = s == "NaN" ? std::numeric_limits<double>::quiet_NaN()
                   : s == "Infinity" ? std::numeric_limits<double>::infinity()
                   : s == "-Infinity" ? -std::numeric_limits<double>::infinity() : 0.0;
  }
  return m;
}

std::string zarray_json(const ZarrArrayMeta& m) {
  std::string dt = numpy_typestr(m.dtype);
  if (m.big_endian && dtype_size(m.dtype) > 1) dt[0] = '>';
  json j = {{"zarr_format", 2},      {"shape", m.shape},        {"chunks", m.chunks},
            {"dtype", dt},           {"compressor", to_json(m.compressor)},
            {"fill_value", m.fill_value}, {"order", "C"},       {"filters", nullptr},
            {"dimension_separator", std::string(1, m.separator)}};
  return j.dump(2);
}

bool looks_like_zarr(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return false;
  for (const char* f : {".zarray", ".zgroup", ".zattrs", "zarr.json"})
    if (fs::exists(fs::path(path) / f, ec)) return true;
  return false;
}

namespace {

std::optional<std::string> read_text(const Store& store, const std::string& key, std::string* out) {
  StoreRead got;
  if (auto err = store.read(key, &got)) return err->message;
  if (got.missing) return "missing";
  out->assign(got.bytes.begin(), got.bytes.end());
  return std::nullopt;
}

class ZarrSource final : public ChunkedSource {
 public:
  ZarrSource(std::shared_ptr<ChunkCache> cache, std::shared_ptr<const Store> store, VolumeInfo info,
             std::vector<std::string> prefixes, std::vector<ZarrArrayMeta> metas)
      : ChunkedSource(std::move(cache)), store_(std::move(store)), prefixes_(std::move(prefixes)), metas_(std::move(metas)) {
    info_ = std::move(info);
    finish_info();
  }
  ~ZarrSource() override { close_loads(); }  // before the metas and store the loads read

 protected:
  ChunkResult load_chunk(int level, const std::vector<int64_t>& coords) const override {
    const auto& m = metas_[static_cast<size_t>(level)];
    std::string name;
    for (size_t a = 0; a < coords.size(); ++a) {
      if (a) name += m.separator;
      name += std::to_string(coords[a]);
    }
    if (coords.empty()) name = "0";
    const std::string key = join_key(prefixes_[static_cast<size_t>(level)], name);
    StoreRead raw;
    if (auto err = store_->read(key, &raw)) return DataError{store_->where(key), err->message};
    auto chunk = std::make_shared<Chunk>();
    chunk->fill = m.fill_value;
    if (raw.missing) return std::shared_ptr<const Chunk>(chunk);  // Zarr: a missing chunk is all fill_value
    size_t items = 1;
    for (auto c : m.chunks) items *= static_cast<size_t>(c);
    const size_t itemsize = dtype_size(m.dtype);
    if (auto err = decompress(m.compressor, raw.bytes.data(), raw.bytes.size(), items * itemsize, &chunk->bytes))
      return DataError{store_->where(key), describe(m.compressor) + ": " + *err};
    if (m.big_endian) byteswap(chunk->bytes.data(), items, itemsize);
    return std::shared_ptr<const Chunk>(chunk);
  }

 private:
  std::shared_ptr<const Store> store_;
  std::vector<std::string> prefixes_;
  std::vector<ZarrArrayMeta> metas_;
};

std::variant<ZarrArrayMeta, DataError> read_zarray(const Store& store, const std::string& prefix) {
  std::string text;
  const std::string key = join_key(prefix, ".zarray");
  if (auto err = read_text(store, key, &text))
    return DataError{store.where(key), *err == "missing" ? "no .zarray (not a Zarr v2 array)" : *err};
  auto parsed = parse_zarray(text);
  if (auto* why = std::get_if<std::string>(&parsed)) return DataError{store.where(key), *why};
  return std::get<ZarrArrayMeta>(parsed);
}

}  // namespace

std::variant<std::unique_ptr<VolumeSource>, DataError> open_zarr(const std::string& path,
                                                                 std::shared_ptr<ChunkCache> cache,
                                                                 const std::string& confine_root) {
  fs::path root(path);
  std::error_code ec;
  if (!fs::exists(root, ec)) return DataError{path, "no such file or directory"};
  if (!fs::is_directory(root, ec)) return DataError{path, "not a directory (a Zarr store is a directory)"};
  std::string name = root.filename().string();
  if (name.empty()) name = root.parent_path().filename().string();
  return open_zarr_store(open_local_store(path, confine_root), name, std::move(cache));
}

std::variant<std::unique_ptr<VolumeSource>, DataError> open_zarr_store(std::shared_ptr<const Store> store, const std::string& name,
                                                                       std::shared_ptr<ChunkCache> cache) {
  // Which metadata is there decides the version; a store that cannot be read (401, 403,
  // a refused connection) says so here rather than looking empty.
  bool v3 = false, v2 = false;
  for (const char* key : {"zarr.json", ".zgroup", ".zarray", ".zattrs"}) {
    StoreRead probe;
    if (auto err = store->read(key, &probe)) return DataError{store->where(key), err->message};
    if (!probe.missing) (std::string(key) == "zarr.json" ? v3 : v2) = true;
  }
  if (!v3 && !v2) return DataError{store->where(""), "no Zarr metadata here (zarr.json, .zgroup, .zarray or .zattrs)"};
  v3 = v3 && !v2;
  auto image = v3 ? open_zarr3(store, name, cache) : open_zarr2(store, name, cache);
  if (auto* err = std::get_if<DataError>(&image)) return *err;
  return with_ome_labels(store, v3, std::move(std::get<std::unique_ptr<VolumeSource>>(image)), std::move(cache));
}

std::variant<std::unique_ptr<VolumeSource>, DataError> open_zarr2(std::shared_ptr<const Store> store, const std::string& name,
                                                                  std::shared_ptr<ChunkCache> cache) {
  std::string attrs_text;
  json attrs = json::object();
  if (auto err = read_text(*store, ".zattrs", &attrs_text); err && *err != "missing") {
    return DataError{store->where(".zattrs"), *err};
  } else if (!err) {
    std::string why;
    attrs = parse_metadata_json(attrs_text, &why);
    if (!why.empty()) return DataError{store->where(".zattrs"), why};
  }
  NgffImage image;
  if (attrs.contains("multiscales")) {
    auto parsed = parse_ngff(attrs);
    if (auto* why = std::get_if<std::string>(&parsed)) return DataError{store->where(".zattrs"), *why};
    image = std::get<NgffImage>(parsed);
  } else if (store->exists(".zarray")) {
    image.levels.push_back({"", {}, {}});
  } else {
    return DataError{store->where(""), "a Zarr group without OME-NGFF multiscales metadata (no image to show)"};
  }
  std::vector<std::string> prefixes;
  std::vector<ZarrArrayMeta> metas;
  for (const auto& level : image.levels) {
    auto meta = read_zarray(*store, level.path);
    if (auto* err = std::get_if<DataError>(&meta)) return *err;
    metas.push_back(std::get<ZarrArrayMeta>(meta));
    prefixes.push_back(level.path);
    const auto& m = metas.back();
    const std::string where = store->where(join_key(level.path, ".zarray"));
    if (m.shape.size() != metas.front().shape.size()) return DataError{where, "level rank differs from level 0"};
    if (m.dtype != metas.front().dtype) return DataError{where, "level dtype differs from level 0"};
  }
  auto info = ngff_volume_info(image, metas.front().shape.size());
  if (auto* why = std::get_if<std::string>(&info)) return DataError{store->where(".zattrs"), *why};
  VolumeInfo vi = std::get<VolumeInfo>(info);
  vi.name = name;
  vi.kind = attrs.contains("multiscales") ? "ome-zarr" : "zarr";
  vi.shape = metas.front().shape;
  if (vi.channel_axis >= 0 && vi.shape[static_cast<size_t>(vi.channel_axis)] > kMaxChannels)
    return DataError{store->where(".zattrs"), "more than " + std::to_string(kMaxChannels) + " channels"};
  vi.dtype = metas.front().dtype;
  vi.codecs = {describe(metas.front().compressor)};
  for (size_t l = 0; l < metas.size(); ++l) {
    LevelInfo li;
    li.shape = metas[l].shape;
    li.chunks = metas[l].chunks;
    li.factor = level_factors(image, l, vi.shape.size());
    vi.levels.push_back(std::move(li));
  }
  mark_rgb(&vi, image, !attrs.contains("multiscales"));
  auto src = std::make_unique<ZarrSource>(std::move(cache), std::move(store), std::move(vi), std::move(prefixes), std::move(metas));
  if (auto err = fill_default_contrast(*src, image)) return *err;
  return std::unique_ptr<VolumeSource>(std::move(src));
}

std::optional<std::string> write_zarr_array(const std::string& dir, const ZarrArrayMeta& meta, const ChunkFiller& fill,
                                            int threads) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "cannot create " + dir + ": " + ec.message();
  std::string text = zarray_json(meta);
  if (auto err = write_whole_file(dir + "/.zarray", text.data(), text.size())) return err;
  const size_t rank = meta.shape.size();
  size_t items = 1;
  for (auto c : meta.chunks) items *= static_cast<size_t>(c);
  const size_t itemsize = dtype_size(meta.dtype);
  return for_each_grid_cell(meta.shape, meta.chunks, threads,
                            [&](const std::vector<int64_t>& coords, const std::vector<int64_t>& start) -> std::optional<std::string> {
                              std::vector<uint8_t> bytes(items * itemsize, 0);
                              if (!fill(start, meta.chunks, &bytes)) return std::nullopt;
                              if (meta.big_endian) byteswap(bytes.data(), items, itemsize);
                              auto packed = compress(meta.compressor, bytes.data(), bytes.size(), itemsize);
                              std::string key;
                              for (size_t a = 0; a < rank; ++a) {
                                if (a) key += meta.separator;
                                key += std::to_string(coords[a]);
                              }
                              if (rank == 0) key = "0";
                              fs::path file = fs::path(dir) / key;
                              std::error_code e2;
                              if (meta.separator == '/') fs::create_directories(file.parent_path(), e2);
                              return write_whole_file(file.string(), packed.data(), packed.size());
                            });
}

std::optional<std::string> write_ngff_attrs(const std::string& dir, const std::vector<NgffAxis>& axes,
                                            const std::vector<std::vector<double>>& scales,
                                            const std::vector<double>& translation,
                                            const std::vector<NgffChannel>& channels) {
  json jaxes = json::array();
  for (const auto& a : axes) {
    json ax = {{"name", a.name}};
    if (!a.type.empty()) ax["type"] = a.type;
    if (!a.unit.empty()) ax["unit"] = a.unit;
    jaxes.push_back(ax);
  }
  json datasets = json::array();
  for (size_t l = 0; l < scales.size(); ++l) {
    json t = json::array({{{"type", "scale"}, {"scale", scales[l]}}});
    if (!translation.empty()) t.push_back({{"type", "translation"}, {"translation", translation}});
    datasets.push_back({{"path", std::to_string(l)}, {"coordinateTransformations", t}});
  }
  json attrs = {{"multiscales", json::array({{{"version", "0.4"}, {"name", fs::path(dir).filename().string()},
                                               {"axes", jaxes}, {"datasets", datasets}}})}};
  if (!channels.empty()) {
    json ch = json::array();
    for (const auto& c : channels)
      ch.push_back({{"label", c.label}, {"color", c.color}, {"active", true},
                    {"window", {{"start", c.start}, {"end", c.end}, {"min", c.start}, {"max", c.end}}}});
    attrs["omero"] = {{"channels", ch}};
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string group = R"({"zarr_format": 2})";
  if (auto err = write_whole_file(dir + "/.zgroup", group.data(), group.size())) return err;
  std::string text = attrs.dump(2);
  return write_whole_file(dir + "/.zattrs", text.data(), text.size());
}

}  // namespace voxcast::data
