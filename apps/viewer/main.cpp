// voxcast-viewer: the desktop client. One argument, the connection string the server
// prints, or the same connection options as voxcast-headless; without either it offers
// the recent connections.
#include <CLI/CLI.hpp>
#include <QApplication>
#include <QInputDialog>
#include <QMessageBox>
#include <QSettings>
#include <QSurfaceFormat>
#include <QTimer>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/client_cli.hpp"
#include "recent_connections.hpp"
#include "viewer_window.hpp"

using namespace voxcast;


int main(int argc, char** argv) {
  CLI::App app{"voxcast-viewer: the voxcast desktop client"};
  apps::ClientCli cli;
  cli.config.name = "voxcast-viewer";
  std::string positional;
  app.add_option("connection", positional, "connection string printed by the server (voxcast://HOST:PORT?pixel=...&token=...)");
  apps::add_client_options(app, &cli);
  std::string grab_path;
  double grab_after_s = 3.0;
  app.add_option("--grab", grab_path, "save a picture of the window to this PNG after --grab-after seconds, then quit");
  app.add_option("--grab-after", grab_after_s, "seconds before --grab")->capture_default_str();
  bool host_given = false;
  app.callback([&] { host_given = app.count("--host") + app.count("--control-port") > 0; });
  CLI11_PARSE(app, argc, argv);
  if (!positional.empty()) cli.connection.connect = positional;

  // VA-API pictures reach the canvas as dma-bufs, which only an EGL context imports: on
  // X11 Qt is asked for EGL when a render node exists and the decoder may be VA-API (Qt
  // falls back to GLX by itself when EGL does not start; CUDA-GL works with either).
  if (!std::getenv("QT_XCB_GL_INTEGRATION") && (cli.config.decoder == "auto" || cli.config.decoder == "vaapi") &&
      std::filesystem::exists("/dev/dri/renderD128"))
    setenv("QT_XCB_GL_INTEGRATION", "xcb_egl", 0);

  QSurfaceFormat format;
  format.setSwapInterval(0);  // the presenter paces frames, not the swap
  QSurfaceFormat::setDefaultFormat(format);
  QApplication qapp(argc, argv);
  QApplication::setApplicationName("voxcast-viewer");

  QSettings settings("voxcast", "viewer");
  if (cli.connection.connect.empty() && !host_given) {
    bool ok = false;
    QString chosen = QInputDialog::getItem(nullptr, "voxcast", "Connect to (the string voxcast-server printed):",
                                           viewer::recent_connections(settings), 0, true, &ok);
    if (!ok || chosen.isEmpty()) return 0;
    cli.connection.connect = chosen.toStdString();
  }
  if (auto err = apps::resolve_client_config(&cli)) {
    std::fprintf(stderr, "voxcast-viewer: %s\n", err->c_str());
    return 2;
  }
  viewer::ViewerWindow window(cli.config);
  QString error;
  if (!window.start(&error)) {
    std::fprintf(stderr, "voxcast-viewer: cannot connect: %s\n", error.toUtf8().constData());
    QMessageBox::critical(nullptr, "voxcast", "Cannot connect: " + error);
    return 1;
  }
  viewer::remember_connection(settings, QString::fromStdString(format_connection_string(cli.config.connection)));
  window.show();
  if (!grab_path.empty()) {
    QTimer::singleShot(static_cast<int>(grab_after_s * 1000), &window, [&] {
      window.grab().save(QString::fromStdString(grab_path));
      window.close();
    });
  }
  return QApplication::exec();
}
