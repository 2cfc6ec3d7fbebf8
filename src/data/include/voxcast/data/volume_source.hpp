#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace voxcast::data {

enum class DType { u8, u16, u32, i8, i16, i32, f32, f64, b1, u64, i64, f16 };
const char* dtype_name(DType t);
// Value range a dtype can hold (used for slider limits of contrast).
void dtype_range(DType t, double* lo, double* hi);

struct Axis {
  std::string name;  // "t", "c", "z", "y", "x", ...
  std::string type;  // "time", "channel", "space" or ""
  double scale = 1.0;        // world units per voxel at level 0
  double translation = 0.0;  // world position of voxel 0 at level 0
  std::string unit;
};

// What a label image says about its ids: colours (OME-Zarr image-label, an atlas's
// table) and names (an atlas, image-label properties). Ids without a colour take
// napari's cyclic label colours.
struct LabelTable {
  std::map<int64_t, std::array<float, 4>> colors;  // RGBA in 0..1
  std::map<int64_t, std::string> names;
  // OME-Zarr image-label "properties" by id, each value as JSON text (strings without
  // quotes): ("class", "nucleus"), ("area", "1032").
  std::map<int64_t, std::vector<std::pair<std::string, std::string>>> properties;
};

struct ChannelInfo {
  std::string name;
  std::string colormap;         // default colormap name
  double contrast_lo = 0.0;     // default contrast limits
  double contrast_hi = 1.0;
  // Layer defaults a format can suggest (an atlas overlay wants additive at half opacity).
  std::string blending;  // "" = the viewer's default
  double opacity = 1.0;
  bool labels = false;   // integer labels: no contrast estimation, shown with a label colormap
  std::shared_ptr<const LabelTable> label_table;  // labels: colours and names by id (may be null)
  // The contrast slider's span (napari's contrast_limits_range); lo == hi: the dtype's range.
  double range_lo = 0.0, range_hi = 0.0;
};

inline ChannelInfo make_channel(std::string name, std::string colormap, double lo, double hi) {
  ChannelInfo c;
  c.name = std::move(name);
  c.colormap = std::move(colormap);
  c.contrast_lo = lo;
  c.contrast_hi = hi;
  return c;
}

// One resolution level of a multiscale array. Level 0 is the full resolution; each
// level's voxel is `factor` level-0 voxels along each axis (1 on non-spatial axes).
struct LevelInfo {
  std::vector<int64_t> shape;
  std::vector<double> factor;
  std::vector<int64_t> chunks;  // chunk shape (the whole shape when not chunked)
};

struct VolumeInfo {
  std::string name;
  std::string kind;  // "synthetic", "ome-zarr", ...
  std::vector<Axis> axes;
  std::vector<int64_t> shape;
  DType dtype = DType::u16;
  int channel_axis = -1;  // -1: single channel
  // The channel axis holds the samples of one colour image (3: RGB, 4: RGBA), shown as one
  // layer in colour (napari's rgb=True) rather than one layer per channel.
  bool rgb = false;
  std::vector<ChannelInfo> channels;  // one per channel (1 when channel_axis < 0)
  std::vector<LevelInfo> levels;      // at least one; levels[0].shape == shape
  std::vector<std::string> codecs;    // how chunks are stored, for voxcast-info ("blosc/lz4", ...)
};
// Fills `levels` with one unchunked level when a source has none.
void ensure_levels(VolumeInfo* info);

// A box of the array: start and size per axis (C order, same rank as the shape).
struct Box {
  std::vector<int64_t> start;
  std::vector<int64_t> size;
  int64_t count() const;
};

struct DataError {
  std::string source;   // which dataset or file
  std::string message;  // what went wrong
  // Set by region reads that filled everything they could: chunks that failed read as
  // their fill value, the rest is real. A viewer may show it and report the error.
  bool partial = false;
};

// Who asks for data ahead of need: requests of one lane replace that lane's earlier
// ones (latest wins); a lower priority value is served first.
struct RequestHint {
  int lane = 0;
  int priority = 0;
  bool check_only = false;  // only say whether it is in memory; queue nothing
};

// Every `step`-th voxel of a box, filled in over as many calls as it takes: a view that
// needs more chunks than the memory budget holds streams through them (nearest the box
// centre first), samples what it needs and lets them go, so a partial picture can be
// shown early and refined as the rest arrives.
struct SampledRead {
  int level = 0;
  Box box;                     // level voxels
  std::vector<int64_t> step;   // per axis, >= 1
  std::vector<int64_t> shape;  // ceil(box.size / step) per axis
  std::vector<float> values;   // C order of `shape`; fill where not sampled yet
  bool complete = false;
  uint64_t chunks_done = 0, chunks_total = 0;
  std::vector<uint64_t> todo;  // the source's bookkeeping: what is left, next last
  bool started = false;
};
// A read of `box` sampled every `step` voxels, ready for VolumeSource::sample.
SampledRead make_sampled_read(int level, const Box& box, const std::vector<int64_t>& step);
// A box of one level, for requests of several at once.
struct LevelBox {
  int level = 0;
  Box box;
};

// An n-dimensional image the server can show. Implementations read lazily and are
// safe to call from several threads at once.
class VolumeSource {
 public:
  virtual ~VolumeSource() = default;
  virtual const VolumeInfo& info() const = 0;
  // Reads `box` of `level` into `out` (count() floats, C order of the box), converting
  // to float. Blocks until the data is in memory.
  virtual std::optional<DataError> read_level(int level, const Box& box, float* out) const = 0;
  std::optional<DataError> read_region(const Box& box, float* out) const { return read_level(0, box, out); }
  // Starts loading what `box` of `level` needs without blocking; true when all of it is
  // already in memory (a read would not touch storage). In-memory sources are always ready.
  virtual bool request(int level, const Box& box, RequestHint hint) const {
    (void)level, (void)box, (void)hint;
    return true;
  }
  // Fills more of `read` until it is complete or `deadline_ms` (steady clock) has passed
  // (at least one step of progress per call). This default reads it whole.
  virtual std::optional<DataError> sample(SampledRead* read, double deadline_ms) const;
  // request() for several boxes, most urgent first, as one request of the lane (the lane
  // keeps all of them queued; a later request of the lane replaces them all). A source
  // with a memory budget requests only the boxes that fit in it (false then).
  virtual bool request_all(const std::vector<LevelBox>& boxes, RequestHint hint) const {
    bool all = true;
    for (const auto& b : boxes) all = request(b.level, b.box, hint) && all;
    return all;
  }
  // Bytes of decoded data held in memory by this source (its cache), for reports.
  virtual size_t resident_bytes() const { return 0; }
  // True while loads that request() queued are waiting or running: a caller polling for
  // requested data knows that none will come while this is false.
  virtual bool loads_pending() const { return false; }
};

// Checks a box against a shape; a message when it does not fit.
std::optional<std::string> check_box(const Box& box, const std::vector<int64_t>& shape);

}  // namespace voxcast::data
