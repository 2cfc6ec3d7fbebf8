#include "stream_loop_impl.hpp"
#include "voxcast/net/tls.hpp"
#include "voxcast/codec/device_picture.hpp"

namespace voxcast::client {

ClientStreamLoop::ClientStreamLoop(ClientConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
ClientStreamLoop::~ClientStreamLoop() { stop(); }

std::optional<protocol::Error> ClientStreamLoop::connect() {
  Impl& I = *impl_;
  if (I.io_thread.joinable()) return protocol::make_error("connect.failed", "already connected");
  if (I.config.connection.tls) {
    net::TlsClientOptions options;
    options.host = I.config.connection.host;
    options.ca_file = I.config.tls_ca_file;
    options.fingerprint = I.config.connection.fingerprint;
    options.insecure = I.config.tls_insecure;
    auto made = net::make_client_context(options);
    if (auto* e = std::get_if<net::TlsError>(&made)) return protocol::make_error("connect.tls", e->message);
    I.tls = std::get<0>(made);
  }
  I.loop.tls = I.tls != nullptr;
  I.loop.phase = LinkPhase::connecting;
  I.publish_loop();
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
      I.loop.phase = LinkPhase::streaming;
      I.loop.sessions = 1;
      backoff_session_up(&I.backoff, steady_ms());
      I.start_control();
      if (I.config.connect_pixels) I.start_pixel();
      if (I.config.reconnect) asio::co_spawn(I.io, I.supervise(), asio::detached);
      asio::co_spawn(I.io, I.tick(), asio::detached);
    } else {
      I.loop.phase = LinkPhase::stopped;
      I.loop.last_error = err->message;
    }
    I.publish_loop();
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

void ClientStreamLoop::stop() {
  Impl& I = *impl_;
  if (!I.io_thread.joinable()) return;
  {
    std::promise<void> done;
    asio::co_spawn(I.io, [&I, &done]() -> asio::awaitable<void> {
      I.stopping = true;
      I.loop.phase = LinkPhase::stopping;
      I.publish_loop();
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
      // Bound the closing handshakes with a timer that aborts the sockets: the streams'
      // own deadlines must not be touched while their reader and writer are both pending.
      asio::steady_timer guard(I.io);
      guard.expires_after(std::chrono::milliseconds(500));
      guard.async_wait([control, pixel](const boost::system::error_code& e) {
        if (e) return;
        control->close_socket();
        if (pixel) pixel->close_socket();
      });
      try {
        co_await control->close(websocket::close_code::normal);
      } catch (const boost::system::system_error&) {
      }
      if (I.config.connect_pixels && pixel && pixel->is_open()) {
        try {
          co_await pixel->close(websocket::close_code::normal);
        } catch (const boost::system::system_error&) {
        }
      }
      guard.cancel();
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
  I.loop.phase = LinkPhase::stopped;
  I.loop.control_up = I.loop.pixel_up = false;
  I.publish_loop();
  if (!I.config.metrics_path.empty()) {
    std::ofstream out(I.config.metrics_path);
    out << to_json(metrics()).dump(2) << "\n";
    if (!out) log_warn("client", "cannot write the metrics to " + I.config.metrics_path);
  }
}

bool ClientStreamLoop::connected() const { return impl_->running; }

void ClientStreamLoop::simulate_pixel_loss() {
  asio::post(impl_->io, [this] { Impl::close_socket(impl_->pixel); });
}

void ClientStreamLoop::Impl::trim_history_locked() {
  const size_t limit = std::max<size_t>(config.history_limit, 16);
  if (frames.size() > limit) {
    const size_t drop = frames.size() - limit / 2;
    frames.erase(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(drop));
    for (auto it = frame_index.begin(); it != frame_index.end();) {
      if (it->second < drop) {
        it = frame_index.erase(it);
      } else {
        it->second -= drop;
        ++it;
      }
    }
  }
  if (intents.size() > limit)
    intents.erase(intents.begin(), intents.begin() + static_cast<std::ptrdiff_t>(intents.size() - limit / 2));
  if (received.size() > limit)
    received.erase(received.begin(), received.begin() + static_cast<std::ptrdiff_t>(received.size() - limit / 2));
}

void ClientStreamLoop::Impl::publish_loop() {
  loop.outbox_depth = outbox.size();
  loop.session_id = session_id;
  std::lock_guard lock(mutex);
  loop_snapshot = loop;
  changed.notify_all();
}
const std::string& ClientStreamLoop::session_id() const { return impl_->session_id; }

std::string ClientStreamLoop::send_state(const std::string& scope, const std::string& target, const std::string& key, Json value) {
  return impl_->send_state(scope, target, key, std::move(value));
}

std::string ClientStreamLoop::send_command(const std::string& command, Json kwargs) {
  return impl_->post_command(command, std::move(kwargs), "headless");
}

void ClientStreamLoop::set_dims_index(const std::string& axis, int64_t value) {
  Impl& I = *impl_;
  std::optional<Envelope> lead;
  {
    // The leading edge enters the ledger under the same lock as the throttle.
    std::lock_guard lock(I.mutex);
    if (auto v = queue_dims_update(&I.dims_throttle, axis, value, steady_ms()))
      lead = I.make_state_locked("dims", axis, "index", *v);
  }
  if (lead) I.post(std::move(*lead));
}

void ClientStreamLoop::set_property(const std::string& scope, const std::string& target, const std::string& key,
                                    Json value) {
  Impl& I = *impl_;
  std::optional<Envelope> lead;
  {
    std::lock_guard lock(I.mutex);
    if (auto v = queue_update(&I.property_throttle, property_name(scope, target, key), std::move(value), steady_ms()))
      lead = I.make_state_locked(scope, target, key, std::move(*v));
  }
  if (lead) I.post(std::move(*lead));
}

std::shared_ptr<FrameLease> ClientStreamLoop::acquire_presented() const {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->shown || impl_->shown->acquire(LeaseRole::renderer) != LeaseResult::ok) return nullptr;
  return impl_->shown;
}

void ClientStreamLoop::set_present_callback(std::function<void()> callback) { impl_->on_present = std::move(callback); }

Json ClientStreamLoop::displayed(const std::string& property) const {
  std::lock_guard lock(impl_->mutex);
  // A value still held by a throttle is newer than anything sent.
  if (auto p = impl_->property_throttle.axes.find(property);
      p != impl_->property_throttle.axes.end() && p->second.pending)
    return *p->second.pending;
  // A dims value still held by the throttle is newer than anything sent.
  const std::string prefix = "dims:", suffix = ":index";
  if (property.size() > prefix.size() + suffix.size() && property.rfind(prefix, 0) == 0 &&
      property.compare(property.size() - suffix.size(), suffix.size(), suffix) == 0) {
    auto axis = impl_->dims_throttle.axes.find(property.substr(prefix.size(), property.size() - prefix.size() - suffix.size()));
    if (axis != impl_->dims_throttle.axes.end() && axis->second.pending) return *axis->second.pending;
  }
  return displayed_value(impl_->ledger, property);
}

std::future<CommandResult> ClientStreamLoop::call(const std::string& command, Json kwargs, double timeout_s) {
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

std::string ClientStreamLoop::request_keyframe() { return send_command("napari.pixel.request_keyframe"); }
void ClientStreamLoop::send_raw(std::string text) { impl_->post_text(std::move(text)); }

ClientMirror ClientStreamLoop::mirror() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->mirror;
}
std::vector<Envelope> ClientStreamLoop::received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}
std::vector<IntentRecord> ClientStreamLoop::intents() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->intents;
}
std::vector<FrameRecord> ClientStreamLoop::frames() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->frames;
}
LoopState ClientStreamLoop::loop_state() const {
  std::lock_guard lock(impl_->mutex);
  LoopState s = impl_->loop_snapshot;
  s.restore_pending = impl_->restore_pending;
  return s;
}

ClientStats ClientStreamLoop::stats() const {
  std::lock_guard lock(impl_->mutex);
  ClientStats s = impl_->stats;
  // The link summary is the loop's phase, not a second copy of it.
  switch (impl_->loop_snapshot.phase) {
    case LinkPhase::reconnecting:
    case LinkPhase::pixel_reconnecting: s.link = to_string(impl_->loop_snapshot.phase); break;
    case LinkPhase::stopping:
    case LinkPhase::stopped: s.link = "down"; break;
    default: s.link = "up";
  }
  return s;
}

std::optional<FrameRecord> ClientStreamLoop::last_frame() const {
  std::lock_guard lock(impl_->mutex);
  if (impl_->frames.empty()) return std::nullopt;
  return impl_->frames.back();
}
std::optional<codec::YuvImage> ClientStreamLoop::latest_picture() const {
  std::shared_ptr<const codec::YuvImage> frame;
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->shown) return std::nullopt;
    frame = impl_->shown->frame(LeaseRole::presenter);
  }
  if (!frame) return std::nullopt;
  // A picture kept on the GPU comes over now (outside the lock: it is a device copy).
  auto pic = codec::in_system_memory(*frame);
  if (!pic) return std::nullopt;
  return std::move(pic).value();
}

void ClientStreamLoop::keep_frames_on_device(bool keep) { impl_->frames_on_device = keep; }

ClientMetrics ClientStreamLoop::metrics() const {
  std::lock_guard lock(impl_->mutex);
  ClientMetrics m = impl_->metrics;
  m.reconnects = impl_->stats.reconnects;
  m.decoder_fallbacks = impl_->stats.decoder_fallbacks;
  return m;
}

bool ClientStreamLoop::latest_rgba(std::vector<uint8_t>* rgba, int* width, int* height) const {
  auto pic = latest_picture();
  if (!pic) return false;
  if (pic->exact()) {
    *rgba = std::move(pic->rgba);
    *width = pic->width;
    *height = pic->height;
    return true;
  }
  rgba->resize(static_cast<size_t>(pic->width) * static_cast<size_t>(pic->height) * 4);
  codec::i420_to_rgba(pic->y.data(), pic->width, pic->u.data(), pic->width / 2, pic->v.data(), pic->width / 2,
                      pic->width, pic->height, rgba->data());
  *width = pic->width;
  *height = pic->height;
  return true;
}

bool ClientStreamLoop::wait_until(const std::function<bool()>& pred, double timeout_s) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::unique_lock lock(impl_->mutex);
    impl_->changed.wait_for(lock, std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace voxcast::client
