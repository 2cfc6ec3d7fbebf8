#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "voxcast/data/chunk_cache.hpp"
#include "voxcast/data/remote_store.hpp"
#include "voxcast/data/volume_source.hpp"
#include "voxcast/protocol/result.hpp"
#include "voxcast/server/render_loop.hpp"

namespace voxcast::server {

// Everything the server needs, resolved once from CLI and environment at start.
struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t control_port = 8081;  // 0: pick a free port
  uint16_t pixel_port = 8082;
  bool require_token = true;
  std::string token;  // empty with require_token: generated at start
  int width = 1920;
  int height = 1080;
  double fps = 60.0;
  int crf = 23;
  int still_crf = 12;
  int threads = 0;
  double frame_ms = 33.0;  // 3D frame-time budget while interacting (adaptive resolution)
  std::string renderer = "auto";  // 3D renderer: auto, cuda, cpu
  double volume_mb = 4096;        // 3D on the CPU: whole volumes or bricks in host memory
  double gpu_mb = 16384;          // 3D on CUDA: textures or the brick pool in GPU memory
  std::string bricks = "auto";    // 3D multiresolution bricks: auto (out of core), always, never
  std::string encoder = "auto";   // auto (NVENC when the GPU has one), x264, nvenc
  double heartbeat_s = 15.0;
  double hello_timeout_s = 5.0;
  size_t pixel_queue_frames = 3;  // per client; beyond it the client skips to the next keyframe
  // A client that sends frame receipts has at most this many frames sent or queued and not
  // yet receipted; the server renders the newest view when one of them is done.
  size_t pixel_frames_in_flight = 2;
  // Rate control per link (receipting clients): each client's throughput and delay are
  // estimated from its receipts, and its stream is encoded within a cap its link carries.
  bool rate_control = true;
  // Connections not yet authenticated (control before its welcome, pixel before its token
  // is checked, plain HTTP): beyond these a new one is answered 503 and closed.
  int unauthenticated_per_ip = 16;
  int unauthenticated_total = 128;
  std::string source_label;       // dataset as the user named it
  std::string data_root;          // what fs.listdir / napari.load_zarr may reach ("" = none)
  std::shared_ptr<data::ChunkCache> cache;  // chunk cache for datasets opened at run time
  // Remote stores: how they are reached, and the URL prefixes napari.load_zarr may open
  // (none by default: a client must not make the server fetch arbitrary URLs).
  std::shared_ptr<const data::RemoteOptions> remote;
  std::vector<std::string> remote_allow;
  // TLS (wss on both channels): a certificate chain and key (PEM files), or a certificate
  // made at start whose fingerprint the connection string carries.
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls_self_signed = false;
  // The browser client's files, served on the control port ("" or no index.html there:
  // / says the web client is not built and how to build it).
  std::string web_root;
};

// Counters of the network side, copied out on request.
struct ServerStats {
  int control_clients = 0;
  int pixel_clients = 0;
  uint64_t frames_sent = 0;
  uint64_t frames_skipped = 0;  // not sent to a client waiting for a keyframe or overflowing
  uint64_t stills_sent = 0;     // exact stills written to pixel clients that take them
  int still_clients = 0;        // pixel clients that asked for exact stills
  uint64_t stream_configs = 0;  // notify.stream broadcasts caused by a new avcC
  uint64_t datasets_loaded = 0; // napari.load_zarr switches
  int unauthenticated = 0;             // connections holding a place among the unauthenticated now
  uint64_t connections_refused = 0;    // over an unauthenticated limit, or at the descriptor limit
  uint64_t notifies_coalesced = 0;     // superseded notify.dims/camera dropped from a full outbox
  uint64_t sessions_shed = 0;          // control sessions closed because they did not read
  // Rate control: per pixel client, its link as estimated and the stream it is sent.
  struct PixelLink {
    double cap_bps = 0;        // 0: uncapped
    double delivered_bps = 0;
    double base_ms = -1, flight_ms = 0;
    int stream_step = -1;      // the encode it receives (-1: uncapped)
    uint64_t switches = 0;     // moves between encodes
    size_t in_flight = 0;      // frames sent or queued and not yet receipted
  };
  std::vector<PixelLink> pixel_links;
  RenderLoopState render;
};

// The voxcast server: control and pixel WebSockets on one network thread, the state
// ledger on that thread, the render loop on its own.
class Server {
 public:
  Server(ServerConfig config, std::unique_ptr<data::VolumeSource> source);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds both ports and starts the threads; the error names what failed.
  std::optional<protocol::Error> start();
  // Says goodbye to every client, closes the sockets and joins the threads.
  void stop();

  uint16_t control_port() const;
  uint16_t pixel_port() const;
  const std::string& token() const;  // empty without auth
  std::string connection_string() const;
  // The ready-to-open browser address with the token (http, or https with TLS).
  std::string browser_url() const;
  bool tls() const;
  const std::string& tls_fingerprint() const;  // of the served certificate; empty without TLS
  ServerStats stats() const;

  struct Core;  // network-thread state, defined inside the library

 private:
  std::unique_ptr<Core> core_;
};

}  // namespace voxcast::server
