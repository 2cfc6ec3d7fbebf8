#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "voxcast/codec/encoder.hpp"
#include "voxcast/data/volume_source.hpp"
#include "voxcast/render/scene.hpp"
#include "voxcast/render/volume_backend.hpp"

namespace voxcast::render {
struct Frame;
}

namespace voxcast::server {

// One encoded access unit ready for the pixel channel.
struct OutgoingFrame {
  protocol::Bytes avcc;  // AVCC access unit, voxcast frame-meta SEI included
  int cap_step = -1;     // the encode it is of: -1 uncapped, else a link cap (LinkRate's ladder)
  bool keyframe = false;
  double capture_time = 0.0;  // wall clock when rendering started (header timestamp)
  uint32_t width = 0;         // from the stream's SPS
  uint32_t height = 0;
  uint64_t scene_version = 0;
  double render_ms = 0.0;
  double encode_ms = 0.0;
  bool refined = false;  // a high-quality re-encode of a still scene
  bool partial = false;  // drawn from a coarser level while the wanted data loads
  protocol::Bytes sps, pps;  // present on keyframes
  // An exact still (docs/messages.md): `still_payload` (prefix + PNG of the render) is
  // what goes on the wire instead of `avcc`; only pixel sockets that asked receive it.
  bool still = false;
  protocol::Bytes still_payload;
  double png_ms = 0.0;
};

struct RenderLoopConfig {
  codec::EncoderConfig encoder;
  int render_threads = 0;
  int still_crf = 12;          // quality of the refinement pass; < 0 disables it
  double refine_after_ms = 120.0;  // quiet time before the refinement pass
  double frame_ms = 33.0;          // 3D: frame-time budget while the camera moves; 2D: wait for data
  std::string renderer = "auto";   // 3D: auto (CUDA when a device is present), cuda, cpu
  double volume_mb = 4096;         // 3D on the CPU: memory for whole volumes or bricks
  double gpu_mb = 16384;           // 3D on CUDA: GPU memory for volumes or the brick pool
  std::string bricks = "auto";     // 3D: auto (bricks when the finest level does not fit), always, never
};

// The longest a frame waits for a viewer's receipt before it is made anyway.
inline constexpr std::chrono::milliseconds kReceiptWait{250};

// --fps as a token bucket two frames deep: input arriving at the cap with jitter is
// never delayed, a faster stream is held to the cap on average.
struct FramePacer {
  double fps = 60.0;
  double tokens = 2.0;
  double last_s = 0.0;
};
// Seconds to wait before the next frame (0: now); spends the frame's token.
double frame_wait_seconds(FramePacer* pacer, double now_s);

// Explicit state of the render thread (printable, copied out under the lock).
struct RenderLoopState {
  uint64_t submitted_version = 0;
  uint64_t rendered_version = 0;
  uint64_t frames = 0;
  uint64_t keyframes = 0;
  uint64_t refinements = 0;
  uint64_t render_errors = 0;
  std::string renderer_3d;  // "cuda" or "cpu", decided at start
  std::string encoder;      // "libx264" or "h264_nvenc"
  bool keyframe_pending = false;
  // A pixel client waits for a keyframe to recover: the next still moment (no new scene
  // for refine_after_ms) is encoded as an IDR, so nobody gets one while the view moves.
  bool quiet_keyframe_pending = false;
  bool refine_pending = false;
  bool data_pending = false;  // the last 2D frame stood in with a coarser level; refine when data arrives
  uint64_t data_refinements = 0;
  // 3D from bricks (multiresolution): the last frame's ray samples per pyramid level, the
  // wanted bricks still loading, and the bricks' memory against its budget.
  bool bricked = false;
  std::vector<int64_t> level_samples;
  std::vector<int> bricks_resident;  // per level, of the wanted ones
  int bricks_loading = 0;
  size_t brick_bytes = 0, brick_budget_bytes = 0;
  // Host time of the bricked frames while moving and of the stills (refinements), summed
  // (means for the benchmark).
  struct BrickFrameMs {
    double choose = 0, request = 0, copy = 0, place = 0, total = 0;
    uint64_t frames = 0;
  };
  BrickFrameMs moving_brick_ms, still_brick_ms;
  int viewers = 0;
  int ready_viewers = 0;     // viewers that could take a new frame now (receipts; else all)
  uint64_t paced_waits = 0;  // frames that waited for a viewer to be ready
  int still_viewers = 0;     // pixel sockets that take exact stills
  // The encodes made of each picture (cap steps, -1 uncapped; stream_steps()) and the
  // steps owing an IDR (a client moves to that stream).
  std::vector<int> stream_steps{-1};
  std::vector<int> keyframe_steps;
  uint64_t capped_encodes = 0;
  uint64_t stills = 0;
  double last_png_ms = 0.0;
  std::string last_error;
};
std::string describe(const RenderLoopState& s);

// The render thread: takes the newest scene snapshot, renders it only when its
// version changed (or a keyframe / refinement is due), encodes and hands the access
// unit to `sink` (called on the render thread; the sink posts it to the network).
class RenderLoop {
 public:
  using FrameSink = std::function<void(std::shared_ptr<const OutgoingFrame>)>;
  using ErrorSink = std::function<void(const data::DataError&)>;

  RenderLoop(RenderLoopConfig config, FrameSink sink, ErrorSink on_error);
  ~RenderLoop();
  RenderLoop(const RenderLoop&) = delete;
  RenderLoop& operator=(const RenderLoop&) = delete;

  // Opens the encoder and starts the thread; renders `initial` once so the stream
  // configuration is known before any client arrives. Scenes carry their data source.
  std::optional<protocol::Error> start(std::shared_ptr<const render::Scene> initial);
  void stop();

  void submit(std::shared_ptr<const render::Scene> scene);
  void request_keyframe();  // next frame is an IDR (coalesced)
  // The next frame of the `step` stream is an IDR (-1: every stream's, as above).
  void request_keyframe(int step);
  // The cap steps each picture is encoded at (stream_steps(); empty: uncapped only).
  void set_stream_steps(std::vector<int> steps);
  // An IDR once the view is still (coalesced; any IDR before that answers it too).
  void request_quiet_keyframe();
  void set_viewers(int viewers);
  // Viewers that could take a new frame now; with none, the next frame waits (at most
  // kReceiptWait) for one.
  void set_ready_viewers(int viewers);
  // Pixel sockets that asked for exact stills; with none, none are made.
  void set_still_viewers(int viewers);
  RenderLoopState state() const;

 private:
  void run();
  // The PNG still of `frame` (null, logged, when libpng fails).
  std::shared_ptr<const OutgoingFrame> encode_still(const render::Frame& frame, uint64_t scene_version,
                                                    double capture_time, double render_ms);

  RenderLoopConfig config_;
  FrameSink sink_;
  ErrorSink on_error_;
  std::unique_ptr<codec::H264Encoder> encoder_;
  std::unique_ptr<render::VolumeBackend> volume_;  // the 3D renderer, chosen at start

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<const render::Scene> latest_;
  RenderLoopState state_;
  bool stop_ = false;
  std::atomic<bool> superseded_{false};  // raised by submit/keyframe: cancels a still render
  std::thread thread_;
};

}  // namespace voxcast::server
