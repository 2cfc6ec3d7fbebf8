#include "voxcast/data/nifti.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "file_io.hpp"
#include "voxcast/data/codecs.hpp"
#include "voxcast/data/contrast.hpp"
#include "voxcast/data/dtype.hpp"
#include "voxcast/data/in_memory.hpp"
#include "voxcast/data/label_table.hpp"

namespace voxcast::data {
namespace {

template <typename T>
T get(const uint8_t* p, size_t offset, bool swap) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, p + offset, sizeof(T));
  if (swap) std::reverse(b, b + sizeof(T));
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

std::optional<DType> nifti_dtype(int code) {
  switch (code) {
    case 2: return DType::u8;
    case 4: return DType::i16;
    case 8: return DType::i32;
    case 16: return DType::f32;
    case 64: return DType::f64;
    case 256: return DType::i8;
    case 512: return DType::u16;
    case 768: return DType::u32;
    default: return std::nullopt;
  }
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

bool looks_like_nifti(const std::string& path) { return ends_with(path, ".nii") || ends_with(path, ".nii.gz"); }

std::variant<NiftiHeader, std::string> parse_nifti_header(const uint8_t* p, size_t n) {
  if (n < 348) return std::string("file is shorter than a NIfTI-1 header (348 bytes)");
  NiftiHeader h;
  int32_t size = get<int32_t>(p, 0, false);
  bool swap = false;
  if (size != 348) {
    if (get<int32_t>(p, 0, true) != 348) {
      if (get<int32_t>(p, 0, false) == 540 || get<int32_t>(p, 0, true) == 540) return std::string("NIfTI-2 is not supported");
      return std::string("not a NIfTI-1 file (sizeof_hdr is not 348)");
    }
    swap = true;
  }
  h.big_endian = swap;
  if (std::memcmp(p + 344, "n+1", 4) != 0) {
    if (std::memcmp(p + 344, "ni1", 4) == 0) return std::string("header/image pairs (.hdr/.img) are not supported");
    return std::string("bad NIfTI magic (expected n+1)");
  }
  int ndim = get<int16_t>(p, 40, swap);
  if (ndim < 1 || ndim > 7) return "dim[0] = " + std::to_string(ndim) + " is out of range";
  for (int i = 1; i <= ndim; ++i) {
    int16_t d = get<int16_t>(p, 40 + 2 * static_cast<size_t>(i), swap);
    if (d < 1) return "dim[" + std::to_string(i) + "] = " + std::to_string(d) + " is not positive";
    h.dim.push_back(d);
  }
  while (h.dim.size() > 3 && h.dim.back() == 1) h.dim.pop_back();
  if (h.dim.size() > 4) return std::string("NIfTI volumes with more than 4 dimensions are not supported");
  while (h.dim.size() < 3) h.dim.push_back(1);
  h.intent_code = get<int16_t>(p, 68, swap);
  h.datatype = get<int16_t>(p, 70, swap);
  float qfac = get<float>(p, 76, swap);
  for (size_t i = 0; i < 4; ++i) h.pixdim[i] = get<float>(p, 80 + 4 * i, swap);
  h.vox_offset = get<float>(p, 108, swap);
  // Where the voxels start: past the header, and a byte offset a file can have (a float
  // from the file; 1e20 or NaN must not reach the size_t arithmetic).
  if (!(h.vox_offset >= 0 && h.vox_offset <= 1e15)) return "vox_offset " + std::to_string(h.vox_offset) + " is out of range";
  h.slope = get<float>(p, 112, swap);
  h.inter = get<float>(p, 116, swap);
  h.qform_code = get<int16_t>(p, 252, swap);
  h.sform_code = get<int16_t>(p, 254, swap);
  if (h.sform_code > 0) {
    for (size_t r = 0; r < 3; ++r)
      for (size_t c = 0; c < 4; ++c) h.affine[r][c] = get<float>(p, 280 + 16 * r + 4 * c, swap);
  } else if (h.qform_code > 0) {
    double b = get<float>(p, 256, swap), c = get<float>(p, 260, swap), d = get<float>(p, 264, swap);
    double a = std::sqrt(std::max(0.0, 1.0 - (b * b + c * c + d * d)));
    double R[3][3] = {{a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)},
                      {2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)},
                      {2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b}};
    double s[3] = {h.pixdim[0], h.pixdim[1], h.pixdim[2] * (qfac < 0 ? -1.0 : 1.0)};
    for (size_t r = 0; r < 3; ++r) {
      for (size_t k = 0; k < 3; ++k) h.affine[r][k] = R[r][k] * s[k];
      h.affine[r][3] = get<float>(p, 268 + 4 * r, swap);
    }
  } else {
    for (size_t r = 0; r < 3; ++r) h.affine[r][r] = h.pixdim[r] > 0 ? h.pixdim[r] : 1.0;
  }
  return h;
}

std::variant<std::unique_ptr<VolumeSource>, DataError> open_nifti(const std::string& path) {
  std::vector<uint8_t> file;
  bool missing = false;
  if (auto err = read_whole_file(path, &file, &missing)) return DataError{path, *err};
  if (missing) return DataError{path, "no such file"};
  std::vector<uint8_t> raw;
  if (ends_with(path, ".gz")) {
    if (auto err = gunzip(file.data(), file.size(), size_t{16} << 30, &raw)) return DataError{path, *err};
    file.clear();
  } else {
    raw = std::move(file);
  }
  auto parsed = parse_nifti_header(raw.data(), raw.size());
  if (auto* why = std::get_if<std::string>(&parsed)) return DataError{path, *why};
  const NiftiHeader h = std::get<NiftiHeader>(parsed);
  auto dtype = nifti_dtype(h.datatype);
  if (!dtype) return DataError{path, "unsupported NIfTI datatype " + std::to_string(h.datatype)};
  const size_t item = dtype_size(*dtype);
  const int64_t ni = h.dim[0], nj = h.dim[1], nk = h.dim[2], nt = h.dim.size() > 3 ? h.dim[3] : 1;
  const size_t count = static_cast<size_t>(ni * nj * nk * nt);
  const auto offset = static_cast<size_t>(std::max(348.0, h.vox_offset));
  if (raw.size() < offset + count * item)
    return DataError{path, "truncated: the header promises " + std::to_string(count * item) + " bytes of voxels, the file has " +
                               std::to_string(raw.size() > offset ? raw.size() - offset : 0)};
  uint8_t* voxels = raw.data() + offset;
  if (h.big_endian) byteswap(voxels, count, item);

  // Nearest world axis (0 R, 1 A, 2 S) and direction of each voxel axis i, j, k.
  int world_of[3];
  bool negative[3];
  double spacing[3];
  bool used[3] = {false, false, false};
  for (int v = 0; v < 3; ++v) {
    double col[3] = {h.affine[0][static_cast<size_t>(v)], h.affine[1][static_cast<size_t>(v)], h.affine[2][static_cast<size_t>(v)]};
    spacing[v] = std::sqrt(col[0] * col[0] + col[1] * col[1] + col[2] * col[2]);
    int best = -1;
    for (int w = 0; w < 3; ++w)
      if (!used[w] && (best < 0 || std::fabs(col[w]) > std::fabs(col[best]))) best = w;
    used[best] = true;
    world_of[v] = best;
    negative[v] = col[best] < 0;
    if (!(spacing[v] > 0)) spacing[v] = 1.0;
  }
  // Output axes x (R+), y (A-, i.e. posterior), z (S+): which voxel axis feeds each, flipped or not.
  int src_of[3];  // output x, y, z -> voxel axis
  bool flip[3];
  for (int v = 0; v < 3; ++v) {
    int w = world_of[v];
    src_of[w] = v;
    flip[w] = w == 1 ? !negative[v] : negative[v];
  }
  const int64_t n_src[3] = {ni, nj, nk};
  const int64_t nx = n_src[src_of[0]], ny = n_src[src_of[1]], nz = n_src[src_of[2]];
  const int64_t stride_src[3] = {1, ni, ni * nj};
  bool scaled = std::isfinite(h.slope) && h.slope != 0 && !(h.slope == 1 && h.inter == 0);
  DType out_type = scaled ? DType::f32 : *dtype;
  const size_t out_item = dtype_size(out_type);
  std::vector<uint8_t> out(count * out_item);
  const int64_t sx = stride_src[src_of[0]], sy = stride_src[src_of[1]], sz = stride_src[src_of[2]];
  for (int64_t t = 0; t < nt; ++t)
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t y = 0; y < ny; ++y) {
        int64_t zz = flip[2] ? nz - 1 - z : z, yy = flip[1] ? ny - 1 - y : y;
        int64_t base = t * ni * nj * nk + zz * sz + yy * sy;
        uint8_t* dst = out.data() + static_cast<size_t>(((t * nz + z) * ny + y) * nx) * out_item;
        for (int64_t x = 0; x < nx; ++x) {
          int64_t xx = flip[0] ? nx - 1 - x : x;
          const uint8_t* s = voxels + static_cast<size_t>(base + xx * sx) * item;
          if (scaled) {
            float v;
            to_float(*dtype, s, 1, &v);
            float f = static_cast<float>(v * h.slope + h.inter);
            std::memcpy(dst + static_cast<size_t>(x) * 4, &f, 4);
          } else {
            std::memcpy(dst + static_cast<size_t>(x) * item, s, item);
          }
        }
      }
  raw.clear();
  raw.shrink_to_fit();

  VolumeInfo info;
  info.name = std::filesystem::path(path).filename().string();
  for (const char* ext : {".nii.gz", ".nii"})
    if (ends_with(info.name, ext)) info.name.resize(info.name.size() - std::strlen(ext));
  info.kind = "nifti";
  info.dtype = out_type;
  info.codecs = {ends_with(path, ".gz") ? "gzip (whole file)" : "none"};
  // World position of output voxel 0 along each output axis (y counts towards posterior).
  int64_t first[3];
  for (int w = 0; w < 3; ++w) first[src_of[w]] = flip[w] ? n_src[src_of[w]] - 1 : 0;
  double world0[3];
  for (size_t r = 0; r < 3; ++r)
    world0[r] = h.affine[r][0] * static_cast<double>(first[0]) + h.affine[r][1] * static_cast<double>(first[1]) +
                h.affine[r][2] * static_cast<double>(first[2]) + h.affine[r][3];
  auto axis = [&](const char* name, int w, double sign) {
    return Axis{name, "space", spacing[src_of[w]], sign * world0[w], "millimeter"};
  };
  if (nt > 1) {
    info.axes.push_back(Axis{"t", "time", h.pixdim[3] > 0 ? h.pixdim[3] : 1.0, 0.0, "second"});
    info.shape.push_back(nt);
  }
  info.axes.push_back(axis("z", 2, 1.0));
  info.axes.push_back(axis("y", 1, -1.0));
  info.axes.push_back(axis("x", 0, 1.0));
  info.shape.insert(info.shape.end(), {nz, ny, nx});
  ChannelInfo ch;
  ch.name = info.name;
  ch.colormap = "gray";
  info.channels = {ch};
  bool labels = h.intent_code == 1002 && out_type != DType::f32 && out_type != DType::f64;
  if (labels) {
    // An atlas: one colour per label over whatever it overlays (background transparent), as napari's labels.
    info.channels[0].labels = true;
    info.channels[0].colormap = "label";
    info.channels[0].contrast_lo = 0;
    info.channels[0].contrast_hi = 255;
    info.channels[0].blending = "translucent";
    info.channels[0].opacity = 0.7;  // napari's Labels default
    info.channels[0].label_table = find_label_table(path);
  }
  auto src = std::make_unique<InMemoryArray>(std::move(info), std::move(out));
  if (labels) return std::unique_ptr<VolumeSource>(std::move(src));
  auto& mi = src->mutable_info();
  // napari's default: the data's range (the whole volume is in memory).
  auto est = estimate_contrast(*src);
  if (auto* lims = std::get_if<std::vector<std::array<double, 2>>>(&est)) {
    mi.channels[0].contrast_lo = mi.channels[0].range_lo = (*lims)[0][0];
    mi.channels[0].contrast_hi = mi.channels[0].range_hi = (*lims)[0][1];
  }
  return std::unique_ptr<VolumeSource>(std::move(src));
}

}  // namespace voxcast::data
