#include "stream_loop_impl.hpp"

namespace voxcast::client {

void ClientStreamLoop::Impl::close_socket(const std::shared_ptr<net::WsStream>& ws) {
  if (ws) ws->close_socket();
}

// Reconnects what went down, with exponential back-off; a lost control channel takes
// the pixel channel with it (a new session), a lost pixel channel alone is reopened
// under the same session. The view the user had is restored once the new baseline is in.
asio::awaitable<void> ClientStreamLoop::Impl::supervise() {
  asio::steady_timer wait(io);
  while (!stopping) {
    boost::system::error_code ec;
    if (loop.control_up && (loop.pixel_up || !config.connect_pixels)) {
      link_signal.expires_at(asio::steady_timer::time_point::max());
      co_await link_signal.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    const bool full = !loop.control_up;
    loop.phase = full ? LinkPhase::reconnecting : LinkPhase::pixel_reconnecting;
    loop.reconnect_attempts = 0;
    publish_loop();
    {
      std::lock_guard lock(mutex);
      if (full) {
        mirror_before_loss = mirror;
        // Calls of the old session will never be answered.
        for (auto& [id, p] : calls) p.set_value(CommandResult{false, nullptr, "command.lost", "connection lost", nullptr});
        calls.clear();
      }
      changed.notify_all();
    }
    const std::string why = loss_reason.empty() ? "closed" : loss_reason;
    loop.last_error = (full ? "connection lost: " : "pixel channel lost: ") + why;
    log_info("client", loop.last_error + "; reconnecting");
    if (full) {
      running = false;
      outbox.clear();  // frames of the old session; intents are replayed from the view instead
      close_socket(control);
      close_socket(pixel);
    } else {
      close_socket(pixel);
    }
    // A session that died before it was healthy does not reset the back-off: a server that
    // welcomes and then drops every session gets a growing, jittered wait, not a storm.
    const BackoffPolicy policy = backoff_policy();
    double delay_ms = backoff_link_lost(&backoff, policy, steady_ms(), config.connect_pixels);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    // A server that said goodbye is stopping on purpose (a restart, an upgrade): after the
    // first attempt, ask again at a calm, steady pace so its return is noticed within a
    // second without a storm.
    const bool planned = full && !loop.server_goodbye.empty();
    const double planned_delay_ms = std::min(1000.0, config.reconnect_max_ms);
    while (!stopping) {
      if (delay_ms > 0) {
        loop.next_retry_ms = delay_ms;
        publish_loop();
        wait.expires_after(std::chrono::milliseconds(static_cast<int64_t>(backoff_jittered(delay_ms, policy, unit(rng)))));
        co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
        if (stopping) break;
      }
      if (!full && !loop.control_up) break;  // the control channel went too: a new session
      std::optional<protocol::Error> err;
      if (full) err = co_await connect_control();
      if (!err && config.connect_pixels && !stopping) err = co_await connect_pixel();
      if (!err) break;
      log_debug("client", "reconnect failed: " + err->message);
      loop.reconnect_attempts += 1;
      loop.last_error = planned ? "the server stopped (" + loop.server_goodbye + "); waiting for it to come back"
                                : err->message;
      delay_ms = planned ? planned_delay_ms : backoff_attempt_failed(&backoff, policy);
    }
    if (stopping) break;
    if (!full && !loop.control_up) continue;
    if (full) {
      {
        // Intents not confirmed by the lost session, including those made during the
        // outage (their ack clock was stopped), are replayed on the new baseline; the
        // frames queued meanwhile carry the old session and go.
        std::lock_guard lock(mutex);
        replay_after_loss = intents_to_replay(ledger);
      }
      outbox.clear();
      restore_pending = true;
      loop.sessions += 1;
      running = true;
      start_control();
    }
    if (config.connect_pixels) start_pixel();
    backoff_session_up(&backoff, steady_ms());
    loss_reason.clear();
    loop.phase = LinkPhase::streaming;
    loop.reconnect_attempts = 0;
    loop.next_retry_ms = 0;
    loop.last_error.clear();
    loop.server_goodbye.clear();
    publish_loop();
    std::lock_guard lock(mutex);
    if (full) stats.reconnects += 1;
    else stats.pixel_reconnects += 1;
    changed.notify_all();
  }
}

// state.updates that bring the new session back to the view the user had (same dataset only).
std::vector<protocol::StateUpdate> ClientStreamLoop::Impl::restore_updates(const ClientMirror& before, const ClientMirror& now) const {
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

}  // namespace voxcast::client
