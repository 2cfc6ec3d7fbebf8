// TIFF files through libtiff and our reader (OME-XML or tifffile descriptions included),
// and the OME-XML pixel parser on the raw bytes.
#include <sys/mman.h>
#include <unistd.h>

#include <tiffio.h>

#include <cstdint>
#include <string>

#include "voxcast/data/chunk_cache.hpp"
#include "voxcast/data/tiff.hpp"

using namespace voxcast::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool quiet = [] {
    TIFFSetErrorHandler(nullptr);
    TIFFSetWarningHandler(nullptr);
    return true;
  }();
  (void)quiet;
  (void)parse_ome_pixels(std::string(reinterpret_cast<const char*>(data), size));
  int fd = memfd_create("fuzz.tif", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) == static_cast<ssize_t>(size)) {
    static auto cache = std::make_shared<ChunkCache>(size_t{64} << 20, 1);
    auto opened = open_tiff("/proc/self/fd/" + std::to_string(fd), cache);
    if (auto* src = std::get_if<std::unique_ptr<VolumeSource>>(&opened)) {
      // Read the first plane of the coarsest level (small), which decodes strips/tiles.
      const auto& info = (*src)->info();
      const auto& shape = info.levels.back().shape;
      Box box;
      box.start.assign(shape.size(), 0);
      box.size.assign(shape.size(), 1);
      if (shape.size() >= 2) {
        box.size[shape.size() - 1] = std::min<int64_t>(shape.back(), 256);
        box.size[shape.size() - 2] = std::min<int64_t>(shape[shape.size() - 2], 256);
      }
      std::vector<float> values(static_cast<size_t>(box.count()));
      (void)(*src)->read_level(static_cast<int>(info.levels.size()) - 1, box, values.data());
    }
  }
  close(fd);
  return 0;
}
