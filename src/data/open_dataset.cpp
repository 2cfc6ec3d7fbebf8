#include "voxcast/data/open_dataset.hpp"

#include <cstdio>

#include "voxcast/data/synthetic.hpp"

namespace voxcast::data {

std::variant<std::unique_ptr<VolumeSource>, DataError> open_dataset(const std::string& spec) {
  if (spec.empty() || spec == "synthetic") return make_synthetic_cells(SyntheticOptions{});
  if (spec.rfind("synthetic:", 0) == 0) {
    SyntheticOptions o;
    long long c = 0, z = 0, y = 0, x = 0;
    char tail = 0;
    if (std::sscanf(spec.c_str() + 10, "%lldx%lldx%lldx%lld%c", &c, &z, &y, &x, &tail) != 4 || c < 1 || c > 4 ||
        z < 1 || y < 2 || x < 2 || z * y * x > (1LL << 31))
      return DataError{spec, "expected synthetic:CxZxYxX with 1 <= C <= 4 and at most 2^31 voxels per channel"};
    o.channels = static_cast<int>(c);
    o.depth = z;
    o.height = y;
    o.width = x;
    return make_synthetic_cells(o);
  }
  return DataError{spec, "cannot open this dataset: this build serves the built-in sample ('synthetic') only"};
}

}  // namespace voxcast::data
