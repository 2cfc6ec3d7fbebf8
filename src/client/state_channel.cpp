#include <openssl/err.h>

#include "stream_loop_impl.hpp"

#include "voxcast/protocol/receipt.hpp"
#include "voxcast/protocol/still.hpp"

namespace voxcast::client {

std::string ClientStreamLoop::Impl::next_id(const char* prefix) {
  // Session-scoped, never reused across sessions (the reference restarts at 1).
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", counter.fetch_add(1) + 1);
  return std::string(prefix) + "-" + session_id.substr(0, 8) + "-" + buf;
}

void ClientStreamLoop::Impl::post_text(std::string text) {
  asio::post(io, [this, t = std::move(text)]() mutable {
    outbox.push_back(std::move(t));
    outbox_signal.cancel();  // every writer: after a reconnect only the current one writes
  });
}

void ClientStreamLoop::Impl::post(Envelope e) {
  if (!e.session) e.session = session_id;
  if (e.timestamp == 0) e.timestamp = wall_seconds();
  post_text(protocol::serialize(e));
}

asio::awaitable<void> ClientStreamLoop::Impl::write_loop(std::shared_ptr<net::WsStream> ws) {
  try {
    while (true) {
      while (outbox.empty() && running && ws == control) {
        boost::system::error_code ec;
        co_await outbox_signal.async_wait(asio::redirect_error(use_awaitable, ec));
      }
      if (outbox.empty() || ws != control) break;
      std::string m = std::move(outbox.front());
      outbox.pop_front();
      co_await ws->write(asio::buffer(m));
    }
  } catch (const boost::system::system_error& e) {
    log_debug("client", std::string("control writer ended: ") + e.code().message());
  }
}

void ClientStreamLoop::Impl::link_lost(bool is_control) {
  if (stopping) return;
  (is_control ? loop.control_up : loop.pixel_up) = false;
  publish_loop();
  link_signal.cancel();
}

asio::awaitable<void> ClientStreamLoop::Impl::control_read_loop(std::shared_ptr<net::WsStream> ws) {
  try {
    beast::flat_buffer buf;
    while (true) {
      buf.clear();
      // Liveness: the server sends a heartbeat every period; three silent ones mean it is gone.
      ws->tcp().expires_after(std::chrono::milliseconds(static_cast<int64_t>(loop.heartbeat_s * 3000)));
      co_await ws->read(buf);
      auto parsed = protocol::parse_envelope(beast::buffers_to_string(buf.data()));
      if (!parsed) {
        log_debug("client", "dropped an invalid control frame: " + parsed.error().message);
        continue;
      }
      if (parsed->type == type::kSessionGoodbye) {
        auto bye = protocol::parse_session_goodbye(parsed->payload);
        loop.server_goodbye = bye ? bye->code.value_or("goodbye") + ": " + bye->message.value_or("") : "goodbye";
        log_info("client", "the server said goodbye (" + loop.server_goodbye + ")");
        publish_loop();
      } else if (parsed->type == type::kNotifyError) {
        // Shown to the user (viewers' status, --stats) rather than lost in a log.
        if (auto err = protocol::parse_notify_error(parsed->payload)) {
          loop.server_error = err->code + ": " + err->message;
          loop.server_errors += 1;
          log_info("client", "server error " + loop.server_error);
          publish_loop();
        }
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
    if (ws == control) loss_reason = e.code().message();
  }
  if (ws == control) link_lost(true);
}

// Resolves and connects one channel's TCP stream; the deadline stays armed so the
// WebSocket handshake (and the hello reply) are bounded by it too.
asio::awaitable<void> ClientStreamLoop::Impl::connect_tcp(net::WsStream& ws, uint16_t port) {
  tcp::resolver resolver(io);
  auto endpoints = co_await resolver.async_resolve(config.connection.host, std::to_string(port), use_awaitable);
  auto& stream = ws.tcp();
  stream.expires_after(std::chrono::milliseconds(static_cast<int64_t>(config.connect_timeout_s * 1000)));
  co_await stream.async_connect(endpoints, use_awaitable);
  stream.socket().set_option(tcp::no_delay(true));
  co_await ws.client_tls_handshake(config.connection.host);
}

// How a failed connection attempt reads: a TLS failure (certificate, protocol) is its own
// code, so the user learns to fix the certificate rather than the address.
protocol::Error connect_error(const boost::system::error_code& ec, const std::string& what) {
  const bool tls = ec.category() == asio::error::get_ssl_category() || ec == asio::ssl::error::stream_truncated;
  std::string code = ec == beast::error::timeout ? "connect.timeout" : tls ? "connect.tls" : "connect.failed";
  std::string message = ec.message();
  if (tls) {
    // OpenSSL's reason ("certificate verify failed") without the library prefix noise.
    char buf[256] = {0};
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof(buf));
    if (buf[0]) message = buf;
  }
  return protocol::make_error(code, what + ": " + message);
}

asio::awaitable<std::optional<protocol::Error>> ClientStreamLoop::Impl::connect_control() {
  using protocol::make_error;
  const auto& c = config.connection;
  control = make_stream();
  net::WsStream& ws = *control;
  try {
    co_await connect_tcp(ws, c.control_port);
    auto& stream = ws.tcp();
    co_await ws.handshake(c.host + ":" + std::to_string(c.control_port), "/");
    ws.text(true);
    ws.read_message_max(64u << 20);

    protocol::SessionHello hello;
    hello.client = {config.name, config.version, "linux"};
    hello.features = {{"notify.scene", true}, {"notify.layers", true}, {"notify.stream", true},
                      {"notify.dims", true},  {"notify.camera", true}, {"call.command", true}};
    if (config.want_notify_error) hello.features["notify.error"] = true;
    if (config.exact_stills) hello.features[protocol::kFeatureExactStill] = true;
    if (config.frame_receipts) hello.features[protocol::kFeaturePixelReceipts] = true;
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
    const std::string hello_text = protocol::serialize(e);
    co_await ws.write(asio::buffer(hello_text));

    beast::flat_buffer buf;
    co_await ws.read(buf);  // the stream's deadline still bounds this
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
    loop.heartbeat_s = welcome->heartbeat_s > 0 ? welcome->heartbeat_s : 15.0;
    auto still = welcome->features.find(protocol::kFeatureExactStill);
    loop.exact_stills = config.exact_stills && still != welcome->features.end() && still->second.enabled;
    auto receipts = welcome->features.find(protocol::kFeaturePixelReceipts);
    loop.receipts = config.frame_receipts && receipts != welcome->features.end() && receipts->second.enabled;
    loop.control_up = true;
    {
      std::lock_guard lock(mutex);
      received.push_back(reply.value());
    }
    co_return std::nullopt;
  } catch (const boost::system::system_error& e) {
    co_return connect_error(e.code(), "control channel " + c.host + ":" + std::to_string(c.control_port));
  }
}

// Settles a pending call (under `mutex`); false when it was already settled.
bool ClientStreamLoop::Impl::settle_call_locked(const std::string& id, CommandResult r) {
  auto it = calls.find(id);
  if (it == calls.end()) return false;
  it->second.set_value(std::move(r));
  calls.erase(it);
  return true;
}

void ClientStreamLoop::Impl::start_control() {
  asio::co_spawn(io, write_loop(control), asio::detached);
  asio::co_spawn(io, control_read_loop(control), asio::detached);
}

void ClientStreamLoop::Impl::control_reducer() {
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
      // Then what the user did that the old session never confirmed: it is newer than
      // the view it had, so it replaces a restored value of the same property.
      for (auto& [property, value] : replay_after_loss) {
        auto path = split_property(property);
        if (!path) continue;
        protocol::StateUpdate u{path->scope, path->target, path->key, std::move(value)};
        std::erase_if(restore, [&](const protocol::StateUpdate& r) {
          return r.scope == u.scope && r.target == u.target && r.key == u.key;
        });
        restore.push_back(std::move(u));
        stats.replayed_intents += 1;
      }
      replay_after_loss.clear();
      stats.restored_properties += restore.size();
    }
    received.push_back(std::move(e));
    trim_history_locked();
    changed.notify_all();
    if (!restore.empty()) {
      lock.unlock();
      for (auto& u : restore) send_state(u.scope, u.target, u.key, std::move(u.value));
    }
  }
}

Envelope ClientStreamLoop::Impl::make_state_locked(const std::string& scope, const std::string& target,
                                                   const std::string& key, Json value) {
  std::string n = next_id("state");
  Envelope e;
  e.type = type::kStateUpdate;
  e.frame_id = n;
  e.intent_id = "intent" + n.substr(5);
  record_intent(&ledger, property_name(scope, target, key), *e.intent_id, value, steady_ms());
  e.payload = protocol::to_json(protocol::StateUpdate{scope, target, key, std::move(value)});
  IntentRecord r;
  r.frame_id = n;
  r.intent_id = *e.intent_id;
  r.sent_ms = steady_ms();
  intents.push_back(std::move(r));
  trim_history_locked();
  return e;
}

std::string ClientStreamLoop::Impl::send_state(const std::string& scope, const std::string& target, const std::string& key, Json value) {
  Envelope e;
  {
    std::lock_guard lock(mutex);
    e = make_state_locked(scope, target, key, std::move(value));
  }
  std::string n = *e.frame_id;
  post(std::move(e));
  return n;
}

// Trailing edges of slider drags and ack time-outs, on the io thread: every 4 ms while
// something waits, otherwise every 50 ms.
asio::awaitable<void> ClientStreamLoop::Impl::tick() {
  asio::steady_timer t(io);
  while (!stopping) {
    std::vector<Envelope> due;
    bool busy = false;
    {
      std::lock_guard lock(mutex);
      double now = steady_ms();
      // A trailing edge leaves the throttle and enters the ledger under one lock, so
      // displayed() never falls back to an older value in between.
      for (auto& d : flush_dims_updates(&dims_throttle, now)) due.push_back(make_state_locked("dims", d.axis, "index", d.value));
      for (auto& p : flush_updates(&property_throttle, now))
        if (auto path = split_property(p.axis))
          due.push_back(make_state_locked(path->scope, path->target, path->key, std::move(p.value)));
      // No answer can come while the link is down: the ack clock stops, the intent stays.
      if (running && !expire_intents(&ledger, now).empty()) changed.notify_all();
      busy = next_dims_flush_ms(dims_throttle).has_value() || next_flush_ms(property_throttle).has_value() ||
             !ledger.intent_property.empty();
    }
    for (auto& e : due) post(std::move(e));
    boost::system::error_code ec;
    t.expires_after(std::chrono::milliseconds(busy || !due.empty() ? 4 : 50));
    co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

// Queues a call.command; returns its frame_id.
std::string ClientStreamLoop::Impl::post_command(const std::string& command, Json kwargs, const std::string& origin) {
  Envelope e;
  e.type = type::kCallCommand;
  e.frame_id = next_id("cmd");
  e.payload = protocol::to_json(protocol::CallCommand{command, Json::array(), std::move(kwargs), origin});
  std::string id = *e.frame_id;
  post(std::move(e));
  return id;
}

void ClientStreamLoop::Impl::request_keyframe_now() {
  post_command("napari.pixel.request_keyframe", Json::object(), "client.decode_gate");
  std::lock_guard lock(mutex);
  stats.keyframe_requests += 1;
}

}  // namespace voxcast::client
