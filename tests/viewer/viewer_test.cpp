// voxcast-viewer as a person uses it, under Xvfb with Mesa's software OpenGL: a real
// server on loopback, the real window, input through Qt events, pixels read back from
// the canvas.
#include <cstdio>
#include <gtest/gtest.h>

#include <QApplication>
#include <QTest>
#include <QTimer>
#include <QWheelEvent>
#include <cmath>

#include "camera_control.hpp"
#include "fixture.hpp"
#include "open_dialog.hpp"
#include "recent_connections.hpp"
#include "viewer_window.hpp"
#include "voxcast/data/zarr.hpp"
#include "voxcast/data/open_dataset.hpp"
#include <QStatusBar>
#include <fstream>
#include <filesystem>
#include <unistd.h>
#include "voxcast/codec/png.hpp"
#include "voxcast/codec/yuv.hpp"
#include "voxcast/protocol/base64.hpp"
#include "voxcast/core/clock.hpp"
#include "voxcast/data/synthetic.hpp"

using namespace voxcast;
using namespace voxcast::testing;
using protocol::Json;

namespace {
constexpr int kW = 320, kH = 240;  // the test server's video size

// Cells large enough to show structure at the test's video size.
TestServerOptions cells() {
  TestServerOptions o;
  o.make_source = [] {
    data::SyntheticOptions so;
    so.depth = 16;
    so.height = 192;
    so.width = 256;
    return data::make_synthetic_cells(so);
  };
  return o;
}

// Runs the event loop until `pred` holds (or `timeout_s` passes).
bool pump_until(const std::function<bool()>& pred, double timeout_s) {
  const double end = steady_ms() + timeout_s * 1000;
  while (!pred()) {
    if (steady_ms() > end) return false;
    QTest::qWait(10);
  }
  return true;
}

struct Rgba {
  std::vector<uint8_t> px;
  int width = 0, height = 0;
};

// What the user sees on the canvas, as RGBA.
Rgba canvas_pixels(viewer::ViewerWindow& w) {
  QImage img = w.canvas()->grabFramebuffer().convertToFormat(QImage::Format_RGBA8888);
  Rgba out;
  out.width = img.width();
  out.height = img.height();
  out.px.resize(static_cast<size_t>(img.width()) * static_cast<size_t>(img.height()) * 4);
  for (int y = 0; y < img.height(); ++y)
    std::memcpy(&out.px[static_cast<size_t>(y) * static_cast<size_t>(img.width()) * 4], img.constScanLine(y),
                static_cast<size_t>(img.width()) * 4);
  return out;
}

double psnr(const Rgba& a, const Rgba& b) {
  if (a.width != b.width || a.height != b.height) return 0;
  return codec::psnr_rgba(a.px.data(), b.px.data(), a.width, a.height);
}

// A window whose canvas shows the video pixel for pixel, connected and showing frames.
struct Session {
  explicit Session(TestServer& srv) : window(config(srv)) {
    window.canvas()->setFixedSize(kW, kH);
    window.show();
    QString error;
    started = window.start(&error);
    EXPECT_TRUE(started) << error.toStdString();
    EXPECT_TRUE(QTest::qWaitForWindowExposed(&window));
    window.activateWindow();  // menu shortcuts (Ctrl+Y) need the active window
    EXPECT_TRUE(QTest::qWaitForWindowActive(&window));
  }
  static client::ClientConfig config(TestServer& srv) {
    client::ClientConfig c = srv.client_config();
    c.name = "voxcast-viewer-test";
    c.reconnect_min_ms = 20;
    c.reconnect_max_ms = 200;
    return c;
  }
  // Waits until the canvas has drawn frames and the stream has gone still (refined, or
  // its exact still after the refinement).
  bool settle(double timeout_s = 10) {
    const uint64_t drawn = window.canvas()->frames_drawn();
    if (!pump_until([&] { return window.canvas()->frames_drawn() > drawn; }, timeout_s)) return false;
    return pump_until([&] {
      auto f = window.loop()->last_frame();
      return f && (f->refined || f->still) && f->presented_ms > 0 && steady_ms() - f->presented_ms > 100;
    }, timeout_s);
  }
  viewer::ViewerWindow window;
  bool started = false;
};

Rgba screenshot(viewer::ViewerWindow& w) {
  auto r = w.loop()->call("napari.screenshot", Json::object(), 30);
  pump_until([&] { return r.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }, 30);
  auto reply = r.get();
  Rgba out;
  auto png = protocol::base64_decode(reply.result.value("data", std::string()));
  if (reply.ok && png) codec::decode_png_rgba(*png, &out.px, &out.width, &out.height);
  return out;
}

// Mean of each channel over the picture.
std::array<double, 3> mean_rgb(const Rgba& p) {
  std::array<double, 3> m{0, 0, 0};
  for (size_t i = 0; i < p.px.size(); i += 4)
    for (size_t c = 0; c < 3; ++c) m[c] += p.px[i + c];
  for (auto& v : m) v /= std::max<size_t>(1, p.px.size() / 4);
  return m;
}
}  // namespace

TEST(Viewer, TheCanvasShowsTheServersPictureOfTheSameView) {
  TestServer srv(cells());
  Session s(srv);
  ASSERT_TRUE(s.started);
  ASSERT_TRUE(s.settle());
  Rgba shown = canvas_pixels(s.window);
  ASSERT_EQ(shown.width, kW);
  ASSERT_EQ(shown.height, kH);
  auto m = mean_rgb(shown);
  EXPECT_GT(m[0] + m[1] + m[2], 10.0) << "the picture is not blank";
  Rgba still = screenshot(s.window);
  if (const char* dump = getenv("VOXCAST_VIEWER_DUMP")) {
    codec::write_png_rgba(std::string(dump) + "-canvas.png", shown.px.data(), shown.width, shown.height);
    codec::write_png_rgba(std::string(dump) + "-still.png", still.px.data(), still.width, still.height);
  }
  ASSERT_EQ(still.width, kW);
  EXPECT_GE(psnr(shown, still), 30.0) << "the canvas matches the server's render of the same view";
}

TEST(Viewer, MovingADimsSliderChangesThePicture) {
  TestServer srv(cells());
  Session s(srv);
  ASSERT_TRUE(s.settle());
  Rgba before = canvas_pixels(s.window);
  QSlider* z = s.window.dims()->slider("z");
  ASSERT_NE(z, nullptr) << "a slider for the non-displayed axis";
  const int target = z->value() == 0 ? 5 : 0;
  z->setValue(target);
  ASSERT_TRUE(pump_until([&] { return s.window.loop()->mirror().current_step[0] == target; }, 5));
  ASSERT_TRUE(s.settle());
  Rgba after = canvas_pixels(s.window);
  EXPECT_LT(psnr(before, after), 25.0) << "another plane";
  EXPECT_EQ(z->value(), target) << "no snap-back";
  // The arrow keys step it, as in napari.
  QTest::keyClick(&s.window, Qt::Key_Right);
  EXPECT_TRUE(pump_until([&] { return s.window.loop()->mirror().current_step[0] == target + 1; }, 5));
}

TEST(Viewer, WheelZoomEnlargesAroundTheCursor) {
  TestServer srv(cells());
  Session s(srv);
  ASSERT_TRUE(s.settle());
  Rgba before = canvas_pixels(s.window);
  auto cam0 = s.window.loop()->mirror().camera;
  const QPointF at(240, 80);  // right of and above the centre
  for (int i = 0; i < 2; ++i) {
    QWheelEvent wheel(at, s.window.canvas()->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(s.window.canvas(), &wheel);
    QTest::qWait(30);
  }
  ASSERT_TRUE(pump_until([&] {
    return std::abs(s.window.loop()->mirror().camera.value("zoom", 0.0) - cam0["zoom"].get<double>() * 1.5625) < 1e-6;
  }, 5)) << "two notches zoom in by 1.25^2";
  auto cam1 = s.window.loop()->mirror().camera;
  // The world point under the cursor stays under it.
  for (int a = 0; a < 2; ++a) {
    const double px = a == 0 ? at.x() - kW / 2.0 : at.y() - kH / 2.0;
    const double w0 = cam0["center"][a].get<double>() + px / cam0["zoom"].get<double>();
    const double w1 = cam1["center"][a].get<double>() + px / cam1["zoom"].get<double>();
    EXPECT_NEAR(w0, w1, 1e-6);
  }
  ASSERT_TRUE(s.settle());
  Rgba after = canvas_pixels(s.window);
  // The feature under the cursor is larger: the after-picture around the cursor matches
  // the before-picture around the cursor scaled by 1.5625 better than it matches it unscaled.
  auto sample = [](const Rgba& p, double x, double y) {
    int xi = std::clamp(static_cast<int>(x), 0, p.width - 1), yi = std::clamp(static_cast<int>(y), 0, p.height - 1);
    const uint8_t* q = &p.px[(static_cast<size_t>(yi) * static_cast<size_t>(p.width) + static_cast<size_t>(xi)) * 4];
    return (q[0] + q[1] + q[2]) / 3.0;
  };
  double err_scaled = 0, err_plain = 0;
  for (int dy = -30; dy <= 30; ++dy)
    for (int dx = -30; dx <= 30; ++dx) {
      const double a = sample(after, at.x() + dx, at.y() + dy);
      err_scaled += std::abs(a - sample(before, at.x() + dx / 1.5625, at.y() + dy / 1.5625));
      err_plain += std::abs(a - sample(before, at.x() + dx, at.y() + dy));
    }
  EXPECT_LT(err_scaled, err_plain * 0.8);
}

TEST(Viewer, CtrlYGivesA3DRendering) {
  TestServer srv(cells());
  Session s(srv);
  ASSERT_TRUE(s.settle());
  Rgba flat = canvas_pixels(s.window);
  QTest::keyClick(&s.window, Qt::Key_Y, Qt::ControlModifier);
  ASSERT_TRUE(pump_until([&] { return s.window.loop()->mirror().ndisplay == 3; }, 5));
  ASSERT_TRUE(s.settle());
  Rgba volume = canvas_pixels(s.window);
  EXPECT_LT(psnr(flat, volume), 30.0) << "a different rendering";
  EXPECT_GE(psnr(volume, screenshot(s.window)), 30.0) << "the server's 3D render of this view";
  EXPECT_TRUE(s.window.layers()->rendering()->isVisibleTo(&s.window)) << "3D controls appear";
  EXPECT_EQ(s.window.dims()->slider("z"), nullptr) << "z is displayed now, not a slider";
  // Dragging orbits.
  auto before = s.window.loop()->mirror().camera["angles"];
  QTest::mousePress(s.window.canvas(), Qt::LeftButton, Qt::NoModifier, QPoint(160, 120));
  for (int i = 1; i <= 5; ++i) {
    QMouseEvent move(QEvent::MouseMove, QPointF(160 + 8 * i, 120), s.window.canvas()->mapToGlobal(QPointF(160 + 8 * i, 120)),
                     Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(s.window.canvas(), &move);
    QTest::qWait(20);
  }
  QTest::mouseRelease(s.window.canvas(), Qt::LeftButton, Qt::NoModifier, QPoint(200, 120));
  EXPECT_TRUE(pump_until([&] { return s.window.loop()->mirror().camera["angles"] != before; }, 5));
}

TEST(Viewer, ChangingTheColormapChangesTheHue) {
  TestServer srv(cells());
  Session s(srv);
  ASSERT_TRUE(s.settle());
  // One layer visible, so its colormap alone decides the colour.
  auto layers = s.window.loop()->mirror().layers;
  for (size_t i = 1; i < layers.size(); ++i) s.window.loop()->send_state("layer", layers[i].id, "visible", false);
  s.window.layers()->select(layers[0].id);
  s.window.layers()->colormap()->setCurrentText("gray");
  ASSERT_TRUE(s.settle());
  auto gray = mean_rgb(canvas_pixels(s.window));
  s.window.layers()->colormap()->setCurrentText("green");
  ASSERT_TRUE(pump_until([&] {
    const auto m = s.window.loop()->mirror();  // layer() points into this copy
    const auto* l = m.layer(layers[0].id);
    return l && l->controls.value("colormap", Json()) == "green";
  }, 5));
  ASSERT_TRUE(s.settle());
  auto green = mean_rgb(canvas_pixels(s.window));
  EXPECT_NEAR(gray[0], gray[1], 3.0) << "gray: red and green alike";
  EXPECT_GT(green[1], 2.0 * green[0] + 5.0) << "green dominates";
  EXPECT_GT(green[1], 2.0 * green[2] + 5.0);
}

TEST(Viewer, KillingTheServerShowsTheBannerAndThePictureComesBack) {
  RestartableServer srv(cells());
  Session s(srv.get());
  ASSERT_TRUE(s.settle());
  EXPECT_FALSE(s.window.banner()->isVisible());
  srv.kill();
  ASSERT_TRUE(pump_until([&] { return s.window.banner()->isVisible(); }, 5)) << "the reconnecting banner";
  EXPECT_TRUE(s.window.banner()->text().contains("reconnecting"));
  const uint64_t drawn = s.window.canvas()->frames_drawn();
  srv.restart();
  EXPECT_TRUE(pump_until([&] { return !s.window.banner()->isVisible(); }, 5));
  EXPECT_TRUE(pump_until([&] { return s.window.canvas()->frames_drawn() > drawn; }, 5)) << "the picture comes back";
}

TEST(Viewer, ClosingMidStreamLeaksNothing) {
  TestServer srv(cells());
  const int64_t errors = client::FrameLease::release_errors();
  {
    Session s(srv);
    ASSERT_TRUE(s.settle());
    // Mid-stream: a slider moving while the window closes.
    s.window.dims()->slider("z")->setValue(2);
    QTest::qWait(5);
    s.window.close();
    EXPECT_EQ(s.window.loop(), nullptr);
  }
  EXPECT_EQ(client::FrameLease::live_leases(), 0) << "every frame lease closed";
  EXPECT_EQ(client::FrameLease::release_errors(), errors) << "no role released twice";
}

// The screenshot is the canvas's picture (its size in device pixels, times the scale), and
// the GUI thread keeps running while the server renders it and the file is written.
TEST(Viewer, ScreenshotAtTheCanvasSizeDoesNotBlockTheUi) {
  TestServer srv(cells());
  Session s(srv);
  ASSERT_TRUE(s.settle());
  s.window.canvas()->resize(kW / 2, kH);  // a portrait canvas: the letterboxed video is not what it shows
  QTest::qWait(50);
  const qreal dpr = s.window.canvas()->devicePixelRatioF();
  const int cw = qRound(s.window.canvas()->width() * dpr), ch = qRound(s.window.canvas()->height() * dpr);
  const std::string path = "/tmp/voxcast-viewer-shot-" + std::to_string(getpid()) + ".png";
  QString finished_error = "not finished";
  QObject::connect(&s.window, &viewer::ViewerWindow::screenshot_finished,
                   [&](const QString&, const QString& error) { finished_error = error; });
  const double t0 = steady_ms();
  ASSERT_TRUE(s.window.start_screenshot(QString::fromStdString(path), 2));
  EXPECT_LT(steady_ms() - t0, 100.0) << "starting returns at once";
  EXPECT_TRUE(s.window.screenshot_pending());
  EXPECT_FALSE(s.window.start_screenshot(QString::fromStdString(path), 2)) << "one at a time";
  int ticks = 0;
  QTimer tick;
  QObject::connect(&tick, &QTimer::timeout, [&] { ++ticks; });
  tick.start(5);
  ASSERT_TRUE(QTest::qWaitFor([&] { return !s.window.screenshot_pending(); }, 30000));
  EXPECT_TRUE(finished_error.isEmpty()) << finished_error.toStdString();
  EXPECT_GT(ticks, 2) << "the event loop ran while the screenshot was made";
  Rgba png;
  ASSERT_FALSE(codec::read_png_rgba(path, &png.px, &png.width, &png.height));
  EXPECT_EQ(png.width, 2 * cw);
  EXPECT_EQ(png.height, 2 * ch);
  std::remove(path.c_str());
}

TEST(Viewer, OpensADatasetFromTheServersDataRoot) {
  char tmpl[] = "/tmp/voxcast-viewer-root-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  {
    // A 4 x 32 x 48 OME-Zarr in a subfolder.
    data::ZarrArrayMeta m;
    m.shape = {4, 32, 48};
    m.chunks = {1, 16, 16};
    m.dtype = data::DType::u16;
    std::filesystem::create_directories(root + "/lab/embryo.zarr");
    ASSERT_FALSE(data::write_zarr_array(root + "/lab/embryo.zarr/0", m,
                                        [](const std::vector<int64_t>& st, const std::vector<int64_t>& shape,
                                           std::vector<uint8_t>* bytes) {
                                          auto* v = reinterpret_cast<uint16_t*>(bytes->data());
                                          for (int64_t i = 0; i < shape[0] * shape[1] * shape[2]; ++i)
                                            *v++ = static_cast<uint16_t>(100 * st[0] + i % 97);
                                          return true;
                                        }));
    ASSERT_FALSE(data::write_ngff_attrs(root + "/lab/embryo.zarr",
                                        {{"z", "space", "micrometer"}, {"y", "space", "micrometer"}, {"x", "space", "micrometer"}},
                                        {{2.0, 0.5, 0.5}}, {}, {}));
  }
  TestServerOptions o = cells();
  o.data_root = root;
  TestServer srv(o);
  Session s(srv);
  ASSERT_TRUE(s.settle());
  viewer::OpenDatasetDialog dialog(s.window.loop());
  dialog.show();
  ASSERT_GE(dialog.entries()->count(), 1);
  EXPECT_TRUE(dialog.entries()->item(0)->text().startsWith("lab"));
  dialog.list("lab");
  ASSERT_EQ(dialog.entries()->count(), 1);
  EXPECT_TRUE(dialog.entries()->item(0)->text().contains("dataset"));
  dialog.open(dialog.entries()->item(0)->data(Qt::UserRole).toString().toStdString());
  EXPECT_TRUE(dialog.busy()) << "progress shows while the server opens it";
  ASSERT_TRUE(pump_until([&] { return dialog.result() == QDialog::Accepted; }, 10)) << dialog.message()->text().toStdString();
  ASSERT_TRUE(pump_until([&] {
    auto m = s.window.loop()->mirror();
    return !m.shape.empty() && m.shape.back() == 48;
  }, 10)) << "the new dataset is shown";
  EXPECT_TRUE(pump_until([&] {
    QSlider* z = s.window.dims()->slider("z");
    return z && z->maximum() == 3;
  }, 5)) << "the sliders follow the new dataset";
  // A path outside the root is refused with the server's reason.
  viewer::OpenDatasetDialog again(s.window.loop());
  again.open("../etc");
  ASSERT_TRUE(pump_until([&] { return !again.busy() || again.message()->text().contains("cannot"); }, 10));
  EXPECT_TRUE(pump_until([&] { return again.message()->text().contains(".."); }, 5)) << again.message()->text().toStdString();
  std::filesystem::remove_all(root);
}

TEST(Viewer, AChunkTheServerCannotReadIsShownInTheStatusBar) {
  char tmpl[] = "/tmp/voxcast-viewer-torn-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  data::ZarrArrayMeta m;
  m.shape = {4, 32, 48};
  m.chunks = {1, 16, 16};
  m.dtype = data::DType::u16;
  m.compressor.id = "blosc";
  ASSERT_FALSE(data::write_zarr_array(root + "/torn.zarr", m,
                                      [](const std::vector<int64_t>&, const std::vector<int64_t>& shape,
                                         std::vector<uint8_t>* bytes) {
                                        auto* v = reinterpret_cast<uint16_t*>(bytes->data());
                                        for (int64_t i = 0; i < shape[0] * shape[1] * shape[2]; ++i) *v++ = 500;
                                        return true;
                                      }));
  // The middle plane (what the first frame shows) cannot be decoded.
  for (const auto& e : std::filesystem::directory_iterator(root + "/torn.zarr"))
    if (e.path().filename().string().rfind("2.", 0) == 0) std::ofstream(e.path()) << "not a blosc chunk";
  TestServerOptions o;
  o.make_source = [root] {
    data::OpenOptions oo;
    oo.cache = std::make_shared<data::ChunkCache>(size_t{64} << 20, 0);
    auto opened = data::open_dataset(root + "/torn.zarr", oo);
    return std::move(std::get<0>(opened));
  };
  TestServer srv(o);
  Session s(srv);
  ASSERT_TRUE(pump_until([&] { return s.window.statusBar()->currentMessage().contains("data.read_failed"); }, 10))
      << "status: " << s.window.statusBar()->currentMessage().toStdString();
  EXPECT_TRUE(s.window.statusBar()->currentMessage().contains("server error"));
  std::filesystem::remove_all(root);
}

TEST(Viewer, PlayStepsTheAxisBackAndForthAndStops) {
  TestServer srv(cells());
  Session s(srv);
  ASSERT_TRUE(s.settle());
  QSlider* z = s.window.dims()->slider("z");
  ASSERT_NE(z, nullptr);
  z->setValue(z->maximum() - 1);
  s.window.dims()->set_fps(60);
  s.window.dims()->set_mode(viewer::PlayMode::back_and_forth);
  QTest::mouseClick(s.window.dims()->play_button("z"), Qt::LeftButton);
  // It reaches the end, turns, and comes back down.
  ASSERT_TRUE(pump_until([&] { return z->value() == z->maximum(); }, 5));
  ASSERT_TRUE(pump_until([&] { return z->value() <= z->maximum() - 3; }, 5)) << "back and forth";
  EXPECT_TRUE(pump_until([&] { return s.window.loop()->mirror().current_step[0] < z->maximum(); }, 5))
      << "the server follows the playback";
  QTest::mouseClick(s.window.dims()->play_button("z"), Qt::LeftButton);  // stop
  const int stopped = z->value();
  QTest::qWait(200);
  EXPECT_EQ(z->value(), stopped);
}

TEST(Viewer, StatusBarAndOverlayShowTheStreamAndTheServer) {
  TestServer srv(cells());
  Session s(srv);
  ASSERT_TRUE(s.settle());
  QSlider* z = s.window.dims()->slider("z");
  for (int i = 0; i < 10; ++i) {
    z->setValue(i % 6);
    QTest::qWait(30);
  }
  ASSERT_TRUE(s.settle());
  QTest::qWait(300);
  EXPECT_TRUE(s.window.status_link()->text().startsWith("streaming")) << s.window.status_link()->text().toStdString();
  const QString status = s.window.status_rates()->text();
  EXPECT_TRUE(status.contains("fps")) << status.toStdString();
  EXPECT_TRUE(status.contains("intent→frame")) << status.toStdString();
  EXPECT_TRUE(s.window.status_server()->text().contains("libx264")) << "the server's encoder is shown";
  EXPECT_TRUE(s.window.status_server()->text().contains("cpu")) << "and its renderer";
  EXPECT_FALSE(s.window.overlay()->isVisible());
  QTest::keyClick(&s.window, Qt::Key_T, Qt::ControlModifier);
  ASSERT_TRUE(pump_until([&] { return s.window.overlay()->isVisible() && s.window.overlay()->text().contains("render"); }, 3));
  EXPECT_TRUE(s.window.overlay()->text().contains("decode"));
  // How frames reach the canvas is shown. With GL on a CUDA GPU and NVDEC decoding, they
  // never leave the GPU; under Xvfb's software GL they come through system memory, and
  // the reason (no CUDA driver, a GL context not on a CUDA GPU) is shown.
  const QString path = s.window.canvas()->frame_path();
  std::printf("frames via %s; %llu of %llu drawn frames imported on the GPU\n", path.toStdString().c_str(),
              static_cast<unsigned long long>(s.window.canvas()->frames_from_gpu()),
              static_cast<unsigned long long>(s.window.canvas()->frames_drawn()));
  EXPECT_TRUE(s.window.overlay()->text().contains("frames via " + path)) << s.window.overlay()->text().toStdString();
  if (path.startsWith("GPU (CUDA-GL")) {
    if (s.window.status_rates()->text().contains("decoder cuda")) {
      EXPECT_GT(s.window.canvas()->frames_from_gpu(), 0u);
    }
  } else {
    EXPECT_TRUE(path.startsWith("system memory (")) << path.toStdString();
    EXPECT_EQ(s.window.canvas()->frames_from_gpu(), 0u);
  }
}

TEST(Viewer, RecentConnectionsAreRememberedNewestFirst) {
  const QString file = QString::fromStdString("/tmp/voxcast-recent-" + std::to_string(getpid()) + ".ini");
  {
    QSettings settings(file, QSettings::IniFormat);
    for (int i = 0; i < 12; ++i) viewer::remember_connection(settings, QString("voxcast://h:%1").arg(i));
    viewer::remember_connection(settings, "voxcast://h:5");  // used again: moves to the front, once
  }
  QSettings settings(file, QSettings::IniFormat);
  QStringList recent = viewer::recent_connections(settings);
  ASSERT_EQ(recent.size(), viewer::kRecentConnections);
  EXPECT_EQ(recent.front(), "voxcast://h:5");
  EXPECT_EQ(recent.count("voxcast://h:5"), 1);
  EXPECT_EQ(recent[1], "voxcast://h:11");
  std::remove(file.toStdString().c_str());
}

TEST(CameraControl, WheelAndDragFollowTheRendererMaths) {
  viewer::LocalCamera c;
  ASSERT_TRUE(viewer::camera_from_pose(Json{{"center", {50.0, 40.0}}, {"zoom", 2.0}}, 2, 320, 240, &c));
  viewer::wheel_zoom(&c, 1, 160, 120);  // about the centre: the centre stays
  EXPECT_DOUBLE_EQ(c.camera2d.zoom, 2.5);
  EXPECT_DOUBLE_EQ(c.camera2d.center_x, 50.0);
  viewer::drag(&c, 10, 0, false);  // content follows the pointer
  EXPECT_DOUBLE_EQ(c.camera2d.center_x, 50.0 - 10 / 2.5);
  EXPECT_FALSE(viewer::camera_from_pose(Json{{"center", {1.0}}}, 2, 320, 240, &c));
  viewer::LocalCamera v;
  ASSERT_TRUE(viewer::camera_from_pose(
      Json{{"center", {1.0, 2.0, 3.0}}, {"angles", {0.0, 0.0, 0.0}}, {"distance", 100.0}, {"fov", 0.0}, {"zoom", 1.0}}, 3,
      320, 240, &v));
  viewer::drag(&v, 25, 0, false);
  EXPECT_NEAR(viewer::pose_of(v)["angles"][0].get<double>(), 10.0, 1e-9);
  viewer::wheel_zoom(&v, -1, 0, 0);
  EXPECT_LT(viewer::pose_of(v)["zoom"].get<double>(), 1.0);
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  QApplication app(argc, argv);
  return RUN_ALL_TESTS();
}
