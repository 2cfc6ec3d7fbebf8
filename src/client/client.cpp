#include "voxcast/client/client.hpp"

#include <utility>  // boost 1.74 awaitable.hpp needs std::exchange declared first
#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "voxcast/client/decode_gate.hpp"
#include "voxcast/client/decoder_slot.hpp"
#include "voxcast/client/dims_intent.hpp"
#include "voxcast/client/ledger.hpp"
#include "voxcast/client/frame_lease.hpp"
#include "voxcast/client/presenter.hpp"
#include "voxcast/codec/decoder.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/core/random_id.hpp"
#include "voxcast/protocol/frame_meta.hpp"
#include "voxcast/protocol/pixel_header.hpp"

namespace voxcast::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using protocol::Envelope;
using protocol::Json;
namespace type = protocol::type;

namespace {
struct PixelMessage {
  protocol::PixelHeader header;
  protocol::Bytes payload;
  double received_ms = 0;       // steady clock
  double received_wall_ms = 0;  // wall clock (the presenter compares it with server time)
  uint32_t epoch = 0;           // pixel connection it came on
};

// A small blocking queue between the network thread and a worker thread.
template <class T>
class Inbox {
 public:
  void push(T v) {
    {
      std::lock_guard lock(m_);
      q_.push_back(std::move(v));
    }
    cv_.notify_one();
  }
  // False when closed and drained.
  bool pop(T* out) {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return closed_ || !q_.empty(); });
    if (q_.empty()) return false;
    *out = std::move(q_.front());
    q_.pop_front();
    return true;
  }
  // Waits until an item arrives or `deadline`; false on time-out (and *closed when closed and drained).
  bool pop_until(T* out, std::chrono::steady_clock::time_point deadline, bool* closed) {
    std::unique_lock lock(m_);
    cv_.wait_until(lock, deadline, [&] { return closed_ || !q_.empty(); });
    *closed = closed_ && q_.empty();
    if (q_.empty()) return false;
    *out = std::move(q_.front());
    q_.pop_front();
    return true;
  }
  void close() {
    {
      std::lock_guard lock(m_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<T> q_;
  bool closed_ = false;
};
}  // namespace

struct Client::Impl {
  explicit Impl(ClientConfig c) : config(std::move(c)) {
    outbox_signal.expires_at(asio::steady_timer::time_point::max());
    link_signal.expires_at(asio::steady_timer::time_point::max());
  }

  using Ws = websocket::stream<beast::tcp_stream>;
  ClientConfig config;
  asio::io_context io{1};
  // Recreated on every (re)connection; the io thread alone touches them.
  std::shared_ptr<Ws> control = std::make_shared<Ws>(io);
  std::shared_ptr<Ws> pixel = std::make_shared<Ws>(io);
  asio::steady_timer outbox_signal{io};
  asio::steady_timer link_signal{io};  // cancelled when a channel goes down
  bool control_down = false, pixel_down = false, stopping = false;  // io thread
  double heartbeat_s = 15.0;          // from the welcome: liveness is 3 periods of silence
  std::atomic<uint32_t> pixel_epoch{0};  // bumps with each pixel connection: the media thread re-gates
  std::atomic<bool> restore_pending{false};  // after a reconnect: re-apply the view the user had
  ClientMirror mirror_before_loss;           // under `mutex`
  std::deque<std::string> outbox;  // io thread only
  std::thread io_thread, control_thread, media_thread;
  Inbox<Envelope> control_inbox;
  Inbox<PixelMessage> pixel_inbox;
  std::string session_id;
  std::atomic<bool> running{false};
  std::atomic<uint32_t> counter{0};

  // Shared with the app: guarded by `mutex`, changes signalled on `changed`.
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  ClientMirror mirror;
  std::vector<Envelope> received;
  std::vector<IntentRecord> intents;
  std::vector<FrameRecord> frames;
  ClientStats stats;
  ClientMetrics metrics;
  std::shared_ptr<FrameLease> shown;  // the presented frame (presenter role held)
  std::map<uint32_t, size_t> frame_index;  // seq -> frames[] entry, until presented
  std::map<std::string, std::promise<CommandResult>> calls;  // frame id -> the caller's future
  DimsIntentTracker dims_throttle;  // slider drags: leading + trailing edge per axis
  ClientLedger ledger;              // optimistic vs confirmed values per property
  uint64_t arrival = 0;             // control frames in server order: the ledger's clock

  std::string next_id(const char* prefix) {
    // Session-scoped, never reused across sessions (the reference restarts at 1).
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%08x", counter.fetch_add(1) + 1);
    return std::string(prefix) + "-" + session_id.substr(0, 8) + "-" + buf;
  }

  void post_text(std::string text) {
    asio::post(io, [this, t = std::move(text)]() mutable {
      outbox.push_back(std::move(t));
      outbox_signal.cancel();  // every writer: after a reconnect only the current one writes
    });
  }

  void post(Envelope e) {
    if (!e.session) e.session = session_id;
    if (e.timestamp == 0) e.timestamp = wall_seconds();
    post_text(protocol::serialize(e));
  }

  asio::awaitable<void> write_loop(std::shared_ptr<Ws> ws) {
    try {
      while (true) {
        while (outbox.empty() && running && ws == control) {
          boost::system::error_code ec;
          co_await outbox_signal.async_wait(asio::redirect_error(use_awaitable, ec));
        }
        if (outbox.empty() || ws != control) break;
        std::string m = std::move(outbox.front());
        outbox.pop_front();
        co_await ws->async_write(asio::buffer(m), use_awaitable);
      }
    } catch (const boost::system::system_error& e) {
      log_debug("client", std::string("control writer ended: ") + e.code().message());
    }
  }

  void link_lost(bool is_control) {
    if (stopping) return;
    (is_control ? control_down : pixel_down) = true;
    link_signal.cancel();
  }

  asio::awaitable<void> control_read_loop(std::shared_ptr<Ws> ws) {
    try {
      beast::flat_buffer buf;
      while (true) {
        buf.clear();
        // Liveness: the server sends a heartbeat every period; three silent ones mean it is gone.
        beast::get_lowest_layer(*ws).expires_after(std::chrono::milliseconds(static_cast<int64_t>(heartbeat_s * 3000)));
        co_await ws->async_read(buf, use_awaitable);
        auto parsed = protocol::parse_envelope(beast::buffers_to_string(buf.data()));
        if (!parsed) {
          log_debug("client", "dropped an invalid control frame: " + parsed.error().message);
          continue;
        }
        if (parsed->type == type::kSessionHeartbeat) {
          // Liveness is answered here, on the network thread, whatever the app does.
          Envelope ack;
          ack.type = type::kSessionAck;
          ack.frame_id = next_id("sack");
          post(std::move(ack));
        }
        control_inbox.push(std::move(parsed).value());
      }
    } catch (const boost::system::system_error& e) {
      log_debug("client", std::string("control reader ended: ") + e.code().message());
    }
    if (ws == control) link_lost(true);
  }

  asio::awaitable<void> pixel_read_loop(std::shared_ptr<Ws> ws, uint32_t epoch) {
    try {
      beast::flat_buffer buf;
      while (true) {
        buf.clear();
        co_await ws->async_read(buf, use_awaitable);
        if (ws->got_text()) continue;
        auto data = buf.data();
        protocol::ByteSpan bytes(static_cast<const uint8_t*>(data.data()), data.size());
        auto header = protocol::read_pixel_header(bytes);
        if (!header) continue;
        PixelMessage m{*header, protocol::Bytes(bytes.begin() + protocol::kPixelHeaderSize, bytes.end()), steady_ms(),
                       wall_seconds() * 1000.0, epoch};
        pixel_inbox.push(std::move(m));
      }
    } catch (const boost::system::system_error& e) {
      log_debug("client", std::string("pixel reader ended: ") + e.code().message());
    }
    if (ws == pixel) link_lost(false);
  }

  // Resolves and connects one channel's TCP stream; the deadline stays armed so the
  // WebSocket handshake (and the hello reply) are bounded by it too.
  asio::awaitable<void> connect_tcp(websocket::stream<beast::tcp_stream>& ws, uint16_t port) {
    tcp::resolver resolver(io);
    auto endpoints = co_await resolver.async_resolve(config.connection.host, std::to_string(port), use_awaitable);
    auto& stream = beast::get_lowest_layer(ws);
    stream.expires_after(std::chrono::milliseconds(static_cast<int64_t>(config.connect_timeout_s * 1000)));
    co_await stream.async_connect(endpoints, use_awaitable);
    stream.socket().set_option(tcp::no_delay(true));
  }

  asio::awaitable<std::optional<protocol::Error>> connect_control() {
    using protocol::make_error;
    const auto& c = config.connection;
    control = std::make_shared<Ws>(io);
    Ws& ws = *control;
    try {
      co_await connect_tcp(ws, c.control_port);
      auto& stream = beast::get_lowest_layer(ws);
      co_await ws.async_handshake(c.host + ":" + std::to_string(c.control_port), "/", use_awaitable);
      ws.text(true);
      ws.read_message_max(64u << 20);

      protocol::SessionHello hello;
      hello.client = {config.name, config.version, "linux"};
      hello.features = {{"notify.scene", true}, {"notify.layers", true}, {"notify.stream", true},
                        {"notify.dims", true},  {"notify.camera", true}, {"call.command", true}};
      if (config.want_notify_error) hello.features["notify.error"] = true;
      hello.resume_tokens = {{"notify.scene", std::nullopt}, {"notify.layers", std::nullopt}, {"notify.stream", std::nullopt}};
      {
        // After a loss, offer the tokens of what we saw (a server that can resume replays only the rest).
        std::lock_guard lock(mutex);
        for (const auto& [topic, token] : mirror.resume_tokens) hello.resume_tokens[topic] = token;
      }
      if (!c.token.empty()) hello.auth = protocol::AuthInfo{"token", c.token};
      Envelope e;
      e.type = type::kSessionHello;
      e.frame_id = make_frame_id("hello");
      e.timestamp = wall_seconds();
      e.payload = protocol::to_json(hello);
      co_await ws.async_write(asio::buffer(protocol::serialize(e)), use_awaitable);

      beast::flat_buffer buf;
      co_await ws.async_read(buf, use_awaitable);  // the stream's deadline still bounds this
      stream.expires_never();
      auto reply = protocol::parse_envelope(beast::buffers_to_string(buf.data()));
      if (!reply) co_return make_error("connect.failed", "bad reply to hello: " + reply.error().message);
      if (reply->type == type::kSessionReject) {
        auto r = protocol::parse_session_reject(reply->payload);
        co_return r ? make_error(r->code, r->message, r->details) : make_error("connect.rejected", "rejected");
      }
      if (reply->type != type::kSessionWelcome) co_return make_error("connect.failed", "expected session.welcome");
      auto welcome = protocol::parse_session_welcome(reply->payload);
      if (!welcome) co_return make_error("connect.failed", welcome.error().message);
      if (!reply->session || *reply->session != welcome->session_id)
        co_return make_error("connect.failed", "welcome session id mismatch");
      session_id = welcome->session_id;
      heartbeat_s = welcome->heartbeat_s > 0 ? welcome->heartbeat_s : 15.0;
      {
        std::lock_guard lock(mutex);
        received.push_back(reply.value());
      }
      co_return std::nullopt;
    } catch (const boost::system::system_error& e) {
      co_return make_error(e.code() == beast::error::timeout ? "connect.timeout" : "connect.failed",
                           "control channel " + c.host + ":" + std::to_string(c.control_port) + ": " + e.code().message());
    }
  }

  asio::awaitable<std::optional<protocol::Error>> connect_pixel() {
    using protocol::make_error;
    const auto& c = config.connection;
    pixel = std::make_shared<Ws>(io);
    Ws& ws = *pixel;
    try {
      co_await connect_tcp(ws, c.pixel_port);
      auto& stream = beast::get_lowest_layer(ws);
      std::string target = c.token.empty() ? "/" : "/?token=" + c.token;
      co_await ws.async_handshake(c.host + ":" + std::to_string(c.pixel_port), target, use_awaitable);
      stream.expires_never();
      ws.read_message_max(256u << 20);
      co_return std::nullopt;
    } catch (const boost::system::system_error& e) {
      co_return make_error("connect.failed",
                           "pixel channel " + c.host + ":" + std::to_string(c.pixel_port) + ": " + e.code().message());
    }
  }

  // Settles a pending call (under `mutex`); false when it was already settled.
  bool settle_call_locked(const std::string& id, CommandResult r) {
    auto it = calls.find(id);
    if (it == calls.end()) return false;
    it->second.set_value(std::move(r));
    calls.erase(it);
    return true;
  }

  void start_control() {
    asio::co_spawn(io, write_loop(control), asio::detached);
    asio::co_spawn(io, control_read_loop(control), asio::detached);
  }
  void start_pixel() { asio::co_spawn(io, pixel_read_loop(pixel, ++pixel_epoch), asio::detached); }

  static void close_socket(const std::shared_ptr<Ws>& ws) {
    boost::system::error_code ec;
    beast::get_lowest_layer(*ws).socket().close(ec);
  }

  // Reconnects what went down, with exponential back-off; a lost control channel takes
  // the pixel channel with it (a new session), a lost pixel channel alone is reopened
  // under the same session. The view the user had is restored once the new baseline is in.
  asio::awaitable<void> supervise() {
    asio::steady_timer wait(io);
    while (!stopping) {
      boost::system::error_code ec;
      if (!control_down && !pixel_down) {
        link_signal.expires_at(asio::steady_timer::time_point::max());
        co_await link_signal.async_wait(asio::redirect_error(use_awaitable, ec));
        continue;
      }
      const bool full = control_down;
      {
        std::lock_guard lock(mutex);
        if (full) {
          mirror_before_loss = mirror;
          // Calls of the old session will never be answered.
          for (auto& [id, p] : calls) p.set_value(CommandResult{false, nullptr, "command.lost", "connection lost", nullptr});
          calls.clear();
        }
        stats.link = full ? "reconnecting" : "pixel reconnecting";
        changed.notify_all();
      }
      log_info("client", full ? "connection lost: reconnecting" : "pixel channel lost: reconnecting it");
      if (full) {
        running = false;
        outbox.clear();  // frames of the old session; intents are replayed from the view instead
        close_socket(control);
        close_socket(pixel);
      } else {
        close_socket(pixel);
      }
      double delay_ms = config.reconnect_min_ms;
      while (!stopping) {
        std::optional<protocol::Error> err;
        if (full) err = co_await connect_control();
        if (!err && config.connect_pixels && !stopping) err = co_await connect_pixel();
        if (!err) break;
        log_debug("client", "reconnect failed: " + err->message);
        wait.expires_after(std::chrono::milliseconds(static_cast<int64_t>(delay_ms)));
        co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
        delay_ms = std::min(delay_ms * 2, config.reconnect_max_ms);
      }
      if (stopping) break;
      if (full) {
        control_down = false;
        restore_pending = true;
        running = true;
        start_control();
      }
      pixel_down = false;
      if (config.connect_pixels) start_pixel();
      std::lock_guard lock(mutex);
      if (full) stats.reconnects += 1;
      else stats.pixel_reconnects += 1;
      stats.link = "up";
      changed.notify_all();
    }
  }

  // state.updates that bring the new session back to the view the user had (same dataset only).
  std::vector<protocol::StateUpdate> restore_updates(const ClientMirror& before, const ClientMirror& now) const {
    std::vector<protocol::StateUpdate> out;
    if (!before.have_scene || before.axis_labels != now.axis_labels || before.shape != now.shape) return out;
    if (before.ndisplay != now.ndisplay) out.push_back({"view", "main", "ndisplay", before.ndisplay});
    for (size_t a = 0; a < before.current_step.size() && a < now.current_step.size(); ++a)
      if (before.current_step[a] != now.current_step[a])
        out.push_back({"dims", before.axis_labels[a], "index", before.current_step[a]});
    if (before.camera != now.camera && before.camera.is_object()) {
      Json pose = Json::object();
      for (const char* k : {"center", "zoom", "angles", "distance", "fov"})
        if (before.camera.contains(k)) pose[k] = before.camera[k];
      if (!pose.empty()) out.push_back({"camera", "main", "set", pose});
    }
    for (const auto& l : before.layers) {
      const LayerMirror* n = now.layer(l.id);
      if (!n) continue;
      for (const auto& [key, value] : l.controls.items())
        if (!n->controls.contains(key) || n->controls[key] != value) out.push_back({"layer", l.id, key, value});
    }
    return out;
  }

  void control_reducer() {
    Envelope e;
    while (control_inbox.pop(&e)) {
      std::unique_lock lock(mutex);
      stats.control_frames += 1;
      if (e.type == type::kAckState) {
        auto ack = protocol::parse_ack_state(e.payload);
        if (ack) {
          apply_ack(&ledger, ack->intent_id, ack->accepted, ack->applied_value.value_or(Json()),
                    static_cast<int64_t>(++arrival));
          for (auto it = intents.rbegin(); it != intents.rend(); ++it) {
            if (it->frame_id != ack->in_reply_to) continue;
            it->acked_ms = steady_ms();
            it->accepted = ack->accepted;
            it->version = ack->version.value_or(0);
            it->applied_value = ack->applied_value.value_or(Json());
            it->error_code = ack->error ? ack->error->code : "";
            break;
          }
        }
      } else if (e.type.rfind("notify.", 0) == 0) {
        MirrorChange change = apply_notify(&mirror, e);
        if (change == MirrorChange::invalid) stats.invalid_notifies += 1;
        // Confirmed values for the ledger (a newer local intent keeps showing until acked).
        if (change == MirrorChange::dims || change == MirrorChange::scene) {
          for (size_t a = 0; a < mirror.axis_labels.size() && a < mirror.current_step.size(); ++a)
            client::apply_notify(&ledger, "dims:" + mirror.axis_labels[a] + ":index", mirror.current_step[a],
                                 static_cast<int64_t>(++arrival));
        }
        if (change == MirrorChange::layers || change == MirrorChange::scene) {
          for (const auto& l : mirror.layers)
            for (const auto& [key, value] : l.controls.items())
              client::apply_notify(&ledger, "layer:" + l.id + ":" + key, value, static_cast<int64_t>(++arrival));
        }
      } else if (e.type == type::kReplyCommand) {
        if (auto r = protocol::parse_reply_command(e.payload)) {
          CommandResult out;
          out.ok = true;
          out.result = r->result.value_or(Json());
          settle_call_locked(r->in_reply_to, std::move(out));
        }
      } else if (e.type == type::kErrorCommand) {
        if (auto r = protocol::parse_error_command(e.payload)) {
          CommandResult out;
          out.code = r->code;
          out.message = r->message;
          out.details = r->details;
          settle_call_locked(r->in_reply_to, std::move(out));
        }
      }
      // The new session's baseline ends with its camera: then the old view can be restored.
      std::vector<protocol::StateUpdate> restore;
      if (restore_pending && e.type == type::kNotifyCamera && mirror.have_scene) {
        restore_pending = false;
        restore = restore_updates(mirror_before_loss, mirror);
        stats.restored_properties += restore.size();
      }
      received.push_back(std::move(e));
      changed.notify_all();
      if (!restore.empty()) {
        lock.unlock();
        for (auto& u : restore) send_state(u.scope, u.target, u.key, std::move(u.value));
      }
    }
  }

  std::string send_state(const std::string& scope, const std::string& target, const std::string& key, Json value) {
    std::string n = next_id("state");
    Envelope e;
    e.type = type::kStateUpdate;
    e.frame_id = n;
    e.intent_id = "intent" + n.substr(5);
    e.payload = protocol::to_json(protocol::StateUpdate{scope, target, key, std::move(value)});
    {
      std::lock_guard lock(mutex);
      IntentRecord r;
      r.frame_id = *e.frame_id;
      r.intent_id = *e.intent_id;
      r.sent_ms = steady_ms();
      intents.push_back(std::move(r));
      const Json& p = e.payload;
      record_intent(&ledger, scope + ":" + target + ":" + key, *e.intent_id, p.value("value", Json()), steady_ms());
    }
    post(std::move(e));
    return n;
  }

  // Trailing edges of slider drags and ack time-outs, on the io thread: every 4 ms while
  // something waits, otherwise every 50 ms.
  asio::awaitable<void> tick() {
    asio::steady_timer t(io);
    while (!stopping) {
      std::vector<DimsSend> due;
      bool busy = false;
      {
        std::lock_guard lock(mutex);
        double now = steady_ms();
        due = flush_dims_updates(&dims_throttle, now);
        if (!expire_intents(&ledger, now).empty()) changed.notify_all();
        busy = next_dims_flush_ms(dims_throttle).has_value() || !ledger.intent_property.empty();
      }
      for (const auto& d : due) send_state("dims", d.axis, "index", d.value);
      boost::system::error_code ec;
      t.expires_after(std::chrono::milliseconds(busy || !due.empty() ? 4 : 50));
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

  void media_loop() {
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
      }
      GateDecision decision = gate_frame(&gate, m.header);
      std::optional<codec::YuvImage> picture;
      bool decode_error = false;
      if (decision == GateDecision::drop_request_keyframe) {
        decoder.decoder->flush();
        request_keyframe_now();
      }
      if (decision == GateDecision::decode) {
        if (dump.is_open()) {
          if (auto annexb = protocol::avcc_to_annexb(m.payload)) dump.write(reinterpret_cast<const char*>(annexb->data()), static_cast<std::streamsize>(annexb->size()));
        }
        double t0 = steady_ms();
        DecodeOutcome out = decode_access_unit(&decoder, m.payload);
        rec.decode_ms = steady_ms() - t0;
        if (out.failed) {
          // The reference chain is broken (or the decoder is new): wait for an IDR.
          decode_error = true;
          gate.waiting_for_keyframe = true;
          request_keyframe_now();
        } else if (out.picture) {
          picture = std::move(out.picture);
          rec.decoded = true;
          rec.decoded_ms = steady_ms();
        }
      }
      std::shared_ptr<FrameLease> lease;
      if (picture) lease = FrameLease::create(std::make_shared<codec::YuvImage>(std::move(*picture)), LeaseRole::presenter, m.header.seq);
      {
      std::lock_guard lock(mutex);
      if (rec.decoded) record(&metrics.decode_ms, rec.decode_ms);
      stats.pixel_messages += 1;
      stats.bytes += rec.bytes;
      stats.gaps = gate.gaps;
      stats.frames_dropped = gate.dropped;
      if (decode_error) stats.decode_errors += 1;
      stats.decoder = decoder_name(decoder);
      stats.decoder_recreations = decoder.recreations;
      stats.decoder_fallbacks = decoder.fallbacks_to_software;
      if (rec.decoded) stats.frames_decoded += 1;
      if (lease) frame_index[m.header.seq] = frames.size();
      frames.push_back(rec);
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

  // Shows the newest due frame (if any): it replaces the shown one; metrics follow.
  void present_due(PresenterState* presenter) {
    const double now_wall = wall_seconds() * 1000.0;
    auto f = take_due_frame(presenter, now_wall);
    std::lock_guard lock(mutex);
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
  }

  // Queues a call.command; returns its frame_id.
  std::string post_command(const std::string& command, Json kwargs, const std::string& origin) {
    Envelope e;
    e.type = type::kCallCommand;
    e.frame_id = next_id("cmd");
    e.payload = protocol::to_json(protocol::CallCommand{command, Json::array(), std::move(kwargs), origin});
    std::string id = *e.frame_id;
    post(std::move(e));
    return id;
  }

  void request_keyframe_now() {
    post_command("napari.pixel.request_keyframe", Json::object(), "client.decode_gate");
    std::lock_guard lock(mutex);
    stats.keyframe_requests += 1;
  }
};

Client::Client(ClientConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Client::~Client() { stop(); }

std::optional<protocol::Error> Client::connect() {
  Impl& I = *impl_;
  std::promise<std::optional<protocol::Error>> result;
  I.io_thread = std::thread([&I] {
    auto guard = asio::make_work_guard(I.io);
    I.io.run();
  });
  asio::co_spawn(I.io, [&I, &result]() -> asio::awaitable<void> {
    auto err = co_await I.connect_control();
    if (!err && I.config.connect_pixels) err = co_await I.connect_pixel();
    if (!err) {
      I.running = true;
      I.start_control();
      if (I.config.connect_pixels) I.start_pixel();
      if (I.config.reconnect) asio::co_spawn(I.io, I.supervise(), asio::detached);
      asio::co_spawn(I.io, I.tick(), asio::detached);
    }
    result.set_value(err);
  }, asio::detached);
  auto err = result.get_future().get();
  if (err) {
    I.io.stop();
    I.io_thread.join();
    return err;
  }
  I.control_thread = std::thread([&I] { I.control_reducer(); });
  I.media_thread = std::thread([&I] { I.media_loop(); });
  return std::nullopt;
}

void Client::stop() {
  Impl& I = *impl_;
  if (!I.io_thread.joinable()) return;
  {
    std::promise<void> done;
    asio::co_spawn(I.io, [&I, &done]() -> asio::awaitable<void> {
      I.stopping = true;
      I.link_signal.cancel();
      if (!I.running) {  // down (or reconnecting): nothing to say goodbye on
        Impl::close_socket(I.control);
        Impl::close_socket(I.pixel);
        done.set_value();
        co_return;
      }
      // Flush what is queued, say goodbye, close both sockets.
      Envelope bye;
      bye.type = type::kSessionGoodbye;
      bye.session = I.session_id;
      bye.frame_id = I.next_id("goodbye");
      bye.timestamp = wall_seconds();
      bye.payload = protocol::to_json(protocol::SessionGoodbye{"goodbye", "client closing", "client_goodbye"});
      I.outbox.push_back(protocol::serialize(bye));
      I.running = false;
      I.outbox_signal.cancel();
      boost::system::error_code ec;
      asio::steady_timer t(I.io);
      for (int i = 0; i < 50 && !I.outbox.empty(); ++i) {
        t.expires_after(std::chrono::milliseconds(2));
        co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
      }
      auto control = I.control, pixel = I.pixel;
      beast::get_lowest_layer(*control).expires_after(std::chrono::milliseconds(500));
      co_await control->async_close(websocket::close_code::normal, asio::redirect_error(use_awaitable, ec));
      if (I.config.connect_pixels && pixel->is_open()) {
        beast::get_lowest_layer(*pixel).expires_after(std::chrono::milliseconds(500));
        co_await pixel->async_close(websocket::close_code::normal, asio::redirect_error(use_awaitable, ec));
      }
      done.set_value();
    }, asio::detached);
    done.get_future().wait_for(std::chrono::seconds(2));
  }
  I.io.stop();
  I.io_thread.join();
  I.control_inbox.close();
  I.pixel_inbox.close();
  if (I.control_thread.joinable()) I.control_thread.join();
  {
    std::lock_guard lock(I.mutex);
    for (auto& [id, p] : I.calls) p.set_value(CommandResult{false, nullptr, "command.lost", "client stopped", nullptr});
    I.calls.clear();
  }
  if (I.media_thread.joinable()) I.media_thread.join();
}

bool Client::connected() const { return impl_->running; }

void Client::simulate_pixel_loss() {
  asio::post(impl_->io, [this] { Impl::close_socket(impl_->pixel); });
}
const std::string& Client::session_id() const { return impl_->session_id; }

std::string Client::send_state(const std::string& scope, const std::string& target, const std::string& key, Json value) {
  return impl_->send_state(scope, target, key, std::move(value));
}

std::string Client::send_command(const std::string& command, Json kwargs) {
  return impl_->post_command(command, std::move(kwargs), "headless");
}

void Client::set_dims_index(const std::string& axis, int64_t value) {
  Impl& I = *impl_;
  std::optional<int64_t> lead;
  {
    std::lock_guard lock(I.mutex);
    lead = queue_dims_update(&I.dims_throttle, axis, value, steady_ms());
  }
  if (lead) I.send_state("dims", axis, "index", *lead);
}

Json Client::displayed(const std::string& property) const {
  std::lock_guard lock(impl_->mutex);
  // A dims value still held by the throttle is newer than anything sent.
  const std::string prefix = "dims:", suffix = ":index";
  if (property.size() > prefix.size() + suffix.size() && property.rfind(prefix, 0) == 0 &&
      property.compare(property.size() - suffix.size(), suffix.size(), suffix) == 0) {
    auto axis = impl_->dims_throttle.axes.find(property.substr(prefix.size(), property.size() - prefix.size() - suffix.size()));
    if (axis != impl_->dims_throttle.axes.end() && axis->second.pending) return *axis->second.pending;
  }
  return displayed_value(impl_->ledger, property);
}

std::future<CommandResult> Client::call(const std::string& command, Json kwargs, double timeout_s) {
  Impl& I = *impl_;
  std::promise<CommandResult> promise;
  auto future = promise.get_future();
  std::string id;
  {
    // Registered before it is sent, so the reply cannot overtake the registration.
    std::lock_guard lock(I.mutex);
    id = I.next_id("cmd");
    I.calls.emplace(id, std::move(promise));
  }
  Envelope e;
  e.type = type::kCallCommand;
  e.frame_id = id;
  e.payload = protocol::to_json(protocol::CallCommand{command, Json::array(), std::move(kwargs), "client.call"});
  I.post(std::move(e));
  auto timer = std::make_shared<asio::steady_timer>(I.io, std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)));
  timer->async_wait([&I, id, timer, timeout_s](const boost::system::error_code&) {
    std::lock_guard lock(I.mutex);
    I.settle_call_locked(id, CommandResult{false, nullptr, "command.timeout",
                                           "no answer within " + std::to_string(timeout_s) + " s", nullptr});
  });
  return future;
}

std::string Client::request_keyframe() { return send_command("napari.pixel.request_keyframe"); }
void Client::send_raw(std::string text) { impl_->post_text(std::move(text)); }

ClientMirror Client::mirror() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->mirror;
}
std::vector<Envelope> Client::received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}
std::vector<IntentRecord> Client::intents() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->intents;
}
std::vector<FrameRecord> Client::frames() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->frames;
}
ClientStats Client::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}
std::optional<codec::YuvImage> Client::latest_picture() const {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->shown) return std::nullopt;
  auto frame = impl_->shown->frame(LeaseRole::presenter);
  if (!frame) return std::nullopt;
  return *frame;
}

ClientMetrics Client::metrics() const {
  std::lock_guard lock(impl_->mutex);
  ClientMetrics m = impl_->metrics;
  m.reconnects = impl_->stats.reconnects;
  m.decoder_fallbacks = impl_->stats.decoder_fallbacks;
  return m;
}

bool Client::latest_rgba(std::vector<uint8_t>* rgba, int* width, int* height) const {
  auto pic = latest_picture();
  if (!pic) return false;
  rgba->resize(static_cast<size_t>(pic->width) * static_cast<size_t>(pic->height) * 4);
  codec::i420_to_rgba(pic->y.data(), pic->width, pic->u.data(), pic->width / 2, pic->v.data(), pic->width / 2,
                      pic->width, pic->height, rgba->data());
  *width = pic->width;
  *height = pic->height;
  return true;
}

bool Client::wait_until(const std::function<bool()>& pred, double timeout_s) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::unique_lock lock(impl_->mutex);
    impl_->changed.wait_for(lock, std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace voxcast::client
