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

std::optional<std::string> decode_png_rgba(const std::vector<uint8_t>& png, std::vector<uint8_t>* rgba, int* width,
                                           int* height) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) return std::string("not a PNG: ") + image.message;
  image.format = PNG_FORMAT_RGBA;
  rgba->resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgba->data(), 0, nullptr)) return "cannot decode the PNG";
  *width = static_cast<int>(image.width);
  *height = static_cast<int>(image.height);
  return std::nullopt;
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
