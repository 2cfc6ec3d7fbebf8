#include "voxcast/data/tiff.hpp"

#include <tiffio.h>

#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "ngff.hpp"
#include "voxcast/data/chunked_source.hpp"
#include "voxcast/data/dtype.hpp"

namespace voxcast::data {
namespace {

constexpr uint64_t kMaxTiffChunkBytes = uint64_t{1} << 30;  // one strip of a 16k x 16k float image

thread_local std::string tiff_error;
void on_tiff_error(const char* module, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  tiff_error = std::string(module ? module : "libtiff") + ": " + buf;
}
void on_tiff_warning(const char*, const char*, va_list) {}  // OME writers use private tags
void install_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(on_tiff_error);
    TIFFSetWarningHandler(on_tiff_warning);
  });
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string attr(const std::string& tag, const std::string& name) {
  std::string key = " " + name + "=\"";
  size_t p = tag.find(key);
  if (p == std::string::npos) return "";
  p += key.size();
  size_t e = tag.find('"', p);
  return e == std::string::npos ? "" : tag.substr(p, e - p);
}

// One page (IFD) layout: where it is and how it is cut into chunks.
struct Page {
  uint64_t offset = 0;
  std::vector<uint64_t> subifds;  // pyramid levels 1..n
};
struct LevelLayout {
  uint32_t width = 0, height = 0;
  uint32_t chunk_w = 0, chunk_h = 0;
  uint16_t samples = 1;  // 3 or 4: RGB(A), interleaved
  bool tiled = false;
  bool jpeg_ycbcr = false;  // JPEG-compressed YCbCr: libtiff converts to RGB when asked
};

class TiffSource final : public ChunkedSource {
 public:
  TiffSource(std::shared_ptr<ChunkCache> cache, std::string path, VolumeInfo info, std::vector<Page> pages,
             std::vector<LevelLayout> layouts, std::vector<int64_t> page_strides)
      : ChunkedSource(std::move(cache)), path_(std::move(path)), pages_(std::move(pages)), layouts_(std::move(layouts)),
        page_strides_(std::move(page_strides)) {
    info_ = std::move(info);
    finish_info();
  }
  ~TiffSource() override {
    close_loads();  // before the handles and pages the loads read
    for (TIFF* t : handles_) TIFFClose(t);
  }

 protected:
  ChunkResult load_chunk(int level, const std::vector<int64_t>& coords) const override {
    // coords: the page axes, then y, x (and the RGB samples' single chunk).
    const size_t outer = page_strides_.size();
    int64_t page = 0;
    for (size_t a = 0; a < outer; ++a) page += coords[a] * page_strides_[a];
    const LevelLayout& L = layouts_[static_cast<size_t>(level)];
    TIFF* tif = take_handle();
    if (!tif) return DataError{path_, "cannot reopen: " + tiff_error};
    const Page& p = pages_[static_cast<size_t>(page)];
    uint64_t off = level == 0 ? p.offset : p.subifds[static_cast<size_t>(level - 1)];
    auto chunk = std::make_shared<Chunk>();
    const size_t item = dtype_size(info_.dtype);
    const size_t bytes = static_cast<size_t>(L.chunk_w) * L.chunk_h * item * L.samples;
    chunk->bytes.assign(bytes, 0);
    std::string error;
    if (!TIFFSetSubDirectory(tif, off)) {
      error = "cannot read page " + std::to_string(page) + ": " + tiff_error;
    } else if (L.tiled) {
      if (L.jpeg_ycbcr) TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
      auto x = static_cast<uint32_t>(coords[outer + 1]) * L.chunk_w, y = static_cast<uint32_t>(coords[outer]) * L.chunk_h;
      tmsize_t got = TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x, y, 0, 0), chunk->bytes.data(), static_cast<tmsize_t>(bytes));
      if (got < 0) error = "page " + std::to_string(page) + " tile: " + tiff_error;
    } else {
      if (L.jpeg_ycbcr) TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
      auto strip = static_cast<uint32_t>(coords[outer]);
      tmsize_t got = TIFFReadEncodedStrip(tif, strip, chunk->bytes.data(), static_cast<tmsize_t>(bytes));
      if (got < 0) error = "page " + std::to_string(page) + " strip " + std::to_string(strip) + ": " + tiff_error;
    }
    give_handle(tif);
    if (!error.empty()) return DataError{path_, error};
    return std::shared_ptr<const Chunk>(chunk);
  }

 private:
  // libtiff handles are not thread-safe: each load borrows one from a small pool.
  TIFF* take_handle() const {
    {
      std::lock_guard lock(handles_mutex_);
      if (!handles_.empty()) {
        TIFF* t = handles_.back();
        handles_.pop_back();
        return t;
      }
    }
    install_handlers();
    return TIFFOpen(path_.c_str(), "rm");
  }
  void give_handle(TIFF* t) const {
    std::lock_guard lock(handles_mutex_);
    handles_.push_back(t);
  }

  std::string path_;
  std::vector<Page> pages_;
  std::vector<LevelLayout> layouts_;
  std::vector<int64_t> page_strides_;  // per non-yx axis: pages per step
  mutable std::mutex handles_mutex_;
  mutable std::vector<TIFF*> handles_;
};

std::optional<DataError> read_layout(TIFF* tif, const std::string& path, LevelLayout* L, DType* dtype) {
  uint32_t w = 0, h = 0;
  uint16_t bits = 8, format = SAMPLEFORMAT_UINT, spp = 1, planar = PLANARCONFIG_CONTIG;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  if (w == 0 || h == 0) return DataError{path, "page without width/height"};
  if (spp != 1 && spp != 3 && spp != 4)
    return DataError{path, std::to_string(spp) + " samples per pixel: only 1 (grey), 3 (RGB) and 4 (RGBA) are supported"};
  if (spp != 1 && planar != PLANARCONFIG_CONTIG)
    return DataError{path, "RGB stored as separate planes is not supported; store the samples interleaved"};
  uint16_t photometric = PHOTOMETRIC_MINISBLACK, compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  L->samples = spp;
  L->jpeg_ycbcr = photometric == PHOTOMETRIC_YCBCR && compression == COMPRESSION_JPEG;
  if (format == SAMPLEFORMAT_IEEEFP && bits == 32) *dtype = DType::f32;
  else if (format == SAMPLEFORMAT_IEEEFP && bits == 64) *dtype = DType::f64;
  else if (format == SAMPLEFORMAT_INT && bits == 8) *dtype = DType::i8;
  else if (format == SAMPLEFORMAT_INT && bits == 16) *dtype = DType::i16;
  else if (format == SAMPLEFORMAT_INT && bits == 32) *dtype = DType::i32;
  else if (bits == 8) *dtype = DType::u8;
  else if (bits == 16) *dtype = DType::u16;
  else if (bits == 32) *dtype = DType::u32;
  else return DataError{path, std::to_string(bits) + "-bit samples are not supported"};
  L->width = w;
  L->height = h;
  L->tiled = TIFFIsTiled(tif);
  if (L->tiled) {
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &L->chunk_w);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &L->chunk_h);
  } else {
    uint32_t rows = h;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows);
    L->chunk_w = w;
    L->chunk_h = std::min(rows, h);
  }
  if (L->chunk_w == 0 || L->chunk_h == 0) return DataError{path, "bad tile or strip size"};
  // One tile or strip is one chunk, decoded whole: a header may claim any size.
  const uint64_t chunk_bytes = uint64_t{L->chunk_w} * L->chunk_h * dtype_size(*dtype) * spp;  // spp is 1, 3 or 4 (checked above)
  if (chunk_bytes > kMaxTiffChunkBytes)
    return DataError{path, std::string(L->tiled ? "a tile" : "a strip") + " of " + std::to_string(L->chunk_w) + " x " +
                               std::to_string(L->chunk_h) + " (" + std::to_string(chunk_bytes >> 20) +
                               " MB decoded) is larger than the " + std::to_string(kMaxTiffChunkBytes >> 20) +
                               " MB one chunk may take"};
  return std::nullopt;
}

int64_t color_of(const std::string& s) {
  try {
    return std::stoll(s);
  } catch (...) {
    return 0;
  }
}

}  // namespace

bool looks_like_tiff(const std::string& path) {
  return ends_with(path, ".tif") || ends_with(path, ".tiff") || ends_with(path, ".TIF") || ends_with(path, ".TIFF") ||
         ends_with(path, ".btf") || ends_with(path, ".tf8");
}

std::optional<OmePixels> parse_ome_pixels(const std::string& xml) {
  size_t p = xml.find("<Pixels ");
  if (p == std::string::npos) p = xml.find(":Pixels ");
  if (p == std::string::npos) return std::nullopt;
  size_t e = xml.find('>', p);
  std::string tag = xml.substr(p, e == std::string::npos ? std::string::npos : e - p);
  OmePixels px;
  auto num = [&](const char* n, int64_t fallback) {
    std::string v = attr(tag, n);
    return v.empty() ? fallback : std::stoll(v);
  };
  auto real = [&](const char* n) {
    std::string v = attr(tag, n);
    return v.empty() ? 0.0 : std::stod(v);
  };
  try {
    px.dimension_order = attr(tag, "DimensionOrder");
    if (px.dimension_order.empty()) px.dimension_order = "XYZCT";
    px.size_x = num("SizeX", 0);
    px.size_y = num("SizeY", 0);
    px.size_z = num("SizeZ", 1);
    px.size_c = num("SizeC", 1);
    px.size_t_ = num("SizeT", 1);
    px.physical_x = real("PhysicalSizeX");
    px.physical_y = real("PhysicalSizeY");
    px.physical_z = real("PhysicalSizeZ");
  } catch (...) {
    return std::nullopt;
  }
  px.unit_x = attr(tag, "PhysicalSizeXUnit");
  px.unit_z = attr(tag, "PhysicalSizeZUnit");
  px.unit_t = attr(tag, "TimeIncrementUnit");
  try {
    std::string ti = attr(tag, "TimeIncrement");
    if (!ti.empty()) px.time_increment = std::stod(ti);
  } catch (...) {
    px.time_increment = 0;
  }
  // Channels follow inside <Pixels>.
  size_t end = xml.find("</Pixels>", p);
  size_t c = p;
  while ((c = xml.find("<Channel ", c + 1)) != std::string::npos && (end == std::string::npos || c < end)) {
    size_t ce = xml.find('>', c);
    std::string ctag = xml.substr(c, ce == std::string::npos ? std::string::npos : ce - c);
    px.channel_names.push_back(attr(ctag, "Name"));
    px.channel_colors.push_back(color_of(attr(ctag, "Color")));
  }
  return px;
}

std::optional<ImageJMeta> parse_imagej(const std::string& text) {
  if (text.rfind("ImageJ=", 0) != 0) return std::nullopt;
  ImageJMeta m;
  size_t p = 0;
  while (p < text.size()) {
    size_t e = text.find('\n', p);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(p, e - p);
    p = e + 1;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    try {
      if (key == "images") m.images = std::stoll(value);
      else if (key == "channels") m.channels = std::max<int64_t>(1, std::stoll(value));
      else if (key == "slices") m.slices = std::max<int64_t>(1, std::stoll(value));
      else if (key == "frames") m.frames = std::max<int64_t>(1, std::stoll(value));
      else if (key == "spacing") m.spacing = std::stod(value);
      else if (key == "finterval") m.finterval = std::stod(value);
      else if (key == "unit") m.unit = value;
      else if (key == "tunit") m.tunit = value;
    } catch (...) {
      // A malformed number leaves that field at its default.
    }
  }
  return m;
}

std::string unit_name(const std::string& unit) {
  static const std::pair<const char*, const char*> known[] = {
      {"micron", "micrometer"}, {"microns", "micrometer"}, {"um", "micrometer"},     {"\\u00B5m", "micrometer"},
      {"\xC2\xB5m", "micrometer"}, {"\xCE\xBCm", "micrometer"}, {"micrometer", "micrometer"},
      {"nm", "nanometer"},      {"nanometer", "nanometer"}, {"mm", "millimeter"},   {"millimeter", "millimeter"},
      {"cm", "centimeter"},     {"m", "meter"},             {"s", "second"},        {"sec", "second"},
      {"second", "second"},     {"seconds", "second"},      {"ms", "millisecond"},  {"msec", "millisecond"},
      {"millisecond", "millisecond"}, {"min", "minute"},    {"minute", "minute"},   {"h", "hour"},
      {"hour", "hour"}};
  for (const auto& [from, to] : known)
    if (unit == from) return to;
  return "";
}

std::variant<std::unique_ptr<VolumeSource>, DataError> open_tiff(const std::string& path,
                                                                 std::shared_ptr<ChunkCache> cache) {
  install_handlers();
  tiff_error.clear();
  TIFF* tif = TIFFOpen(path.c_str(), "rm");
  if (!tif) return DataError{path, tiff_error.empty() ? "cannot open as TIFF" : tiff_error};
  std::unique_ptr<TIFF, void (*)(TIFF*)> guard(tif, TIFFClose);
  LevelLayout L0;
  DType dtype = DType::u8;
  if (auto err = read_layout(tif, path, &L0, &dtype)) return *err;
  char* desc = nullptr;
  std::string description;
  if (TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &desc) && desc) description = desc;
  // Walk the page chain once, remembering offsets (and sub-resolution offsets).
  std::vector<Page> pages;
  do {
    Page p;
    p.offset = TIFFCurrentDirOffset(tif);
    uint16_t n = 0;
    uint64_t* subs = nullptr;
    if (TIFFGetField(tif, TIFFTAG_SUBIFD, &n, &subs) && n > 0) p.subifds.assign(subs, subs + n);
    pages.push_back(std::move(p));
  } while (TIFFReadDirectory(tif));
  // Pyramid levels: the SubIFDs every page has.
  size_t sublevels = pages[0].subifds.size();
  for (const auto& p : pages) sublevels = std::min(sublevels, p.subifds.size());
  std::vector<LevelLayout> layouts{L0};
  for (size_t k = 0; k < sublevels; ++k) {
    LevelLayout Lk;
    DType dk = dtype;
    if (!TIFFSetSubDirectory(tif, pages[0].subifds[k])) break;
    if (read_layout(tif, path, &Lk, &dk) || dk != dtype) break;
    layouts.push_back(Lk);
  }

  VolumeInfo info;
  info.name = std::filesystem::path(path).filename().string();
  info.kind = "tiff";
  info.dtype = dtype;
  info.codecs = {"tiff"};
  const auto npages = static_cast<int64_t>(pages.size());
  std::vector<Axis> outer;           // non-yx axes, slowest first
  std::vector<int64_t> outer_shape;  // their sizes
  std::vector<int64_t> page_strides;
  NgffImage meta;
  auto ome = description.find("<OME") != std::string::npos ? parse_ome_pixels(description) : std::nullopt;
  Axis ay{"y", "space", 1.0, 0.0, ""}, ax{"x", "space", 1.0, 0.0, ""};
  if (ome && ome->size_z * ome->size_c * ome->size_t_ == npages && ome->dimension_order.size() == 5) {
    info.kind = "ome-tiff";
    // DimensionOrder lists axes fastest first; the pages run over its last three.
    int64_t stride = 1;
    std::map<char, int64_t> strides, sizes{{'Z', ome->size_z}, {'C', ome->size_c}, {'T', ome->size_t_}};
    for (size_t i = 2; i < 5; ++i) {
      char d = ome->dimension_order[i];
      strides[d] = stride;
      stride *= sizes[d];
    }
    auto ome_unit = [](const std::string& u, const char* fallback) {
      if (u.empty()) return std::string(fallback);
      std::string n = unit_name(u);
      return n.empty() ? u : n;
    };
    for (char d : {'T', 'C', 'Z'}) {
      if (sizes[d] <= 1) continue;
      Axis a;
      a.name = std::string(1, static_cast<char>(std::tolower(d)));
      a.type = d == 'T' ? "time" : d == 'C' ? "channel" : "space";
      if (d == 'Z' && ome->physical_z > 0) {
        a.scale = ome->physical_z;
        a.unit = ome_unit(ome->unit_z, "micrometer");
      }
      if (d == 'T' && ome->time_increment > 0) {
        a.scale = ome->time_increment;
        a.unit = ome_unit(ome->unit_t, "second");
      }
      outer.push_back(a);
      outer_shape.push_back(sizes[d]);
      page_strides.push_back(strides[d]);
    }
    if (ome->physical_y > 0) ay.scale = ome->physical_y;
    if (ome->physical_x > 0) ax.scale = ome->physical_x;
    ay.unit = ax.unit = ome->physical_x > 0 ? ome_unit(ome->unit_x, "micrometer") : "";
    for (size_t c = 0; c < ome->channel_names.size(); ++c) {
      ChannelInfo ch;
      ch.name = ome->channel_names[c];
      if (ome->channel_colors[c] != 0) {
        auto rgba = static_cast<uint32_t>(ome->channel_colors[c]);
        char hex[8];
        std::snprintf(hex, sizeof hex, "%02X%02X%02X", (rgba >> 24) & 255, (rgba >> 16) & 255, (rgba >> 8) & 255);
        ch.colormap = colormap_for_color(hex);
      }
      meta.channels.push_back(ch);
      meta.channel_window.push_back(false);
    }
  } else if (auto ij = parse_imagej(description); ij && ij->channels * ij->slices * ij->frames == npages) {
    // A Fiji hyperstack: pages run C fastest, then Z, then T (TZCYX).
    info.kind = "imagej-tiff";
    const std::string unit = unit_name(ij->unit);
    const std::string tunit = ij->tunit.empty() ? "second" : unit_name(ij->tunit);
    struct Dim {
      int64_t size, stride;
      Axis axis;
    } dims[] = {{ij->frames, ij->channels * ij->slices, {"t", "time", ij->finterval > 0 ? ij->finterval : 1.0, 0.0, ij->finterval > 0 ? tunit : ""}},
                {ij->slices, ij->channels, {"z", "space", ij->spacing > 0 ? ij->spacing : 1.0, 0.0, ij->spacing > 0 ? unit : ""}},
                {ij->channels, 1, {"c", "channel", 1.0, 0.0, ""}}};
    // napari shows TZCYX with the channel axis split into layers: keep Fiji's order.
    for (const Dim& d : {dims[0], dims[1], dims[2]}) {
      if (d.size <= 1) continue;
      outer.push_back(d.axis);
      outer_shape.push_back(d.size);
      page_strides.push_back(d.stride);
    }
    // ImageJ stores the pixel size as the resolution: pixels per unit.
    float xres = 0, yres = 0;
    TIFFSetDirectory(tif, 0);
    if (TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres) && xres > 0) ax.scale = 1.0 / xres;
    if (TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres) && yres > 0) ay.scale = 1.0 / yres;
    if (xres > 0 || yres > 0) ay.unit = ax.unit = unit;
  } else {
    // tifffile's shaped description {"shape": [...]} names the page axes; else pages are z.
    std::string why;
    const nlohmann::json j = parse_metadata_json(description, &why);
    std::vector<int64_t> shape;
    if (j.is_object() && j.contains("shape") && j["shape"].is_array())
      for (const auto& v : j["shape"])
        if (v.is_number_integer()) shape.push_back(v.get<int64_t>());
    if (L0.samples > 1 && !shape.empty() && shape.back() == L0.samples) shape.pop_back();  // RGB: the samples
    int64_t product = 1;
    for (size_t i = 0; i + 2 < shape.size(); ++i) product *= shape[i];
    if (shape.size() >= 3 && product == npages && shape[shape.size() - 2] == L0.height &&
        shape.back() == L0.width) {
      auto names = default_axes(shape.size());
      for (size_t i = 0; i + 2 < shape.size(); ++i) {
        outer.push_back(names[i]);
        outer_shape.push_back(shape[i]);
      }
    } else if (npages > 1) {
      outer.push_back(Axis{"z", "space", 1.0, 0.0, ""});
      outer_shape.push_back(npages);
    }
    int64_t stride = 1;
    page_strides.assign(outer.size(), 1);
    for (size_t i = outer.size(); i-- > 0;) {
      page_strides[i] = stride;
      stride *= outer_shape[i];
    }
  }
  info.axes = outer;
  info.axes.push_back(ay);
  info.axes.push_back(ax);
  info.shape = outer_shape;
  info.shape.push_back(L0.height);
  info.shape.push_back(L0.width);
  for (size_t a = 0; a < info.axes.size(); ++a)
    if (info.axes[a].type == "channel") info.channel_axis = static_cast<int>(a);
  const bool rgb = L0.samples > 1;
  if (rgb) {
    // RGB(A) samples, interleaved: a last axis of 3 or 4, shown as one colour layer.
    if (info.channel_axis >= 0) return DataError{path, "RGB samples in a file that also has a channel axis are not supported"};
    info.axes.push_back(Axis{"c", "channel", 1.0, 0.0, ""});
    info.shape.push_back(L0.samples);
    info.channel_axis = static_cast<int>(info.axes.size()) - 1;
    info.rgb = true;
  }
  for (const auto& L : layouts) {
    LevelInfo li;
    li.shape = outer_shape;
    li.shape.push_back(L.height);
    li.shape.push_back(L.width);
    li.chunks.assign(outer_shape.size(), 1);
    li.chunks.push_back(L.chunk_h);
    li.chunks.push_back(L.chunk_w);
    li.factor.assign(outer_shape.size(), 1.0);
    li.factor.push_back(static_cast<double>(L0.height) / L.height);
    li.factor.push_back(static_cast<double>(L0.width) / L.width);
    if (rgb) {
      if (L.samples != L0.samples) return DataError{path, "pyramid levels with different samples per pixel"};
      li.shape.push_back(L.samples);
      li.chunks.push_back(L.samples);
      li.factor.push_back(1.0);
    }
    info.levels.push_back(std::move(li));
  }
  guard.reset();
  auto src = std::make_unique<TiffSource>(std::move(cache), path, std::move(info), std::move(pages), std::move(layouts),
                                          std::move(page_strides));
  if (auto err = fill_default_contrast(*src, meta)) return *err;
  return std::unique_ptr<VolumeSource>(std::move(src));
}

}  // namespace voxcast::data
