// voxcast-info's region strings ("z0:z1,y0:y1,x0:x1") against a fixed shape.
#include <cstdint>
#include <string>

#include "voxcast/data/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)voxcast::data::parse_region(std::string(reinterpret_cast<const char*>(data), size), {3, 1000, 70000, 5});
  return 0;
}
