#include "viewer_window.hpp"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFile>
#include <QKeyEvent>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>
#include <QVBoxLayout>
#include <fstream>

#include "open_dialog.hpp"
#include "voxcast/client/report.hpp"
#include "voxcast/protocol/base64.hpp"
#include "voxcast/core/clock.hpp"

namespace voxcast::viewer {

using nlohmann::json;

ViewerWindow::ViewerWindow(client::ClientConfig config, QWidget* parent)
    : QMainWindow(parent), config_(std::move(config)) {
  setWindowTitle("voxcast");
  auto* central = new QWidget(this);
  auto* column = new QVBoxLayout(central);
  column->setContentsMargins(0, 0, 0, 0);
  column->setSpacing(0);
  canvas_ = new FrameCanvas(central);
  canvas_->setObjectName("canvas");
  column->addWidget(canvas_, 1);
  dims_ = new DimsPanel(central);
  dims_->setVisible(false);
  column->addWidget(dims_);
  setCentralWidget(central);

  banner_ = new QLabel(canvas_);
  banner_->setObjectName("banner");
  banner_->setAlignment(Qt::AlignCenter);
  banner_->setStyleSheet("background: rgba(160, 30, 30, 220); color: white; font-weight: bold; padding: 6px;");
  banner_->hide();
  overlay_ = new QLabel(canvas_);
  overlay_->setObjectName("overlay");
  overlay_->setStyleSheet("background: rgba(0, 0, 0, 160); color: #e0e0e0; font-family: monospace; padding: 4px;");
  overlay_->move(8, 8);
  overlay_->hide();

  auto* dock = new QDockWidget("layers", this);
  dock->setObjectName("layer-dock");
  layers_ = new LayerPanel(dock);
  dock->setWidget(layers_);
  addDockWidget(Qt::LeftDockWidgetArea, dock);

  link_ = new QLabel(this);
  rates_ = new QLabel(this);
  server_ = new QLabel(this);
  quality_ = new QLabel(this);
  quality_->setToolTip("exact: the server's render, lossless · partial: a coarser level stands in while data loads · "
                       "lossy: H.264 video");
  statusBar()->addWidget(link_);
  statusBar()->addWidget(quality_);
  statusBar()->addWidget(rates_, 1);
  statusBar()->addPermanentWidget(server_);
  build_menus();

  connect(dims_, &DimsPanel::index_changed, this, [this](const QString& axis, qint64 v) {
    if (loop_) loop_->set_dims_index(axis.toStdString(), v);
  });
  connect(layers_, &LayerPanel::control_changed, this, [this](const QString& layer, const QString& key, const QString& value) {
    if (loop_) loop_->set_property("layer", layer.toStdString(), key.toStdString(), json::parse(value.toStdString()));
  });
  connect(layers_, &LayerPanel::auto_contrast, this, [this](const QString& layer) {
    if (loop_ && !pending_contrast_.valid())
      pending_contrast_ = loop_->call("napari.auto_contrast", {{"layer", layer.toStdString()}}, 10);
  });
  connect(canvas_, &FrameCanvas::wheel_zoom, this, [this](QPointF at, double steps) {
    wheel_zoom(&camera_, steps, at.x(), at.y());
    send_camera();
  });
  connect(canvas_, &FrameCanvas::drag, this, [this](QPointF d, Qt::MouseButtons, Qt::KeyboardModifiers mods) {
    drag(&camera_, d.x(), d.y(), mods & Qt::ShiftModifier);
    send_camera();
  });
  connect(canvas_, &FrameCanvas::reset_view, this, [this] {
    if (loop_) loop_->send_state("camera", "main", "reset", "double_click");
  });
  connect(&refresh_timer_, &QTimer::timeout, this, [this] { refresh(); });
  connect(&status_timer_, &QTimer::timeout, this, [this] { refresh_status(); });
  resize(1280, 800);
}

ViewerWindow::~ViewerWindow() { shutdown(); }

bool ViewerWindow::start(QString* error) {
  loop_ = std::make_unique<client::ClientStreamLoop>(config_);
  FrameCanvas* canvas = canvas_;
  // The media thread says a frame is up; the GUI thread uploads it on the next paint.
  loop_->set_present_callback([canvas] { QMetaObject::invokeMethod(canvas, "frame_presented", Qt::QueuedConnection); });
  canvas_->set_source(loop_.get());
  if (auto err = loop_->connect()) {
    if (error) *error = QString::fromStdString(err->message + " (" + err->code + ")");
    canvas_->set_source(nullptr);
    loop_.reset();
    return false;
  }
  setWindowTitle(QString::fromStdString("voxcast — " + config_.connection.host + ":" +
                                        std::to_string(config_.connection.control_port)));
  refresh_timer_.start(50);
  status_timer_.start(250);
  return true;
}

void ViewerWindow::shutdown() {
  refresh_timer_.stop();
  status_timer_.stop();
  if (!loop_) return;
  // The core first (no more present callbacks once its media thread is joined), then the
  // canvas lets go of its frame; queued repaints find no source.
  loop_->stop();
  canvas_->set_source(nullptr);
  loop_.reset();
}

void ViewerWindow::closeEvent(QCloseEvent* e) {
  shutdown();
  e->accept();
}

void ViewerWindow::build_menus() {
  QMenu* file = menuBar()->addMenu("&File");
  file->addAction("&Open dataset on the server…", QKeySequence::Open, this, [this] { open_dataset_dialog(); });
  file->addAction("Save &screenshot…", QKeySequence("Ctrl+Alt+S"), this, [this] { screenshot_dialog(); });
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, [this] { close(); });
  QMenu* view = menuBar()->addMenu("&View");
  view->addAction("Toggle &2D / 3D", QKeySequence("Ctrl+Y"), this, [this] { toggle_ndisplay(); });
  view->addAction("&Reset view", QKeySequence("Ctrl+R"), this, [this] {
    if (loop_) loop_->send_state("camera", "main", "reset", "menu");
  });
  QAction* timings = view->addAction("Show &timings overlay", QKeySequence("Ctrl+T"));
  timings->setCheckable(true);
  connect(timings, &QAction::toggled, overlay_, &QLabel::setVisible);
}

void ViewerWindow::toggle_ndisplay() {
  if (!loop_) return;
  const int nd = loop_->mirror().ndisplay == 3 ? 2 : 3;
  loop_->send_state("view", "main", "ndisplay", nd);
  camera_.valid = false;  // the next pose comes from the server's camera of that mode
}

void ViewerWindow::keyPressEvent(QKeyEvent* e) {
  // napari: the arrow keys step the current dims slider.
  if (e->key() == Qt::Key_Left || e->key() == Qt::Key_Right) {
    dims_->step_current(e->key() == Qt::Key_Left ? -1 : 1);
    return;
  }
  QMainWindow::keyPressEvent(e);
}

void ViewerWindow::send_camera() {
  if (!loop_ || !camera_.valid) return;
  interacting_until_ms_ = steady_ms() + 500;
  loop_->set_property("camera", "main", "set", pose_of(camera_));
}

void ViewerWindow::refresh() {
  if (pending_screenshot_.valid() && pending_screenshot_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    const QString error = QString::fromStdString(pending_screenshot_.get());
    if (error.isEmpty()) statusBar()->showMessage("saved " + pending_screenshot_path_, 5000);
    else statusBar()->showMessage("screenshot: " + error, 10000);
    emit screenshot_finished(pending_screenshot_path_, error);
  }
  if (!loop_) return;
  if (pending_contrast_.valid() && pending_contrast_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    // The server measured the view; the limits go back as an ordinary layer intent.
    auto r = pending_contrast_.get();
    if (r.ok)
      loop_->set_property("layer", r.result.value("layer", std::string()), "contrast_limits", r.result["contrast_limits"]);
    else
      statusBar()->showMessage(QString::fromStdString("auto contrast: " + r.message), 5000);
  }
  const auto m = loop_->mirror();
  if (!m.have_scene) return;
  dims_->update_from(m, [this](const std::string& axis) {
    json v = loop_->displayed("dims:" + axis + ":index");
    return v.is_number_integer() ? v.get<int64_t>() : int64_t{0};
  });
  layers_->update_from(m, [this](const std::string& layer, const std::string& key) {
    return loop_->displayed("layer:" + layer + ":" + key);
  });
  // The local camera follows the server's while the user is not steering it.
  const QSize video = canvas_->video_size();
  if (!video.isEmpty() && (steady_ms() > interacting_until_ms_ || !camera_.valid || camera_.ndisplay != m.ndisplay))
    camera_from_pose(m.camera, m.ndisplay, video.width(), video.height(), &camera_);
  const auto loop_state = loop_->loop_state();
  const bool down = loop_state.phase == client::LinkPhase::reconnecting;
  if (down) {
    // A planned stop says so ("the server stopped … waiting for it"), a fault says why it failed.
    banner_->setText(QString::fromStdString(
        loop_state.server_goodbye.empty() ? "Connection lost — reconnecting… (" + loop_state.last_error + ")"
                                          : "The server stopped (" + loop_state.server_goodbye +
                                                ") — reconnecting as soon as it is back…"));
    banner_->setGeometry(0, 0, canvas_->width(), 34);
  }
  if (down != banner_->isVisible()) banner_->setVisible(down);
}

void ViewerWindow::refresh_status() {
  if (!loop_) return;
  const auto st = loop_->stats();
  const auto mt = loop_->metrics();
  const auto loop_state = loop_->loop_state();
  const auto m = loop_->mirror();
  link_->setText(QString::fromStdString(std::string(client::to_string(loop_state.phase)) + (loop_state.tls ? " · tls" : "")));
  const double now = steady_ms();
  const double mbit = last_status_ms_ > 0 ? (st.bytes - last_bytes_) * 8.0 / 1000.0 / (now - last_status_ms_) : 0;
  last_bytes_ = st.bytes;
  last_status_ms_ = now;
  auto p50 = [](const client::Histogram& h) { return h.count ? client::histogram_percentile(h, 0.5) : 0.0; };
  const double interval = p50(mt.frame_interval_ms);
  rates_->setText(QString("%1 fps · intent→frame %2 ms · decode %3 ms · %4 Mbit/s · decoder %5")
                      .arg(interval > 0 ? 1000.0 / interval : 0.0, 0, 'f', 1)
                      .arg(p50(mt.intent_to_frame_ms), 0, 'f', 1)
                      .arg(p50(mt.decode_ms), 0, 'f', 1)
                      .arg(mbit, 0, 'f', 2)
                      .arg(QString::fromStdString(st.decoder)));
  if (loop_state.server_errors != shown_server_errors_) {
    // notify.error (a chunk that cannot be read, a failed render) reaches the user.
    shown_server_errors_ = loop_state.server_errors;
    statusBar()->showMessage(QString::fromStdString("server error: " + loop_state.server_error), 15000);
  }
  // The picture's quality, as the canvas shows it (the still may be presented but not yet drawn).
  const std::string quality = st.shown_quality;
  quality_->setText(QString::fromStdString(quality));
  quality_->setStyleSheet(quality == "exact"     ? "color: #1b8a3c; font-weight: bold;"
                          : quality == "partial" ? "color: #b06000;"
                                                 : "");
  // 3D from bricks: which pyramid levels the picture drew from and what is still loading
  // (Neuroglancer's chunk statistics, in one line).
  std::string bricks;
  if (const auto shown = loop_->last_frame(); shown && shown->levels_drawn) {
    bricks = " · 3D levels";
    for (int l = 0; l < 16; ++l)
      if (shown->levels_drawn & (1u << l)) bricks += " L" + std::to_string(l);
    bricks += shown->bricks_loading ? " · " + std::to_string(shown->bricks_loading) + " bricks loading" : " · all resident";
  }
  server_->setText(QString::fromStdString("server: render " + m.metadata.value("renderer", std::string("?")) + " · encode " +
                                          m.metadata.value("encoder", std::string("?")) + bricks));
  if (overlay_->isVisible()) {
    const auto last = loop_->last_frame();
    const double render = last ? last->render_ms : 0, encode = last ? last->encode_ms : 0;
    overlay_->setText(QString("render    %1 ms\nencode    %2 ms\ndecode    %3 ms\npresent   %4 ms\nintent→frame %5 ms\nframes via %6\n%7")
                          .arg(render, 6, 'f', 1)
                          .arg(encode, 6, 'f', 1)
                          .arg(p50(mt.decode_ms), 6, 'f', 1)
                          .arg(p50(mt.presenter_latency_ms), 6, 'f', 1)
                          .arg(p50(mt.intent_to_frame_ms), 6, 'f', 1)
                          .arg(canvas_->frame_path())
                          .arg(QString::fromStdString(client::describe(loop_state))));
    overlay_->adjustSize();
  }
}

bool ViewerWindow::start_screenshot(const QString& path, int scale) {
  if (!loop_ || pending_screenshot_.valid()) return false;
  const qreal dpr = canvas_->devicePixelRatioF();
  const int w = std::max(2, qRound(canvas_->width() * dpr)), h = std::max(2, qRound(canvas_->height() * dpr));
  auto reply = loop_->call("napari.screenshot", {{"scale", scale}, {"width", w}, {"height", h}}, 120);
  pending_screenshot_path_ = path;
  // The wait, the base64 decoding and the file (100 MB at 4x) stay off the GUI thread.
  pending_screenshot_ = std::async(std::launch::async, [reply = std::move(reply), file = path.toStdString()]() mutable {
    auto r = reply.get();
    if (!r.ok) return r.message + " (" + r.code + ")";
    auto png = protocol::base64_decode(r.result.value("data", std::string()));
    if (!png) return std::string("the server's picture is not base64");
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(png->data()), static_cast<std::streamsize>(png->size()));
    return out ? std::string() : "cannot write " + file;
  });
  statusBar()->showMessage(QString("rendering a %1 x %2 screenshot…").arg(w * scale).arg(h * scale));
  return true;
}

void ViewerWindow::screenshot_dialog() {
  ScreenshotChoice choice;
  if (pending_screenshot_.valid()) return statusBar()->showMessage("a screenshot is being saved", 3000);
  if (!ask_screenshot(this, &choice)) return;
  start_screenshot(choice.path, choice.scale);
}

void ViewerWindow::open_dataset_dialog() {
  if (!loop_) return;
  OpenDatasetDialog dialog(loop_.get(), this);
  dialog.exec();
}

}  // namespace voxcast::viewer
