#include "voxcast/data/stack.hpp"

#include <cmath>

namespace voxcast::data {
namespace {

class ChannelStack final : public VolumeSource {
 public:
  ChannelStack(VolumeInfo info, std::vector<std::shared_ptr<const VolumeSource>> images)
      : info_(std::move(info)), images_(std::move(images)) {
    // Per image and grid axis: grid index -> image index (-1 outside the image).
    const VolumeInfo& ref = images_[0]->info();
    for (const auto& img : images_) {
      std::vector<std::vector<int64_t>> maps;
      for (size_t a = 0; a < ref.shape.size(); ++a) {
        const Axis& r = ref.axes[a];
        const Axis& s = img->info().axes[a];
        std::vector<int64_t> m(static_cast<size_t>(ref.shape[a]));
        for (int64_t i = 0; i < ref.shape[a]; ++i) {
          double world = r.translation + static_cast<double>(i) * r.scale;
          auto j = static_cast<int64_t>(std::floor((world - s.translation) / s.scale + 0.5));
          m[static_cast<size_t>(i)] = j >= 0 && j < img->info().shape[a] ? j : -1;
        }
        maps.push_back(std::move(m));
      }
      maps_.push_back(std::move(maps));
    }
  }
  const VolumeInfo& info() const override { return info_; }
  size_t resident_bytes() const override {
    size_t n = 0;
    for (const auto& i : images_) n += i->resident_bytes();
    return n;
  }

  std::optional<DataError> read_level(int level, const Box& box, float* out) const override {
    if (level != 0) return DataError{info_.name, "level " + std::to_string(level) + " does not exist"};
    if (auto why = check_box(box, info_.shape)) return DataError{info_.name, *why};
    const size_t rank = info_.shape.size() - 1;  // without the channel axis (axis 0)
    int64_t per_channel = box.count() / box.size[0];
    for (int64_t c = 0; c < box.size[0]; ++c) {
      auto ci = static_cast<size_t>(box.start[0] + c);
      const auto& maps = maps_[ci];
      // The image box that covers the mapped indices of this grid box.
      Box sub;
      bool empty = false;
      for (size_t a = 0; a < rank; ++a) {
        int64_t lo = INT64_MAX, hi = -1;
        for (int64_t i = 0; i < box.size[a + 1]; ++i) {
          int64_t j = maps[a][static_cast<size_t>(box.start[a + 1] + i)];
          if (j < 0) continue;
          lo = std::min(lo, j);
          hi = std::max(hi, j);
        }
        if (hi < 0) empty = true;
        sub.start.push_back(hi < 0 ? 0 : lo);
        sub.size.push_back(hi < 0 ? 1 : hi - lo + 1);
      }
      float* dst = out + c * per_channel;
      if (empty) {
        std::fill(dst, dst + per_channel, 0.0f);
        continue;
      }
      std::vector<float> tmp(static_cast<size_t>(sub.count()));
      if (auto err = images_[ci]->read_level(0, sub, tmp.data())) return err;
      std::vector<int64_t> stride(rank, 1);
      for (size_t a = rank - 1; a-- > 0;) stride[a] = stride[a + 1] * sub.size[a + 1];
      std::vector<int64_t> i(rank, 0);
      for (int64_t k = 0; k < per_channel; ++k) {
        int64_t off = 0;
        bool outside = false;
        for (size_t a = 0; a < rank; ++a) {
          int64_t j = maps[a][static_cast<size_t>(box.start[a + 1] + i[a])];
          if (j < 0) outside = true;
          off += (j - sub.start[a]) * stride[a];
        }
        dst[k] = outside ? 0.0f : tmp[static_cast<size_t>(off)];
        for (size_t a = rank; a-- > 0;) {
          if (++i[a] < box.size[a + 1]) break;
          i[a] = 0;
        }
      }
    }
    return std::nullopt;
  }

 private:
  VolumeInfo info_;
  std::vector<std::shared_ptr<const VolumeSource>> images_;
  std::vector<std::vector<std::vector<int64_t>>> maps_;
};

}  // namespace

std::variant<std::unique_ptr<VolumeSource>, DataError> stack_channels(
    std::vector<std::shared_ptr<const VolumeSource>> images, const std::string& name) {
  if (images.empty()) return DataError{name, "nothing to stack"};
  const VolumeInfo& ref = images[0]->info();
  VolumeInfo info;
  info.name = name;
  info.kind = "stack";
  info.dtype = ref.dtype;
  info.axes.push_back(Axis{"c", "channel", 1.0, 0.0, ""});
  info.axes.insert(info.axes.end(), ref.axes.begin(), ref.axes.end());
  info.shape.push_back(static_cast<int64_t>(images.size()));
  info.shape.insert(info.shape.end(), ref.shape.begin(), ref.shape.end());
  info.channel_axis = 0;
  for (const auto& img : images) {
    const VolumeInfo& i = img->info();
    if (i.channel_axis >= 0) return DataError{i.name, "an image with its own channel axis cannot be stacked"};
    if (i.shape.size() != ref.shape.size()) return DataError{i.name, "rank differs from " + ref.name};
    for (size_t a = 0; a < ref.axes.size(); ++a)
      if (i.axes[a].name != ref.axes[a].name) return DataError{i.name, "axes differ from " + ref.name};
    ChannelInfo ch = i.channels.empty() ? ChannelInfo{} : i.channels[0];
    if (ch.name.empty()) ch.name = i.name;
    info.channels.push_back(ch);
    info.codecs.insert(info.codecs.end(), i.codecs.begin(), i.codecs.end());
  }
  ensure_levels(&info);
  return std::unique_ptr<VolumeSource>(std::make_unique<ChannelStack>(std::move(info), std::move(images)));
}

}  // namespace voxcast::data
