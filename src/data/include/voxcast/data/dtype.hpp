#pragma once
// Element types as stored on disk: sizes, NumPy type strings, conversion to float.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

size_t dtype_size(DType t);
// NumPy's typestr ("<u2", ">f4", "|u1", "uint16"): the type and whether it is big-endian.
std::optional<DType> parse_numpy_dtype(const std::string& s, bool* big_endian);
// "<u2" for `t` in little-endian order (what our writers store).
std::string numpy_typestr(DType t);
// Reverses the bytes of each of `n` items of `itemsize` bytes.
void byteswap(uint8_t* data, size_t n, size_t itemsize);
// Converts `n` native-order items at `src` to floats.
void to_float(DType t, const uint8_t* src, size_t n, float* dst);
// IEEE binary16 <-> float (round to nearest even).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
// Converts one float back to the bytes of `t` (native order), rounding and clamping.
void from_float(DType t, double v, uint8_t* dst);

}  // namespace voxcast::data
