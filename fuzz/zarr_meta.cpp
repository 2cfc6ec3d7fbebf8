// Zarr v2 metadata: the input is a .zarray and, after a NUL byte, a .zattrs.
#include <cstdint>
#include <string>

#include "ngff.hpp"
#include "voxcast/data/zarr.hpp"

using namespace voxcast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  const size_t nul = text.find('\0');
  const std::string zarray = text.substr(0, nul);
  auto meta = data::parse_zarray(zarray);
  if (auto* m = std::get_if<data::ZarrArrayMeta>(&meta)) (void)data::zarray_json(*m);
  if (nul == std::string::npos) return 0;
  std::string why;
  const auto attrs = data::parse_metadata_json(text.substr(nul + 1), &why);
  if (!attrs.is_object()) return 0;
  auto image = data::parse_ngff(attrs);
  auto* img = std::get_if<data::NgffImage>(&image);
  if (!img) return 0;
  const size_t rank = std::get_if<data::ZarrArrayMeta>(&meta) ? std::get<data::ZarrArrayMeta>(meta).shape.size() : 3;
  (void)data::ngff_volume_info(*img, rank);
  for (size_t l = 0; l < img->levels.size(); ++l) (void)data::level_factors(*img, l, rank);
  return 0;
}
