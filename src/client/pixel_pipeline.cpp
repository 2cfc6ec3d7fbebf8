#include "stream_loop_impl.hpp"

#include "voxcast/client/still_hold.hpp"
#include "voxcast/codec/png.hpp"
#include "voxcast/protocol/receipt.hpp"
#include "voxcast/protocol/still.hpp"

namespace voxcast::client {

const char* picture_quality(const FrameRecord& r) {
  if (r.still) return "exact";
  return r.partial ? "partial" : "lossy";
}

namespace {
// An exact still as an RGBA picture; nullopt (logged) when it is not a valid still of the
// size its header gives.
std::optional<codec::YuvImage> decode_still(const protocol::Bytes& payload, FrameRecord* rec) {
  auto still = protocol::read_still(payload);
  if (!still) {
    log_warn("client", "exact still rejected: " + still.error().message);
    return std::nullopt;
  }
  rec->scene_version = still->meta.scene_version;
  rec->render_ms = still->meta.render_us / 1000.0;
  rec->encode_ms = still->meta.png_us / 1000.0;
  // The header's size bounds what is allocated (a video of at most 16384 x 16384).
  if (rec->width <= 0 || rec->height <= 0 || rec->width > 16384 || rec->height > 16384) {
    log_warn("client", "exact still rejected: size " + std::to_string(rec->width) + "x" + std::to_string(rec->height));
    return std::nullopt;
  }
  codec::YuvImage picture;
  picture.width = rec->width;
  picture.height = rec->height;
  if (auto err = codec::decode_png_rgba_sized(still->png, rec->width, rec->height, &picture.rgba)) {
    log_warn("client", "exact still rejected: " + *err);
    return std::nullopt;
  }
  rec->decoded = true;
  rec->decoded_ms = steady_ms();
  return picture;
}
}  // namespace

asio::awaitable<std::optional<protocol::Error>> ClientStreamLoop::Impl::connect_pixel() {
  const auto& c = config.connection;
  pixel = make_stream();
  net::WsStream& ws = *pixel;
  try {
    co_await connect_tcp(ws, c.pixel_port);
    std::string query;
    if (!c.token.empty()) query = "token=" + c.token;
    if (loop.exact_stills) query += (query.empty() ? "" : "&") + std::string("still=png");
    if (loop.receipts) query += (query.empty() ? "" : "&") + std::string("receipts=1");
    std::string target = query.empty() ? "/" : "/?" + query;
    co_await ws.handshake(c.host + ":" + std::to_string(c.pixel_port), target);
    ws.tcp().expires_never();
    ws.read_message_max(256u << 20);
    loop.pixel_up = true;
    co_return std::nullopt;
  } catch (const boost::system::system_error& e) {
    co_return connect_error(e.code(), "pixel channel " + c.host + ":" + std::to_string(c.pixel_port));
  }
}

asio::awaitable<void> ClientStreamLoop::Impl::pixel_read_loop(std::shared_ptr<net::WsStream> ws, uint32_t epoch) {
  try {
    beast::flat_buffer buf;
    while (true) {
      buf.clear();
      co_await ws->read(buf);
      if (ws->got_text()) continue;
      auto data = buf.data();
      protocol::ByteSpan bytes(static_cast<const uint8_t*>(data.data()), data.size());
      auto header = protocol::read_pixel_header(bytes);
      if (!header) continue;
      backoff_frame(&backoff);
      PixelMessage m{*header, protocol::Bytes(bytes.begin() + protocol::kPixelHeaderSize, bytes.end()), steady_ms(),
                     wall_seconds() * 1000.0, epoch};
      pixel_inbox.push(std::move(m));
    }
  } catch (const boost::system::system_error& e) {
    log_debug("client", std::string("pixel reader ended: ") + e.code().message());
    if (ws == pixel) loss_reason = e.code().message();
  }
  if (ws == pixel) link_lost(false);
}

void ClientStreamLoop::Impl::media_loop() {
  DecoderSlot decoder;
  DecoderPolicy policy;
  policy.choice = codec::parse_decoder_choice(config.decoder).value_or(codec::DecoderChoice::automatic);
  policy.threads = config.decoder_threads;
  policy.fallback_after = config.decoder_fallback_after;
  policy.inject_failures = config.inject_decode_failures;
  if (auto err = open_decoder(&decoder, policy)) {
    log_error("client", "decoder: " + err->message);
    return;
  }
  {
    std::lock_guard lock(mutex);
    stats.decoder = decoder_name(decoder);
  }
  std::ofstream dump;
  if (!config.dump_path.empty()) dump.open(config.dump_path, std::ios::binary | std::ios::trunc);
  DecodeGate gate;
  PixelMessage m;
  uint32_t epoch = 0;
  PresenterState presenter;
  StillHold still_hold;
  presenter.config = config.presenter;
  reset_presenter(&presenter, wall_seconds() * 1000.0);
  while (true) {
    // Wait for the next access unit, or until the presenter has a frame due.
    bool closed = false, got = false;
    auto due = next_due_ms(presenter);
    auto deadline = std::chrono::steady_clock::now() +
                    (due ? std::chrono::microseconds(static_cast<int64_t>(std::max(0.0, *due - wall_seconds() * 1000.0) * 1000.0))
                         : std::chrono::microseconds(std::chrono::hours(1)));
    got = pixel_inbox.pop_until(&m, deadline, &closed);
    if (closed) break;
    if (!got) {
      present_due(&presenter);
      continue;
    }
    if (m.epoch != epoch) {
      // A new pixel connection: its seq starts again and the first frame is an IDR.
      epoch = m.epoch;
      gate = DecodeGate{};
      decoder.decoder->flush();
      // Its seq restarts (a frame "older" than the one shown is new here) and the clock
      // offset may differ (a restarted server): the presenter is re-seeded.
      reset_presenter(&presenter, wall_seconds() * 1000.0);
      still_hold = StillHold{};
    }
    FrameRecord rec;
    rec.seq = m.header.seq;
    rec.keyframe = m.header.keyframe();
    rec.bytes = m.payload.size() + protocol::kPixelHeaderSize;
    rec.width = static_cast<int>(m.header.width);
    rec.height = static_cast<int>(m.header.height);
    rec.received_ms = m.received_ms;
    if (auto meta = protocol::find_frame_meta(m.payload)) {
      rec.scene_version = meta->scene_version;
      rec.render_ms = meta->render_us / 1000.0;
      rec.encode_ms = meta->encode_us / 1000.0;
      rec.refined = (meta->quality & protocol::kQualityRefined) != 0;
      rec.partial = (meta->quality & protocol::kQualityPartial) != 0;
      rec.levels_drawn = meta->levels_drawn;
      rec.bricks_loading = meta->bricks_loading;
    }
    rec.still = m.header.codec == protocol::kCodecStillPng;
    // Stills count in seq like video, so the gate sees them (a gap before one is a gap).
    GateDecision decision = gate_frame(&gate, m.header);
    std::optional<codec::YuvImage> picture;
    bool decode_error = false, still_invalid = false;
    if (decision == GateDecision::drop_request_keyframe) {
      decoder.decoder->flush();
      request_keyframe_now();
    }
    if (rec.still) {
      if (decision == GateDecision::decode) {
        double t0 = steady_ms();
        picture = decode_still(m.payload, &rec);
        rec.decode_ms = steady_ms() - t0;
        still_invalid = !picture;
        if (picture && !accept_still(&still_hold, rec.scene_version)) picture.reset();  // stale
      }
    } else if (decision == GateDecision::decode) {
      if (dump.is_open()) {
        if (auto annexb = protocol::avcc_to_annexb(m.payload)) dump.write(reinterpret_cast<const char*>(annexb->data()), static_cast<std::streamsize>(annexb->size()));
      }
      double t0 = steady_ms();
      decoder.decoder->keep_on_device(frames_on_device.load());
      DecodeOutcome out = decode_access_unit(&decoder, m.payload);
      rec.decode_ms = steady_ms() - t0;
      if (out.failed) {
        // The reference chain is broken (or the decoder is new): wait for an IDR.
        decode_error = true;
        gate.waiting_for_keyframe = true;
        request_keyframe_now();
      } else if (out.picture) {
        rec.decoded = true;
        rec.decoded_ms = steady_ms();
        // Decoded either way (the reference chain); shown unless a still covers it.
        if (show_video(&still_hold, rec.scene_version)) picture = std::move(out.picture);
      }
    }
    std::shared_ptr<FrameLease> lease;
    if (picture) lease = FrameLease::create(std::make_shared<codec::YuvImage>(std::move(*picture)), LeaseRole::presenter, m.header.seq);
    {
    std::lock_guard lock(mutex);
    if (rec.decoded && !rec.still) record(&metrics.decode_ms, rec.decode_ms);
    stats.pixel_messages += 1;
    stats.bytes += rec.bytes;
    stats.gaps = gate.gaps;
    stats.frames_dropped = gate.dropped;
    if (decode_error) stats.decode_errors += 1;
    if (rec.still) {
      stats.stills_received += 1;
      if (still_invalid) stats.stills_invalid += 1;
    }
    stats.decoder = decoder_name(decoder);
    stats.decoder_recreations = decoder.recreations;
    stats.decoder_fallbacks = decoder.fallbacks_to_software;
    if (rec.decoded && !rec.still) stats.frames_decoded += 1;  // video; stills are counted apart
    // A still carries no frame meta beyond its header: it makes the video picture before
    // it exact, so it shows that picture's brick residency.
    if (rec.still && !frames.empty()) {
      rec.levels_drawn = frames.back().levels_drawn;
      rec.bricks_loading = frames.back().bricks_loading;
    }
    if (lease) frame_index[m.header.seq] = frames.size();
    frames.push_back(rec);
    trim_history_locked();
    changed.notify_all();
    }
    if (lease) {
      QueuedFrame q;
      q.seq = m.header.seq;
      q.server_ms = m.header.timestamp * 1000.0;
      q.arrival_ms = m.received_wall_ms;
      q.lease = std::move(lease);
      submit_frame(&presenter, std::move(q), wall_seconds() * 1000.0);
    }
    send_receipt(m.header.seq, m.epoch);  // decoded, or dropped by the gate: done with it
    present_due(&presenter);
  }
  // Deterministic shutdown of the media side: the presenter lets go of its frames, the
  // shown frame is released, then the decoder goes (at scope exit).
  reset_presenter(&presenter, 0);
  std::lock_guard lock(mutex);
  if (shown) shown->release(LeaseRole::presenter);
  shown.reset();
  frame_index.clear();
}

void ClientStreamLoop::Impl::send_receipt(uint32_t seq, uint32_t epoch) {
  asio::post(io, [this, seq, epoch] {
    if (!loop.receipts || !pixel || epoch != loop.pixel_epoch) return;
    receipt_pending = seq;  // a receipt covers the frames before it: only the newest is sent
    if (!receipt_writing) asio::co_spawn(io, receipt_writer(pixel, epoch), asio::detached);
  });
}

asio::awaitable<void> ClientStreamLoop::Impl::receipt_writer(std::shared_ptr<net::WsStream> ws, uint32_t epoch) {
  receipt_writing = true;
  try {
    while (receipt_pending && ws == pixel && epoch == loop.pixel_epoch) {
      const std::string text = protocol::receipt_text(*receipt_pending);
      receipt_pending.reset();
      ws->text(true);
      co_await ws->write(asio::buffer(text));
      std::lock_guard lock(mutex);
      stats.receipts_sent += 1;
    }
  } catch (const boost::system::system_error& e) {
    log_debug("client", std::string("receipt not sent: ") + e.code().message());  // the reader sees the loss
  }
  receipt_pending.reset();
  receipt_writing = false;
}

// Shows the newest due frame (if any): it replaces the shown one; metrics follow.
void ClientStreamLoop::Impl::present_due(PresenterState* presenter) {
  const double now_wall = wall_seconds() * 1000.0;
  auto f = take_due_frame(presenter, now_wall);
  std::unique_lock lock(mutex);
  metrics.frames_superseded = presenter->superseded;
  if (!f) return;
  const double now = steady_ms();
  if (shown) shown->release(LeaseRole::presenter);
  shown = std::move(f->lease);
  metrics.frames_presented += 1;
  record(&metrics.presenter_latency_ms, now_wall - f->arrival_ms);
  if (metrics.last_present_ms > 0) record(&metrics.frame_interval_ms, now - metrics.last_present_ms);
  metrics.last_present_ms = now;
  auto it = frame_index.find(f->seq);
  if (it != frame_index.end()) {
    FrameRecord& rec = frames[it->second];
    rec.presented_ms = now;
    stats.shown_quality = picture_quality(rec);
    if (rec.still) stats.stills_shown += 1;
    // Intents this frame answers (acked, its scene version at least theirs, not yet shown).
    for (auto& in : intents)
      if (in.presented_ms == 0 && in.acked_ms > 0 && in.accepted && in.version > 0 &&
          rec.scene_version >= static_cast<uint64_t>(in.version)) {
        in.presented_ms = now;
        record(&metrics.intent_to_frame_ms, now - in.sent_ms);
      }
    frame_index.erase(frame_index.begin(), std::next(it));
  }
  changed.notify_all();
  lock.unlock();
  if (on_present) on_present();
}

}  // namespace voxcast::client
