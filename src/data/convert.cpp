#include "voxcast/data/convert.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "labels.hpp"
#include "voxcast/core/thread_pool.hpp"
#include "voxcast/data/dtype.hpp"
#include "voxcast/data/zarr3.hpp"

namespace voxcast::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

uint64_t product(const std::vector<int64_t>& v) {
  uint64_t n = 1;
  for (auto x : v) n *= static_cast<uint64_t>(x);
  return n;
}

struct LevelPlan {
  std::vector<int64_t> shape, grid;
  Zarr3ArrayMeta meta;
  uint64_t shards = 0;
};

// The axes halved per level: the last two spatial axes (y, x), else the last two axes.
std::vector<size_t> plane_axes(const VolumeInfo& info) {
  std::vector<size_t> space;
  for (size_t a = 0; a < info.axes.size(); ++a)
    if (info.axes[a].type == "space") space.push_back(a);
  if (space.size() < 2) {
    space.clear();
    for (size_t a = info.shape.size() >= 2 ? info.shape.size() - 2 : 0; a < info.shape.size(); ++a) space.push_back(a);
  }
  return {space.end() - 2, space.end()};
}

std::string hex_color(const std::string& colormap) {
  static const std::pair<const char*, const char*> named[] = {{"gray", "FFFFFF"}, {"red", "FF0000"},   {"green", "00FF00"},
                                                              {"blue", "0000FF"}, {"cyan", "00FFFF"},  {"magenta", "FF00FF"},
                                                              {"yellow", "FFFF00"}};
  for (const auto& [n, h] : named)
    if (colormap == n) return h;
  return "FFFFFF";
}

json ome_metadata(const VolumeInfo& info, const std::vector<LevelPlan>& levels, const std::vector<size_t>& halved,
                  const std::string& name) {
  json axes = json::array();
  for (const auto& a : info.axes) {
    json ax = {{"name", a.name}};
    if (!a.type.empty()) ax["type"] = a.type;
    if (!a.unit.empty()) ax["unit"] = a.unit;
    axes.push_back(ax);
  }
  json datasets = json::array();
  for (size_t l = 0; l < levels.size(); ++l) {
    std::vector<double> scale, translation;
    for (size_t a = 0; a < info.axes.size(); ++a) {
      bool h = std::find(halved.begin(), halved.end(), a) != halved.end();
      scale.push_back(info.axes[a].scale * (h ? static_cast<double>(int64_t{1} << l) : 1.0));
      translation.push_back(info.axes[a].translation);
    }
    datasets.push_back({{"path", std::to_string(l)},
                        {"coordinateTransformations",
                         json::array({{{"type", "scale"}, {"scale", scale}}, {{"type", "translation"}, {"translation", translation}}})}});
  }
  json ome = {{"version", "0.5"}, {"multiscales", json::array({{{"name", name}, {"axes", axes}, {"datasets", datasets}}})}};
  json channels = json::array();
  for (const auto& c : info.channels)
    channels.push_back({{"label", c.name}, {"color", hex_color(c.colormap)}, {"active", true},
                        {"window", {{"start", c.contrast_lo}, {"end", c.contrast_hi}, {"min", c.contrast_lo}, {"max", c.contrast_hi}}}});
  if (!info.channels.empty()) ome["omero"] = {{"channels", channels}};
  return ome;
}

// One output voxel from up to 2 x 2 inputs: the mean, or for labels the most frequent
// (ties: the first, i.e. the nearest).
float reduce(const float* v, int n, bool mode) {
  if (!mode) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += v[i];
    return static_cast<float>(s / n);
  }
  int best = 0, best_count = 0;
  for (int i = 0; i < n; ++i) {
    int count = 0;
    for (int j = 0; j < n; ++j) count += v[j] == v[i];
    if (count > best_count) best = i, best_count = count;
  }
  return v[best];
}

}  // namespace

std::variant<ConvertResult, DataError> convert_to_ome_zarr(const VolumeSource& source, const std::string& out,
                                                           const ConvertOptions& o,
                                                           const std::function<void(const ConvertProgress&)>& progress) {
  const VolumeInfo& info = source.info();
  const size_t rank = info.shape.size();
  const size_t itemsize = dtype_size(info.dtype);
  if (rank < 2) return DataError{info.name, "voxcast-convert needs at least two axes"};
  const auto halved = plane_axes(info);
  // Memory: a quarter for the cache that reads the input, the rest for shards in flight
  // (each held as floats, bytes and its encoding).
  const size_t cache_bytes = std::max<size_t>(o.memory_bytes / 4, size_t{16} << 20);
  const size_t task_bytes = o.memory_bytes - std::min(o.memory_bytes, cache_bytes);
  const double per_voxel = 4.0 + 2.0 * static_cast<double>(itemsize) + 4.0 * 4;  // floats, bytes, encoded, 2x2 input
  std::vector<int64_t> inner(rank, 1);
  for (size_t a = 0; a < rank; ++a) {
    bool plane = std::find(halved.begin(), halved.end(), a) != halved.end();
    if (plane) inner[a] = std::min<int64_t>(info.shape[a], 256);
    else if (info.axes[a].type == "space") inner[a] = std::min<int64_t>(info.shape[a], 16);
  }
  const int hw = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int threads = static_cast<int>(std::clamp<double>(static_cast<double>(task_bytes) / (per_voxel * static_cast<double>(product(inner))), 1, hw));
  // Shards: inner chunks x 2, 4, 8 along x, y, z in turn while every thread's shard fits.
  std::vector<int64_t> shard = inner;
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t a = rank; a-- > 0;) {
      if (info.axes[a].type != "space" || shard[a] >= info.shape[a] || shard[a] >= inner[a] * 8) continue;
      std::vector<int64_t> bigger = shard;
      bigger[a] *= 2;
      if (per_voxel * static_cast<double>(product(bigger)) * threads > static_cast<double>(task_bytes)) continue;
      if (o.max_shard_bytes && product(bigger) * itemsize > o.max_shard_bytes) continue;
      shard = bigger;
      grew = true;
    }
  }
  // Levels: halve y and x until both fit min_level_size.
  std::vector<LevelPlan> levels;
  std::vector<int64_t> shape = info.shape;
  while (true) {
    LevelPlan l;
    l.shape = shape;
    l.meta.shape = shape;
    l.meta.dtype = info.dtype;
    l.meta.fill_value = 0;
    l.meta.chunk_shape.resize(rank);
    std::vector<int64_t> in(rank);
    for (size_t a = 0; a < rank; ++a) {
      in[a] = std::min(inner[a], shape[a]);
      l.meta.chunk_shape[a] = std::min(shard[a], (shape[a] + in[a] - 1) / in[a] * in[a]);
    }
    l.meta.codecs = zarr3_sharding_codecs(in, o.compressor, true, false);
    for (const auto& ax : info.axes) l.meta.dimension_names.push_back(ax.name);
    if (auto e = prepare_zarr3_array(&l.meta)) return DataError{out, "internal: " + *e};
    l.grid.resize(rank);
    l.shards = 1;
    for (size_t a = 0; a < rank; ++a) {
      l.grid[a] = (shape[a] + l.meta.chunk_shape[a] - 1) / l.meta.chunk_shape[a];
      l.shards *= static_cast<uint64_t>(l.grid[a]);
    }
    if (l.shards > static_cast<uint64_t>(INT32_MAX)) return DataError{info.name, "too many shards for one level"};
    levels.push_back(std::move(l));
    if (std::max(shape[halved[0]], shape[halved[1]]) <= o.min_level_size || levels.size() >= 16) break;
    for (size_t a : halved) shape[a] = (shape[a] + 1) / 2;
  }
  // The group first (so a resumed run can check it is the same conversion), then levels in order.
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return DataError{out, "cannot create: " + ec.message()};
  json stamp = {{"source", o.source_name}, {"shape", info.shape}, {"data_type", zarr3_data_type(info.dtype)}};
  {
    std::ifstream f(fs::path(out) / "zarr.json");
    if (f) {
      json old = json::parse(f, nullptr, false);
      const json* prev = old.is_object() && old.contains("attributes") && old["attributes"].contains("voxcast_convert")
                             ? &old["attributes"]["voxcast_convert"]
                             : nullptr;
      if (!prev) return DataError{out, "exists and is not an unfinished voxcast-convert output; choose another OUT"};
      json want = stamp;
      if ((*prev)["source"] != want["source"] || (*prev)["shape"] != want["shape"] || (*prev)["data_type"] != want["data_type"])
        return DataError{out, "holds the conversion of another input; remove it or choose another OUT"};
    } else if (!fs::is_empty(out, ec)) {
      return DataError{out, "exists and is not empty; choose another OUT"};
    }
  }
  json attrs = {{"ome", ome_metadata(info, levels, halved, info.name)}, {"voxcast_convert", stamp}};
  if (auto e = write_zarr3_group(out, attrs)) return DataError{out, *e};

  ConvertResult result;
  result.levels = static_cast<int>(levels.size());
  result.threads = threads;
  result.inner_chunk = inner;
  result.shard = levels[0].meta.chunk_shape;
  ConvertProgress prog;
  prog.levels = result.levels;
  for (const auto& l : levels) prog.shards_total += l.shards;
  std::mutex mutex;
  std::optional<DataError> failure;
  ThreadPool pool(threads);
  auto cache = std::make_shared<ChunkCache>(cache_bytes, threads);
  auto out_store = open_local_store(out);
  for (size_t li = 0; li < levels.size(); ++li) {
    LevelPlan& L = levels[li];
    const std::string dir = (fs::path(out) / std::to_string(li)).string();
    // Resuming: the level keeps the layout it was started with, whatever the options now.
    if (fs::exists(dir + "/.voxcast-done", ec)) {
      std::ifstream f(dir + "/zarr.json");
      std::string old((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      auto parsed = parse_zarr3_array(old);
      if (auto* m = std::get_if<Zarr3ArrayMeta>(&parsed); m && m->shape == L.shape && m->dtype == L.meta.dtype) {
        L.meta = *m;
        prog.shards_total -= L.shards;
        L.shards = 1;
        for (size_t a = 0; a < rank; ++a) {
          L.grid[a] = (L.shape[a] + L.meta.chunk_shape[a] - 1) / L.meta.chunk_shape[a];
          L.shards *= static_cast<uint64_t>(L.grid[a]);
        }
        prog.shards_total += L.shards;
        if (li == 0) result.shard = L.meta.chunk_shape;
      } else {
        return DataError{dir, "cannot resume: its zarr.json is unreadable or of another shape; remove OUT"};
      }
    }
    std::string text = zarr3_array_json(L.meta);
    fs::create_directories(dir, ec);
    {
      std::ofstream(dir + "/zarr.json") << text;
    }
    // Shards an earlier run finished (written, or all fill and so left out).
    std::set<int64_t> done;
    {
      std::ifstream f(dir + "/.voxcast-done");
      int64_t k;
      while (f >> k) done.insert(k);
    }
    if (fs::exists(dir + "/.voxcast-done", ec)) {  // a resumed run: what a killed writer had half written goes
      for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename().string().find(".partial-") != std::string::npos) {
          std::error_code e2;
          fs::remove(it->path(), e2);
        }
    }
    FILE* journal = std::fopen((dir + "/.voxcast-done").c_str(), "a");
    if (!journal) return DataError{dir, "cannot write its progress journal"};
    // Level 0 reads the input; each further level reads the level before it, as written.
    std::unique_ptr<VolumeSource> previous;
    if (li > 0) {
      auto opened = open_zarr3_array(sub_store(out_store, std::to_string(li - 1)), "level " + std::to_string(li - 1), cache);
      if (auto* e = std::get_if<DataError>(&opened)) {
        std::fclose(journal);
        return *e;
      }
      previous = std::move(std::get<std::unique_ptr<VolumeSource>>(opened));
    }
    const VolumeSource& from = li == 0 ? source : *previous;
    const auto& from_shape = li == 0 ? info.shape : levels[li - 1].shape;
    prog.level = static_cast<int>(li);
    for (int64_t k : done) {
      (void)k;
      prog.shards_done += 1;
      prog.shards_resumed += 1;
    }
    pool.parallel_for(static_cast<int>(L.shards), [&](int begin, int end) {
      std::vector<float> values, input;
      std::vector<uint8_t> bytes;
      for (int64_t k = begin; k < end; ++k) {
        if (done.count(k)) continue;
        if (o.stop && o.stop->load()) return;
        {
          std::lock_guard lock(mutex);
          if (failure) return;
        }
        std::vector<int64_t> coords(rank);
        int64_t idx = k;
        for (size_t a = rank; a-- > 0;) {
          coords[a] = idx % L.grid[a];
          idx /= L.grid[a];
        }
        Box box;  // this shard's part of the level (edge shards are cut)
        for (size_t a = 0; a < rank; ++a) {
          box.start.push_back(coords[a] * L.meta.chunk_shape[a]);
          box.size.push_back(std::min(L.meta.chunk_shape[a], L.shape[a] - box.start[a]));
        }
        values.assign(static_cast<size_t>(box.count()), 0.0f);
        std::optional<DataError> err;
        if (li == 0) {
          err = from.read_level(0, box, values.data());
        } else {
          Box in = box;
          for (size_t a : halved) {
            in.start[a] = box.start[a] * 2;
            in.size[a] = std::min(box.size[a] * 2, from_shape[a] - in.start[a]);
          }
          input.resize(static_cast<size_t>(in.count()));
          err = from.read_level(0, in, input.data());
          if (!err) {
            std::vector<int64_t> istride(rank, 1);
            for (size_t a = rank; a-- > 1;) istride[a - 1] = istride[a] * in.size[a];
            std::vector<int64_t> i(rank, 0);
            const size_t ya = halved[0], xa = halved[1];
            for (size_t v = 0; v < values.size(); ++v) {
              int64_t base = 0;
              for (size_t a = 0; a < rank; ++a) {
                bool h = a == ya || a == xa;
                base += (h ? i[a] * 2 : i[a]) * istride[a];
              }
              float win[4];
              int n = 0;
              for (int dy = 0; dy < 2; ++dy)
                for (int dx = 0; dx < 2; ++dx)
                  if (i[ya] * 2 + dy < in.size[ya] && i[xa] * 2 + dx < in.size[xa])
                    win[n++] = input[static_cast<size_t>(base + dy * istride[ya] + dx * istride[xa])];
              const int ch = info.channel_axis >= 0 ? static_cast<int>(box.start[static_cast<size_t>(info.channel_axis)] +
                                                                       i[static_cast<size_t>(info.channel_axis)])
                                                    : 0;
              const bool labels = static_cast<size_t>(ch) < info.channels.size() && info.channels[static_cast<size_t>(ch)].labels;
              values[v] = reduce(win, n, labels);
              for (size_t a = rank; a-- > 0;) {
                if (++i[a] < box.size[a]) break;
                i[a] = 0;
              }
            }
          }
        }
        if (!err) {
          // The whole shard in its own shape, padded with fill beyond the level's edge.
          bytes.assign(product(L.meta.chunk_shape) * itemsize, 0);
          std::vector<int64_t> sstride(rank, 1);
          for (size_t a = rank; a-- > 1;) sstride[a - 1] = sstride[a] * L.meta.chunk_shape[a];
          std::vector<int64_t> i(rank, 0);
          for (size_t v = 0; v < values.size(); ++v) {
            int64_t off = 0;
            for (size_t a = 0; a < rank; ++a) off += i[a] * sstride[a];
            from_float(info.dtype, values[v], bytes.data() + static_cast<size_t>(off) * itemsize);
            for (size_t a = rank; a-- > 0;) {
              if (++i[a] < box.size[a]) break;
              i[a] = 0;
            }
          }
          if (auto e = write_zarr3_chunk(dir, L.meta, coords, bytes)) err = DataError{dir, *e};
        }
        if (o.throttle_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.throttle_ms));
        std::lock_guard lock(mutex);
        if (err) {
          if (!failure) failure = err;
          return;
        }
        std::fprintf(journal, "%lld\n", static_cast<long long>(k));
        std::fflush(journal);
        prog.shards_done += 1;
        prog.bytes_done += static_cast<uint64_t>(values.size()) * itemsize;
        if (progress) progress(prog);
      }
    });
    std::fclose(journal);
    if (failure) return *failure;
    if (o.stop && o.stop->load()) {
      result.interrupted = true;
      break;
    }
  }
  result.shards = prog.shards_done;
  result.shards_resumed = prog.shards_resumed;
  result.bytes = prog.bytes_done;
  if (!result.interrupted) {
    attrs["voxcast_convert"]["complete"] = true;
    if (auto e = write_zarr3_group(out, attrs)) return DataError{out, *e};
  }
  return result;
}

}  // namespace voxcast::data
