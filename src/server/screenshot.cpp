// napari.screenshot: the current view rendered as a still (finest level, full
// resolution, no video compression) at 1x, 2x or 4x the stream size, or of the client's
// canvas (`width`, `height` in device pixels: the picture the canvas would show, its
// aspect, not the letterboxed video), returned as PNG.
#include <algorithm>
#include <cmath>

#include "server_core.hpp"
#include "voxcast/server/data_root.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/protocol/base64.hpp"
#include "voxcast/protocol/json.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/render/slice_renderer.hpp"
#include "voxcast/render/volume_renderer.hpp"

namespace voxcast::server {

using protocol::Json;
namespace type = protocol::type;

namespace {
constexpr int64_t kMaxScreenshotPixels = int64_t{16384} * 16384;

// The view of `shown` (its video, `shown.width` x `shown.height`) as a canvas of
// `canvas_w` x `canvas_h` shows it — the video fitted in, content at the same size,
// what lies beyond the video's edges filled in — at `scale` times the pixels.
render::Scene screenshot_scene(const render::Scene& shown, int canvas_w, int canvas_h, int scale) {
  render::Scene s = shown;
  const double fit = std::min(static_cast<double>(canvas_w) / shown.width, static_cast<double>(canvas_h) / shown.height);
  s.width = canvas_w * scale;
  s.height = canvas_h * scale;
  // zoom is canvas pixels per world unit: the fitted video's scale, times `scale`.
  s.camera.zoom = shown.camera.zoom * fit * scale;
  if (s.camera3d.fov == 0) {
    s.camera3d.zoom = shown.camera3d.zoom * fit * scale;
  } else {
    // Perspective: the field of view spans the canvas height, the video's spans fit * its height.
    const double half = std::tan(shown.camera3d.fov * M_PI / 360.0) * canvas_h / (fit * shown.height);
    s.camera3d.fov = std::min(179.0, 360.0 / M_PI * std::atan(half));
  }
  s.interactive = false;
  return s;
}
}  // namespace

void Server::Core::handle_screenshot(const std::shared_ptr<ControlSession>& sp, const std::string& fid,
                                     const protocol::CallCommand& call) {
  ControlSession& s = *sp;
  int scale = 1;
  if (call.kwargs.contains("scale")) {
    const Json& v = call.kwargs["scale"];
    auto n = protocol::json_int64(v);  // never narrowed: 2^32+1 must not read as 1
    if (!v.is_number_integer() || !n || (*n != 1 && *n != 2 && *n != 4))
      return s.send(command_error(fid, "command.invalid", "scale must be 1, 2 or 4"));
    scale = static_cast<int>(*n);
  }
  int canvas_w = ledger.scene.width, canvas_h = ledger.scene.height;
  if (call.kwargs.contains("width") || call.kwargs.contains("height")) {
    const Json& w = call.kwargs.value("width", Json()), &h = call.kwargs.value("height", Json());
    if (!w.is_number_integer() || !h.is_number_integer() || w.get<int64_t>() < 2 || h.get<int64_t>() < 2 ||
        w.get<int64_t>() * h.get<int64_t>() * scale * scale > kMaxScreenshotPixels)
      return s.send(command_error(fid, "command.invalid",
                                  "width and height must be integers >= 2, at most 16384 x 16384 pixels times the scale"));
    canvas_w = static_cast<int>(w.get<int64_t>());
    canvas_h = static_cast<int>(h.get<int64_t>());
  }
  std::weak_ptr<ControlSession> who = sp;
  render::Scene scene = screenshot_scene(ledger.scene, canvas_w, canvas_h, scale);
  const int threads = config.threads;
  // Rendering a still can take a while (4x, 3D): off the network and render threads.
  const bool started = screenshot.start([this, who, fid, scene = std::move(scene), scale, threads] {
    double t0 = steady_ms();
    render::Frame frame;
    std::optional<data::DataError> err;
    if (scene.dims.ndisplay == 3) {
      render::VolumeRenderer volume(threads, 1e9);
      err = volume.render(scene, *scene.source, &frame, nullptr);
    } else {
      render::SliceRenderer slice(threads, 60000.0);  // wait for every chunk: a still is exact
      err = slice.render(scene, *scene.source, &frame);
    }
    std::vector<uint8_t> png;
    std::optional<std::string> png_error;
    if (!err) png_error = codec::encode_png_rgba(frame.rgba.data(), frame.width, frame.height, &png);
    const double ms = steady_ms() - t0;
    asio::post(io, [this, who, fid, err, png_error, png = std::move(png), w = frame.width, h = frame.height, scale, ms,
                    version = scene.version] {
      screenshot.done();
      auto s = who.lock();
      if (!s) return;
      if (err) return s->send(command_error(fid, "data.read_failed", shown_path(err->source) + ": " + shown_server_text(config.data_root, err->message)));
      if (png_error) return s->send(command_error(fid, "screenshot.failed", *png_error));
      log_info("render", "screenshot " + std::to_string(w) + "x" + std::to_string(h) + " in " +
                             std::to_string(static_cast<int>(ms)) + " ms");
      Json result = {{"format", "png"}, {"width", w},          {"height", h},           {"scale", scale},
                     {"version", version}, {"render_ms", ms}, {"data", protocol::base64_encode(png)}};
      s->send(make(type::kReplyCommand, protocol::to_json(protocol::ReplyCommand{fid, std::move(result)}), "reply"));
    });
  });
  if (!started) return s.send(command_error(fid, "command.retryable", "a screenshot is being rendered; try again"));
}

}  // namespace voxcast::server
