#include "voxcast/codec/png.hpp"

#include <png.h>

#include <cstring>

namespace voxcast::codec {

std::optional<std::string> write_png_rgba(const std::string& path, const uint8_t* rgba, int width, int height) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGBA;
  if (!png_image_write_to_file(&image, path.c_str(), 0, rgba, 0, nullptr))
    return "cannot write " + path + ": " + image.message;
  return std::nullopt;
}

std::optional<std::string> encode_png_rgba(const uint8_t* rgba, int width, int height, std::vector<uint8_t>* png) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGBA;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, rgba, 0, nullptr)) return std::string("cannot encode PNG: ") + image.message;
  png->resize(size);
  if (!png_image_write_to_memory(&image, png->data(), &size, 0, rgba, 0, nullptr))
    return std::string("cannot encode PNG: ") + image.message;
  png->resize(size);
  return std::nullopt;
}

std::optional<std::string> encode_png_rgb_fast(const uint8_t* rgba, int width, int height, std::vector<uint8_t>* png) {
  const size_t pixels = static_cast<size_t>(width) * static_cast<size_t>(height);
  std::vector<uint8_t> rgb(pixels * 3);
  for (size_t i = 0; i < pixels; ++i) std::memcpy(&rgb[i * 3], rgba + i * 4, 3);
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGB;
  image.flags = PNG_IMAGE_FLAG_FAST;
  // Worst case of a stored (uncompressed) stream: rows + filter bytes + zlib overhead.
  png_alloc_size_t size = pixels * 3 + static_cast<size_t>(height) + (pixels * 3) / 1000 + 4096;
  png->resize(size);
  if (!png_image_write_to_memory(&image, png->data(), &size, 0, rgb.data(), 0, nullptr)) {
    if (size <= png->size()) return std::string("cannot encode PNG: ") + image.message;
    png->resize(size);  // larger than estimated: libpng said how much
    if (!png_image_write_to_memory(&image, png->data(), &size, 0, rgb.data(), 0, nullptr))
      return std::string("cannot encode PNG: ") + image.message;
  }
  png->resize(size);
  return std::nullopt;
}

namespace {
// Decodes a PNG in memory as RGBA8; with `expect_w` > 0 the size must be expect_w x expect_h,
// checked before the pixels are allocated.
std::optional<std::string> decode_png_memory(std::span<const uint8_t> png, int expect_w, int expect_h,
                                             std::vector<uint8_t>* rgba, int* width, int* height) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) return std::string("not a PNG: ") + image.message;
  if (expect_w > 0 && (image.width != static_cast<png_uint_32>(expect_w) || image.height != static_cast<png_uint_32>(expect_h))) {
    png_image_free(&image);
    return "the PNG is " + std::to_string(image.width) + "x" + std::to_string(image.height) + ", not " +
           std::to_string(expect_w) + "x" + std::to_string(expect_h);
  }
  image.format = PNG_FORMAT_RGBA;
  rgba->resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgba->data(), 0, nullptr)) return "cannot decode the PNG";
  *width = static_cast<int>(image.width);
  *height = static_cast<int>(image.height);
  return std::nullopt;
}
}  // namespace

std::optional<std::string> decode_png_rgba(std::span<const uint8_t> png, std::vector<uint8_t>* rgba, int* width,
                                           int* height) {
  return decode_png_memory(png, 0, 0, rgba, width, height);
}

std::optional<std::string> decode_png_rgba_sized(std::span<const uint8_t> png, int width, int height,
                                                 std::vector<uint8_t>* rgba) {
  int w = 0, h = 0;
  if (width <= 0 || height <= 0) return std::string("no PNG size to expect");
  return decode_png_memory(png, width, height, rgba, &w, &h);
}

std::optional<std::string> read_png_rgba(const std::string& path, std::vector<uint8_t>* rgba, int* width, int* height) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) return "cannot read " + path + ": " + image.message;
  image.format = PNG_FORMAT_RGBA;
  rgba->resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgba->data(), 0, nullptr)) return "cannot decode " + path;
  *width = static_cast<int>(image.width);
  *height = static_cast<int>(image.height);
  return std::nullopt;
}

}  // namespace voxcast::codec
