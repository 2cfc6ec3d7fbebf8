#include "labels.hpp"

#include <algorithm>
#include <cstring>

#include "ngff.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/data/extent.hpp"
#include "voxcast/data/zarr.hpp"
#include "voxcast/data/zarr3.hpp"

namespace voxcast::data {
using nlohmann::json;

namespace {

class SubStore final : public Store {
 public:
  SubStore(std::shared_ptr<const Store> inner, std::string prefix) : inner_(std::move(inner)), prefix_(std::move(prefix)) {}
  std::optional<StoreError> read(const std::string& key, StoreRead* out) const override { return inner_->read(k(key), out); }
  std::optional<StoreError> read_range(const std::string& key, ByteRange range, StoreRead* out) const override {
    return inner_->read_range(k(key), range, out);
  }
  bool exists(const std::string& key) const override { return inner_->exists(k(key)); }
  std::vector<std::string> list(const std::string& prefix) const override { return inner_->list(k(prefix)); }
  std::string where(const std::string& key) const override { return inner_->where(k(key)); }

 private:
  std::string k(const std::string& key) const { return join_key(prefix_, key); }
  std::shared_ptr<const Store> inner_;
  std::string prefix_;
};

std::optional<json> read_json(const Store& store, const std::string& key) {
  StoreRead got;
  if (store.read(key, &got) || got.missing) return std::nullopt;
  std::string why;
  json j = parse_metadata_json(std::string(got.bytes.begin(), got.bytes.end()), &why);
  if (!why.empty() || !j.is_object()) return std::nullopt;
  return j;
}

// The attributes holding OME metadata: .zattrs (0.4) or zarr.json's attributes.ome (0.5).
std::optional<json> ome_attributes(const Store& store, bool v3) {
  if (!v3) return read_json(store, ".zattrs");
  auto j = read_json(store, "zarr.json");
  if (!j || !j->contains("attributes") || !(*j)["attributes"].is_object()) return std::nullopt;
  const json& a = (*j)["attributes"];
  return a.contains("ome") && a["ome"].is_object() ? a["ome"] : a;
}

std::string value_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// The image's channels followed by one channel per label image, on the image's grid and
// levels (labels of another grid are not stacked here).
class LabeledImage final : public VolumeSource {
 public:
  LabeledImage(VolumeInfo info, std::shared_ptr<const VolumeSource> image, std::vector<std::shared_ptr<const VolumeSource>> labels,
               int label_channel_axis)
      : info_(std::move(info)), image_(std::move(image)), labels_(std::move(labels)), label_axis_(label_channel_axis) {}
  const VolumeInfo& info() const override { return info_; }
  size_t resident_bytes() const override {
    size_t n = image_->resident_bytes();
    for (const auto& l : labels_) n += l->resident_bytes();
    return n;  // one cache: each reports the whole of it
  }

  std::optional<DataError> read_level(int level, const Box& box, float* out) const override {
    if (level < 0 || level >= static_cast<int>(info_.levels.size()))
      return DataError{info_.name, "level " + std::to_string(level) + " does not exist"};
    if (auto why = check_box(box, info_.levels[static_cast<size_t>(level)].shape)) return DataError{info_.name, *why};
    const auto c = static_cast<size_t>(info_.channel_axis);
    // Out = [outer axes][channel][inner axes]: each channel's part is `outer` runs of `inner` floats.
    int64_t outer = 1, inner = 1;
    for (size_t a = 0; a < c; ++a) outer *= box.size[a];
    for (size_t a = c + 1; a < box.size.size(); ++a) inner *= box.size[a];
    std::vector<float> tmp;
    for (int64_t k = 0; k < box.size[c]; ++k) {
      int64_t ch = box.start[c] + k;
      tmp.resize(static_cast<size_t>(outer * inner));
      if (auto err = read_channel(level, box, ch, tmp.data())) return err;
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(out + (o * box.size[c] + k) * inner, tmp.data() + o * inner, static_cast<size_t>(inner) * sizeof(float));
    }
    return std::nullopt;
  }

  bool request(int level, const Box& box, RequestHint hint) const override {
    if (level < 0 || level >= static_cast<int>(info_.levels.size())) return true;
    if (check_box(box, info_.levels[static_cast<size_t>(level)].shape)) return true;
    const auto c = static_cast<size_t>(info_.channel_axis);
    bool all = true;
    for (int64_t k = 0; k < box.size[c]; ++k) {
      Box sub;
      const VolumeSource* src = locate(box, box.start[c] + k, &sub);
      all = src->request(level, sub, hint) && all;
    }
    return all;
  }

 private:
  // The source holding combined channel `ch`, and `box` (one channel of it) in that source.
  const VolumeSource* locate(const Box& box, int64_t ch, Box* sub) const {
    const auto c = static_cast<size_t>(info_.channel_axis);
    const bool image_has_axis = image_->info().channel_axis >= 0;
    const int64_t image_channels = image_has_axis ? image_->info().shape[c] : 1;
    *sub = box;
    const bool keep_axis = ch < image_channels ? image_has_axis : label_axis_ >= 0;
    if (keep_axis) {
      sub->start[c] = ch < image_channels ? ch : 0;
      sub->size[c] = 1;
    } else {
      sub->start.erase(sub->start.begin() + static_cast<long>(c));
      sub->size.erase(sub->size.begin() + static_cast<long>(c));
    }
    return ch < image_channels ? image_.get() : labels_[static_cast<size_t>(ch - image_channels)].get();
  }

  std::optional<DataError> read_channel(int level, const Box& box, int64_t ch, float* out) const {
    Box sub;
    const VolumeSource* src = locate(box, ch, &sub);
    return src->read_level(level, sub, out);
  }

  VolumeInfo info_;
  std::shared_ptr<const VolumeSource> image_;
  std::vector<std::shared_ptr<const VolumeSource>> labels_;
  int label_axis_;
};

}  // namespace

std::shared_ptr<const Store> sub_store(std::shared_ptr<const Store> store, const std::string& prefix) {
  return std::make_shared<SubStore>(std::move(store), prefix);
}

std::optional<std::string> parse_image_label(const json& il, ChannelInfo* ch) {
  if (!il.is_object()) return std::string("image-label must be an object");
  auto table = std::make_shared<LabelTable>();
  if (il.contains("colors")) {
    if (!il["colors"].is_array()) return std::string("image-label colors must be an array");
    for (const auto& c : il["colors"]) {
      if (!c.is_object() || !c.contains("label-value") || !c["label-value"].is_number_integer())
        return std::string("each image-label color needs an integer label-value");
      std::array<float, 4> rgba{0, 0, 0, 1};
      if (c.contains("rgba")) {
        const json& v = c["rgba"];
        if (!v.is_array() || v.size() != 4) return std::string("image-label rgba must be 4 integers 0..255");
        for (size_t i = 0; i < 4; ++i) {
          if (!v[i].is_number_integer() || v[i].get<int64_t>() < 0 || v[i].get<int64_t>() > 255)
            return std::string("image-label rgba must be 4 integers 0..255");
          rgba[i] = static_cast<float>(v[i].get<int>()) / 255.0f;
        }
      }
      table->colors[c["label-value"].get<int64_t>()] = rgba;
    }
  }
  if (il.contains("properties")) {
    if (!il["properties"].is_array()) return std::string("image-label properties must be an array");
    for (const auto& p : il["properties"]) {
      if (!p.is_object() || !p.contains("label-value") || !p["label-value"].is_number_integer())
        return std::string("each image-label property needs an integer label-value");
      const int64_t id = p["label-value"].get<int64_t>();
      auto& fields = table->properties[id];
      for (const auto& [k, v] : p.items()) {
        if (k == "label-value") continue;
        fields.emplace_back(k, value_text(v));
        // A "name" (or, failing that, "class") is what the viewer shows for the id.
        if (k == "name" || (k == "class" && !table->names.count(id))) table->names[id] = value_text(v);
      }
    }
  }
  if (!table->colors.empty() || !table->properties.empty()) ch->label_table = std::move(table);
  return std::nullopt;
}

std::unique_ptr<VolumeSource> with_ome_labels(std::shared_ptr<const Store> store, bool v3, std::unique_ptr<VolumeSource> image,
                                              std::shared_ptr<ChunkCache> cache) {
  auto group = sub_store(store, "labels");
  auto attrs = ome_attributes(*group, v3);
  if (!attrs || !attrs->contains("labels") || !(*attrs)["labels"].is_array()) return image;
  const VolumeInfo& im = image->info();
  const int ic = im.channel_axis;
  std::vector<std::shared_ptr<const VolumeSource>> labels;
  std::vector<ChannelInfo> channels;
  int label_axis = -2;  // unset; then -1 (labels without a channel axis) or the image's
  for (const auto& entry : (*attrs)["labels"]) {
    if (!entry.is_string()) continue;
    const std::string name = entry.get<std::string>();
    if (name.empty() || name.find("..") != std::string::npos || name[0] == '/') continue;
    auto ls = sub_store(group, name);
    auto opened = v3 ? open_zarr3(ls, name, cache) : open_zarr2(ls, name, cache);
    auto skip = [&](const std::string& why) { log_warn("data", "label image '" + ls->where("") + "' left out: " + why); };
    if (auto* e = std::get_if<DataError>(&opened)) {
      skip(e->source + ": " + e->message);
      continue;
    }
    auto src = std::move(std::get<std::unique_ptr<VolumeSource>>(opened));
    const VolumeInfo& li = src->info();
    // Same grid as the image, level for level (without the image's channel axis, or with one of size 1).
    int this_axis = li.shape.size() == im.shape.size() && ic >= 0 && li.shape[static_cast<size_t>(ic)] == 1 ? ic : -1;
    if (this_axis < 0 && li.channel_axis >= 0) {
      skip("it has a channel axis of " + std::to_string(li.shape[static_cast<size_t>(li.channel_axis)]));
      continue;
    }
    if (label_axis != -2 && this_axis != label_axis) {
      skip("its axes differ from the other labels'");
      continue;
    }
    bool same = li.levels.size() >= 1;
    const size_t levels = std::min(li.levels.size(), im.levels.size());
    for (size_t l = 0; same && l < levels; ++l) {
      std::vector<int64_t> want = im.levels[l].shape;
      if (ic >= 0) {
        if (this_axis >= 0) want[static_cast<size_t>(ic)] = 1;
        else want.erase(want.begin() + ic);
      }
      same = li.levels[l].shape == want;
    }
    if (!same || li.levels.size() < im.levels.size()) {
      skip("its levels do not match the image's grid");
      continue;
    }
    if (im.channels.size() + channels.size() >= static_cast<size_t>(kMaxChannels)) {
      skip("more than " + std::to_string(kMaxChannels) + " layers");
      continue;
    }
    label_axis = this_axis;
    ChannelInfo ch = li.channels.empty() ? ChannelInfo{} : li.channels[0];
    ch.name = name;
    ch.labels = true;
    ch.colormap = "label";
    ch.contrast_lo = 0;
    ch.contrast_hi = 255;
    ch.blending = "translucent";
    ch.opacity = 0.7;  // napari's Labels default
    auto la = ome_attributes(*ls, v3);
    if (la && la->contains("image-label"))
      if (auto why = parse_image_label((*la)["image-label"], &ch)) log_warn("data", ls->where("") + ": " + *why);
    channels.push_back(std::move(ch));
    labels.push_back(std::move(src));
  }
  if (labels.empty()) return image;
  VolumeInfo info = im;
  if (ic < 0) {  // a channel axis in front, as stack_channels does
    info.axes.insert(info.axes.begin(), Axis{"c", "channel", 1.0, 0.0, ""});
    info.channel_axis = 0;
    info.shape.insert(info.shape.begin(), 1);
    for (auto& l : info.levels) {
      l.shape.insert(l.shape.begin(), 1);
      l.factor.insert(l.factor.begin(), 1.0);
      l.chunks.insert(l.chunks.begin(), 1);
    }
  }
  const auto c = static_cast<size_t>(info.channel_axis);
  info.shape[c] += static_cast<int64_t>(labels.size());
  for (auto& l : info.levels) l.shape[c] += static_cast<int64_t>(labels.size());
  info.channels.insert(info.channels.end(), channels.begin(), channels.end());
  for (const auto& l : labels) info.codecs.insert(info.codecs.end(), l->info().codecs.begin(), l->info().codecs.end());
  return std::make_unique<LabeledImage>(std::move(info), std::shared_ptr<const VolumeSource>(std::move(image)), std::move(labels),
                                        label_axis);
}

}  // namespace voxcast::data
