// Metadata cannot crash a reader or size an allocation without a bound (issue 16).
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "voxcast/data/extent.hpp"
#include "voxcast/data/nifti.hpp"
#include "voxcast/data/npy.hpp"
#include "ngff.hpp"
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

namespace {
// A minimal NIfTI-1 header (2 x 2 x 2 uint8) with its voxels, vox_offset as given.
std::vector<uint8_t> nifti_with_offset(float vox_offset) {
  std::vector<uint8_t> b(352 + 8, 0);
  auto put32 = [&](size_t at, int32_t v) { std::memcpy(&b[at], &v, 4); };
  auto put16 = [&](size_t at, int16_t v) { std::memcpy(&b[at], &v, 2); };
  put32(0, 348);
  put16(40, 3);
  put16(42, 2);
  put16(44, 2);
  put16(46, 2);
  put16(70, 2);  // DT_UNSIGNED_CHAR
  put16(72, 8);
  std::memcpy(&b[108], &vox_offset, 4);
  std::memcpy(&b[344], "n+1", 4);
  return b;
}
}  // namespace

// Found by fuzz_nifti: a vox_offset of 1e20 was cast to size_t (undefined behaviour).
TEST(Bounds, NiftiVoxOffsetOutOfRangeIsRefused) {
  auto ok = nifti_with_offset(352.0f);
  EXPECT_TRUE(std::holds_alternative<NiftiHeader>(parse_nifti_header(ok.data(), ok.size())));
  for (float bad : {1.01457e20f, -4.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    auto b = nifti_with_offset(bad);
    auto h = parse_nifti_header(b.data(), b.size());
    ASSERT_TRUE(std::holds_alternative<std::string>(h)) << bad;
    EXPECT_NE(std::get<std::string>(h).find("vox_offset"), std::string::npos);
  }
}

// Found by fuzz_npy_region: an index past int64 saturated and `index + 1` overflowed.
TEST(Bounds, RegionIndicesPastInt64AreRefused) {
  const std::vector<int64_t> shape{3, 1000, 70000, 5};
  for (const char* text : {"144444444444444444444444444444,:,:,:", "9223372036854775807,:,:,:",
                           "-9223372036854775808,:,:,:", "0:9223372036854775807,:,:,:", "1,-99999999999,:,:"}) {
    auto r = parse_region(text, shape);
    EXPECT_TRUE(std::holds_alternative<std::string>(r)) << text;
  }
  auto ok = parse_region("-1,10:20,:,2", shape);
  ASSERT_TRUE(std::holds_alternative<Box>(ok));
  EXPECT_EQ(std::get<Box>(ok).start[0], 2);
}

TEST(Bounds, MembersOfTheWrongTypeAreErrorsOrIgnoredNotExceptions) {
  // Found by fuzz_zarr_meta: a number in coordinateTransformations, and json::value on a
  // member of another type, threw out of parse_ngff.
  const char* transform_not_object =
      R"({"multiscales":[{"datasets":[{"path":"0","coordinateTransformations":[{"type":"scale","scale":[1,1]},2]}]}]})";
  std::string why;
  auto image = parse_ngff(parse_metadata_json(transform_not_object, &why));
  ASSERT_TRUE(std::holds_alternative<std::string>(image));
  EXPECT_NE(std::get<std::string>(image).find("must be an object"), std::string::npos) << std::get<std::string>(image);
  // Optional strings of another type read as absent.
  const char* wrong_types =
      R"({"multiscales":[{"axes":[{"name":"y","type":7,"unit":[1]},{"name":"x"}],"datasets":[{"path":"0"}]}],)"
      R"("omero":{"channels":[{"label":5}]}})";
  image = parse_ngff(parse_metadata_json(wrong_types, &why));
  ASSERT_TRUE(std::holds_alternative<NgffImage>(image)) << std::get<std::string>(image);
  const NgffImage& img = std::get<NgffImage>(image);
  ASSERT_EQ(img.axes.size(), 2u);
  EXPECT_EQ(img.axes[0].type, "space");  // as if not given: from the name
  EXPECT_EQ(img.axes[0].unit, "");
  ASSERT_EQ(img.channels.size(), 1u);
  EXPECT_EQ(img.channels[0].name, "");
  // A transformation whose type is not a string is of no known type.
  image = parse_ngff(parse_metadata_json(R"({"multiscales":[{"datasets":[{"path":"0","coordinateTransformations":[{"type":3}]}]}]})", &why));
  ASSERT_TRUE(std::holds_alternative<std::string>(image));
  EXPECT_NE(std::get<std::string>(image).find("unsupported coordinate transformation"), std::string::npos);
}

TEST(Bounds, AttributesWithoutMultiscalesAreAnErrorNotAnAssert) {
  // Found by fuzz_zarr_meta: a const json's operator[] asserted on the missing key.
  for (const char* text : {R"({"multYYYYYiscales":[{"datasets":[{"path":"0"}]}]})", R"({})", R"([1,2])", R"("x")"}) {
    std::string why;
    const auto attrs = parse_metadata_json(text, &why);
    ASSERT_TRUE(why.empty()) << why;
    auto image = parse_ngff(attrs);
    ASSERT_TRUE(std::holds_alternative<std::string>(image)) << text;
    EXPECT_NE(std::get<std::string>(image).find("multiscales"), std::string::npos) << std::get<std::string>(image);
  }
}
