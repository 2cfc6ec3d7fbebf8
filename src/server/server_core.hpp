#pragma once
// Internal to the server library: the network-thread state and the two session kinds.
#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "voxcast/net/ws_stream.hpp"
#include "voxcast/protocol/envelope.hpp"
#include "voxcast/server/admission.hpp"
#include "voxcast/server/handshake.hpp"
#include "voxcast/server/link_rate.hpp"
#include "voxcast/server/outbox.hpp"
#include "voxcast/server/reducers.hpp"
#include "voxcast/server/render_loop.hpp"
#include "voxcast/server/scene_payloads.hpp"
#include "voxcast/server/server.hpp"

namespace voxcast::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

class ControlSession;
class PixelSession;

// Bounds on what a peer can make the server hold (issue 16): a hello is a few KiB, an
// HTTP request (the upgrade included) a few hundred bytes, its header and any body each
// within kMaxHttpRequestBytes; a session that does not read is closed once this much
// waits for it, and a closing session that still does not read is cut off after
// kCloseFlushTimeout.
inline constexpr size_t kPreAuthMessageBytes = 64u << 10;
inline constexpr size_t kMaxMessageBytes = 16u << 20;
inline constexpr size_t kMaxHttpRequestBytes = 16u << 10;
inline constexpr size_t kMaxOutboxBytes = 8u << 20;
inline constexpr auto kCloseFlushTimeout = std::chrono::seconds(3);
// What a pixel socket may hold in the kernel (SO_SNDBUF; Linux doubles it). Autotuned, it
// grows to megabytes: seconds of stale video queued for a slow link before its session
// notices and drops to the newest frame. This still covers a 1080p keyframe and ~100 ms
// of a fast link's round trip.
inline constexpr int kPixelSendBufferBytes = 256 << 10;

// Stream configuration as the clients see it (from the latest keyframe's SPS/PPS).
struct StreamState {
  protocol::Bytes avcc;
  int width = 0;
  int height = 0;
  bool known() const { return !avcc.empty(); }
};

// One background job at a time (opening a dataset, a still render, a contrast read): off
// the network thread, which alone calls start() and, from the job's posted answer, done().
struct BackgroundJob {
  std::thread thread;
  bool busy = false;
  // False (nothing started) while the previous job is still running.
  bool start(std::function<void()> work) {
    if (busy) return false;
    busy = true;
    if (thread.joinable()) thread.join();  // finished: it posted its answer
    thread = std::thread(std::move(work));
    return true;
  }
  void done() { busy = false; }
  void join() {
    if (thread.joinable()) thread.join();
  }
};

// Everything below is owned by the network thread; nothing here is locked except
// what the render thread shares through RenderLoop.
struct Server::Core {
  Core(ServerConfig config, std::unique_ptr<data::VolumeSource> source);

  ServerConfig config;
  std::shared_ptr<const data::VolumeSource> source;
  SceneContext scene_context;
  HandshakePolicy handshake;
  Ledger ledger;
  StreamState stream;
  ServerStats counters;

  // Declared before `io`: sessions destroyed with it still give their place back.
  Admission admission;
  AdmissionLimits admission_limits;
  SpareFd spare_fd;

  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain ws
  std::string tls_fingerprint;
  tcp::acceptor control_acceptor{io};
  tcp::acceptor pixel_acceptor{io};
  std::thread io_thread;
  std::unique_ptr<RenderLoop> render_loop;
  // The last chunk read that failed in this dataset: a read failure is reported once, so a
  // session that joins later is told of it on joining.
  std::optional<data::DataError> read_error;
  void send_read_error(ControlSession& s, const data::DataError& err);
  std::set<std::shared_ptr<ControlSession>> control_sessions;
  std::set<std::shared_ptr<PixelSession>> pixel_sessions;
  bool stopping = false;
  BackgroundJob loader;      // opens a dataset for napari.load_zarr
  BackgroundJob screenshot;  // renders napari.screenshot stills
  BackgroundJob contrast;    // napari.auto_contrast reads

  // control_dispatch.cpp
  void send_baseline(ControlSession& s);
  void on_control_frame(const std::shared_ptr<ControlSession>& s, const std::string& text);
  void handle_state_update(ControlSession& s, const protocol::Envelope& e);
  void handle_command(const std::shared_ptr<ControlSession>& s, const protocol::Envelope& e);
  void send_error(ControlSession& s, const std::string& code, const std::string& message,
                  protocol::Json context = protocol::Json::object());
  protocol::Envelope stream_envelope() const;

  // dataset_commands.cpp
  void handle_listdir(ControlSession& s, const std::string& frame_id, const protocol::CallCommand& call);
  void handle_load(const std::shared_ptr<ControlSession>& s, const std::string& frame_id, const protocol::CallCommand& call);
  // auto_contrast.cpp
  void handle_auto_contrast(const std::shared_ptr<ControlSession>& s, const std::string& frame_id,
                            const protocol::CallCommand& call);
  // screenshot.cpp
  void handle_screenshot(const std::shared_ptr<ControlSession>& s, const std::string& frame_id,
                         const protocol::CallCommand& call);
  // On the network thread once the loader is done: switch every client to the new scene.
  void install_dataset(std::shared_ptr<const data::VolumeSource> source, const std::string& label);

  // server.cpp
  void on_frame(std::shared_ptr<const OutgoingFrame> frame);
  void pixel_attached(const std::shared_ptr<PixelSession>& p);
  void pixel_detached(const std::shared_ptr<PixelSession>& p);
  // Tells the render loop how many pixel clients could take a new frame now.
  void update_pixel_readiness();
  // The encodes the pixel clients need (their wanted and current cap steps), each client's
  // target among them, and an IDR on a target a client has yet to join.
  void update_stream_steps();
  std::vector<int> stream_steps{-1};  // what the render loop encodes
  bool stream_steps_dirty = false;    // a client moved streams: re-plan after the fan-out
  void control_detached(const std::shared_ptr<ControlSession>& s);
  void broadcast_control(const protocol::Envelope& e, const char* feature, const ControlSession* origin,
                         const std::optional<std::string>& intent_id);
  void publish_scene_change();
  // The counters with the session counts and the render loop's state (network thread).
  ServerStats stats_now() const;
  // A data file as clients may see it: relative to --data-root when inside it.
  std::string shown_path(const std::string& path) const;
  asio::awaitable<void> accept_control();
  asio::awaitable<void> accept_pixel();
  // A counted place for a new, unauthenticated connection; nullopt (the socket answered
  // 503 and closed) when its address or the server is at its limit.
  std::optional<AdmissionTicket> admit_connection(tcp::socket& socket);
  // After a failed accept: at the descriptor limit the pending connection is taken with the
  // spare descriptor, answered 503 and closed; then a short pause, so the loop never spins.
  asio::awaitable<void> after_accept_error(tcp::acceptor& acceptor, const boost::system::error_code& ec);

  // front_door.cpp: the control port's first request decides what a connection is — the
  // control WebSocket, the pixel channel on /pixel, or plain HTTP (web client, /healthz,
  // /metrics).
  asio::awaitable<void> serve_control_port(tcp::socket socket, AdmissionTicket ticket);
  beast::http::response<beast::http::string_body> answer_http(const beast::http::request<beast::http::string_body>& req);
};

// Per-session explicit state (printable through describe()).
struct ControlSessionState {
  std::string id;
  bool welcomed = false;
  bool closing = false;
  bool awaiting_heartbeat_ack = false;
  int missed_heartbeats = 0;
  int64_t next_seq_layers = 0;
  int64_t next_seq_stream = 0;
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
};

class ControlSession : public std::enable_shared_from_this<ControlSession> {
 public:
  // A connection whose first request (`upgrade`, already read) asked for a WebSocket.
  ControlSession(Server::Core& core, net::WsStream ws, beast::http::request<beast::http::string_body> upgrade);
  void start();
  // Queues a frame; resumable topics get this session's seq and a fresh token.
  void send(protocol::Envelope e);
  // Flushes what is queued, then closes the WebSocket.
  void close(websocket::close_code code, const std::string& reason);
  bool wants(const std::string& feature) const { return features_.count(feature) > 0; }
  const std::string& id() const { return state_.id; }
  ControlSessionState& state() { return state_; }
  // Holds the connection's place among the unauthenticated until the welcome.
  void hold(AdmissionTicket t) { ticket_ = std::move(t); }

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> heartbeat_loop();
  void on_hello_timeout();
  // The outbox stayed over kMaxOutboxBytes: drop it, say goodbye and close.
  void shed();

  Server::Core& core_;
  net::WsStream ws_;
  beast::http::request<beast::http::string_body> upgrade_;
  asio::steady_timer outbox_signal_;
  asio::steady_timer hello_timer_;
  asio::steady_timer heartbeat_timer_;
  asio::steady_timer close_deadline_;  // a closing peer that does not read is cut off
  Outbox outbox_;
  AdmissionTicket ticket_;
  std::set<std::string> features_;
  ControlSessionState state_;
  websocket::close_reason close_reason_;
  bool writer_done_ = false;
};

struct PixelSessionState {
  uint32_t next_seq = 0;  // frames actually sent to this client
  bool waiting_for_keyframe = true;
  uint64_t sent = 0;
  uint64_t skipped = 0;
  uint64_t overflows = 0;
  bool recovering = false;  // fell behind: waits for a keyframe without forcing one on others
  bool closing = false;
  bool wants_still = false;  // asked for exact stills on its upgrade (still=png)
  uint64_t stills_sent = 0;
  uint64_t stills_dropped = 0;  // stale (a newer frame came) or the client was behind
  // Frame receipts (receipts=1 on the upgrade): the newest seq the client is done with.
  bool receipts = false;
  int64_t receipted_seq = -1;
  uint64_t receipts_invalid = 0;  // malformed, or for a frame not sent: ignored
  // Rate control (receipting clients): the cap step its link wants, the encoded step it is
  // to receive (Core::update_stream_steps), and the one it receives now (it moves to the
  // target at that stream's next keyframe).
  int wanted_step = -1;
  int target_step = -1;
  int stream_step = -1;
  uint64_t stream_switches = 0;
};

class PixelSession : public std::enable_shared_from_this<PixelSession> {
 public:
  // On the pixel port: TLS and the upgrade request are read by the session.
  PixelSession(Server::Core& core, tcp::socket socket);
  // On the control port's /pixel path: the front door has read the upgrade request.
  PixelSession(Server::Core& core, net::WsStream ws, beast::http::request<beast::http::string_body> upgrade);
  void start();
  // Offers one frame; returns false when it was skipped for this client.
  bool offer(const std::shared_ptr<const OutgoingFrame>& frame);
  // Frames sent or queued that the client has not receipted (0 without receipts).
  size_t frames_in_flight() const;
  // Whether a new frame would reach this client without waiting behind others.
  bool ready_for_frame() const;
  // A text message from the client: a frame receipt (anything else is counted, ignored).
  void on_text(std::string_view text);
  void close();
  const PixelSessionState& state() const { return state_; }
  const LinkRate& link() const { return link_; }
  // The encode this client is to receive (served_step of its wanted step).
  void set_target_step(int step) { state_.target_step = step; }
  // Holds the connection's place among the unauthenticated until its token is checked.
  void hold(AdmissionTicket t) { ticket_ = std::move(t); }

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> serve(beast::http::request<beast::http::string_body> req);
  asio::awaitable<void> write_loop();
  // After a receipt: the cap step the link wants; a change re-plans the encodes.
  void update_wanted_step();

  Server::Core& core_;
  net::WsStream ws_;
  std::optional<beast::http::request<beast::http::string_body>> upgrade_;  // set: read by the front door
  asio::steady_timer queue_signal_;
  std::deque<std::shared_ptr<const OutgoingFrame>> queue_;
  AdmissionTicket ticket_;
  PixelSessionState state_;
  LinkRate link_;  // fed with every frame written and every receipt
};

// front_door.cpp: the answer to a request that could not be read (431/413 when it is too
// big, 400 when it is not HTTP); nullopt when the peer just left or the error is not HTTP's.
std::optional<beast::http::response<beast::http::string_body>> refusal_for_read_error(const boost::system::error_code& ec);

std::string now_frame_id(const char* prefix);
// Envelope builders shared by the dispatch files.
protocol::Envelope make(const char* type, protocol::Json payload, const char* id_prefix);
protocol::Envelope command_error(const std::string& in_reply_to, const std::string& code, const std::string& message,
                                 protocol::Json details = protocol::Json::object());

}  // namespace voxcast::server
