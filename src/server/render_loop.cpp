#include "voxcast/server/render_loop.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <utility>

#include "voxcast/core/clock.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/core/thread_pool.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/protocol/frame_meta.hpp"
#include "voxcast/protocol/still.hpp"
#include "voxcast/render/slice_renderer.hpp"
#include "voxcast/server/stream_encoders.hpp"

namespace voxcast::server {

std::string describe(const RenderLoopState& s) {
  std::ostringstream o;
  o << "submitted=" << s.submitted_version << " rendered=" << s.rendered_version << " frames=" << s.frames
    << " keyframes=" << s.keyframes << " refinements=" << s.refinements << " errors=" << s.render_errors
    << " keyframe_pending=" << s.keyframe_pending << " quiet_keyframe_pending=" << s.quiet_keyframe_pending
    << " refine_pending=" << s.refine_pending
    << " data_pending=" << s.data_pending << " data_refinements=" << s.data_refinements
    << " viewers=" << s.viewers << " ready_viewers=" << s.ready_viewers << " paced_waits=" << s.paced_waits
    << " still_viewers=" << s.still_viewers << " stills=" << s.stills << " stream_steps=";
  for (size_t i = 0; i < s.stream_steps.size(); ++i) o << (i ? "," : "") << s.stream_steps[i];
  o << " capped_encodes=" << s.capped_encodes;
  if (s.bricked) {
    o << " bricks_loading=" << s.bricks_loading << " brick_mb=" << (s.brick_bytes >> 20) << "/"
      << (s.brick_budget_bytes >> 20) << " level_samples=";
    for (size_t l = 0; l < s.level_samples.size(); ++l) o << (l ? "," : "") << s.level_samples[l];
  }
  return o.str();
}

double frame_wait_seconds(FramePacer* p, double now_s) {
  if (now_s > p->last_s) {
    p->tokens = std::min(2.0, p->tokens + (now_s - p->last_s) * p->fps);
    p->last_s = now_s;
  }
  if (p->tokens >= 1.0) {
    p->tokens -= 1.0;
    return 0.0;
  }
  // At the end of the wait exactly one token has refilled; the frame spends it.
  double wait = (1.0 - p->tokens) / p->fps;
  p->tokens = 0.0;
  p->last_s = std::max(p->last_s, now_s) + wait;
  return wait;
}

RenderLoop::RenderLoop(RenderLoopConfig config, FrameSink sink, ErrorSink on_error)
    : config_(std::move(config)), sink_(std::move(sink)), on_error_(std::move(on_error)) {}

RenderLoop::~RenderLoop() { stop(); }

std::optional<protocol::Error> RenderLoop::start(std::shared_ptr<const render::Scene> initial) {
  render::VolumeBackendOptions vo;
  vo.renderer = config_.renderer;
  vo.threads = config_.render_threads;
  vo.frame_ms = config_.frame_ms;
  vo.cpu_mb = config_.volume_mb;
  vo.gpu_mb = config_.gpu_mb;
  vo.bricks = config_.bricks;
  std::string why;
  volume_ = render::make_volume_backend(vo, &why);
  if (!volume_) return protocol::make_error("server.config", why);
  state_.renderer_3d = volume_->name();
  if (!why.empty()) log_info("render", "3D on the CPU: " + why);
  auto enc = codec::H264Encoder::open(config_.encoder);
  if (!enc) return enc.error();
  encoder_ = std::move(enc).value();
  state_.encoder = encoder_->name();
  if (!encoder_->fallback_reason().empty())
    log_info("render", "encoder " + encoder_->name() + " (NVENC not used: " + encoder_->fallback_reason() + ")");
  {
    std::lock_guard lock(mutex_);
    latest_ = std::move(initial);
    state_.submitted_version = latest_->version;
    state_.keyframe_pending = true;
  }
  thread_ = std::thread([this] { run(); });
  return std::nullopt;
}

void RenderLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RenderLoop::submit(std::shared_ptr<const render::Scene> scene) {
  {
    std::lock_guard lock(mutex_);
    state_.submitted_version = scene->version;
    latest_ = std::move(scene);
  }
  superseded_ = true;
  wake_.notify_one();
}

void RenderLoop::request_keyframe() {
  {
    std::lock_guard lock(mutex_);
    state_.keyframe_pending = true;
  }
  superseded_ = true;
  wake_.notify_one();
}

void RenderLoop::request_keyframe(int step) {
  if (step < 0) return request_keyframe();
  {
    std::lock_guard lock(mutex_);
    if (std::find(state_.keyframe_steps.begin(), state_.keyframe_steps.end(), step) != state_.keyframe_steps.end()) return;
    state_.keyframe_steps.push_back(step);
  }
  wake_.notify_one();
}

void RenderLoop::set_stream_steps(std::vector<int> steps) {
  if (steps.empty()) steps = {-1};
  std::lock_guard lock(mutex_);
  state_.stream_steps = std::move(steps);
}

void RenderLoop::request_quiet_keyframe() {
  {
    std::lock_guard lock(mutex_);
    if (state_.quiet_keyframe_pending) return;
    state_.quiet_keyframe_pending = true;
  }
  wake_.notify_one();
}

void RenderLoop::set_still_viewers(int viewers) {
  std::lock_guard lock(mutex_);
  state_.still_viewers = viewers;
}

void RenderLoop::set_viewers(int viewers) {
  {
    std::lock_guard lock(mutex_);
    state_.viewers = viewers;
  }
  wake_.notify_one();
}

void RenderLoop::set_ready_viewers(int viewers) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    wake = state_.ready_viewers == 0 && viewers > 0;
    state_.ready_viewers = viewers;
  }
  if (wake) wake_.notify_one();
}

RenderLoopState RenderLoop::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void RenderLoop::run() {
  render::SliceRenderer renderer(config_.render_threads, config_.frame_ms);
  render::VolumeBackend& volume = *volume_;
  bool on_gpu = false;  // the current picture is already I420 in the encoder's input
  ThreadPool convert_pool(config_.render_threads);
  render::Frame frame;
  uint32_t stream_w = 0, stream_h = 0;  // from the latest SPS
  const auto refine_wait = std::chrono::microseconds(static_cast<int64_t>(config_.refine_after_ms * 1000.0));
  FramePacer pacer{config_.encoder.fps, 2.0, steady_ms() / 1000.0};
  std::shared_ptr<const data::VolumeSource> shown_source;  // of the last frame (for data refinement)
  bool owe_idr = false;  // a keyframe was due when rendering failed: the next good frame is one
  bool picture_partial = false;  // the current picture stands in with coarser data
  double picture_render_ms = 0;  // what the current picture took to render (a still re-sends it)
  bool shown_3d = false;         // the current picture is a 3D one (which renderer to ask for data)
  double view_changed_ms = 0;    // when a new view was last rendered (not a refinement of one)
  CappedEncoders capped;         // the encodes for clients on capped links

  while (true) {
    std::shared_ptr<const render::Scene> scene;
    bool idr = false, refine_only = false, data_refine = false;
    int still_viewers = 0;
    std::vector<int> steps, step_idrs;  // cap steps to encode; those owing an IDR
    {
      std::unique_lock lock(mutex_);
      auto has_work = [&] {
        bool fresh = state_.viewers > 0 && latest_->version != state_.rendered_version;
        return stop_ || state_.keyframe_pending || !state_.keyframe_steps.empty() || fresh;
      };
      // A frame drawn from coarser data: poll until the wanted chunks are in memory, then
      // draw it again (a new frame) unless the user has moved on. In 3D, once the view
      // has rested for the refinement wait, the still pass loads every wanted brick
      // itself; polling meanwhile would put it off for as long as data keeps arriving.
      bool still_due = false;
      while (state_.data_pending && state_.viewers > 0 && !has_work()) {
        if (shown_3d && state_.refine_pending && steady_ms() - view_changed_ms >= config_.refine_after_ms) {
          still_due = true;
          break;
        }
        lock.unlock();
        bool ready = shown_source && (shown_3d ? volume.refinement_ready(*shown_source)
                                                : renderer.refinement_ready(*shown_source));
        lock.lock();
        if (ready) {
          data_refine = true;
          break;
        }
        wake_.wait_for(lock, std::chrono::milliseconds(4), has_work);
      }
      state_.data_pending = false;
      if (data_refine) {
        // keep going: render the same scene again with the data that arrived
      } else if ((state_.refine_pending || state_.quiet_keyframe_pending) && state_.viewers > 0) {
        // Wait for quiet; if nothing new arrives, re-encode the last picture at high quality
        // (and as an IDR when a pixel client waits for one to recover).
        if (still_due || !wake_.wait_for(lock, refine_wait, has_work)) refine_only = true;
      } else {
        wake_.wait(lock, has_work);
      }
      if (stop_) return;
      // Every viewer still has its frames in flight (receipts): wait until one is done, so
      // the picture made then is the newest view, not one queued behind older ones. Bounded,
      // so a client whose receipts stop cannot stall the stream for long.
      if (state_.ready_viewers == 0 && !state_.keyframe_pending) {
        state_.paced_waits += 1;
        wake_.wait_for(lock, kReceiptWait, [&] { return stop_ || state_.ready_viewers > 0 || state_.keyframe_pending; });
        if (stop_) return;
      }
      // The newest scene when the pacing wait ends is the one rendered (latest wins).
      double wait_s = frame_wait_seconds(&pacer, steady_ms() / 1000.0);
      if (wait_s > 0 && !state_.keyframe_pending) {
        wake_.wait_for(lock, std::chrono::duration<double>(wait_s), [&] { return stop_; });
        if (stop_) return;
      }
      scene = latest_;
      superseded_ = false;
      idr = state_.keyframe_pending || owe_idr || (refine_only && state_.quiet_keyframe_pending);
      state_.keyframe_pending = false;
      state_.refine_pending = false;
      still_viewers = state_.still_viewers;
      steps = state_.stream_steps;
      step_idrs = std::exchange(state_.keyframe_steps, {});
    }

    double t0 = steady_ms();
    if (!data_refine && !refine_only) view_changed_ms = t0;
    double capture = wall_seconds();
    double render_ms = 0;
    // A 3D refinement re-renders at full resolution and the finer step; 2D re-encodes.
    bool is_3d = scene->dims.ndisplay == 3;
    bool gpu_3d = is_3d && volume.renders_i420();
    bool rerender = (frame.rgba.empty() && !on_gpu) || idr || (is_3d && refine_only) || data_refine ||
                    (!refine_only && scene->version != state().rendered_version);
    const data::VolumeSource& source = *scene->source;
    shown_source = scene->source;
    if (rerender) {
      render::Scene view = *scene;
      view.interactive = !refine_only;
      std::optional<data::DataError> err;
      // A still is made from RGBA; the video of that moment is converted from it on the CPU.
      if (gpu_3d && refine_only && still_viewers > 0) gpu_3d = false;
      if (gpu_3d) {
        err = volume.render_i420(view, source, encoder_->input());
      } else {
        err = is_3d ? volume.render(view, source, &frame, refine_only ? &superseded_ : nullptr)
                    : renderer.render(view, source, &frame);
      }
      if (err && err->partial) {
        // A complete picture with some chunks missing: shown, and the failure reported.
        std::lock_guard lock(mutex_);
        state_.render_errors += 1;
        state_.last_error = err->message;
        if (on_error_) on_error_(*err);
        err.reset();
      }
      picture_partial = !err && !(is_3d ? volume.last().complete : renderer.last().complete);
      shown_3d = is_3d;
      on_gpu = gpu_3d;
      if (is_3d && volume.last().cancelled) continue;  // the user moved on; render that instead
      if (err) {
        std::lock_guard lock(mutex_);
        state_.render_errors += 1;
        state_.last_error = err->message;
        state_.rendered_version = scene->version;  // do not retry the same failing scene in a loop
        owe_idr = owe_idr || idr;
        if (on_error_) on_error_(*err);
        continue;
      }
      render_ms = steady_ms() - t0;
      picture_render_ms = render_ms;
    }
    const bool incomplete = picture_partial;
    bool refine_quality = config_.still_crf >= 0 && config_.still_crf < config_.encoder.crf;
    // A quiet moment taken only for a recovery IDR or a still (2D without a refinement
    // pass) is no refinement.
    const bool refined = refine_only && (refine_quality || is_3d);
    // The exact still: the picture is complete and someone takes stills.
    const bool still = refine_only && still_viewers > 0 && !incomplete && !on_gpu && !frame.rgba.empty();
    if (refine_only && !refined && !idr) {
      // Nothing to re-encode: the video already shows this picture.
      {
        std::lock_guard lock(mutex_);
        state_.rendered_version = scene->version;
      }
      if (auto s = still ? encode_still(frame, scene->version, capture, picture_render_ms) : nullptr) sink_(std::move(s));
      continue;
    }
    double t1 = steady_ms();
    // A CUDA frame is already I420 in the encoder's input; a CPU frame is converted here.
    if (!on_gpu)
      codec::rgba_to_i420(frame.rgba.data(), frame.width, frame.height, frame.width * 4, encoder_->input(),
                          &convert_pool);
    int crf = refine_only && refine_quality ? config_.still_crf : config_.encoder.crf;
    // One encode per cap step the clients need (uncapped first); a wake only for a step's
    // keyframe (a client joining that stream) re-encodes the picture on that step alone.
    capped.set_steps(config_.encoder, steps);
    std::vector<int> encode_now;
    const bool keyframes_only = !rerender && !refine_only && !idr && !step_idrs.empty();
    for (int step : keyframes_only ? step_idrs : steps)
      if (capped.has(step)) encode_now.push_back(step);
    if (encode_now.empty()) encode_now.push_back(-1);
    std::vector<std::shared_ptr<OutgoingFrame>> outs;
    for (int step : encode_now) {
      const double te = steady_ms();
      const bool step_idr = idr || std::find(step_idrs.begin(), step_idrs.end(), step) != step_idrs.end();
      auto encoded = capped.encode(*encoder_, step, step_idr, crf);
      // The first encode includes the colour conversion.
      double encode_ms = steady_ms() - (outs.empty() ? t1 : te);
      if (!encoded) {
        log_error("render", "encode failed: " + encoded.error().message);
        std::lock_guard lock(mutex_);
        state_.render_errors += 1;
        state_.last_error = encoded.error().message;
        continue;
      }
      if (encoded->keyframe && step < 0) owe_idr = false;
      auto out = std::make_shared<OutgoingFrame>();
      out->cap_step = step;
      out->keyframe = encoded->keyframe;
      out->capture_time = capture;
      out->scene_version = scene->version;
      out->render_ms = render_ms;
      out->encode_ms = encode_ms;
      out->refined = refined;
      out->partial = incomplete;
      if (out->keyframe) {
        auto ps = protocol::find_parameter_sets(encoded->avcc);
        if (auto info = protocol::parse_sps(ps.sps)) {
          stream_w = static_cast<uint32_t>(info->width);
          stream_h = static_cast<uint32_t>(info->height);
        }
        out->sps = std::move(ps.sps);
        out->pps = std::move(ps.pps);
      }
      out->width = stream_w;
      out->height = stream_h;
      protocol::FrameMeta meta;
      meta.scene_version = scene->version;
      meta.capture_time = capture;
      meta.render_us = static_cast<uint32_t>(render_ms * 1000.0);
      meta.encode_us = static_cast<uint32_t>(encode_ms * 1000.0);
      meta.quality = static_cast<uint8_t>((refined ? protocol::kQualityRefined : 0) |
                                          (incomplete ? protocol::kQualityPartial : 0));
      if (shown_3d && volume.last().bricked) {
        const auto& res = volume.last().residency;
        for (size_t l = 0; l < res.samples.size() && l < 16; ++l)
          if (res.samples[l] > 0) meta.levels_drawn = static_cast<uint16_t>(meta.levels_drawn | (1u << l));
        meta.bricks_loading = static_cast<uint32_t>(std::max(0, res.loading));
      }
      out->avcc = protocol::insert_before_first_slice(encoded->avcc, protocol::build_frame_meta_sei(meta));
      outs.push_back(std::move(out));
    }
    if (outs.empty()) continue;
    {
      std::lock_guard lock(mutex_);
      state_.rendered_version = scene->version;
      state_.frames += 1;
      state_.capped_encodes += static_cast<uint64_t>(std::count_if(outs.begin(), outs.end(), [](const auto& o) { return o->cap_step >= 0; }));
      if (std::any_of(outs.begin(), outs.end(), [](const auto& o) { return o->keyframe && o->cap_step < 0; })) {
        state_.keyframes += 1;
        state_.quiet_keyframe_pending = false;  // whoever waited for one has it
      }
      if (refined) state_.refinements += 1;
      if (data_refine) state_.data_refinements += 1;
      if (is_3d && rerender) {
        const auto& st = volume.last();
        state_.bricked = st.bricked;
        state_.level_samples = st.residency.samples;
        state_.bricks_resident = st.residency.resident;
        state_.bricks_loading = st.residency.loading;
        state_.brick_bytes = st.residency.bytes;
        state_.brick_budget_bytes = st.residency.budget_bytes;
        if (st.bricked) {
          auto& m = refine_only ? state_.still_brick_ms : state_.moving_brick_ms;
          m.choose += st.residency.choose_ms;
          m.request += st.residency.request_ms;
          m.copy += st.residency.copy_ms;
          m.place += st.residency.place_ms;
          m.total += st.ms;
          m.frames += 1;
        }
      }
      state_.data_pending = incomplete;
      // After an interactive frame, schedule the still-image refinement (and the exact still).
      state_.refine_pending = !refine_only && (refine_quality || is_3d || still_viewers > 0);
    }
    for (auto& out : outs) sink_(std::move(out));
    if (auto s = still ? encode_still(frame, scene->version, capture, picture_render_ms) : nullptr) sink_(std::move(s));
  }
}

std::shared_ptr<const OutgoingFrame> RenderLoop::encode_still(const render::Frame& frame, uint64_t scene_version,
                                                              double capture_time, double render_ms) {
  double t0 = steady_ms();
  protocol::Bytes png;
  if (auto err = codec::encode_png_rgb_fast(frame.rgba.data(), frame.width, frame.height, &png)) {
    log_error("render", "exact still: " + *err);
    return nullptr;
  }
  auto out = std::make_shared<OutgoingFrame>();
  out->still = true;
  out->capture_time = capture_time;
  out->scene_version = scene_version;
  out->width = static_cast<uint32_t>(frame.width);
  out->height = static_cast<uint32_t>(frame.height);
  out->render_ms = render_ms;
  out->png_ms = steady_ms() - t0;
  protocol::StillMeta meta{scene_version, static_cast<uint32_t>(render_ms * 1000.0),
                           static_cast<uint32_t>(out->png_ms * 1000.0)};
  out->still_payload = protocol::build_still_payload(meta, png);
  std::lock_guard lock(mutex_);
  state_.stills += 1;
  state_.last_png_ms = out->png_ms;
  return out;
}

}  // namespace voxcast::server
