#pragma once
// Files on the server: a browser over fs.listdir that opens a dataset with
// napari.load_zarr, showing progress while the server opens it; and the screenshot
// options (file, 1x / 2x / 4x).
#include <QDialog>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <future>
#include <string>

#include "voxcast/client/stream_loop.hpp"

namespace voxcast::viewer {

class OpenDatasetDialog : public QDialog {
  Q_OBJECT
 public:
  OpenDatasetDialog(client::ClientStreamLoop* loop, QWidget* parent = nullptr);
  void list(const std::string& path);  // shows a folder of the data root ("" = the root)
  void open(const std::string& path);  // asks the server to open a dataset
  QListWidget* entries() const { return entries_; }
  QLabel* message() const { return message_; }
  bool busy() const { return pending_.valid(); }

 private:
  void poll();

  client::ClientStreamLoop* loop_;
  std::string path_;
  QLabel* where_ = nullptr;
  QListWidget* entries_ = nullptr;
  QLabel* message_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QPushButton* open_ = nullptr;
  std::future<client::CommandResult> pending_;
  std::string pending_path_;
  QTimer timer_;
};

struct ScreenshotChoice {
  QString path;
  int scale = 1;
};
bool ask_screenshot(QWidget* parent, ScreenshotChoice* out);

}  // namespace voxcast::viewer
