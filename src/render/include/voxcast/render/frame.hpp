#pragma once
#include <cstdint>
#include <vector>

namespace voxcast::render {

// An RGBA8 image, row 0 at the top of the screen.
struct Frame {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgba;  // width * height * 4
};

}  // namespace voxcast::render
