// Control WebSocket transport: handshake, heartbeat, ordered outbox. What a frame
// means is decided in control_dispatch.cpp; how a connection became one, in front_door.cpp.
#include <utility>  // boost 1.74 awaitable.hpp needs std::exchange declared first
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server_core.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/core/random_id.hpp"

namespace voxcast::server {

using asio::use_awaitable;

std::string now_frame_id(const char* prefix) { return make_frame_id(prefix); }

ControlSession::ControlSession(Server::Core& core, net::WsStream ws, beast::http::request<beast::http::string_body> upgrade)
    : core_(core),
      ws_(std::move(ws)),
      upgrade_(std::move(upgrade)),
      outbox_signal_(core.io),
      hello_timer_(core.io),
      heartbeat_timer_(core.io),
      close_deadline_(core.io) {
  outbox_signal_.expires_at(asio::steady_timer::time_point::max());
  state_.id = random_uuid();
}

void ControlSession::start() {
  asio::co_spawn(core_.io, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void ControlSession::send(protocol::Envelope e) {
  if (state_.closing) return;
  if (e.type == protocol::type::kNotifyScene) {
    // A scene snapshot starts a new epoch of this session's resumable topics.
    e.seq = 0;
    e.delta_token = random_hex(16);
    state_.next_seq_layers = 0;
    state_.next_seq_stream = 0;
  } else if (e.type == protocol::type::kNotifyLayers) {
    e.seq = state_.next_seq_layers++;
    e.delta_token = random_hex(16);
  } else if (e.type == protocol::type::kNotifyStream) {
    e.seq = state_.next_seq_stream++;
    e.delta_token = random_hex(16);
  }
  if (!e.session && e.type != protocol::type::kSessionReject) e.session = state_.id;
  e.timestamp = e.timestamp > 0 ? e.timestamp : wall_seconds();
  const uint64_t coalesced_before = outbox_.coalesced;
  OutboxVerdict verdict = push(&outbox_, {protocol::serialize(e), e.type}, kMaxOutboxBytes);
  core_.counters.notifies_coalesced += outbox_.coalesced - coalesced_before;
  state_.frames_out += 1;
  if (verdict == OutboxVerdict::overflow) shed();
  outbox_signal_.cancel_one();
}

void ControlSession::shed() {
  // This peer does not read what it is sent. Drop its backlog (the bound is the point)
  // and tell it why in the one frame left; the close deadline cuts it off if it does not
  // read even that.
  log_info("control", "session " + state_.id + " closed: " + std::to_string(outbox_.bytes) +
                          " bytes queued and unread (the client does not keep up)");
  clear(&outbox_);
  core_.counters.sessions_shed += 1;
  protocol::Envelope bye;
  bye.type = protocol::type::kSessionGoodbye;
  bye.frame_id = now_frame_id("goodbye");
  bye.payload = protocol::to_json(protocol::SessionGoodbye{
      "backpressure", "the client did not read what the server sent it", "outbox_full"});
  bye.session = state_.id;
  bye.timestamp = wall_seconds();
  push(&outbox_, {protocol::serialize(bye), bye.type}, kMaxOutboxBytes);
  close(websocket::close_code::policy_error, "outbox full");
}

void ControlSession::close(websocket::close_code code, const std::string& reason) {
  if (state_.closing) return;
  state_.closing = true;
  close_reason_ = websocket::close_reason(code, reason);
  outbox_signal_.cancel_one();
  // What is queued is flushed first; a peer that never reads it would hold the session
  // (and its backlog) forever.
  close_deadline_.expires_after(kCloseFlushTimeout);
  close_deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->ws_.close_socket();
  });
}

void ControlSession::on_hello_timeout() {
  if (state_.welcomed || state_.closing) return;
  protocol::Envelope e;
  e.type = protocol::type::kSessionReject;
  e.frame_id = now_frame_id("reject");
  e.payload = protocol::to_json(protocol::SessionReject{"timeout", "session.hello not received", {}});
  send(std::move(e));
  close(websocket::close_code::normal, "hello timeout");
}

asio::awaitable<void> ControlSession::run() {
  auto self = shared_from_this();
  try {
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = std::chrono::seconds(60);
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(kPreAuthMessageBytes);  // until the welcome
    co_await ws_.accept(upgrade_);
    upgrade_ = {};
    ws_.text(true);
    asio::co_spawn(core_.io, [self] { return self->write_loop(); }, asio::detached);

    hello_timer_.expires_after(std::chrono::milliseconds(static_cast<int64_t>(core_.config.hello_timeout_s * 1000)));
    hello_timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec) self->on_hello_timeout();
    });
    beast::flat_buffer buffer;
    co_await ws_.read(buffer);
    hello_timer_.cancel();
    if (state_.closing) co_return;
    auto outcome = evaluate_hello(beast::buffers_to_string(buffer.data()), core_.handshake);
    if (outcome.reject) {
      log_info("control", "rejected a client: " + outcome.reject->code + " (" + outcome.reject->message + ")");
      protocol::Envelope e;
      e.type = protocol::type::kSessionReject;
      e.frame_id = now_frame_id("reject");
      e.payload = protocol::to_json(*outcome.reject);
      send(std::move(e));
      close(websocket::close_code::normal, outcome.reject->code);
      co_return;
    }
    features_ = std::move(outcome.features);
    protocol::Envelope welcome;
    welcome.type = protocol::type::kSessionWelcome;
    welcome.frame_id = now_frame_id("welcome");
    welcome.payload = protocol::to_json(make_welcome(state_.id, features_, core_.handshake));
    send(std::move(welcome));
    state_.welcomed = true;
    ws_.read_message_max(kMaxMessageBytes);
    ticket_.give_back();
    core_.control_sessions.insert(self);
    log_info("control", "session " + state_.id + " welcomed (" + outcome.hello.client.name + " " +
                            outcome.hello.client.version + ")");
    core_.send_baseline(*this);
    if (core_.read_error) core_.send_read_error(*this, *core_.read_error);
    asio::co_spawn(core_.io, [self] { return self->heartbeat_loop(); }, asio::detached);

    while (!state_.closing) {
      buffer.clear();
      co_await ws_.read(buffer);
      state_.frames_in += 1;
      core_.on_control_frame(self, beast::buffers_to_string(buffer.data()));
    }
  } catch (const boost::system::system_error& e) {
    log_debug("control", "session " + state_.id + " ended: " + e.code().message());
  }
  state_.closing = true;
  hello_timer_.cancel();
  heartbeat_timer_.cancel();
  close_deadline_.cancel();
  outbox_signal_.cancel();
  ticket_.give_back();
  core_.control_detached(self);
}

asio::awaitable<void> ControlSession::write_loop() {
  auto self = shared_from_this();
  try {
    while (true) {
      while (outbox_.items.empty()) {
        if (state_.closing) {
          co_await ws_.close(close_reason_);
          co_return;
        }
        boost::system::error_code ec;
        co_await outbox_signal_.async_wait(asio::redirect_error(use_awaitable, ec));
      }
      std::string message = pop_front(&outbox_).text;
      co_await ws_.write(asio::buffer(message));
    }
  } catch (const boost::system::system_error& e) {
    log_debug("control", "writer of " + state_.id + " ended: " + e.code().message());
  }
  clear(&outbox_);
  close_deadline_.cancel();
  // A failed write leaves the reader to notice; make sure it does.
  ws_.close_socket();
}

asio::awaitable<void> ControlSession::heartbeat_loop() {
  auto self = shared_from_this();
  const auto period = std::chrono::milliseconds(static_cast<int64_t>(core_.config.heartbeat_s * 1000));
  while (!state_.closing) {
    heartbeat_timer_.expires_after(period);
    boost::system::error_code ec;
    co_await heartbeat_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec || state_.closing) co_return;
    state_.missed_heartbeats = state_.awaiting_heartbeat_ack ? state_.missed_heartbeats + 1 : 0;
    if (state_.missed_heartbeats >= 2) {
      protocol::Envelope bye;
      bye.type = protocol::type::kSessionGoodbye;
      bye.frame_id = now_frame_id("goodbye");
      bye.payload = protocol::to_json(protocol::SessionGoodbye{"timeout", "heartbeat timeout", "heartbeat_timeout"});
      send(std::move(bye));
      close(websocket::close_code::internal_error, "heartbeat timeout");
      co_return;
    }
    protocol::Envelope hb;
    hb.type = protocol::type::kSessionHeartbeat;
    hb.frame_id = now_frame_id("heartbeat");
    send(std::move(hb));
    state_.awaiting_heartbeat_ack = true;
  }
}

}  // namespace voxcast::server
