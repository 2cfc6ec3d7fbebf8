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
#include "voxcast/protocol/frame_meta.hpp"
#include "voxcast/protocol/pixel_header.hpp"
#include "voxcast/protocol/receipt.hpp"

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
        Frame f{h.value(), 0};
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
