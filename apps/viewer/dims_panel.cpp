#include "dims_panel.hpp"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

namespace voxcast::viewer {

std::vector<int> slider_axes(const client::ClientMirror& m) {
  std::vector<int> order = m.order;
  if (order.size() != m.axis_labels.size()) {
    order.clear();
    for (size_t i = 0; i < m.axis_labels.size(); ++i) order.push_back(static_cast<int>(i));
  }
  const size_t nd = static_cast<size_t>(std::clamp(m.ndisplay, 2, 3));
  if (order.size() <= nd) return {};
  return std::vector<int>(order.begin(), order.end() - static_cast<std::ptrdiff_t>(nd));
}

DimsPanel::DimsPanel(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(6, 2, 6, 2);
  rows_box_ = new QWidget(this);
  new QGridLayout(rows_box_);
  rows_box_->layout()->setContentsMargins(0, 0, 0, 0);
  outer->addWidget(rows_box_);
  auto* playback = new QHBoxLayout();
  playback->addStretch(1);
  playback->addWidget(new QLabel("play at", this));
  fps_ = new QSpinBox(this);
  fps_->setRange(1, 120);
  fps_->setValue(10);
  fps_->setSuffix(" fps");
  playback->addWidget(fps_);
  mode_ = new QComboBox(this);
  mode_->addItems({"loop", "back and forth", "once"});
  playback->addWidget(mode_);
  outer->addLayout(playback);
  connect(&timer_, &QTimer::timeout, this, [this] { play_tick(); });
  connect(fps_, &QSpinBox::valueChanged, this, [this](int fps) {
    if (timer_.isActive()) timer_.start(1000 / fps);
  });
}

void DimsPanel::rebuild(const client::ClientMirror& m, const std::vector<int>& axes) {
  timer_.stop();
  playing_.clear();
  for (auto& r : rows_) {
    delete r.name;
    delete r.play;
    delete r.slider;
    delete r.position;
  }
  rows_.clear();
  auto* grid = static_cast<QGridLayout*>(rows_box_->layout());
  shown_axes_.clear();
  int row = 0;
  for (int a : axes) {
    Row r;
    r.axis = m.axis_labels[static_cast<size_t>(a)];
    shown_axes_.push_back(r.axis);
    if (static_cast<size_t>(a) < m.scale.size()) r.scale = m.scale[static_cast<size_t>(a)];
    if (static_cast<size_t>(a) < m.units.size()) r.unit = m.units[static_cast<size_t>(a)];
    r.name = new QLabel(QString::fromStdString(r.axis), rows_box_);
    r.name->setMinimumWidth(24);
    r.play = new QToolButton(rows_box_);
    r.play->setText("▶");
    r.play->setToolTip("play along " + QString::fromStdString(r.axis));
    r.play->setObjectName(QString::fromStdString("play-" + r.axis));
    r.slider = new QSlider(Qt::Horizontal, rows_box_);
    r.slider->setObjectName(QString::fromStdString("dims-" + r.axis));
    r.slider->setRange(0, static_cast<int>(std::max<int64_t>(1, m.shape[static_cast<size_t>(a)]) - 1));
    r.slider->setFocusPolicy(Qt::NoFocus);  // arrows belong to the viewer (napari's keys)
    r.position = new QLabel(rows_box_);
    r.position->setMinimumWidth(150);
    grid->addWidget(r.name, row, 0);
    grid->addWidget(r.play, row, 1);
    grid->addWidget(r.slider, row, 2);
    grid->addWidget(r.position, row, 3);
    const std::string axis = r.axis;
    connect(r.slider, &QSlider::valueChanged, this, [this, axis](int v) {
      current_ = axis;
      for (auto& x : rows_)
        if (x.axis == axis) show_position(x);
      emit index_changed(QString::fromStdString(axis), v);
    });
    connect(r.play, &QToolButton::clicked, this, [this, axis] { toggle_play(axis); });
    rows_.push_back(r);
    ++row;
  }
  if (!rows_.empty() && std::find(shown_axes_.begin(), shown_axes_.end(), current_) == shown_axes_.end())
    current_ = rows_.back().axis;
  setVisible(!rows_.empty());
}

namespace {
QString short_unit(const std::string& unit) {
  static const std::pair<const char*, const char*> names[] = {
      {"millimeter", "mm"}, {"micrometer", "µm"}, {"nanometer", "nm"}, {"centimeter", "cm"}, {"meter", "m"},
      {"second", "s"},      {"millisecond", "ms"}, {"minute", "min"},  {"hour", "h"}};
  for (const auto& [long_name, short_name] : names)
    if (unit == long_name) return short_name;
  return QString::fromStdString(unit);
}
}  // namespace

void DimsPanel::show_position(Row& r) {
  const int v = r.slider->value();
  QString text = QString("%1 / %2").arg(v).arg(r.slider->maximum());
  if (r.scale != 1.0 || !r.unit.empty())
    text += QString("  ·  %1 %2").arg(v * r.scale, 0, 'g', 4).arg(short_unit(r.unit));
  r.position->setText(text);
}

void DimsPanel::update_from(const client::ClientMirror& m, const std::function<int64_t(const std::string&)>& displayed) {
  auto axes = slider_axes(m);
  std::vector<std::string> names;
  for (int a : axes) names.push_back(m.axis_labels[static_cast<size_t>(a)]);
  bool same = names == shown_axes_ && rows_.size() == axes.size();
  for (size_t i = 0; same && i < axes.size(); ++i)
    same = rows_[i].slider->maximum() == std::max<int64_t>(1, m.shape[static_cast<size_t>(axes[i])]) - 1;
  if (!same) rebuild(m, axes);
  for (auto& r : rows_) {
    if (r.slider->isSliderDown()) continue;  // the user's hand wins
    const int v = static_cast<int>(displayed(r.axis));
    if (r.slider->value() != v) {
      QSignalBlocker block(r.slider);
      r.slider->setValue(v);
    }
    show_position(r);
  }
}

void DimsPanel::step_current(int delta) {
  for (auto& r : rows_)
    if (r.axis == current_) r.slider->setValue(std::clamp(r.slider->value() + delta, 0, r.slider->maximum()));
}

QSlider* DimsPanel::slider(const std::string& axis) const {
  for (const auto& r : rows_)
    if (r.axis == axis) return r.slider;
  return nullptr;
}

QToolButton* DimsPanel::play_button(const std::string& axis) const {
  for (const auto& r : rows_)
    if (r.axis == axis) return r.play;
  return nullptr;
}

void DimsPanel::toggle_play(const std::string& axis) {
  const bool was = playing_ == axis;
  for (auto& r : rows_) r.play->setText("▶");
  timer_.stop();
  playing_.clear();
  if (was) return;
  playing_ = axis;
  current_ = axis;
  direction_ = 1;
  if (auto* b = play_button(axis)) b->setText("■");
  timer_.start(1000 / fps_->value());
}

void DimsPanel::play_tick() {
  QSlider* s = slider(playing_);
  if (!s) return timer_.stop();
  int next = s->value() + direction_;
  const auto mode = static_cast<PlayMode>(mode_->currentIndex());
  if (next > s->maximum() || next < 0) {
    if (mode == PlayMode::loop) {
      next = direction_ > 0 ? 0 : s->maximum();
    } else if (mode == PlayMode::back_and_forth) {
      direction_ = -direction_;
      next = std::clamp(s->value() + direction_, 0, s->maximum());
    } else {
      toggle_play(playing_);  // once: stop at the end
      return;
    }
  }
  s->setValue(next);
}

}  // namespace voxcast::viewer
