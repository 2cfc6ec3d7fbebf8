#pragma once
// A horizontal slider with two handles (contrast limits), as napari's range slider.
// Values are doubles within [minimum, maximum]; dragging a handle emits values_changed.
#include <QWidget>

namespace voxcast::viewer {

class RangeSlider : public QWidget {
  Q_OBJECT
 public:
  explicit RangeSlider(QWidget* parent = nullptr);
  void set_range(double minimum, double maximum);
  void set_values(double low, double high);  // no signal
  double low() const { return low_; }
  double high() const { return high_; }
  double minimum() const { return min_; }
  double maximum() const { return max_; }
  bool dragging() const { return handle_ >= 0; }
  QSize sizeHint() const override { return {160, 22}; }

 signals:
  void values_changed(double low, double high);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;

 private:
  double x_of(double v) const;
  double value_at(double x) const;
  double min_ = 0, max_ = 1, low_ = 0, high_ = 1;
  int handle_ = -1;  // 0 low, 1 high, -1 none
};

}  // namespace voxcast::viewer
