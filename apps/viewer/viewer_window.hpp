#pragma once
// voxcast-viewer's main window: the canvas, the dims sliders under it, the layer list and
// controls in a dock, a status bar (link, fps, intent->frame latency, decode time,
// bitrate, the server's renderer and encoder), a reconnecting banner and a per-stage
// timing overlay over the canvas. All protocol and media work happens in the client core;
// the window draws what the core knows and turns input into intents.
#include <QLabel>
#include <QMainWindow>
#include <QTimer>
#include <future>
#include <memory>
#include <string>

#include "camera_control.hpp"
#include "dims_panel.hpp"
#include "frame_canvas.hpp"
#include "layer_panel.hpp"
#include "voxcast/client/stream_loop.hpp"

namespace voxcast::viewer {

class ViewerWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit ViewerWindow(client::ClientConfig config, QWidget* parent = nullptr);
  ~ViewerWindow() override;

  // Connects the core; false with *error when the server cannot be reached.
  bool start(QString* error);
  // Stops the core (goodbye, threads joined) and lets go of the shown frame.
  void shutdown();

  client::ClientStreamLoop* loop() { return loop_.get(); }
  FrameCanvas* canvas() { return canvas_; }
  DimsPanel* dims() { return dims_; }
  LayerPanel* layers() { return layers_; }
  QLabel* banner() { return banner_; }
  QLabel* overlay() { return overlay_; }
  QLabel* status_link() { return link_; }
  QLabel* status_rates() { return rates_; }
  QLabel* status_server() { return server_; }
  QLabel* status_quality() { return quality_; }
  void toggle_ndisplay();
  // napari.screenshot of what the canvas shows, at its size in device pixels times
  // `scale`, written to `path` off the GUI thread; false when one is already pending.
  // screenshot_finished follows (error empty on success).
  bool start_screenshot(const QString& path, int scale);
  bool screenshot_pending() const { return pending_screenshot_.valid(); }

 signals:
  void screenshot_finished(const QString& path, const QString& error);

 protected:
  void closeEvent(QCloseEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;

 private:
  void build_menus();
  void refresh();         // mirror -> widgets, 20 times a second
  void refresh_status();  // metrics -> status bar, 4 times a second
  void send_camera();
  void open_dataset_dialog();
  void screenshot_dialog();

  client::ClientConfig config_;
  std::unique_ptr<client::ClientStreamLoop> loop_;
  FrameCanvas* canvas_ = nullptr;
  DimsPanel* dims_ = nullptr;
  LayerPanel* layers_ = nullptr;
  QLabel* banner_ = nullptr;
  QLabel* overlay_ = nullptr;
  QLabel* link_ = nullptr;
  QLabel* rates_ = nullptr;
  QLabel* server_ = nullptr;
  QLabel* quality_ = nullptr;  // exact / partial / lossy: what the picture on screen is
  QTimer refresh_timer_, status_timer_;
  LocalCamera camera_;
  std::future<client::CommandResult> pending_contrast_;  // napari.auto_contrast in flight
  std::future<std::string> pending_screenshot_;  // the reply awaited and the file written: the error, or ""
  QString pending_screenshot_path_;
  double interacting_until_ms_ = 0;  // the local camera leads until then
  uint64_t last_bytes_ = 0;
  uint64_t shown_server_errors_ = 0;  // notify.error count already shown in the status bar
  double last_status_ms_ = 0;
};

}  // namespace voxcast::viewer
