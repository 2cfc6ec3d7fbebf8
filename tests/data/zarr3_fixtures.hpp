#pragma once
// Zarr v3 test helpers: the independent writer/reader (zarrita under node), .npy files
// from voxcast-info, and the fixture formula checked voxel by voxel.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "voxcast/data/dtype.hpp"

namespace voxcast::testing {

inline const char* kZarritaScript = VOXCAST_TEST_DATA_DIR "/zarrita/fixtures.mjs";

// Writes every spec (each with its "out") with zarrita or the script's hand writer.
inline void write_with_zarrita(const nlohmann::json& specs, const std::string& scratch) {
  std::string file = scratch + "/specs.json";
  std::ofstream(file) << specs.dump();
  std::string cmd = std::string("node ") + kZarritaScript + " write-many '" + file + "'";
  int rc = std::system(cmd.c_str());
  ASSERT_EQ(rc, 0) << "zarrita writer failed (scripts/setup.sh installs it with npm): " << cmd;
}

struct Npy {
  data::DType dtype = data::DType::u8;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Reads an .npy as voxcast-info writes it (version 1.0, little-endian, C order).
inline bool read_npy(const std::string& path, Npy* out) {
  std::ifstream f(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (all.size() < 10 || all.compare(1, 5, "NUMPY") != 0) return false;
  size_t hlen = static_cast<uint8_t>(all[8]) | static_cast<size_t>(static_cast<uint8_t>(all[9])) << 8;
  std::string header = all.substr(10, hlen);
  auto d = header.find("'descr': '");
  if (d == std::string::npos) return false;
  std::string descr = header.substr(d + 10, header.find('\'', d + 10) - d - 10);
  bool big = false;
  auto t = data::parse_numpy_dtype(descr, &big);
  if (!t || big) return false;
  out->dtype = *t;
  auto s = header.find("'shape': (");
  std::string dims = header.substr(s + 10, header.find(')', s) - s - 10);
  std::stringstream ss(dims);
  std::string item;
  out->shape.clear();
  while (std::getline(ss, item, ','))
    if (item.find_first_not_of(' ') != std::string::npos) out->shape.push_back(std::stoll(item));
  size_t n = 1;
  for (auto x : out->shape) n *= static_cast<size_t>(x);
  const size_t size = data::dtype_size(*t);
  if (all.size() != 10 + hlen + n * size) return false;
  out->values.resize(n);
  data::to_float(*t, reinterpret_cast<const uint8_t*>(all.data()) + 10 + hlen, n, out->values.data());
  return true;
}

// voxcast-info DATASET --region REGION --out OUT; the .npy read back.
inline Npy voxcast_info_region(const std::string& dataset, const std::string& region, const std::string& out) {
  std::string cmd = std::string(VOXCAST_BIN_DIR) + "/voxcast-info '" + dataset + "' --region '" + region + "' --out '" +
                    out + "' > /dev/null";
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << cmd;
  Npy npy;
  EXPECT_TRUE(rc != 0 || read_npy(out, &npy)) << "unreadable .npy from " << cmd;
  return npy;
}

// Every voxel of `npy` (a region starting at `start`) against `want(index)`.
inline void expect_npy(const Npy& npy, const std::vector<int64_t>& start,
                       const std::function<double(const std::vector<int64_t>&)>& want, const std::string& what) {
  ASSERT_EQ(npy.shape.size(), start.size()) << what;
  std::vector<int64_t> i(start.size(), 0);
  size_t bad = 0;
  for (size_t k = 0; k < npy.values.size(); ++k) {
    std::vector<int64_t> idx(start.size());
    for (size_t a = 0; a < idx.size(); ++a) idx[a] = start[a] + i[a];
    float w = static_cast<float>(want(idx));
    bool same = npy.values[k] == w || (std::isnan(w) && std::isnan(npy.values[k]));
    if (!same && bad++ < 3) ADD_FAILURE() << what << ": voxel " << k << " got " << npy.values[k] << " want " << w;
    for (size_t a = i.size(); a-- > 0;) {
      if (++i[a] < npy.shape[a]) break;
      i[a] = 0;
    }
  }
  EXPECT_EQ(bad, 0u) << what;
}

}  // namespace voxcast::testing
