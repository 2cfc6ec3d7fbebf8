// Chunk codecs: byte 0 picks the codec, bytes 1-2 the expected decoded size (so a
// fuzzed stream is held to a declared size, as a .zarray's chunk shape does).
#include <cstdint>
#include <vector>

#include "voxcast/data/codecs.hpp"

using namespace voxcast::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  static const char* ids[] = {"blosc", "zstd", "zlib", "gzip", ""};
  Compressor c;
  c.id = ids[data[0] % 5];
  const size_t expected = (static_cast<size_t>(data[1]) << 8 | data[2]) * 4;
  std::vector<uint8_t> out;
  (void)decompress(c, data + 3, size - 3, expected, &out);
  (void)gunzip(data + 3, size - 3, 1 << 20, &out);
  return 0;
}
