// Pixel-channel behaviour: frames follow intents, keyframes on request, a saved
// stream that ffmpeg decodes, the token on the upgrade.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <thread>

#include "fixture.hpp"
#include "voxcast/client/frame_lease.hpp"

using namespace voxcast;
using namespace voxcast::testing;

namespace {
std::vector<uint8_t> latest(const client::ClientStreamLoop& c) {
  std::vector<uint8_t> rgba;
  int w = 0, h = 0;
  c.latest_rgba(&rgba, &w, &h);
  return rgba;
}

double mean_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size() || a.empty()) return -1;
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(static_cast<int>(a[i]) - static_cast<int>(b[i]));
  return sum / static_cast<double>(a.size());
}

// Sends one state.update and waits for a decoded frame that shows it; returns that frame's picture.
std::vector<uint8_t> change_and_wait(client::ClientStreamLoop& c, const std::string& scope, const std::string& target,
                                     const std::string& key, protocol::Json value) {
  std::string fid = c.send_state(scope, target, key, std::move(value));
  int64_t version = 0;
  EXPECT_TRUE(c.wait_until([&] {
    for (const auto& i : c.intents())
      if (i.frame_id == fid && i.acked_ms > 0) {
        version = i.accepted ? i.version : -1;
        return true;
      }
    return false;
  }, 5));
  EXPECT_GT(version, 0) << "intent was not accepted";
  // The refinement pass may follow; wait for a frame of this version, then for quiet.
  EXPECT_TRUE(c.wait_until([&] {
    for (const auto& f : c.frames())
      if (f.decoded && f.scene_version >= static_cast<uint64_t>(version)) return true;
    return false;
  }, 5)) << "no frame showed version " << version;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return latest(c);
}
}  // namespace

TEST(Stream, DimsStepAndContrastChangeTheImage) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.stats().frames_decoded > 0; }, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto before = latest(c);
  auto after_step = change_and_wait(c, "dims", "z", "index", 1);
  EXPECT_GT(mean_abs_diff(before, after_step), 0.5) << "a new z slice should look different";
  auto after_contrast = change_and_wait(c, "layer", "layer-0", "contrast_limits", protocol::Json{0, 200});
  EXPECT_GT(mean_abs_diff(after_step, after_contrast), 0.5) << "contrast limits should change the image";
  // The frame header's size comes from the SPS and matches the canvas.
  auto frames = c.frames();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back().width, 320);
  EXPECT_EQ(frames.back().height, 240);
  EXPECT_TRUE(frames.front().keyframe) << "a new viewer starts at an IDR";
  EXPECT_EQ(c.stats().gaps, 0u);
}

TEST(Stream, KeyframeRequestYieldsAnIdrAndAReplyToTheRequester) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.stats().frames_decoded > 0; }, 5));
  auto keyframes = [&] {
    size_t n = 0;
    for (const auto& f : c.frames()) n += f.keyframe ? 1 : 0;
    return n;
  };
  size_t before = keyframes();
  std::string id = c.request_keyframe();
  EXPECT_TRUE(c.wait_until([&] { return keyframes() > before; }, 5)) << "no IDR after the request";
  EXPECT_TRUE(c.wait_until([&] {
    for (const auto& e : c.received())
      if (e.type == "reply.command" && e.payload.value("in_reply_to", "") == id) return true;
    return false;
  }, 5));
  // The configuration did not change, so no new notify.stream went out.
  size_t streams = 0;
  for (const auto& e : c.received()) streams += e.type == "notify.stream" ? 1 : 0;
  EXPECT_EQ(streams, 1u);
}

TEST(Stream, SavedStreamDecodesWithFfmpegFrameForFrame) {
  TestServer srv;
  std::string path = ::testing::TempDir() + "voxcast_stream_test.h264";
  std::remove(path.c_str());
  auto cfg = srv.client_config();
  cfg.dump_path = path;
  cfg.exact_stills = false;  // the video alone: every pixel message is an access unit
  uint64_t decoded = 0;
  {
    client::ClientStreamLoop c(cfg);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(c.wait_until([&] { return c.stats().frames_decoded > 0; }, 5));
    for (int z = 0; z < 8; ++z) {
      c.send_state("dims", "z", "index", z);
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    c.stop();
    decoded = c.stats().frames_decoded;
    EXPECT_EQ(decoded, c.stats().pixel_messages);
  }
  EXPECT_EQ(decoded, srv.get().stats().frames_sent);
  std::string cmd = "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 '" +
                    path + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256] = {};
  std::string out;
  while (fgets(buf, sizeof(buf), p)) out += buf;
  int rc = pclose(p);
  ASSERT_EQ(rc, 0) << "ffprobe failed: " << out;
  EXPECT_EQ(std::stoull(out), decoded) << "ffprobe counted " << out;
  std::string errors_cmd = "ffmpeg -v error -i '" + path + "' -f null - 2>&1";
  p = popen(errors_cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  out.clear();
  while (fgets(buf, sizeof(buf), p)) out += buf;
  EXPECT_EQ(pclose(p), 0);
  EXPECT_TRUE(out.empty()) << "ffmpeg reported: " << out;
}

TEST(Stream, PixelSocketRefusesAWrongToken) {
  TestServer srv;
  namespace asio = boost::asio;
  namespace websocket = boost::beast::websocket;
  asio::io_context io;
  auto try_token = [&](const std::string& token) {
    websocket::stream<asio::ip::tcp::socket> ws(io);
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), srv.get().pixel_port()});
    boost::system::error_code ec;
    ws.handshake("127.0.0.1", "/?token=" + token, ec);
    return !ec;
  };
  EXPECT_FALSE(try_token("wrong"));
  EXPECT_FALSE(try_token(""));
  EXPECT_TRUE(try_token(srv.get().token()));
}

TEST(Stream, Toggle2DTo3DAndBackKeepsEachModesState) {
  TestServer srv;
  client::ClientStreamLoop c(srv.client_config());
  ASSERT_FALSE(c.connect());
  ASSERT_TRUE(c.wait_until([&] { return c.stats().frames_decoded > 0; }, 5));
  auto plane = change_and_wait(c, "camera", "main", "zoom", protocol::Json{{"factor", 0.5}, {"anchor_px", {160, 120}}});
  double zoom2d = c.mirror().camera.value("zoom", 0.0);
  auto volume = change_and_wait(c, "view", "main", "ndisplay", 3);
  auto m = c.mirror();
  EXPECT_EQ(m.ndisplay, 3);
  EXPECT_TRUE(m.camera.contains("angles")) << m.camera.dump();  // the 3D pose was published
  EXPECT_GT(mean_abs_diff(plane, volume), 0.5) << "3D should look different from the slice";
  auto orbited = change_and_wait(c, "camera", "main", "orbit", protocol::Json{{"d_az_deg", 40}, {"d_el_deg", 10}});
  EXPECT_GT(mean_abs_diff(volume, orbited), 0.5) << "an orbit should change the picture";
  auto mip = orbited;
  auto translucent = change_and_wait(c, "layer", "layer-0", "rendering", "translucent");
  EXPECT_GT(mean_abs_diff(mip, translucent), 0.2);
  // Back to 2D: the zoomed plane camera is still there; then 3D again: the orbit too.
  change_and_wait(c, "view", "main", "ndisplay", 2);
  EXPECT_EQ(c.mirror().ndisplay, 2);
  EXPECT_DOUBLE_EQ(c.mirror().camera.value("zoom", 0.0), zoom2d);
  change_and_wait(c, "view", "main", "ndisplay", 3);
  auto angles = c.mirror().camera.value("angles", protocol::Json::array());
  ASSERT_EQ(angles.size(), 3u);
  EXPECT_DOUBLE_EQ(angles[0].get<double>(), 40.0);
  EXPECT_DOUBLE_EQ(angles[1].get<double>(), 10.0);
  // Each toggle was acked with the applied value.
  int toggles = 0;
  for (const auto& i : c.intents())
    if (i.accepted && i.applied_value.is_number_integer()) ++toggles;
  EXPECT_GE(toggles, 3);
}

TEST(Stream, RepeatedDecoderFailuresRecreateTheDecoderAndTheStreamContinues) {
  TestServer srv;
  client::ClientConfig cc = srv.client_config();
  cc.inject_decode_failures = 4;  // the first four access units fail
  cc.decoder_fallback_after = 3;
  client::ClientStreamLoop c(cc);
  ASSERT_FALSE(c.connect());
  // Frames flow (scrub z so the server keeps sending).
  for (int i = 0; i < 40 && c.stats().frames_decoded < 3; ++i) {
    c.send_state("dims", "z", "index", i % 8);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto s = c.stats();
  EXPECT_EQ(s.decode_errors, 4u);
  EXPECT_GE(s.decoder_recreations, 1u) << "three failures in a row replace the decoder";
  EXPECT_GE(s.keyframe_requests, 1u) << "a broken chain asks for an IDR";
  EXPECT_GE(s.frames_decoded, 3u) << "the stream continues after the failures";
  EXPECT_FALSE(s.decoder.empty());
}

TEST(Stream, FramesArePresentedWithMetricsAndShutdownLeaksNoLease) {
  int64_t leases_before = client::FrameLease::live_leases();
  {
    TestServer srv;
    client::ClientStreamLoop c(srv.client_config());
    ASSERT_FALSE(c.connect());
    for (int i = 0; i < 20; ++i) {
      c.send_state("dims", "z", "index", i % 8);
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_TRUE(c.wait_until([&] { return c.metrics().intent_to_frame_ms.count >= 5; }, 5));
    auto m = c.metrics();
    EXPECT_GT(m.frames_presented, 5u);
    EXPECT_GT(m.presenter_latency_ms.count, 5u);
    EXPECT_GT(m.decode_ms.count, 5u);
    EXPECT_GT(m.frame_interval_ms.count, 3u);
    EXPECT_LT(histogram_percentile(m.presenter_latency_ms, 50), 500.0);
    ASSERT_TRUE(c.latest_picture());
    auto j = client::to_json(m);
    EXPECT_TRUE(j.contains("intent_to_frame_ms"));
    c.stop();  // mid-stream
  }
  EXPECT_EQ(client::FrameLease::live_leases(), leases_before) << "a frame lease leaked";
}
