#include "voxcast/data/picture.hpp"

// libjpeg's header needs FILE and size_t first.
#include <cctype>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <jpeglib.h>
#include <png.h>

#include "voxcast/data/contrast.hpp"
#include "voxcast/data/in_memory.hpp"

namespace voxcast::data {
namespace {

bool ends_with_ci(const std::string& s, const char* tail) {
  const size_t n = std::strlen(tail);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - n + i])) != tail[i]) return false;
  return true;
}

// What a decoder produced: rows of `channels` interleaved samples of 8 or 16 bits.
struct Decoded {
  std::vector<uint8_t> pixels;  // native byte order
  std::vector<uint8_t*> rows;
  uint32_t width = 0, height = 0;
  int channels = 0, bits = 8;
  std::string error;
};

// The image as a source: (y, x) for grey, (y, x, c) for colour, napari's default contrast.
std::variant<std::unique_ptr<VolumeSource>, DataError> to_source(const std::string& path, const char* kind, Decoded d) {
  VolumeInfo info;
  info.name = std::filesystem::path(path).filename().string();
  info.kind = kind;
  info.dtype = d.bits == 16 ? DType::u16 : DType::u8;
  info.codecs = {kind};
  info.axes = {{"y", "space", 1.0, 0.0, ""}, {"x", "space", 1.0, 0.0, ""}};
  info.shape = {d.height, d.width};
  if (d.channels > 1) {
    info.axes.push_back({"c", "channel", 1.0, 0.0, ""});
    info.shape.push_back(d.channels);
    info.channel_axis = 2;
    info.rgb = true;
  }
  const int channels = std::max(1, d.channels);
  for (int c = 0; c < channels; ++c) info.channels.push_back(make_channel(info.name, "gray", 0, 255));
  ensure_levels(&info);
  auto src = std::make_unique<InMemoryArray>(std::move(info), std::move(d.pixels));
  auto est = estimate_contrast(*src);
  if (auto* lims = std::get_if<std::vector<std::array<double, 2>>>(&est))
    for (size_t c = 0; c < lims->size(); ++c) {
      auto& ch = src->mutable_info().channels[c];
      ch.contrast_lo = ch.range_lo = (*lims)[c][0];
      ch.contrast_hi = ch.range_hi = (*lims)[c][1];
    }
  return std::unique_ptr<VolumeSource>(std::move(src));
}

// libpng and libjpeg report errors by longjmp: the decoders below keep every C++ object
// they touch outside the jump (in Decoded, made before setjmp) and build no strings
// themselves (set_error is out of line), so the jump skips nothing.
[[gnu::noinline]] void set_error(Decoded* d, const char* message) { d->error = message; }
[[gnu::noinline]] void size_rows(Decoded* d, size_t row) {
  d->pixels.resize(row * d->height);
  d->rows.resize(d->height);
  for (uint32_t y = 0; y < d->height; ++y) d->rows[y] = d->pixels.data() + y * row;
}
void png_fail(png_structp png, png_const_charp message) {
  set_error(static_cast<Decoded*>(png_get_error_ptr(png)), message);
  std::longjmp(png_jmpbuf(png), 1);
}
void png_warn(png_structp, png_const_charp) {}

bool decode_png(std::FILE* f, Decoded* d) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d, png_fail, png_warn);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    return false;
  }
  png_init_io(png, f);
  png_read_info(png, info);
  const int type = png_get_color_type(png, info);
  // Expand what is not plain samples: palettes, sub-byte grey, transparency chunks.
  if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);  // grey + alpha: RGBA
  if (png_get_bit_depth(png, info) == 16) png_set_swap(png);  // PNG is big-endian
  png_read_update_info(png, info);
  d->width = png_get_image_width(png, info);
  d->height = png_get_image_height(png, info);
  d->channels = png_get_channels(png, info);
  d->bits = png_get_bit_depth(png, info);
  const size_t row = png_get_rowbytes(png, info);
  if (static_cast<uint64_t>(row) * d->height > (uint64_t{4} << 30)) png_error(png, "image larger than 4 GiB");
  size_rows(d, row);
  png_read_image(png, d->rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  if (d->channels == 1 || d->channels == 3 || d->channels == 4) return true;
  set_error(d, "an unexpected number of channels after expansion");
  return false;
}

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  Decoded* out;
};
void jpeg_fail(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegError*>(c->err);
  char message[JMSG_LENGTH_MAX];
  (*c->err->format_message)(c, message);
  set_error(e->out, message);
  std::longjmp(e->jump, 1);
}

bool decode_jpeg(std::FILE* f, Decoded* d) {
  jpeg_decompress_struct j;
  JpegError err;
  j.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.out = d;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&j);
    return false;
  }
  jpeg_create_decompress(&j);
  jpeg_stdio_src(&j, f);
  jpeg_read_header(&j, TRUE);
  if (j.jpeg_color_space == JCS_CMYK || j.jpeg_color_space == JCS_YCCK) {
    set_error(d, "CMYK JPEG is not supported");
    jpeg_destroy_decompress(&j);
    return false;
  }
  j.out_color_space = j.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&j);
  d->width = j.output_width;
  d->height = j.output_height;
  d->channels = j.output_components;
  d->bits = 8;
  const size_t row = static_cast<size_t>(j.output_width) * static_cast<size_t>(j.output_components);
  size_rows(d, row);
  while (j.output_scanline < j.output_height) {
    JSAMPROW p = d->pixels.data() + static_cast<size_t>(j.output_scanline) * row;
    jpeg_read_scanlines(&j, &p, 1);
  }
  jpeg_finish_decompress(&j);
  jpeg_destroy_decompress(&j);
  return true;
}

std::variant<std::unique_ptr<VolumeSource>, DataError> open_picture(const std::string& path, const char* kind,
                                                                    bool (*decode)(std::FILE*, Decoded*)) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return DataError{path, std::string("cannot open: ") + std::strerror(errno)};
  Decoded d;
  bool ok = decode(f, &d);
  std::fclose(f);
  if (!ok) return DataError{path, std::string("not a readable ") + kind + ": " + (d.error.empty() ? "unknown error" : d.error)};
  d.rows.clear();
  return to_source(path, kind, std::move(d));
}

}  // namespace

bool looks_like_png(const std::string& path) { return ends_with_ci(path, ".png"); }
bool looks_like_jpeg(const std::string& path) {
  return ends_with_ci(path, ".jpg") || ends_with_ci(path, ".jpeg") || ends_with_ci(path, ".jpe");
}
std::variant<std::unique_ptr<VolumeSource>, DataError> open_png(const std::string& path) {
  return open_picture(path, "png", decode_png);
}
std::variant<std::unique_ptr<VolumeSource>, DataError> open_jpeg(const std::string& path) {
  return open_picture(path, "jpeg", decode_jpeg);
}

}  // namespace voxcast::data
