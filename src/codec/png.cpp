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
