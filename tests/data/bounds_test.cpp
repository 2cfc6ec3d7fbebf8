// Metadata cannot crash a reader or size an allocation without a bound (issue 16).
#include <gtest/gtest.h>

#include <string>

#include "voxcast/data/extent.hpp"
#include "voxcast/data/zarr.hpp"

using namespace voxcast::data;

namespace {
std::string zarray(const std::string& shape, const std::string& chunks) {
  return R"({"zarr_format":2,"shape":)" + shape + R"(,"chunks":)" + chunks +
         R"(,"dtype":"<u2","compressor":null,"fill_value":0,"order":"C","filters":null})";
}
}  // namespace

TEST(Bounds, DeeplyNestedMetadataIsRefused) {
  std::string deep = R"({"zarr_format":2,"x":)" + std::string(150000, '[') + std::string(150000, ']') + "}";
  auto m = parse_zarray(deep);
  ASSERT_TRUE(std::holds_alternative<std::string>(m));
  EXPECT_NE(std::get<std::string>(m).find("deeper than 64"), std::string::npos) << std::get<std::string>(m);
  EXPECT_TRUE(std::holds_alternative<ZarrArrayMeta>(parse_zarray(zarray("[4,64,64]", "[1,32,32]"))));
}

TEST(Bounds, ShapesAndChunksAreBounded) {
  EXPECT_TRUE(std::holds_alternative<std::string>(
      parse_zarray(zarray("[4,4611686018427387904,4611686018427387904]", "[1,256,256]"))));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_zarray(zarray("[4,65536,65536]", "[1,65536,65536]"))));
  EXPECT_TRUE(std::holds_alternative<ZarrArrayMeta>(parse_zarray(zarray("[4,16777216,16777216]", "[1,256,256]"))));
  EXPECT_FALSE(check_extent({1 << 20, 1 << 20, 1 << 12}));
  EXPECT_TRUE(check_extent({1 << 20, 1 << 20, 1 << 13}));
  EXPECT_TRUE(check_extent({int64_t{1} << 62, int64_t{1} << 62, 4}));
  EXPECT_TRUE(check_extent({0, int64_t{1} << 62, int64_t{1} << 62}) == std::nullopt);  // empty is fine
}
