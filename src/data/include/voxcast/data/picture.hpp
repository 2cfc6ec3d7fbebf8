#pragma once
// PNG (libpng) and JPEG (libjpeg) pictures: grey images as one layer, RGB/RGBA as one
// colour layer (napari's rgb=True). 8 and 16-bit PNG, palette and grey+alpha expanded to
// RGB(A); baseline and progressive JPEG, grey or colour (CMYK is refused).
#include <memory>
#include <string>
#include <variant>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

bool looks_like_png(const std::string& path);
bool looks_like_jpeg(const std::string& path);
std::variant<std::unique_ptr<VolumeSource>, DataError> open_png(const std::string& path);
std::variant<std::unique_ptr<VolumeSource>, DataError> open_jpeg(const std::string& path);

}  // namespace voxcast::data
