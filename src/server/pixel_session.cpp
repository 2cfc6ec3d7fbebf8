// Pixel WebSocket: token check on the upgrade, then a per-client bounded queue of
// access units. A client that falls behind skips to the next keyframe; it never
// holds up the others, nor makes them pay for its recovery: it waits for the next
// periodic IDR, or, once its writer has caught up, for the IDR the render loop makes at
// the next still moment (when the refinement pass re-encodes the picture anyway). A
// stalled peer never catches up and so never asks. `seq` counts frames actually sent.
#include <algorithm>
#include <utility>  // boost 1.74 awaitable.hpp needs std::exchange declared first
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server_core.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/protocol/pixel_header.hpp"
#include "voxcast/protocol/receipt.hpp"
#include "voxcast/protocol/still.hpp"
#include "voxcast/server/http_routes.hpp"

namespace voxcast::server {

using asio::use_awaitable;
namespace http = beast::http;


namespace {
constexpr double kStillLinkSeconds = 1.0;  // a capped client's still: at most this long on its link

void bound_send_buffer(net::WsStream& ws) {
  boost::system::error_code ec;
  ws.tcp().socket().set_option(asio::socket_base::send_buffer_size(kPixelSendBufferBytes), ec);
}
}  // namespace

PixelSession::PixelSession(Server::Core& core, tcp::socket socket)
    : core_(core), ws_(std::move(socket), core.tls.get()), queue_signal_(core.io) {
  queue_signal_.expires_at(asio::steady_timer::time_point::max());
  bound_send_buffer(ws_);
}

PixelSession::PixelSession(Server::Core& core, net::WsStream ws, http::request<http::string_body> upgrade)
    : core_(core), ws_(std::move(ws)), upgrade_(std::move(upgrade)), queue_signal_(core.io) {
  queue_signal_.expires_at(asio::steady_timer::time_point::max());
  bound_send_buffer(ws_);
}

void PixelSession::start() {
  asio::co_spawn(core_.io, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

bool PixelSession::offer(const std::shared_ptr<const OutgoingFrame>& frame) {
  if (state_.closing) return false;
  if (!frame->still && frame->cap_step != state_.stream_step) {
    // Another encode's frame: none of this client's business, unless it is the keyframe of
    // the stream it is to move to (its frames decode from there on).
    if (frame->cap_step != state_.target_step || !frame->keyframe) return true;
    state_.stream_step = frame->cap_step;
    state_.stream_switches += 1;
    core_.stream_steps_dirty = true;  // its old stream may go
  }
  if (frame->still) {
    // A still only covers a decodable picture; a client already behind goes without, and so
    // does a capped one when the still would hold its link for more than a second (the next
    // motion would wait behind it).
    const bool too_big = state_.stream_step >= 0 && link_.cap_bps() > 0 &&
                         static_cast<double>(frame->still_payload.size()) * 8 > link_.cap_bps() * kStillLinkSeconds;
    if (state_.waiting_for_keyframe || too_big || queue_.size() >= core_.config.pixel_queue_frames) {
      state_.stills_dropped += 1;
      return false;
    }
    queue_.push_back(frame);
    queue_signal_.cancel_one();
    return true;
  }
  // A still not yet written is stale once a newer picture comes.
  auto stale = std::remove_if(queue_.begin(), queue_.end(), [](const auto& f) { return f->still; });
  state_.stills_dropped += static_cast<uint64_t>(queue_.end() - stale);
  queue_.erase(stale, queue_.end());
  if (state_.waiting_for_keyframe && !frame->keyframe) {
    state_.skipped += 1;
    return false;
  }
  if (queue_.size() >= core_.config.pixel_queue_frames) {
    // This client cannot keep up: drop its backlog and resume at an IDR (see above).
    state_.skipped += queue_.size();
    state_.overflows += 1;
    queue_.clear();
    if (!frame->keyframe) {
      state_.waiting_for_keyframe = true;
      state_.recovering = true;
      state_.skipped += 1;
      return false;
    }
  }
  if (frame->keyframe) state_.waiting_for_keyframe = state_.recovering = false;
  queue_.push_back(frame);
  queue_signal_.cancel_one();
  return true;
}

size_t PixelSession::frames_in_flight() const {
  if (!state_.receipts) return 0;
  const auto written = static_cast<int64_t>(state_.next_seq) - (state_.receipted_seq + 1);
  return static_cast<size_t>(std::max<int64_t>(0, written)) + queue_.size();
}

bool PixelSession::ready_for_frame() const {
  if (state_.closing) return false;
  if (!state_.receipts) return true;
  // A long link holds more frames than the fixed window: its round trip's worth (LinkRate).
  size_t window = core_.config.pixel_frames_in_flight;
  if (core_.config.rate_control)
    window = std::max(window, static_cast<size_t>(link_.frames_in_flight(1000.0 / core_.config.fps)));
  return frames_in_flight() < window;
}

void PixelSession::update_wanted_step() {
  if (!state_.receipts || !core_.config.rate_control) return;
  const int step = cap_step(link_.cap_bps());
  if (step == state_.wanted_step) return;
  state_.wanted_step = step;
  core_.update_stream_steps();
}

void PixelSession::on_text(std::string_view text) {
  auto seq = protocol::parse_receipt(text);
  // A receipt for a frame not sent (or older than one already receipted) is ignored.
  if (!seq || !state_.receipts || static_cast<int64_t>(seq.value()) >= static_cast<int64_t>(state_.next_seq)) {
    state_.receipts_invalid += 1;
    if (state_.receipts_invalid == 1)
      log_info("pixel", "ignored a pixel message: " + (seq ? std::string("receipt for a frame not sent") : seq.error().message));
    return;
  }
  if (static_cast<int64_t>(seq.value()) <= state_.receipted_seq) return;
  state_.receipted_seq = seq.value();
  link_.on_done(seq.value(), steady_ms());
  update_wanted_step();
  core_.update_pixel_readiness();
}

void PixelSession::close() {
  state_.closing = true;
  queue_signal_.cancel_one();
}

asio::awaitable<void> PixelSession::run() {
  auto self = shared_from_this();
  if (upgrade_) {
    auto req = std::move(*upgrade_);
    upgrade_.reset();
    co_await serve(std::move(req));
    co_return;
  }
  http::request<http::string_body> req;
  try {
    beast::flat_buffer buffer(kMaxHttpRequestBytes);  // the upgrade request, before any token
    ws_.tcp().expires_after(std::chrono::seconds(10));
    co_await ws_.server_tls_handshake();
    std::optional<http::response<http::string_body>> refusal;
    try {
      co_await ws_.read_request(buffer, req);
    } catch (const boost::system::system_error& e) {
      refusal = refusal_for_read_error(e.code());
      if (!refusal) throw;
    }
    if (refusal) {
      log_info("pixel", "refused a pixel client: " + std::to_string(refusal->result_int()));
      co_await ws_.write_response(*refusal);
      co_return;
    }
    ws_.tcp().expires_never();
  } catch (const boost::system::system_error& e) {
    log_debug("pixel", std::string("pixel client ended before its upgrade: ") + e.code().message());
    co_return;
  }
  co_await serve(std::move(req));
}

asio::awaitable<void> PixelSession::serve(http::request<http::string_body> req) {
  auto self = shared_from_this();
  bool attached = false;
  try {
    beast::flat_buffer buffer;
    auto refuse = [&](http::status status, std::string body) {
      auto res = std::make_shared<http::response<http::string_body>>(status, req.version());
      res->set(http::field::content_type, "text/plain");
      res->body() = std::move(body);
      res->prepare_payload();
      return res;
    };
    auto auth = req.find(http::field::authorization);
    std::string given = request_token(std::string_view(req.target().data(), req.target().size()),
                                      auth == req.end() ? std::string_view()
                                                        : std::string_view(auth->value().data(), auth->value().size()));
    std::shared_ptr<http::response<http::string_body>> refusal;
    if (!websocket::is_upgrade(req)) {
      refusal = refuse(http::status::bad_request, "voxcast pixel channel: WebSocket upgrade expected\n");
    } else if (core_.config.require_token && !token_matches(core_.config.token, given)) {
      refusal = refuse(http::status::unauthorized, "voxcast pixel channel: invalid or missing token\n");
    }
    if (refusal) {
      log_info("pixel", "refused a pixel client: " + std::to_string(static_cast<int>(refusal->result_int())));
      co_await ws_.write_response(*refusal);
      boost::system::error_code ec;
      ws_.tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
      co_return;
    }
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = std::chrono::seconds(60);
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    const std::string_view target(req.target().data(), req.target().size());
    state_.wants_still = protocol::target_asks_for_stills(target);
    state_.receipts = protocol::target_has_query_pair(target, "receipts=1");
    co_await ws_.accept(req);
    ws_.binary(true);
    attached = true;
    ticket_.give_back();
    core_.pixel_attached(self);
    asio::co_spawn(core_.io, [self] { return self->write_loop(); }, asio::detached);
    // Clients send only receipts; reading also keeps pings, pongs and close frames flowing.
    // A message past the bound closes the socket (1009), which drops this client only.
    ws_.read_message_max(4 * protocol::kMaxReceiptBytes);
    while (!state_.closing) {
      buffer.clear();
      co_await ws_.read(buffer);
      if (ws_.got_text())
        on_text(std::string_view(static_cast<const char*>(buffer.data().data()), buffer.data().size()));
    }
  } catch (const boost::system::system_error& e) {
    log_debug("pixel", std::string("pixel client ended: ") + e.code().message());
  }
  state_.closing = true;
  queue_signal_.cancel();
  if (attached) core_.pixel_detached(self);
}

asio::awaitable<void> PixelSession::write_loop() {
  auto self = shared_from_this();
  try {
    while (true) {
      while (queue_.empty()) {
        // Caught up after falling behind: the next still moment brings this client's IDR.
        if (state_.recovering) core_.render_loop->request_quiet_keyframe();
        if (state_.closing) {
          co_await ws_.close(websocket::close_code::going_away);
          co_return;
        }
        boost::system::error_code ec;
        co_await queue_signal_.async_wait(asio::redirect_error(use_awaitable, ec));
      }
      if (state_.closing) queue_.clear();
      if (queue_.empty()) continue;
      std::shared_ptr<const OutgoingFrame> frame = std::move(queue_.front());
      queue_.pop_front();
      protocol::PixelHeader h;
      h.seq = state_.next_seq++;
      h.timestamp = frame->capture_time;
      h.width = frame->width;
      h.height = frame->height;
      h.codec = frame->still ? protocol::kCodecStillPng : static_cast<uint8_t>(protocol::Codec::h264);
      h.flags = frame->still ? protocol::kFlagStill : frame->keyframe ? protocol::kFlagKeyframe : 0;
      std::array<uint8_t, protocol::kPixelHeaderSize> header{};
      protocol::write_pixel_header(h, header.data());
      const protocol::Bytes& payload = frame->still ? frame->still_payload : frame->avcc;
      std::array<asio::const_buffer, 2> buffers{asio::buffer(header), asio::buffer(payload)};
      link_.on_sent(h.seq, header.size() + payload.size(), steady_ms());
      co_await ws_.write(buffers);
      // Without receipts the write's completion is all there is to go by (the socket's
      // small send buffer makes it close to the link's).
      if (!state_.receipts) link_.on_done(h.seq, steady_ms());
      state_.sent += 1;
      if (frame->still) {
        state_.stills_sent += 1;
        core_.counters.stills_sent += 1;
      } else {
        core_.counters.frames_sent += 1;
      }
    }
  } catch (const boost::system::system_error& e) {
    log_debug("pixel", std::string("pixel writer ended: ") + e.code().message());
  }
  queue_.clear();
  ws_.close_socket();
}

}  // namespace voxcast::server
