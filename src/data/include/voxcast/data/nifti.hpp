#pragma once
// NIfTI-1 single files (.nii, .nii.gz), read whole into memory.
#include <array>
#include <memory>
#include <string>
#include <variant>

#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

// What the header says, for voxcast-info and tests.
struct NiftiHeader {
  std::vector<int64_t> dim;         // i, j, k[, t] extents
  std::array<double, 4> pixdim{};   // i, j, k, t
  int datatype = 0;
  int intent_code = 0;  // 1002: NIFTI_INTENT_LABEL (an atlas)
  double vox_offset = 352;
  double slope = 0, inter = 0;
  int qform_code = 0, sform_code = 0;
  std::array<std::array<double, 4>, 3> affine{};  // voxel (i, j, k) -> world (RAS mm)
  bool big_endian = false;
};
std::variant<NiftiHeader, std::string> parse_nifti_header(const uint8_t* data, size_t n);

// Opens the file and reorients it for display: axes (t,) z, y, x with x towards the
// subject's right, y towards posterior (anterior at the top of the screen) and z towards
// superior, following the header's sform (else qform) to the nearest axis.
std::variant<std::unique_ptr<VolumeSource>, DataError> open_nifti(const std::string& path);
bool looks_like_nifti(const std::string& path);

}  // namespace voxcast::data
