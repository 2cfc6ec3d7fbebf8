#pragma once
// One slider per non-displayed axis, as napari's dims bar: the axis name, a play button,
// the slider and the position (with the physical coordinate when the scale is known).
// Playback steps the axis at a chosen rate (loop, back and forth, or once).
#include <QComboBox>
#include <QLabel>
#include <QSlider>
#include <QSpinBox>
#include <QTimer>
#include <QToolButton>
#include <QWidget>
#include <functional>
#include <string>
#include <vector>

#include "voxcast/client/mirror.hpp"

namespace voxcast::viewer {

enum class PlayMode { loop, back_and_forth, once };

class DimsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit DimsPanel(QWidget* parent = nullptr);
  // Shows the mirror's axes; `displayed(axis)` is the value the slider should show (the
  // user's newest intent or the server's value). A slider being dragged is left alone.
  void update_from(const client::ClientMirror& m, const std::function<int64_t(const std::string&)>& displayed);
  // Arrow keys: step the current axis (the last one touched) by `delta`.
  void step_current(int delta);
  QSlider* slider(const std::string& axis) const;
  QToolButton* play_button(const std::string& axis) const;
  std::string current_axis() const { return current_; }
  void set_fps(int fps) { fps_->setValue(fps); }
  void set_mode(PlayMode m) { mode_->setCurrentIndex(static_cast<int>(m)); }

 signals:
  void index_changed(QString axis, qint64 value);

 private:
  struct Row {
    std::string axis;
    QLabel* name = nullptr;
    QToolButton* play = nullptr;
    QSlider* slider = nullptr;
    QLabel* position = nullptr;
    double scale = 1;
    std::string unit;
  };
  void rebuild(const client::ClientMirror& m, const std::vector<int>& axes);
  void show_position(Row& r);
  void play_tick();
  void toggle_play(const std::string& axis);

  std::vector<Row> rows_;
  std::vector<std::string> shown_axes_;
  std::string current_;
  std::string playing_;
  int direction_ = 1;
  QTimer timer_;
  QSpinBox* fps_ = nullptr;
  QComboBox* mode_ = nullptr;
  QWidget* rows_box_ = nullptr;
};

// Non-displayed axes in order (the sliders napari shows).
std::vector<int> slider_axes(const client::ClientMirror& m);

}  // namespace voxcast::viewer
