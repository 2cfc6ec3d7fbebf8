#include "open_dialog.hpp"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QVBoxLayout>

namespace voxcast::viewer {

using nlohmann::json;

OpenDatasetDialog::OpenDatasetDialog(client::ClientStreamLoop* loop, QWidget* parent) : QDialog(parent), loop_(loop) {
  setWindowTitle("Open a dataset on the server");
  resize(520, 420);
  auto* col = new QVBoxLayout(this);
  auto* top = new QHBoxLayout();
  auto* up = new QPushButton("up", this);
  where_ = new QLabel(this);
  top->addWidget(up);
  top->addWidget(where_, 1);
  col->addLayout(top);
  entries_ = new QListWidget(this);
  col->addWidget(entries_, 1);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  col->addWidget(message_);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 0);  // busy: the server does not report a fraction
  progress_->hide();
  col->addWidget(progress_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  open_ = buttons->addButton("Open", QDialogButtonBox::AcceptRole);
  col->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(open_, &QPushButton::clicked, this, [this] {
    if (auto* item = entries_->currentItem()) open(item->data(Qt::UserRole).toString().toStdString());
  });
  connect(up, &QPushButton::clicked, this, [this] {
    auto slash = path_.rfind('/');
    list(slash == std::string::npos ? "" : path_.substr(0, slash));
  });
  connect(entries_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    const std::string p = item->data(Qt::UserRole).toString().toStdString();
    if (item->data(Qt::UserRole + 1).toBool()) list(p);  // a plain folder: go in
    else open(p);
  });
  connect(&timer_, &QTimer::timeout, this, [this] { poll(); });
  list("");
}

void OpenDatasetDialog::list(const std::string& path) {
  auto r = loop_->call("fs.listdir", path.empty() ? json::object() : json{{"path", path}}, 10).get();
  entries_->clear();
  if (!r.ok) {
    message_->setText(QString::fromStdString(r.message));
    return;
  }
  path_ = r.result.value("path", std::string("."));
  if (path_ == ".") path_.clear();
  where_->setText(QString::fromStdString("/" + path_));
  message_->clear();
  for (const auto& e : r.result.value("entries", json::array())) {
    const bool dir = e.value("is_dir", false);
    const bool dataset = e.value("zarr_metadata", json()).is_object();
    QString label = QString::fromStdString(e.value("name", std::string()));
    if (dataset) label += "   (dataset)";
    else if (dir) label += "/";
    auto* item = new QListWidgetItem(label, entries_);
    item->setData(Qt::UserRole, QString::fromStdString(e.value("path", std::string())));
    item->setData(Qt::UserRole + 1, dir && !dataset);
  }
}

void OpenDatasetDialog::open(const std::string& path) {
  if (pending_.valid()) return;
  pending_path_ = path;
  pending_ = loop_->call("napari.load_zarr", {{"path", path}}, 120);
  message_->setText(QString::fromStdString("opening " + path + " …"));
  progress_->show();
  open_->setEnabled(false);
  timer_.start(50);
}

void OpenDatasetDialog::poll() {
  if (!pending_.valid() || pending_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
  timer_.stop();
  auto r = pending_.get();
  progress_->hide();
  open_->setEnabled(true);
  if (r.ok) {
    accept();
    return;
  }
  if (r.code == "zarr.disambiguate") {
    // A folder of datasets: offer them.
    entries_->clear();
    message_->setText("this folder holds several datasets: pick one");
    for (const auto& o : r.details.value("options", json::array())) {
      std::string p = o.is_string() ? o.get<std::string>() : o.value("path", std::string());
      auto* item = new QListWidgetItem(QString::fromStdString(p), entries_);
      item->setData(Qt::UserRole, QString::fromStdString(p));
      item->setData(Qt::UserRole + 1, false);
    }
    return;
  }
  message_->setText(QString::fromStdString("cannot open " + pending_path_ + ": " + r.message));
}

bool ask_screenshot(QWidget* parent, ScreenshotChoice* out) {
  QDialog d(parent);
  d.setWindowTitle("Save screenshot");
  auto* form = new QFormLayout(&d);
  auto* path = new QLineEdit("voxcast-screenshot.png", &d);
  auto* browse = new QPushButton("…", &d);
  auto* row = new QHBoxLayout();
  row->addWidget(path, 1);
  row->addWidget(browse);
  form->addRow("file", row);
  auto* scale = new QComboBox(&d);
  scale->addItems({"1× (the stream size)", "2×", "4×"});
  form->addRow("size", scale);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, &d);
  form->addRow(buttons);
  QObject::connect(browse, &QPushButton::clicked, &d, [&] {
    QString p = QFileDialog::getSaveFileName(&d, "Save screenshot", path->text(), "PNG (*.png)");
    if (!p.isEmpty()) path->setText(p);
  });
  QObject::connect(buttons, &QDialogButtonBox::accepted, &d, &QDialog::accept);
  QObject::connect(buttons, &QDialogButtonBox::rejected, &d, &QDialog::reject);
  if (d.exec() != QDialog::Accepted) return false;
  out->path = path->text();
  out->scale = 1 << scale->currentIndex();
  return true;
}

}  // namespace voxcast::viewer
