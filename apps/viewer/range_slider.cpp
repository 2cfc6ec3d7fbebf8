#include "range_slider.hpp"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace voxcast::viewer {

namespace {
constexpr double kMargin = 7;
}

RangeSlider::RangeSlider(QWidget* parent) : QWidget(parent) { setMinimumHeight(22); }

void RangeSlider::set_range(double minimum, double maximum) {
  min_ = minimum;
  max_ = maximum > minimum ? maximum : minimum + 1;
  update();
}

void RangeSlider::set_values(double low, double high) {
  low_ = std::clamp(low, min_, max_);
  high_ = std::clamp(high, low_, max_);
  update();
}

double RangeSlider::x_of(double v) const {
  return kMargin + (v - min_) / (max_ - min_) * (width() - 2 * kMargin);
}

double RangeSlider::value_at(double x) const {
  double t = std::clamp((x - kMargin) / std::max(1.0, width() - 2 * kMargin), 0.0, 1.0);
  return min_ + t * (max_ - min_);
}

void RangeSlider::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const double cy = height() / 2.0;
  p.setPen(Qt::NoPen);
  p.setBrush(palette().mid());
  p.drawRoundedRect(QRectF(kMargin, cy - 2, width() - 2 * kMargin, 4), 2, 2);
  p.setBrush(palette().highlight());
  p.drawRect(QRectF(x_of(low_), cy - 2, x_of(high_) - x_of(low_), 4));
  p.setBrush(palette().button());
  p.setPen(palette().dark().color());
  for (double v : {low_, high_}) p.drawEllipse(QPointF(x_of(v), cy), 6, 6);
}

void RangeSlider::mousePressEvent(QMouseEvent* e) {
  const double x = e->position().x();
  handle_ = std::abs(x - x_of(low_)) <= std::abs(x - x_of(high_)) ? 0 : 1;
  if (low_ == high_) handle_ = x > x_of(high_) ? 1 : 0;
  mouseMoveEvent(e);
}

void RangeSlider::mouseMoveEvent(QMouseEvent* e) {
  if (handle_ < 0) return;
  double v = value_at(e->position().x());
  if (handle_ == 0) low_ = std::min(v, high_);
  else high_ = std::max(v, low_);
  update();
  emit values_changed(low_, high_);
}

void RangeSlider::mouseReleaseEvent(QMouseEvent*) { handle_ = -1; }

}  // namespace voxcast::viewer
