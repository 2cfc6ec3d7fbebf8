#pragma once
#include <vector>

namespace voxcast {

// Percentile by linear interpolation between closest ranks; p in [0, 100].
// Returns 0 for an empty set.
double percentile(std::vector<double> values, double p);

struct Summary {
  double count = 0;
  double mean = 0;
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
  double max = 0;
};
Summary summarize(const std::vector<double>& values);

}  // namespace voxcast
