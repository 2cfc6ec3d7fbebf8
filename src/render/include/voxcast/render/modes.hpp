#pragma once
// The layer controls' enumerations, alone so that device code (ray_modes.hpp) can use them.

namespace voxcast::render {

enum class Blending { opaque, translucent, additive, minimum };
enum class Interpolation { nearest, linear };
// napari's 3D rendering modes.
enum class RenderMode { mip, minip, average, attenuated_mip, iso, translucent, additive };

// Entries of a layer's transfer function table (lut.hpp).
inline constexpr int kLutSize = 4096;

}  // namespace voxcast::render
