#include "layer_panel.hpp"

#include <QFormLayout>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <cmath>

#include "voxcast/render/colormap.hpp"

namespace voxcast::viewer {

using nlohmann::json;

namespace {
// A slider over [lo, hi] in `steps` ticks; the real range lives in properties.
void set_slider(QSlider* s, double v) {
  const double lo = s->property("lo").toDouble(), hi = s->property("hi").toDouble();
  const int tick = static_cast<int>(std::lround((v - lo) / (hi - lo) * s->maximum()));
  if (s->value() != tick && !s->isSliderDown()) {
    QSignalBlocker block(s);
    s->setValue(tick);
  }
}
double slider_value(const QSlider* s) {
  const double lo = s->property("lo").toDouble(), hi = s->property("hi").toDouble();
  return lo + (hi - lo) * s->value() / std::max(1, s->maximum());
}
void set_combo(QComboBox* c, const json& v) {
  if (!v.is_string()) return;
  int i = c->findText(QString::fromStdString(v.get<std::string>()));
  if (i >= 0 && c->currentIndex() != i) {
    QSignalBlocker block(c);
    c->setCurrentIndex(i);
  }
}
}  // namespace

LayerPanel::LayerPanel(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  list_ = new QListWidget(this);
  list_->setObjectName("layers");
  list_->setMaximumHeight(140);
  outer->addWidget(list_);
  auto* form = new QFormLayout();
  outer->addLayout(form);
  colormap_ = new QComboBox(this);
  colormap_->setObjectName("colormap");
  for (const auto& n : render::colormap_names()) colormap_->addItem(QString::fromStdString(n));
  form->addRow("colormap", colormap_);
  contrast_ = new RangeSlider(this);
  contrast_->setObjectName("contrast");
  auto* contrast_row = new QHBoxLayout();
  contrast_row->addWidget(contrast_, 1);
  auto_ = new QPushButton("auto", this);
  auto_->setToolTip("contrast limits from the 0.5 and 99.5 percentiles of the current view's data");
  contrast_row->addWidget(auto_);
  form->addRow("contrast", contrast_row);
  contrast_text_ = new QLabel(this);
  form->addRow("", contrast_text_);
  gamma_ = add_slider("gamma", "gamma", 100, 0.2, 2.0);
  form->addRow("gamma", gamma_);
  opacity_ = add_slider("opacity", "opacity", 100, 0.0, 1.0);
  form->addRow("opacity", opacity_);
  blending_ = new QComboBox(this);
  blending_->addItems({"translucent", "additive", "minimum", "opaque"});
  form->addRow("blending", blending_);
  interpolation_ = new QComboBox(this);
  interpolation_->addItems({"nearest", "linear"});
  form->addRow("interpolation", interpolation_);
  three_d_ = new QWidget(this);
  auto* form3 = new QFormLayout(three_d_);
  form3->setContentsMargins(0, 0, 0, 0);
  rendering_ = new QComboBox(three_d_);
  rendering_->setObjectName("rendering");
  rendering_->addItems({"mip", "minip", "average", "attenuated_mip", "iso", "translucent", "additive"});
  form3->addRow("rendering", rendering_);
  iso_ = add_slider("iso threshold", "iso_threshold", 200, 0.0, 1.0);
  form3->addRow("iso threshold", iso_);
  attenuation_ = add_slider("attenuation", "attenuation", 100, 0.0, 0.5);
  form3->addRow("attenuation", attenuation_);
  outer->addWidget(three_d_);
  outer->addStretch(1);

  connect(list_, &QListWidget::currentRowChanged, this, [this](int row) {
    if (row >= 0 && static_cast<size_t>(row) < ids_.size()) selected_ = ids_[static_cast<size_t>(row)];
  });
  connect(list_, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
    if (updating_) return;
    emit control_changed(item->data(Qt::UserRole).toString(), "visible",
                         item->checkState() == Qt::Checked ? "true" : "false");
  });
  connect(colormap_, &QComboBox::currentTextChanged, this, [this](const QString& t) { emit_control("colormap", t.toStdString()); });
  connect(contrast_, &RangeSlider::values_changed, this, [this](double lo, double hi) { emit_control("contrast_limits", {lo, hi}); });
  connect(auto_, &QPushButton::clicked, this, [this] {
    if (!selected_.empty()) emit auto_contrast(QString::fromStdString(selected_));
  });
  connect(blending_, &QComboBox::currentTextChanged, this, [this](const QString& t) { emit_control("blending", t.toStdString()); });
  connect(interpolation_, &QComboBox::currentTextChanged, this,
          [this](const QString& t) { emit_control("interpolation", t.toStdString()); });
  connect(rendering_, &QComboBox::currentTextChanged, this, [this](const QString& t) { emit_control("rendering", t.toStdString()); });
}

QSlider* LayerPanel::add_slider(const char*, const char* key, int steps, double lo, double hi) {
  auto* s = new QSlider(Qt::Horizontal, this);
  s->setObjectName(key);
  s->setRange(0, steps);
  s->setProperty("lo", lo);
  s->setProperty("hi", hi);
  std::string k = key;
  connect(s, &QSlider::valueChanged, this, [this, s, k] { emit_control(k.c_str(), slider_value(s)); });
  return s;
}

void LayerPanel::emit_control(const char* key, const json& value) {
  if (updating_ || selected_.empty()) return;
  emit control_changed(QString::fromStdString(selected_), key, QString::fromStdString(value.dump()));
}

void LayerPanel::select(const std::string& id) {
  for (size_t i = 0; i < ids_.size(); ++i)
    if (ids_[i] == id) list_->setCurrentRow(static_cast<int>(i));
}

void LayerPanel::update_from(const client::ClientMirror& m,
                             const std::function<json(const std::string&, const std::string&)>& displayed) {
  updating_ = true;
  std::vector<std::string> ids;
  for (const auto& l : m.layers) ids.push_back(l.id);
  if (ids != ids_) {
    ids_ = ids;
    list_->clear();
    for (const auto& l : m.layers) {
      auto* item = new QListWidgetItem(QString::fromStdString(l.name.empty() ? l.id : l.name), list_);
      item->setData(Qt::UserRole, QString::fromStdString(l.id));
      item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
      item->setCheckState(Qt::Checked);  // a check box from the start; the loop below sets it
    }
    if (std::find(ids_.begin(), ids_.end(), selected_) == ids_.end()) selected_ = ids_.empty() ? "" : ids_.front();
    select(selected_);
  }
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const json shown = displayed(m.layers[i].id, "visible");
    const bool visible = shown.is_boolean() ? shown.get<bool>() : true;
    auto* item = list_->item(static_cast<int>(i));
    if (item && (item->checkState() == Qt::Checked) != visible) item->setCheckState(visible ? Qt::Checked : Qt::Unchecked);
  }
  const client::LayerMirror* layer = m.layer(selected_);
  setEnabled(layer != nullptr);
  three_d_->setVisible(m.ndisplay == 3);
  if (layer) {
    auto get = [&](const char* key) { return displayed(selected_, key); };
    // A colour the server made a map of (an OME channel's "#rrggbb") joins the list.
    if (auto cm = get("colormap"); cm.is_string() && colormap_->findText(QString::fromStdString(cm.get<std::string>())) < 0) {
      QSignalBlocker block(colormap_);
      colormap_->addItem(QString::fromStdString(cm.get<std::string>()));
    }
    set_combo(colormap_, get("colormap"));
    set_combo(blending_, get("blending"));
    set_combo(interpolation_, get("interpolation"));
    set_combo(rendering_, get("rendering"));
    json range = layer->metadata.value("contrast_range", json());
    json limits = get("contrast_limits");
    if (range.is_array() && range.size() == 2 && range[0].is_number() && range[1].is_number()) {
      contrast_->set_range(range[0].get<double>(), range[1].get<double>());
      iso_->setProperty("lo", range[0].get<double>());
      iso_->setProperty("hi", range[1].get<double>());
    }
    if (limits.is_array() && limits.size() == 2 && limits[0].is_number() && limits[1].is_number() && !contrast_->dragging()) {
      contrast_->set_values(limits[0].get<double>(), limits[1].get<double>());
      contrast_text_->setText(QString("%1 – %2").arg(limits[0].get<double>(), 0, 'g', 5).arg(limits[1].get<double>(), 0, 'g', 5));
    }
    for (auto [slider, key] : {std::pair{gamma_, "gamma"}, {opacity_, "opacity"}, {iso_, "iso_threshold"}, {attenuation_, "attenuation"}})
      if (get(key).is_number()) set_slider(slider, get(key).get<double>());
  }
  updating_ = false;
}

}  // namespace voxcast::viewer
