#pragma once
// The scene as plain data: what the ledger owns and what the renderer draws.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/modes.hpp"

namespace voxcast::render {


const char* blending_name(Blending b);
std::optional<Blending> parse_blending(std::string_view s);
const char* interpolation_name(Interpolation i);
std::optional<Interpolation> parse_interpolation(std::string_view s);
const char* render_mode_name(RenderMode m);
std::optional<RenderMode> parse_render_mode(std::string_view s);

struct LayerState {
  std::string id;  // "layer-0", ...
  std::string name;
  int channel = -1;  // index on the source's channel axis; -1 when it has none
  bool rgb = false;  // shows every sample of the channel axis as one colour image (napari's rgb=True)
  bool visible = true;
  double opacity = 1.0;
  std::string colormap = "gray";
  std::array<double, 2> contrast_limits{0.0, 1.0};
  std::array<double, 2> contrast_range{0.0, 1.0};  // what the slider spans (dtype range)
  double gamma = 1.0;
  Blending blending = Blending::additive;
  Interpolation interpolation = Interpolation::nearest;
  // 3D
  RenderMode rendering = RenderMode::mip;
  double iso_threshold = 0.5;  // data units
  double attenuation = 0.05;
};

// napari's dims over the viewer's axes (the source's axes without the channel axis).
struct DimsState {
  std::vector<std::string> labels;
  std::vector<int64_t> shape;
  std::vector<double> scale;          // world units per voxel
  std::vector<int> source_axis;       // viewer axis -> source axis
  std::vector<int64_t> current_step;
  std::vector<int> order;
  int ndisplay = 2;
};
// The last `ndisplay` entries of `order`.
std::vector<int> displayed_axes(const DimsState& d);
// Viewer axis for a label (case-insensitive) or a decimal index; -1 when none.
int find_axis(const DimsState& d, const std::string& target);

// 2D camera: the world point at the canvas centre and canvas pixels per world unit.
struct Camera2D {
  double center_x = 0.0;  // world units along the displayed x axis
  double center_y = 0.0;  // world units along the displayed y axis (grows downwards on screen)
  double zoom = 1.0;
};

// 3D camera: orbit about `center` (world x, y, z of the displayed axes). At zero angles
// the view matches the 2D view: screen right = +x, screen down = +y, looking along +z.
// Azimuth turns about the screen's vertical axis, elevation tilts, roll spins the image.
// fov == 0 is orthographic (zoom = canvas pixels per world unit); fov > 0 is perspective
// with the eye `distance` from the centre.
struct Camera3D {
  std::array<double, 3> center{0, 0, 0};
  double azimuth = 0, elevation = 0, roll = 0;  // degrees
  double distance = 1;
  double fov = 0;  // degrees
  double zoom = 1;
};

struct Scene {
  uint64_t version = 0;  // ledger version this snapshot shows
  // The data shown; immutable and shared, so a snapshot keeps its dataset alive while the
  // render thread draws it even if the server switches to another one meanwhile.
  std::shared_ptr<const data::VolumeSource> source;
  int width = 1920;      // canvas (video) size in pixels
  int height = 1080;
  DimsState dims;
  Camera2D camera;
  Camera3D camera3d;  // kept while in 2D, so a toggle returns to the same 3D view
  std::vector<LayerState> layers;
  // While the user interacts the renderer may trade resolution for frame time; a
  // still scene is always rendered at full resolution.
  bool interactive = false;
};

// What a layer shows at the current step: the source box (the shown viewer axes whole,
// the others at their step, the layer's channel) and a cache key that names the source,
// so a new dataset never reuses old data.
struct LayerRead {
  data::Box box;
  std::vector<int64_t> key;
};
LayerRead layer_read(const DimsState& dims, const std::vector<int>& shown_axes, const LayerState& layer,
                     const data::VolumeSource& source);

// A scene showing `info` at the middle of its non-displayed axes, camera fitted,
// one layer per channel with the channel's default colormap and contrast.
Scene make_initial_scene(const data::VolumeInfo& info, int width, int height);

}  // namespace voxcast::render
