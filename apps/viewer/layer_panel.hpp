#pragma once
// The layer list (visibility, selection) and the selected layer's controls, as napari's
// layer controls: colormap, contrast limits (range slider, auto), gamma, opacity, blending,
// interpolation, and in 3D the rendering mode, iso threshold and attenuation. Every change
// leaves as `control_changed(layer, key, value)`; the window sends it through the core.
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSlider>
#include <QWidget>
#include <functional>
#include <nlohmann/json.hpp>

#include "range_slider.hpp"
#include "voxcast/client/mirror.hpp"

namespace voxcast::viewer {

class LayerPanel : public QWidget {
  Q_OBJECT
 public:
  explicit LayerPanel(QWidget* parent = nullptr);
  // `displayed(layer, key)` is what a control shows (newest local intent, else the server's).
  void update_from(const client::ClientMirror& m,
                   const std::function<nlohmann::json(const std::string&, const std::string&)>& displayed);
  std::string selected() const { return selected_; }
  void select(const std::string& layer_id);
  QComboBox* colormap() const { return colormap_; }
  RangeSlider* contrast() const { return contrast_; }
  QSlider* opacity() const { return opacity_; }
  QComboBox* rendering() const { return rendering_; }
  QListWidget* list() const { return list_; }

 signals:
  void control_changed(QString layer, QString key, QString json_value);
  void auto_contrast(QString layer);

 private:
  void emit_control(const char* key, const nlohmann::json& value);
  QSlider* add_slider(const char* label, const char* key, int steps, double lo, double hi);

  QListWidget* list_ = nullptr;
  QComboBox* colormap_ = nullptr;
  RangeSlider* contrast_ = nullptr;
  QLabel* contrast_text_ = nullptr;
  QPushButton* auto_ = nullptr;
  QSlider* gamma_ = nullptr;
  QSlider* opacity_ = nullptr;
  QComboBox* blending_ = nullptr;
  QComboBox* interpolation_ = nullptr;
  QComboBox* rendering_ = nullptr;
  QSlider* iso_ = nullptr;
  QSlider* attenuation_ = nullptr;
  QWidget* three_d_ = nullptr;  // controls shown in 3D only
  std::vector<std::string> ids_;
  std::string selected_;
  bool updating_ = false;
};

}  // namespace voxcast::viewer
