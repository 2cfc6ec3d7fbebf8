#pragma once
// Internal to the client library: the state and the parts of ClientStreamLoop.
//   state_channel.cpp   control socket: connect + hello, read/write loops, reducer, intents
//   pixel_pipeline.cpp  pixel socket, keyframe gating, decode, presenter
//   reconnect.cpp       the supervisor: back-off, new session or pixel reopen, view restore
//   stream_loop.cpp     the public API, connect and the ordered shutdown
#include <utility>  // boost 1.74 awaitable.hpp needs std::exchange declared first
#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "voxcast/client/backoff.hpp"
#include "voxcast/client/decode_gate.hpp"
#include "voxcast/client/stream_loop.hpp"
#include "voxcast/client/decoder_slot.hpp"
#include "voxcast/client/dims_intent.hpp"
#include "voxcast/client/ledger.hpp"
#include "voxcast/client/frame_lease.hpp"
#include "voxcast/client/presenter.hpp"
#include "voxcast/codec/decoder.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/core/random_id.hpp"
#include "voxcast/net/ws_stream.hpp"
#include "voxcast/protocol/frame_meta.hpp"
#include "voxcast/protocol/pixel_header.hpp"

namespace voxcast::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio_ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using protocol::Envelope;
using protocol::Json;
namespace type = protocol::type;

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

protocol::Error connect_error(const boost::system::error_code& ec, const std::string& what);

struct ClientStreamLoop::Impl {
  explicit Impl(ClientConfig c) : config(std::move(c)) {
    outbox_signal.expires_at(asio::steady_timer::time_point::max());
    link_signal.expires_at(asio::steady_timer::time_point::max());
  }

  ClientConfig config;
  asio::io_context io{1};
  std::shared_ptr<asio_ssl::context> tls;  // null: plain ws
  // The io thread's state: only the io thread touches `loop`, the sockets, the outbox and
  // the timers; publish_loop() copies `loop` out for everyone else.
  LoopState loop;
  bool stopping = false;
  // Recreated on every (re)connection.
  std::shared_ptr<net::WsStream> control;
  std::shared_ptr<net::WsStream> pixel;
  asio::steady_timer outbox_signal{io};
  asio::steady_timer link_signal{io};  // cancelled when a channel goes down
  std::deque<std::string> outbox;
  std::atomic<bool> restore_pending{false};  // set by the io thread, taken by the control reducer
  ClientMirror mirror_before_loss;           // under `mutex`
  // Local intents the lost session never confirmed (newest per property), under `mutex`:
  // replayed on the new session after the view is restored.
  std::vector<std::pair<std::string, Json>> replay_after_loss;
  std::thread io_thread, control_thread, media_thread;
  Inbox<Envelope> control_inbox;
  Inbox<PixelMessage> pixel_inbox;
  std::string session_id;  // written by the io thread before the threads that read it start
  std::atomic<bool> running{false};
  std::atomic<bool> frames_on_device{false};  // set by the display, read by the media thread
  // Frame receipts (io thread): the newest seq not yet written, and whether a write runs.
  std::optional<uint32_t> receipt_pending;
  bool receipt_writing = false;
  std::atomic<uint32_t> counter{0};
  // io thread: reconnect back-off across sessions, and why the link last went down.
  Backoff backoff;
  std::mt19937 rng{std::random_device{}()};
  std::string loss_reason;
  BackoffPolicy backoff_policy() const {
    BackoffPolicy p;
    p.min_ms = config.reconnect_min_ms;
    p.max_ms = config.reconnect_max_ms;
    return p;
  }

  // Shared with the app: guarded by `mutex`, changes signalled on `changed`.
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  LoopState loop_snapshot;
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
  PropertyIntentTracker property_throttle;  // camera and layer drags, per property
  std::function<void()> on_present;  // set before connect(); called on the media thread
  ClientLedger ledger;              // optimistic vs confirmed values per property
  uint64_t arrival = 0;             // control frames in server order: the ledger's clock

  std::shared_ptr<net::WsStream> make_stream() { return std::make_shared<net::WsStream>(io, tls.get()); }
  // io thread: copies `loop` to the snapshot the app reads and wakes waiters.
  void publish_loop();
  // Keeps the frame, intent and control-frame records within config.history_limit (a
  // viewer runs for hours); the oldest half goes when the limit is passed. Under `mutex`.
  void trim_history_locked();
  void start_pixel() { asio::co_spawn(io, pixel_read_loop(pixel, ++loop.pixel_epoch), asio::detached); }
  std::string next_id(const char* prefix);
  void post_text(std::string text);
  void post(Envelope e);
  asio::awaitable<void> write_loop(std::shared_ptr<net::WsStream> ws);
  void link_lost(bool is_control);
  asio::awaitable<void> control_read_loop(std::shared_ptr<net::WsStream> ws);
  asio::awaitable<void> pixel_read_loop(std::shared_ptr<net::WsStream> ws, uint32_t epoch);
  // Resolves and connects one channel's TCP stream; the deadline stays armed so the
  // WebSocket handshake (and the hello reply) are bounded by it too.
  asio::awaitable<void> connect_tcp(net::WsStream& ws, uint16_t port);
  asio::awaitable<std::optional<protocol::Error>> connect_control();
  asio::awaitable<std::optional<protocol::Error>> connect_pixel();
  // Settles a pending call (under `mutex`); false when it was already settled.
  bool settle_call_locked(const std::string& id, CommandResult r);
  void start_control();
  static void close_socket(const std::shared_ptr<net::WsStream>& ws);
  // Reconnects what went down, with exponential back-off; a lost control channel takes
  // the pixel channel with it (a new session), a lost pixel channel alone is reopened
  // under the same session. The view the user had is restored once the new baseline is in.
  asio::awaitable<void> supervise();
  // state.updates that bring the new session back to the view the user had (same dataset only).
  std::vector<protocol::StateUpdate> restore_updates(const ClientMirror& before, const ClientMirror& now) const;
  void control_reducer();
  std::string send_state(const std::string& scope, const std::string& target, const std::string& key, Json value);
  // Records the intent (ledger + records) and returns the envelope to post; under `mutex`.
  Envelope make_state_locked(const std::string& scope, const std::string& target, const std::string& key, Json value);
  // Trailing edges of slider drags and ack time-outs, on the io thread: every 4 ms while
  // something waits, otherwise every 50 ms.
  asio::awaitable<void> tick();
  void media_loop();
  // Shows the newest due frame (if any): it replaces the shown one; metrics follow.
  void present_due(PresenterState* presenter);
  // Queues a call.command; returns its frame_id.
  std::string post_command(const std::string& command, Json kwargs, const std::string& origin);
  void request_keyframe_now();
  // Media thread: done with frame `seq` of pixel connection `epoch` (sent when receipts are on).
  void send_receipt(uint32_t seq, uint32_t epoch);
  asio::awaitable<void> receipt_writer(std::shared_ptr<net::WsStream> ws, uint32_t epoch);
};

}  // namespace voxcast::client
