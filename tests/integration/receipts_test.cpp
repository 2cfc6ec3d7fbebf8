// Frame receipts (pixel.receipts): a client that receipts keeps at most a couple of
// frames in flight, and the frame made when it is done is the newest view.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "fixture.hpp"
#include "voxcast/codec/decoder.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/protocol/frame_meta.hpp"
#include "voxcast/protocol/pixel_header.hpp"
#include "voxcast/protocol/receipt.hpp"
#include "voxcast/protocol/still.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;

// A bare pixel socket: its reads and writes run on its own io thread; frames wait in a queue.
class RawPixel {
 public:
  struct Frame {
    protocol::PixelHeader header;
    uint64_t scene_version = 0;
    protocol::Bytes payload;  // what follows the header (an AVCC access unit, or a still)
  };
  RawPixel(uint16_t port, const std::string& target) : ws_(io_), work_(asio::make_work_guard(io_)) {
    ws_.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    ws_.handshake("127.0.0.1:" + std::to_string(port), target);
    start_read();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RawPixel() {
    asio::post(io_, [this] {
      boost::system::error_code ec;
      ws_.next_layer().close(ec);
    });
    work_.reset();
    thread_.join();
  }
  // The next frame, or nullopt after `timeout_s`.
  std::optional<Frame> read(double timeout_s) {
    std::unique_lock lock(mutex_);
    if (!arrived_.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return !frames_.empty(); }))
      return std::nullopt;
    Frame f = frames_.front();
    frames_.pop_front();
    return f;
  }
  // Every frame that arrives within `seconds`.
  std::vector<Frame> read_for(double seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    std::lock_guard lock(mutex_);
    std::vector<Frame> out(frames_.begin(), frames_.end());
    frames_.clear();
    return out;
  }
  void send_text(std::string text) {
    asio::post(io_, [this, text = std::move(text)] {
      outbox_.push_back(text);
      if (outbox_.size() == 1) write_next();
    });
  }

 private:
  void start_read() {
    ws_.async_read(buf_, [this](boost::system::error_code ec, size_t) {
      if (ec) return;
      auto d = buf_.data();
      protocol::ByteSpan bytes(static_cast<const uint8_t*>(d.data()), d.size());
      if (auto h = protocol::read_pixel_header(bytes)) {
        Frame f{h.value(), 0, protocol::Bytes(bytes.begin() + protocol::kPixelHeaderSize, bytes.end())};
        if (auto meta = protocol::find_frame_meta(bytes.subspan(protocol::kPixelHeaderSize)))
          f.scene_version = meta->scene_version;
        std::lock_guard lock(mutex_);
        frames_.push_back(f);
        arrived_.notify_all();
      }
      buf_.clear();
      start_read();
    });
  }
  void write_next() {
    ws_.text(true);
    ws_.async_write(asio::buffer(outbox_.front()), [this](boost::system::error_code ec, size_t) {
      outbox_.pop_front();
      if (!ec && !outbox_.empty()) write_next();
    });
  }

  asio::io_context io_;
  beast::websocket::stream<asio::ip::tcp::socket> ws_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  beast::flat_buffer buf_;
  std::deque<std::string> outbox_;  // io thread only
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<Frame> frames_;
  std::thread thread_;
};

std::string handshake(RawControl& raw, const std::string& token) {
  Json hello = hello_frame(token);
  hello["payload"]["features"][protocol::kFeaturePixelReceipts] = true;
  raw.send(hello);
  auto w = raw.read();
  if (!w || (*w)["type"] != "session.welcome") return "";
  EXPECT_EQ((*w)["payload"]["features"][protocol::kFeaturePixelReceipts]["enabled"], true) << w->dump();
  return (*w)["session"].get<std::string>();
}

// Sends z = 1..n, each acked; the scene version of the last.
int64_t scrub(RawControl& raw, const std::string& sid, int n, const std::string& tag) {
  int64_t version = 0;
  for (int i = 1; i <= n; ++i) {
    raw.send(state_update_frame(sid, tag + std::to_string(i), "dims", "z", "index", i % 8));
    auto ack = raw.read_type("ack.state");
    if (!ack) return -1;
    version = (*ack)["payload"].value("version", int64_t{-1});
  }
  return version;
}
}  // namespace

TEST(Receipts, AClientThatHasNotReceiptedGetsNoMoreThanItsWindowThenTheNewestView) {
  TestServer srv;
  RawControl raw("127.0.0.1", srv.get().control_port());
  const std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  RawPixel px(srv.get().pixel_port(), "/?token=" + srv.get().token() + "&receipts=1");
  auto first = px.read(5);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->header.keyframe());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a refinement pass may follow the first frame
  auto settled = px.read_for(0.05);
  // Six new views, none receipted: the frames in flight stay within the window (2; one
  // more may be on its way while the server learns of the last), plus one per bounded
  // wait (250 ms) that ran out while the intents went (a slow machine).
  const auto scrub_start = std::chrono::steady_clock::now();
  const int64_t newest = scrub(raw, sid, 6, "a");
  ASSERT_GT(newest, 0);
  auto during = px.read_for(0.2);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - scrub_start).count();
  const size_t in_flight = 1 + settled.size() + during.size();
  EXPECT_LE(in_flight, 3u + static_cast<size_t>(elapsed / 0.25)) << "frames kept coming without receipts";
  // Done with everything: what follows is at most the frames already on their way, then
  // the newest view, not the ones in between.
  const uint32_t last_seq = during.empty() ? (settled.empty() ? first->header.seq : settled.back().header.seq)
                                           : during.back().header.seq;
  px.send_text(protocol::receipt_text(last_seq));
  std::optional<RawPixel::Frame> next;
  int before_newest = 0;
  for (int i = 0; i < 20; ++i) {
    next = px.read(2);
    if (!next || next->scene_version >= static_cast<uint64_t>(newest)) break;
    ++before_newest;
  }
  ASSERT_TRUE(next) << "no frame after the receipt";
  EXPECT_EQ(next->scene_version, static_cast<uint64_t>(newest));
  EXPECT_LE(before_newest, 2) << "views in between were rendered after the receipt";
  EXPECT_GE(srv.get().stats().render.paced_waits, 1u);
}

TEST(Receipts, MalformedReceiptsAreIgnoredAndTheStreamGoesOn) {
  TestServer srv;
  RawControl raw("127.0.0.1", srv.get().control_port());
  const std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  RawPixel px(srv.get().pixel_port(), "/?token=" + srv.get().token() + "&receipts=1");
  auto first = px.read(5);
  ASSERT_TRUE(first);
  for (const char* bad : {"{}", "not json", R"({"seq":999999})", R"({"seq":-4})"}) px.send_text(bad);
  px.send_text(protocol::receipt_text(first->header.seq));
  const int64_t newest = scrub(raw, sid, 3, "b");
  std::optional<RawPixel::Frame> f;
  for (int i = 0; i < 20 && !(f && f->scene_version >= static_cast<uint64_t>(newest)); ++i) {
    f = px.read(2);
    if (f) px.send_text(protocol::receipt_text(f->header.seq));
  }
  ASSERT_TRUE(f) << "the socket stopped after malformed receipts";
  EXPECT_EQ(f->scene_version, static_cast<uint64_t>(newest));
}

TEST(Receipts, AClientThatNeverReceiptsDoesNotHoldUpAPlainOne) {
  TestServer srv;
  RawPixel stuck(srv.get().pixel_port(), "/?token=" + srv.get().token() + "&receipts=1");
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.stats().frames_decoded >= 1; }, 5));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i <= 12; ++i) {
    const auto before = c.metrics().frames_presented;
    c.send_state("dims", "z", "index", i % 8);
    ASSERT_TRUE(c.wait_until([&] { return c.metrics().frames_presented > before; }, 5)) << "step " << i;
  }
  // Each step waited for a picture; none waited out the bounded receipt wait (250 ms each).
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 12 * 0.25) << "the plain client was paced by the one that never receipts";
}

TEST(Receipts, TheNativeClientReceiptsTheFramesItHandles) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.stats().frames_decoded >= 1; }, 5));
  EXPECT_TRUE(c.loop_state().receipts);
  for (int i = 1; i <= 6; ++i) {
    const auto before = c.metrics().frames_presented;
    c.send_state("dims", "z", "index", i % 8);
    ASSERT_TRUE(c.wait_until([&] { return c.metrics().frames_presented > before; }, 5)) << "step " << i;
  }
  EXPECT_TRUE(c.wait_until([&] { return c.stats().receipts_sent >= 4; }, 5)) << c.stats().receipts_sent;
  // A client that turns them off is not paced and sends none.
  auto cc = srv.client_config();
  cc.frame_receipts = false;
  client::ClientStreamLoop plain(cc);
  ASSERT_FALSE(plain.connect());
  ASSERT_TRUE(plain.wait_until([&] { return plain.stats().frames_decoded >= 1; }, 5));
  EXPECT_FALSE(plain.loop_state().receipts);
  EXPECT_EQ(plain.stats().receipts_sent, 0u);
}


// Rate control per link: one client's receipts come back as from a 300 kbit/s link with
// 40 ms of round trip (the test is the link: each frame is done once the ones before it
// and its own bytes have crossed), another's over plain loopback. The slow one is moved to
// a capped encode at that encode's keyframe, every frame it gets decodes, and its frames
// shrink to its share of the link; the fast one keeps the uncapped stream throughout.
TEST(RateControl, AClientOnASlowLinkGetsACappedStreamAndAFastOneKeepsTheFullOne) {
  TestServerOptions o;
  o.make_source = [] { return make_noise_volume(); };
  TestServer srv(o);
  RawControl raw("127.0.0.1", srv.get().control_port());
  const std::string sid = handshake(raw, srv.get().token());
  ASSERT_FALSE(sid.empty());
  RawPixel slow(srv.get().pixel_port(), "/?token=" + srv.get().token() + "&receipts=1&still=png");
  client::ClientStreamLoop fast(srv.client_config());
  ASSERT_FALSE(fast.connect());
  ASSERT_TRUE(fast.wait_until([&] { return fast.stats().frames_decoded >= 1; }, 5));
  auto dec = codec::H264Decoder::open();
  ASSERT_TRUE(dec);
  const double rate_bps = 300e3, one_way_ms = 20;
  double busy_until = 0;
  std::deque<std::pair<double, uint32_t>> receipts;  // when the receipt is back, for which frame
  int decode_errors = 0, decoded = 0, after_switch = 0;
  double bytes_after_switch = 0;
  bool switched = false;
  const uint64_t fast_before = fast.stats().frames_decoded;
  const double until = steady_ms() + 30000;
  int step = 0;
  while (steady_ms() < until && after_switch < 30) {
    // A new view every 33 ms keeps both streams busy.
    ++step;
    raw.send(state_update_frame(sid, "r" + std::to_string(step), "dims", "z", "index", step % 8));
    const double next_view = steady_ms() + 33;
    while (steady_ms() < next_view) {
      if (auto f = slow.read(0.005)) {
        const double now = steady_ms();
        busy_until = std::max(now, busy_until) + static_cast<double>(f->payload.size() + 24) * 8e3 / rate_bps;
        receipts.emplace_back(busy_until + 2 * one_way_ms, f->header.seq);
        if (f->header.codec != static_cast<uint8_t>(protocol::Codec::h264)) continue;
        auto pic = dec.value()->decode(f->payload);
        if (!pic || !pic.value()) {
          decode_errors += 1;
        } else {
          decoded += 1;
        }
        if (!switched) {
          for (const auto& l : srv.get().stats().pixel_links) switched = switched || l.stream_step >= 0;
        } else {
          after_switch += 1;
          bytes_after_switch += static_cast<double>(f->payload.size());
        }
      }
      uint32_t newest = 0;
      bool any = false;
      while (!receipts.empty() && receipts.front().first <= steady_ms()) {
        newest = receipts.front().second;
        any = true;
        receipts.pop_front();
      }
      if (any) slow.send_text(protocol::receipt_text(newest));
    }
  }
  // At rest: the exact still (230 KB of noise as PNG) goes to the fast client, not over the
  // capped link, where it would hold the next motion back for seconds.
  const uint64_t stills_before = srv.get().stats().stills_sent;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  int slow_stills = 0;
  for (const auto& f : slow.read_for(0.1)) slow_stills += f.header.codec == protocol::kCodecStillPng ? 1 : 0;
  EXPECT_EQ(slow_stills, 0);
  EXPECT_GT(srv.get().stats().stills_sent, stills_before) << "the fast client got no still either";
  const auto stats = srv.get().stats();
  ASSERT_EQ(stats.pixel_links.size(), 2u);
  int capped = 0, uncapped = 0;
  double cap = 0;
  for (const auto& l : stats.pixel_links) {
    if (l.stream_step >= 0) {
      capped += 1;
      cap = l.cap_bps;
      EXPECT_GE(l.switches, 1u);
    } else {
      uncapped += 1;
      EXPECT_EQ(l.switches, 0u);
    }
  }
  EXPECT_EQ(capped, 1) << "the slow client was never capped";
  EXPECT_EQ(uncapped, 1) << "the fast client was capped too";
  EXPECT_GT(cap, 0.0);
  EXPECT_LT(cap, 2 * rate_bps);
  EXPECT_EQ(decode_errors, 0) << decoded << " decoded";
  ASSERT_GE(after_switch, 10);
  // About one frame's share of the cap each (a VBV of one frame at the stream's 60 fps).
  const double mean = bytes_after_switch / after_switch;
  std::printf("capped at %.0f kbit/s: %d frames after the switch, %.0f bytes each (share %.0f)\n", cap / 1e3,
              after_switch, mean, cap / 8 / 60);
  EXPECT_LT(mean, 3 * rate_bps / 8 / 60);
  EXPECT_GT(stats.render.capped_encodes, 0u);
  EXPECT_GT(fast.stats().frames_decoded, fast_before + 20) << "the fast client stalled";
  EXPECT_EQ(fast.stats().decode_errors, 0u);
}
