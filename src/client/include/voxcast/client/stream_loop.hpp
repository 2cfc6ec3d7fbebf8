#pragma once
// The client core: ClientStreamLoop runs both channels (ws or wss) on one io thread,
// keeps its link state in one LoopState, reduces control frames into the scene mirror and
// the client ledger on a control thread, and decodes and presents frames on a media
// thread. No GUI: voxcast-headless, voxcast-viewer, the benchmark and the tests sit on it.
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "voxcast/client/frame_lease.hpp"
#include "voxcast/client/loop_state.hpp"
#include "voxcast/client/metrics.hpp"
#include "voxcast/client/mirror.hpp"
#include "voxcast/client/presenter.hpp"
#include "voxcast/codec/yuv.hpp"
#include "voxcast/core/connection.hpp"
#include "voxcast/protocol/envelope.hpp"

namespace voxcast::client {

// Everything the client needs, resolved once from CLI and environment (see
// apps/common/client_cli.hpp) and passed in.
struct ClientConfig {
  ConnectionOptions connection;  // host, ports, token, tls + certificate pin
  std::string tls_ca_file;       // verify the server against this CA bundle (default: the system's)
  bool tls_insecure = false;     // wss without verifying the server (trusted networks only)
  std::string log_level = "warn";  // debug, info, warn, error (applied by the app at start)
  std::string metrics_path;        // when set, the metrics (JSON) are written here at stop()
  std::string name = "voxcast-headless";
  std::string version = "0.1.0";
  double connect_timeout_s = 5.0;
  bool want_notify_error = true;  // voxcast addition: typed error frames
  bool exact_stills = true;       // voxcast addition: lossless stills when the view rests (--no-exact-stills)
  bool frame_receipts = true;     // voxcast addition: receipt each frame, so none waits behind older ones
  bool connect_pixels = true;
  std::string dump_path;          // when set, decodable access units are appended here (Annex-B)
  int decoder_threads = 2;  // slice threads: parallel without holding frames back
  std::string decoder = "auto";  // auto (hardware when present, else software), software, vaapi, cuda, videotoolbox
  int decoder_fallback_after = 3;  // failures in a row before the decoder is replaced
  int inject_decode_failures = 0;  // tests: the first N access units fail
  PresenterConfig presenter;        // when decoded frames are shown
  bool reconnect = true;            // reconnect with back-off when a channel drops
  double reconnect_min_ms = 50;
  double reconnect_max_ms = 1000;
  size_t history_limit = 20000;  // frame, intent and control-frame records kept for reports
};

// One state.update the client sent and what became of it.
struct IntentRecord {
  std::string frame_id;
  std::string intent_id;
  double sent_ms = 0;   // steady clock
  double acked_ms = 0;  // 0 until the ack arrives
  bool accepted = false;
  int64_t version = 0;  // ledger version from the ack
  protocol::Json applied_value;
  std::string error_code;
  double presented_ms = 0;  // first presented frame showing it (steady clock)
};

// The answer to one call.command: a reply (ok, result) or an error (the server's code,
// or "command.timeout" / "command.lost" from the client).
struct CommandResult {
  bool ok = false;
  protocol::Json result;
  std::string code;
  std::string message;
  protocol::Json details;
};

// One frame from the pixel channel.
struct FrameRecord {
  uint32_t seq = 0;
  bool keyframe = false;
  size_t bytes = 0;
  int width = 0, height = 0;  // header
  double received_ms = 0;     // steady clock
  double decoded_ms = 0;      // 0 when not decoded
  double presented_ms = 0;    // steady clock; 0 until the presenter showed it (superseded frames never are)
  double decode_ms = 0;
  uint64_t scene_version = 0;  // from the frame-meta SEI
  double render_ms = 0, encode_ms = 0;
  bool refined = false;
  bool partial = false;  // a coarser level stood in; the full-resolution frame follows
  uint16_t levels_drawn = 0;    // 3D bricks: bit L when pyramid level L was drawn from
  uint32_t bricks_loading = 0;  // 3D bricks: wanted bricks still loading
  bool decoded = false;
  bool still = false;    // an exact still (PNG), decoded into RGBA when `decoded`
};

// What the presented picture is: the server's render exactly, a coarser stand-in, or video.
const char* picture_quality(const FrameRecord& r);

struct ClientStats {
  uint64_t control_frames = 0;
  uint64_t invalid_notifies = 0;
  uint64_t pixel_messages = 0;
  uint64_t frames_decoded = 0;
  uint64_t frames_dropped = 0;
  uint64_t decode_errors = 0;
  uint64_t keyframe_requests = 0;
  uint64_t gaps = 0;
  uint64_t bytes = 0;
  std::string decoder;  // "software", "vaapi", "cuda", ...
  uint64_t decoder_recreations = 0;
  uint64_t decoder_fallbacks = 0;  // hardware -> software
  std::string link = "up";           // "up", "reconnecting", "pixel reconnecting", "down" (from LoopState)
  uint64_t reconnects = 0;           // new sessions after a lost control channel
  uint64_t pixel_reconnects = 0;     // pixel channel reopened alone
  uint64_t stills_received = 0;      // exact stills (lossless) that arrived
  uint64_t receipts_sent = 0;        // frame receipts written on the pixel socket (pixel.receipts)
  uint64_t stills_shown = 0;         // of those, presented (the others were stale or undecodable)
  uint64_t stills_invalid = 0;
  std::string shown_quality = "none";  // of the presented picture: exact, partial or lossy (picture_quality)
  uint64_t restored_properties = 0;  // state.updates sent to restore the view after a reconnect
  uint64_t replayed_intents = 0;     // of those, intents the lost session never confirmed
};

class ClientStreamLoop {
 public:
  explicit ClientStreamLoop(ClientConfig config);
  ~ClientStreamLoop();
  ClientStreamLoop(const ClientStreamLoop&) = delete;
  ClientStreamLoop& operator=(const ClientStreamLoop&) = delete;

  // Connects the control socket (hello -> welcome) and then the pixel socket.
  // Fails with the server's reject code, or "connect.failed" / "connect.timeout" /
  // "connect.tls" (bad TLS options, handshake or certificate check failed).
  std::optional<protocol::Error> connect();
  // Deterministic shutdown: goodbye, both sockets closed, the io thread joined, the
  // control reducer drained and joined, pending calls settled, then the media thread lets
  // the presenter's frames go and destroys the decoder. The metrics file is written last.
  void stop();
  bool connected() const;
  // Closes the pixel socket as a network fault would (tests, diagnostics); the client
  // reopens it and re-gates the decoder on the next keyframe.
  void simulate_pixel_loss();
  const std::string& session_id() const;

  // Thread-safe senders; each returns the frame_id it used.
  std::string send_state(const std::string& scope, const std::string& target, const std::string& key,
                         protocol::Json value);
  std::string send_command(const std::string& command, protocol::Json kwargs = protocol::Json::object());
  // A slider move: throttled per axis (leading edge now, at most 60 updates/s, the final
  // value always sent); displayed() shows the new value at once.
  void set_dims_index(const std::string& axis, int64_t value);
  // A camera or layer control change (a drag, a wheel): throttled per property like the
  // dims (leading edge now, <= 60 updates/s, the final value always sent); displayed()
  // shows the new value at once. Send whole values (a full camera pose), as later values
  // of a property replace earlier ones.
  void set_property(const std::string& scope, const std::string& target, const std::string& key, protocol::Json value);
  // What a control should show for "dims:z:index", "layer:layer-0:opacity", ...: the newest
  // local intent until the server confirms or rejects it, else the server's value.
  protocol::Json displayed(const std::string& property) const;
  // The command lane: a future per call, settled by the reply, the error, the time-out or
  // the loss of the session, whichever comes first.
  std::future<CommandResult> call(const std::string& command, protocol::Json kwargs, double timeout_s = 5.0);
  std::string request_keyframe();
  void send_raw(std::string text);  // as-is (tests of malformed input)

  // Copies of what the client knows (thread-safe).
  ClientMirror mirror() const;
  std::vector<protocol::Envelope> received() const;  // every control frame, in order
  std::vector<IntentRecord> intents() const;
  std::vector<FrameRecord> frames() const;
  std::optional<FrameRecord> last_frame() const;  // without copying the history
  ClientStats stats() const;
  LoopState loop_state() const;
  ClientMetrics metrics() const;
  std::optional<codec::YuvImage> latest_picture() const;  // the presented frame (a copy)
  // The presented frame without a copy: its lease with the renderer role acquired (null
  // when nothing is shown). The caller draws from lease->frame(LeaseRole::renderer) and
  // releases the role exactly once when it is done (a GUI: when the next frame replaces it).
  std::shared_ptr<FrameLease> acquire_presented() const;
  // Called on the media thread after each newly presented frame (set before connect();
  // a GUI posts a repaint from it and returns at once).
  void set_present_callback(std::function<void()> callback);
  // A display that can take pictures in GPU memory (the viewer's canvas, when its GL
  // context is on the decoding GPU) asks for them; from the next access unit a CUDA or
  // VA-API decoder's pictures then stay there (YuvImage::device). Off again: system memory.
  void keep_frames_on_device(bool keep);
  // Latest decoded picture converted to RGBA; false when there is none yet.
  bool latest_rgba(std::vector<uint8_t>* rgba, int* width, int* height) const;

  // Waits until `pred` (evaluated under no lock) holds, re-checking as frames arrive.
  bool wait_until(const std::function<bool()>& pred, double timeout_s) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxcast::client
