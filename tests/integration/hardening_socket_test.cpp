// Bounds on the server's sockets (issue 16, items 1 and 2): memory before authentication,
// unauthenticated connections, fd exhaustion, a session that never reads, and pixel
// clients that fall behind.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <span>
#include <thread>

#include "fixture.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/data/in_memory.hpp"
#include "voxcast/protocol/pixel_header.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

std::string handshake(RawControl& raw, const std::string& token) {
  raw.send(hello_frame(token));
  auto w = raw.read();
  if (!w || (*w)["type"] != "session.welcome") return "";
  return (*w)["session"].get<std::string>();
}

bool wait_for(const std::function<bool()>& done, double timeout_s) {
  const double deadline = steady_ms() + timeout_s * 1000.0;
  while (!done()) {
    if (steady_ms() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A plain TCP connection from `source` (any 127.x.y.z reaches the server on loopback).
struct RawSocket {
  asio::io_context io;
  tcp::socket s{io};
  bool connected = false;
  explicit RawSocket(uint16_t port, const std::string& source = "127.0.0.1") {
    boost::system::error_code ec;
    s.open(tcp::v4(), ec);
    if (!ec) s.bind({asio::ip::make_address(source), 0}, ec);
    if (!ec) s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    connected = !ec;
  }
  void send(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(s, asio::buffer(bytes), ec);
  }
  // Everything the server sends until it closes or `timeout_s` passes; `*closed` says which.
  std::string read_all(double timeout_s, bool* closed = nullptr) {
    timeval tv{0, 100000};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string got;
    const double deadline = steady_ms() + timeout_s * 1000.0;
    char buf[4096];
    while (steady_ms() < deadline) {
      ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, 0);
      if (n > 0) {
        got.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      if (closed) *closed = true;  // EOF or reset
      return got;
    }
    if (closed) *closed = false;
    return got;
  }
};

// Completes a WebSocket upgrade on `s` by hand; true on 101.
bool raw_upgrade(RawSocket& s) {
  timeval tv{5, 0};
  setsockopt(s.s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  s.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  std::string got;
  char c;
  while (got.find("\r\n\r\n") == std::string::npos && got.size() < 4096 && ::recv(s.s.native_handle(), &c, 1, 0) == 1)
    got += c;
  return got.rfind("HTTP/1.1 101", 0) == 0;
}

// The header of a masked text frame announcing `length` payload bytes (mask key 0).
std::string frame_header(uint64_t length) {
  std::string h = {static_cast<char>(0x81), static_cast<char>(0x80 | 127)};
  for (int i = 7; i >= 0; --i) h += static_cast<char>((length >> (8 * i)) & 0xff);
  return h + std::string(4, '\0');
}

// Pixels that change everywhere from one z to the next, so every P-frame is large and a
// peer that does not read fills its socket buffers within a second.
std::unique_ptr<data::VolumeSource> noise_volume() {
  data::VolumeInfo info;
  info.name = "noise";
  info.kind = "synthetic";
  for (const char* name : {"z", "y", "x"}) {
    data::Axis axis;
    axis.name = name;
    axis.type = "space";
    info.axes.push_back(axis);
  }
  info.shape = {8, 120, 160};
  info.dtype = data::DType::u8;
  data::ChannelInfo ch;
  ch.name = "noise";
  ch.colormap = "gray";
  ch.contrast_lo = 0;
  ch.contrast_hi = 255;
  info.channels = {ch};
  data::ensure_levels(&info);
  std::vector<uint8_t> bytes(8 * 120 * 160);
  std::mt19937 rng(16);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng() & 0xff);
  return std::make_unique<data::InMemoryArray>(std::move(info), std::move(bytes));
}

TestServerOptions noisy() {
  TestServerOptions o;
  o.make_source = noise_volume;
  return o;
}

// A pixel client that completes its upgrade and then reads only when told to (a small
// receive buffer, so the server's side fills soon). Records every frame it reads.
struct PixelReader {
  struct Seen {
    uint32_t seq;
    bool keyframe;
    double at_ms;
  };
  asio::io_context io;
  beast::websocket::stream<tcp::socket> ws{io};
  std::atomic<bool> reading{false}, stop{false};
  std::thread thread;
  mutable std::mutex mutex;
  std::vector<Seen> seen;

  PixelReader(uint16_t port, const std::string& token) {
    ws.next_layer().open(tcp::v4());
    ws.next_layer().set_option(asio::socket_base::receive_buffer_size(4096));
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    ws.handshake("127.0.0.1:" + std::to_string(port), "/?token=" + token);
    thread = std::thread([this] {
      beast::flat_buffer buf;
      while (!stop) {
        if (!reading) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        buf.clear();
        boost::system::error_code ec;
        ws.read(buf, ec);
        if (ec) return;
        auto data = buf.data();
        auto h = protocol::read_pixel_header(
            std::span<const uint8_t>(static_cast<const uint8_t*>(data.data()), data.size()));
        if (!h) continue;
        std::lock_guard lock(mutex);
        seen.push_back({h->seq, (h->flags & protocol::kFlagKeyframe) != 0, steady_ms()});
      }
    });
  }
  ~PixelReader() {
    stop = true;
    boost::system::error_code ec;
    ws.next_layer().shutdown(tcp::socket::shutdown_both, ec);
    thread.join();
  }
  std::vector<Seen> frames() const {
    std::lock_guard lock(mutex);
    return seen;
  }
};

// A control client with a tiny receive buffer that authenticates and then only sends.
struct DeafControl {
  asio::io_context io;
  beast::websocket::stream<tcp::socket> ws{io};
  std::string session;
  DeafControl(uint16_t port, const std::string& token) {
    ws.next_layer().open(tcp::v4());
    ws.next_layer().set_option(asio::socket_base::receive_buffer_size(4096));
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    ws.handshake("127.0.0.1:" + std::to_string(port), "/");
    ws.text(true);
    ws.write(asio::buffer(hello_frame(token).dump()));
    beast::flat_buffer buf;
    ws.read(buf);
    Json w = Json::parse(beast::buffers_to_string(buf.data()));
    if (w["type"] == "session.welcome") session = w["session"];
  }
  bool send(const Json& j) {
    boost::system::error_code ec;
    ws.write(asio::buffer(j.dump()), ec);
    return !ec;
  }
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int highest_open_fd() {
  int highest = -1;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') highest = std::max(highest, std::atoi(e->d_name));
    closedir(d);
  }
  return highest;
}

// IDRs among the interactive frames (a refinement, the re-encode of a still picture, may
// be one: that is when a client that fell behind gets its keyframe).
int moving_keyframes(const std::vector<client::FrameRecord>& frames, size_t from, double until_ms) {
  int n = 0;
  for (size_t i = from; i < frames.size(); ++i)
    n += frames[i].keyframe && !frames[i].refined && frames[i].received_ms <= until_ms ? 1 : 0;
  return n;
}

// Scrubs z for `seconds` through `c`; returns when it stopped (steady ms).
double scrub(client::ClientStreamLoop& c, double seconds) {
  const double t0 = steady_ms();
  for (int i = 0; steady_ms() - t0 < seconds * 1000.0; ++i) {
    c.set_dims_index("z", i % 8);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  return steady_ms();
}

}  // namespace

TEST(HardeningSocket, MessagesBeforeAuthenticationAreSmall) {
  TestServer srv;
  {
    // A hello announcing 1 MiB (a hello is a few hundred bytes): the server answers from
    // the frame header alone, closing with 1009 (too big), before the payload arrives.
    RawSocket s(srv.get().control_port());
    ASSERT_TRUE(raw_upgrade(s));
    s.send(frame_header(1 << 20) + "{\"type\":\"session.hello\"");
    bool closed = false;
    std::string got = s.read_all(5, &closed);
    ASSERT_GE(got.size(), 4u) << "no close frame";
    EXPECT_EQ(static_cast<uint8_t>(got[0]), 0x88) << "a close frame";
    EXPECT_EQ((static_cast<uint8_t>(got[2]) << 8) | static_cast<uint8_t>(got[3]), 1009);
    EXPECT_TRUE(closed);
  }
  // After authentication the full limit applies: a 1 MiB frame gets a typed answer.
  RawControl ok("127.0.0.1", srv.get().control_port());
  std::string sid = handshake(ok, srv.get().token());
  ASSERT_FALSE(sid.empty());
  ok.send(state_update_frame(sid, "big", "dims", "z", "index", std::string(1 << 20, '7')));
  auto ack = ok.read_type("ack.state");
  ASSERT_TRUE(ack);
  EXPECT_EQ((*ack)["payload"]["status"], "rejected");
  EXPECT_LT((*ack).dump().size(), 4096u) << "the reply does not echo the 1 MiB value";
}

TEST(HardeningSocket, HttpAndUpgradeRequestsAreBounded) {
  TestServer srv;
  const std::string pad(17 << 10, 'h');  // past the 16 KiB request bound
  {
    RawSocket s(srv.get().control_port());
    s.send("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + pad + "\r\n\r\n");
    EXPECT_EQ(s.read_all(5).rfind("HTTP/1.1 431", 0), 0u) << "a huge header on the control port";
  }
  {
    RawSocket s(srv.get().control_port());
    s.send("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n");
    EXPECT_EQ(s.read_all(5).rfind("HTTP/1.1 413", 0), 0u) << "a 1 MiB body before authentication";
  }
  {
    RawSocket s(srv.get().pixel_port());
    s.send("GET /?token=x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Pad: " + pad + "\r\n\r\n");
    EXPECT_EQ(s.read_all(5).rfind("HTTP/1.1 431", 0), 0u) << "a huge upgrade on the pixel port";
  }
  {
    RawSocket s(srv.get().pixel_port());
    s.send("hello\r\n\r\n");
    EXPECT_EQ(s.read_all(5).rfind("HTTP/1.1 400", 0), 0u) << "not HTTP on the pixel port";
  }
  // The ports still serve ordinary requests.
  RawSocket s(srv.get().control_port());
  s.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(s.read_all(5).rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_TRUE(wait_for([&] { return srv.get().stats().unauthenticated == 0; }, 5));
}

TEST(HardeningSocket, UnauthenticatedConnectionsAreBoundedPerAddressAndInTotal) {
  EXPECT_EQ(server::ServerConfig{}.unauthenticated_per_ip, 16);
  EXPECT_EQ(server::ServerConfig{}.unauthenticated_total, 128);
  TestServerOptions o;
  o.unauthenticated_per_ip = 4;
  o.unauthenticated_total = 6;
  TestServer srv(o);
  const uint16_t port = srv.get().control_port();
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<RawSocket>(port, "127.0.0.1"));
  ASSERT_TRUE(idle.back()->connected);
  ASSERT_TRUE(wait_for([&] { return srv.get().stats().unauthenticated == 4; }, 5));
  {
    RawSocket over(port, "127.0.0.1");
    bool closed = false;
    EXPECT_EQ(over.read_all(3, &closed).rfind("HTTP/1.1 503", 0), 0u) << "the fifth from one address";
    EXPECT_TRUE(closed);
  }
  // Another address has its own allowance, up to the total.
  for (int i = 0; i < 2; ++i) idle.push_back(std::make_unique<RawSocket>(port, "127.0.0.2"));
  ASSERT_TRUE(idle.back()->connected) << "127.0.0.2 is not usable here";
  ASSERT_TRUE(wait_for([&] { return srv.get().stats().unauthenticated == 6; }, 5));
  for (const char* source : {"127.0.0.2", "127.0.0.3"}) {
    RawSocket over(port, source);
    bool closed = false;
    EXPECT_EQ(over.read_all(3, &closed).rfind("HTTP/1.1 503", 0), 0u) << "past the total, from " << source;
    EXPECT_TRUE(closed);
  }
  EXPECT_EQ(srv.get().stats().connections_refused, 3u);
  bool closed = true;
  EXPECT_EQ(idle.front()->read_all(0.2, &closed), "");
  EXPECT_FALSE(closed) << "those within the limits wait for their request";
  // A place given back is a place for a real client; once welcomed it holds none.
  idle.erase(idle.begin());  // one from 127.0.0.1
  ASSERT_TRUE(wait_for([&] { return srv.get().stats().unauthenticated == 5; }, 5));
  RawControl real("127.0.0.1", port);
  EXPECT_FALSE(handshake(real, srv.get().token()).empty());
  EXPECT_TRUE(wait_for([&] { return srv.get().stats().unauthenticated == 5; }, 5));
}

TEST(HardeningSocket, AtTheDescriptorLimitTheAcceptLoopRefusesPolitelyAndDoesNotSpin) {
  TestServer srv;
  const uint16_t port = srv.get().control_port();
  {
    // A session first, so the server's timers exist and the sanitizers have checked their
    // types before no file can be opened (UBSan's check itself needs descriptors).
    RawControl warm("127.0.0.1", port);
    ASSERT_FALSE(handshake(warm, srv.get().token()).empty());
  }
  ASSERT_TRUE(wait_for([&] {
    auto st = srv.get().stats();
    return st.control_clients == 0 && st.unauthenticated == 0;
  }, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // its socket closed too
  // Sockets made before the limit; connecting them needs no new descriptor here, while
  // the server needs one for each accept.
  std::vector<tcp::socket> clients;
  auto io = std::make_unique<asio::io_context>();
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back(*io);
    clients.back().open(tcp::v4());
  }
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(highest_open_fd() + 1);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<int> fillers;  // every free number below the limit, so the next open fails
  for (int fd; fillers.size() < 4096 && (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers.push_back(fd);
  const int open_errno = errno;
  const double c0 = cpu_seconds();
  for (auto& c : clients) {
    boost::system::error_code ec;
    c.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double busy = cpu_seconds() - c0;
  std::vector<std::string> answers;
  for (auto& c : clients) {
    timeval tv{2, 0};
    setsockopt(c.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256] = {};
    ssize_t n = ::recv(c.native_handle(), buf, sizeof buf - 1, 0);
    answers.emplace_back(n > 0 ? std::string(buf, static_cast<size_t>(n)) : "");
  }
  for (int fd : fillers) ::close(fd);
  setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_EQ(open_errno, EMFILE);
  EXPECT_LT(busy, 0.3) << "the accept loop spins at EMFILE";
  for (const auto& a : answers) EXPECT_EQ(a.rfind("HTTP/1.1 503", 0), 0u) << "a refused peer is told why: " << a;
  EXPECT_GE(srv.get().stats().connections_refused, clients.size());
  clients.clear();
  RawControl real("127.0.0.1", port);
  EXPECT_FALSE(handshake(real, srv.get().token()).empty()) << "real clients get in again";
}

TEST(HardeningSocket, ASessionThatNeverReadsIsClosedWithABoundedQueue) {
  // A data root whose listing is ~80 KB, so a few hundred requests queue past the bound.
  char tmpl[] = "/tmp/voxcast-deaf-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  const std::filesystem::path root = tmpl;
  for (int i = 0; i < 300; ++i)
    std::filesystem::create_directory(root / (std::to_string(i) + std::string(200, 'd')));
  TestServerOptions o;
  o.data_root = root.string();
  TestServer srv(o);
  DeafControl deaf(srv.get().control_port(), srv.get().token());
  ASSERT_FALSE(deaf.session.empty());
  // Every update is acked and notified, every listing answered; this peer reads none of it.
  // The server closes it once its queue passes the bound (instead of growing by 250 MB).
  int sent = 0;
  for (; sent < 200; ++sent)
    if (!deaf.send(state_update_frame(deaf.session, std::to_string(sent), "dims", "z", "index", sent % 8))) break;
  for (; sent < 2000; ++sent) {
    Json listdir = {{"type", "call.command"}, {"version", 2}, {"session", deaf.session},
                    {"frame_id", "ls-" + std::to_string(sent)}, {"timestamp", 1.0},
                    {"payload", {{"command", "fs.listdir"}, {"args", Json::array()}, {"kwargs", {{"path", nullptr}}}}}};
    if (!deaf.send(listdir)) break;
  }
  // The requests wait in the kernel's buffers; a sanitizer build takes a while to answer enough.
  EXPECT_TRUE(wait_for([&] { return srv.get().stats().control_clients == 0; }, 60)) << "after " << sent << " frames";
  auto stats = srv.get().stats();
  EXPECT_EQ(stats.sessions_shed, 1u);
  EXPECT_GT(stats.notifies_coalesced, 0u) << "superseded notify.dims went first";
  // Everyone else is unaffected.
  RawControl ok("127.0.0.1", srv.get().control_port());
  EXPECT_FALSE(handshake(ok, srv.get().token()).empty());
  std::filesystem::remove_all(root);
}

TEST(HardeningSocket, AStalledPixelClientForcesNoKeyframesOnOthers) {
  TestServer srv(noisy());
  PixelReader stalled(srv.get().pixel_port(), srv.get().token());  // never reads
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return !c.frames().empty(); }, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both joined (their first keyframe is shared)
  const size_t before = c.frames().size();
  const uint64_t skipped_before = srv.get().stats().frames_skipped;
  const double stopped = scrub(c, 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto frames = c.frames();
  EXPECT_GT(frames.size() - before, 10u) << "the scrubbing client kept getting frames";
  EXPECT_EQ(moving_keyframes(frames, before, stopped), 0) << "IDRs forced on the scrubbing client by the stalled one";
  EXPECT_GT(srv.get().stats().frames_skipped - skipped_before, 0u) << "the stalled client did fall behind";
  EXPECT_EQ(srv.get().stats().render.quiet_keyframe_pending, false) << "a stalled client never asks for its IDR";
}

TEST(HardeningSocket, AClientThatFellBehindRecoversAtTheNextStillMomentNotWhileTheViewMoves) {
  TestServer srv(noisy());
  PixelReader slow(srv.get().pixel_port(), srv.get().token());
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return !c.frames().empty(); }, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const size_t before = c.frames().size();
  const uint64_t skipped_before = srv.get().stats().frames_skipped;
  // The slow client reads nothing for the first 2.5 s of a 5 s scrub (its queue overflows),
  // then catches up while the view still moves.
  std::thread wake([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    slow.reading = true;
  });
  const double stopped = scrub(c, 5);
  wake.join();
  EXPECT_GT(srv.get().stats().frames_skipped - skipped_before, 0u) << "the slow client did fall behind";
  EXPECT_EQ(moving_keyframes(c.frames(), before, stopped), 0) << "its recovery cost the scrubbing client an IDR";
  // Once the view is still it gets its keyframe.
  ASSERT_TRUE(wait_for([&] {
    for (const auto& f : slow.frames())
      if (f.keyframe && f.at_ms > stopped) return true;
    return false;
  }, 10)) << "the client that fell behind never recovered";
  // `seq` counts the frames it was sent: no gaps for the frames the server dropped.
  auto seen = slow.frames();
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i].seq, seen[i - 1].seq + 1);
}
