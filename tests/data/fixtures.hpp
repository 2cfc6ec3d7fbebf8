#pragma once
// Test datasets: a temporary directory, the value formula shared with write_fixtures.py,
// and a runner for the independent Python writers.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "voxcast/data/dtype.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/data/volume_source.hpp"

namespace voxcast::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/voxcast-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Opens `path` (open_dataset); a test failure naming the file and reason when it cannot.
inline std::unique_ptr<data::VolumeSource> open_or_fail(const std::string& path) {
  auto opened = data::open_dataset(path);
  if (auto* e = std::get_if<data::DataError>(&opened)) {
    ADD_FAILURE() << e->source << ": " << e->message;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<data::VolumeSource>>(opened));
}

// value(idx) as write_fixtures.py computes it.
inline double fixture_value(const std::vector<int64_t>& idx, data::DType t, int64_t modulus = 251) {
  int64_t v = 0;
  for (size_t i = 0; i < idx.size(); ++i) v += idx[i] * static_cast<int64_t>(i + 3) * 7;
  v %= modulus;
  if (t == data::DType::f16 || t == data::DType::f32 || t == data::DType::f64) return static_cast<double>(v) * 0.5 - 3.25;
  if (t == data::DType::i8 || t == data::DType::i16 || t == data::DType::i32 || t == data::DType::i64)
    return static_cast<double>(v - modulus / 2);
  if (t == data::DType::b1) return static_cast<double>(v % 2);
  return static_cast<double>(v);
}

// Runs write_fixtures.py KIND OUT SPEC with Debian's python3 (whose zarr/tifffile/nibabel
// scripts/setup.sh installs); fails the test when the writer fails.
inline void write_with_python(const std::string& kind, const std::string& out, const std::string& spec_json) {
  std::string cmd = "/usr/bin/python3 " VOXCAST_TEST_DATA_DIR "/write_fixtures.py " + kind + " '" + out + "' '" + spec_json + "'";
  int rc = std::system(cmd.c_str());
  ASSERT_EQ(rc, 0) << "independent writer failed: " << cmd;
}

// Reads the whole of `level` and checks every voxel against fixture_value (index scaled by `factor` per axis).
inline void expect_fixture_values(const data::VolumeSource& src, int level, int64_t modulus = 251,
                                  std::vector<int64_t> factor = {}) {
  const auto& shape = src.info().levels[static_cast<size_t>(level)].shape;
  data::Box box{std::vector<int64_t>(shape.size(), 0), shape};
  std::vector<float> got(static_cast<size_t>(box.count()));
  auto err = src.read_level(level, box, got.data());
  ASSERT_FALSE(err) << err->source << ": " << err->message;
  if (factor.empty()) factor.assign(shape.size(), 1);
  std::vector<int64_t> idx(shape.size(), 0);
  size_t mismatches = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    std::vector<int64_t> full(idx.size());
    for (size_t a = 0; a < idx.size(); ++a) full[a] = idx[a] * factor[a];
    float want = static_cast<float>(fixture_value(full, src.info().dtype, modulus));
    if (got[k] != want && mismatches++ < 5) ADD_FAILURE() << "voxel " << k << ": got " << got[k] << " want " << want;
    for (size_t a = idx.size(); a-- > 0;) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace voxcast::testing
