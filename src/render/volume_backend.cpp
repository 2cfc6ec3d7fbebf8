#include "voxcast/render/volume_backend.hpp"

namespace voxcast::render {

std::optional<data::DataError> VolumeBackend::render_i420(const Scene&, const data::VolumeSource&,
                                                          const codec::YuvPlanes&) {
  return data::DataError{name(), "this 3D renderer does not convert to I420 itself"};
}

}  // namespace voxcast::render
