#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace voxcast::data {

enum class DType { u8, u16, u32, i8, i16, i32, f32, f64 };
const char* dtype_name(DType t);
// Value range a dtype can hold (used for slider limits of contrast).
void dtype_range(DType t, double* lo, double* hi);

struct Axis {
  std::string name;  // "t", "c", "z", "y", "x", ...
  std::string type;  // "time", "channel", "space" or ""
  double scale = 1.0;
  std::string unit;
};

struct ChannelInfo {
  std::string name;
  std::string colormap;         // default colormap name
  double contrast_lo = 0.0;     // default contrast limits
  double contrast_hi = 1.0;
};

struct VolumeInfo {
  std::string name;
  std::string kind;  // "synthetic", "ome-zarr", ...
  std::vector<Axis> axes;
  std::vector<int64_t> shape;
  DType dtype = DType::u16;
  int channel_axis = -1;  // -1: single channel
  std::vector<ChannelInfo> channels;  // one per channel (1 when channel_axis < 0)
};

// A box of the array: start and size per axis (C order, same rank as the shape).
struct Box {
  std::vector<int64_t> start;
  std::vector<int64_t> size;
  int64_t count() const;
};

struct DataError {
  std::string source;   // which dataset or file
  std::string message;  // what went wrong
};

// An n-dimensional image the server can show. Implementations read lazily and are
// safe to call from several threads at once.
class VolumeSource {
 public:
  virtual ~VolumeSource() = default;
  virtual const VolumeInfo& info() const = 0;
  // Reads `box` into `out` (count() floats, C order of the box), converting to float.
  virtual std::optional<DataError> read_region(const Box& box, float* out) const = 0;
};

// Checks a box against a shape; a message when it does not fit.
std::optional<std::string> check_box(const Box& box, const std::vector<int64_t>& shape);

}  // namespace voxcast::data
