#include "voxcast/protocol/h264.hpp"

namespace voxcast::protocol {

std::vector<ByteSpan> split_annexb(ByteSpan d) {
  std::vector<ByteSpan> out;
  size_t n = d.size();
  size_t i = 0;
  // Find the first start code.
  auto find_start = [&](size_t from, size_t* code_len) -> size_t {
    for (size_t k = from; k + 2 < n; ++k) {
      if (d[k] == 0 && d[k + 1] == 0) {
        if (d[k + 2] == 1) {
          *code_len = 3;
          return k;
        }
        if (k + 3 < n && d[k + 2] == 0 && d[k + 3] == 1) {
          *code_len = 4;
          return k;
        }
      }
    }
    return n;
  };
  size_t len = 0;
  size_t start = find_start(0, &len);
  while (start < n) {
    i = start + len;
    size_t next_len = 0;
    size_t next = find_start(i, &next_len);
    size_t end = next;
    // Trailing zero bytes belong to the next start code (zero_byte), not this NAL.
    while (end > i && d[end - 1] == 0 && next < n) --end;
    if (end > i) out.push_back(d.subspan(i, end - i));
    start = next;
    len = next_len;
  }
  return out;
}

std::optional<std::vector<ByteSpan>> split_avcc(ByteSpan d, int length_size) {
  if (length_size != 1 && length_size != 2 && length_size != 4) return std::nullopt;
  std::vector<ByteSpan> out;
  size_t i = 0;
  auto ls = static_cast<size_t>(length_size);
  while (i < d.size()) {
    if (i + ls > d.size()) return std::nullopt;
    size_t len = 0;
    for (size_t k = 0; k < ls; ++k) len = (len << 8) | d[i + k];
    i += ls;
    if (len == 0 || len > d.size() - i) return std::nullopt;
    out.push_back(d.subspan(i, len));
    i += len;
  }
  return out;
}

void append_avcc_nal(Bytes* out, ByteSpan nalu) {
  auto len = static_cast<uint32_t>(nalu.size());
  out->push_back(static_cast<uint8_t>(len >> 24));
  out->push_back(static_cast<uint8_t>(len >> 16));
  out->push_back(static_cast<uint8_t>(len >> 8));
  out->push_back(static_cast<uint8_t>(len));
  out->insert(out->end(), nalu.begin(), nalu.end());
}

Bytes annexb_to_avcc(ByteSpan d) {
  Bytes out;
  out.reserve(d.size() + 16);
  for (auto n : split_annexb(d)) append_avcc_nal(&out, n);
  return out;
}

std::optional<Bytes> avcc_to_annexb(ByteSpan d, int length_size) {
  auto nals = split_avcc(d, length_size);
  if (!nals) return std::nullopt;
  Bytes out;
  out.reserve(d.size() + 8);
  for (auto n : *nals) {
    static constexpr uint8_t kStart[] = {0, 0, 0, 1};
    out.insert(out.end(), kStart, kStart + 4);
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

bool avcc_has_idr(ByteSpan au, int length_size) {
  auto nals = split_avcc(au, length_size);
  if (!nals) return false;
  for (auto n : *nals)
    if (!n.empty() && nal_type(n[0]) == nal::kIdr) return true;
  return false;
}

Bytes rbsp_from_nal_payload(ByteSpan p) {
  Bytes out;
  out.reserve(p.size());
  int zeros = 0;
  for (uint8_t b : p) {
    if (zeros >= 2 && b == 3) {
      zeros = 0;
      continue;
    }
    out.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  return out;
}

Bytes nal_payload_from_rbsp(ByteSpan r) {
  Bytes out;
  out.reserve(r.size() + r.size() / 64 + 4);
  int zeros = 0;
  for (uint8_t b : r) {
    if (zeros >= 2 && b <= 3) {
      out.push_back(3);
      zeros = 0;
    }
    out.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  return out;
}

namespace {

class BitReader {
 public:
  explicit BitReader(ByteSpan d) : d_(d) {}
  bool bit(uint32_t* v) {
    if (pos_ >= d_.size() * 8) return false;
    *v = (d_[pos_ / 8] >> (7 - pos_ % 8)) & 1;
    ++pos_;
    return true;
  }
  bool bits(int n, uint32_t* v) {
    *v = 0;
    for (int i = 0; i < n; ++i) {
      uint32_t b;
      if (!bit(&b)) return false;
      *v = (*v << 1) | b;
    }
    return true;
  }
  bool ue(uint32_t* v) {
    int zeros = 0;
    uint32_t b = 0;
    while (true) {
      if (!bit(&b)) return false;
      if (b) break;
      if (++zeros > 31) return false;
    }
    uint32_t rest = 0;
    if (!bits(zeros, &rest)) return false;
    *v = (zeros == 0 ? 0u : ((1u << zeros) - 1u)) + rest;
    return true;
  }
  bool se(int32_t* v) {
    uint32_t u;
    if (!ue(&u)) return false;
    *v = (u & 1) ? static_cast<int32_t>((u + 1) / 2) : -static_cast<int32_t>(u / 2);
    return true;
  }

 private:
  ByteSpan d_;
  size_t pos_ = 0;
};

bool skip_scaling_list(BitReader& br, int size) {
  int32_t last = 8, next = 8;
  for (int j = 0; j < size; ++j) {
    if (next != 0) {
      int32_t delta;
      // delta_scale is in [-128, 127] (H.264 7.4.2.1.1); anything else is a broken SPS
      // (and would overflow the sum).
      if (!br.se(&delta) || delta < -128 || delta > 127) return false;
      next = (last + delta + 256) % 256;
    }
    last = next == 0 ? last : next;
  }
  return true;
}

bool is_high_profile(int p) {
  switch (p) {
    case 100: case 110: case 122: case 244: case 44: case 83: case 86: case 118: case 128: case 138: case 139:
    case 134: case 135:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<SpsInfo> parse_sps(ByteSpan sps) {
  if (sps.size() < 4 || nal_type(sps[0]) != nal::kSps) return std::nullopt;
  Bytes rbsp = rbsp_from_nal_payload(sps.subspan(1));
  BitReader br(rbsp);
  SpsInfo info;
  uint32_t v = 0;
  if (!br.bits(8, &v)) return std::nullopt;
  info.profile_idc = static_cast<int>(v);
  if (!br.bits(8, &v)) return std::nullopt;
  info.constraint_flags = static_cast<int>(v);
  if (!br.bits(8, &v)) return std::nullopt;
  info.level_idc = static_cast<int>(v);
  if (!br.ue(&v) || v > 31) return std::nullopt;  // seq_parameter_set_id
  uint32_t separate_colour_plane = 0;
  if (is_high_profile(info.profile_idc)) {
    if (!br.ue(&v) || v > 3) return std::nullopt;
    info.chroma_format_idc = static_cast<int>(v);
    if (v == 3 && !br.bit(&separate_colour_plane)) return std::nullopt;
    if (!br.ue(&v) || v > 6) return std::nullopt;
    info.bit_depth_luma = static_cast<int>(v) + 8;
    if (!br.ue(&v) || v > 6) return std::nullopt;
    info.bit_depth_chroma = static_cast<int>(v) + 8;
    if (!br.bit(&v)) return std::nullopt;  // qpprime_y_zero_transform_bypass_flag
    uint32_t scaling_present = 0;
    if (!br.bit(&scaling_present)) return std::nullopt;
    if (scaling_present) {
      int lists = info.chroma_format_idc != 3 ? 8 : 12;
      for (int i = 0; i < lists; ++i) {
        uint32_t present = 0;
        if (!br.bit(&present)) return std::nullopt;
        if (present && !skip_scaling_list(br, i < 6 ? 16 : 64)) return std::nullopt;
      }
    }
  }
  if (!br.ue(&v)) return std::nullopt;  // log2_max_frame_num_minus4
  uint32_t poc_type = 0;
  if (!br.ue(&poc_type) || poc_type > 2) return std::nullopt;
  if (poc_type == 0) {
    if (!br.ue(&v)) return std::nullopt;
  } else if (poc_type == 1) {
    int32_t s;
    uint32_t cycle = 0;
    if (!br.bit(&v) || !br.se(&s) || !br.se(&s) || !br.ue(&cycle) || cycle > 255) return std::nullopt;
    for (uint32_t i = 0; i < cycle; ++i)
      if (!br.se(&s)) return std::nullopt;
  }
  if (!br.ue(&v)) return std::nullopt;   // max_num_ref_frames
  if (!br.bit(&v)) return std::nullopt;  // gaps_in_frame_num_value_allowed_flag
  uint32_t w_mbs = 0, h_map = 0, frame_mbs_only = 0;
  if (!br.ue(&w_mbs) || !br.ue(&h_map) || !br.bit(&frame_mbs_only)) return std::nullopt;
  if (!frame_mbs_only && !br.bit(&v)) return std::nullopt;  // mb_adaptive_frame_field_flag
  if (!br.bit(&v)) return std::nullopt;                      // direct_8x8_inference_flag
  uint32_t cropping = 0;
  uint32_t cl = 0, cr = 0, ct = 0, cb = 0;
  if (!br.bit(&cropping)) return std::nullopt;
  if (cropping && (!br.ue(&cl) || !br.ue(&cr) || !br.ue(&ct) || !br.ue(&cb))) return std::nullopt;
  int64_t width = (int64_t{w_mbs} + 1) * 16;
  int64_t height = (2 - int64_t{frame_mbs_only}) * (int64_t{h_map} + 1) * 16;
  int chroma = separate_colour_plane ? 0 : info.chroma_format_idc;
  int64_t crop_x = chroma == 0 ? 1 : (chroma == 3 ? 1 : 2);
  int64_t crop_y = (chroma == 1 ? 2 : 1) * (2 - int64_t{frame_mbs_only});
  width -= crop_x * (int64_t{cl} + cr);
  height -= crop_y * (int64_t{ct} + cb);
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) return std::nullopt;
  info.width = static_cast<int>(width);
  info.height = static_cast<int>(height);
  return info;
}

Bytes build_avcc_record(ByteSpan sps, ByteSpan pps) {
  Bytes r;
  r.push_back(1);
  r.push_back(sps.size() > 1 ? sps[1] : 0);
  r.push_back(sps.size() > 2 ? sps[2] : 0);
  r.push_back(sps.size() > 3 ? sps[3] : 0);
  r.push_back(0xFF);  // reserved 6 bits + lengthSizeMinusOne = 3
  r.push_back(0xE1);  // reserved 3 bits + one SPS
  r.push_back(static_cast<uint8_t>(sps.size() >> 8));
  r.push_back(static_cast<uint8_t>(sps.size()));
  r.insert(r.end(), sps.begin(), sps.end());
  r.push_back(1);
  r.push_back(static_cast<uint8_t>(pps.size() >> 8));
  r.push_back(static_cast<uint8_t>(pps.size()));
  r.insert(r.end(), pps.begin(), pps.end());
  auto info = parse_sps(sps);
  if (info && (info->profile_idc == 100 || info->profile_idc == 110 || info->profile_idc == 122 ||
               info->profile_idc == 144)) {
    r.push_back(static_cast<uint8_t>(0xFC | (info->chroma_format_idc & 3)));
    r.push_back(static_cast<uint8_t>(0xF8 | ((info->bit_depth_luma - 8) & 7)));
    r.push_back(static_cast<uint8_t>(0xF8 | ((info->bit_depth_chroma - 8) & 7)));
    r.push_back(0);  // numOfSequenceParameterSetExt
  }
  return r;
}

std::optional<AvccRecord> parse_avcc_record(ByteSpan d) {
  if (d.size() < 7 || d[0] != 1) return std::nullopt;
  AvccRecord rec;
  rec.length_size = (d[4] & 3) + 1;
  if (rec.length_size == 3) return std::nullopt;
  size_t i = 5;
  int nsps = d[i++] & 0x1f;
  for (int k = 0; k < nsps; ++k) {
    if (i + 2 > d.size()) return std::nullopt;
    size_t len = (size_t{d[i]} << 8) | d[i + 1];
    i += 2;
    if (len == 0 || i + len > d.size()) return std::nullopt;
    rec.sps.emplace_back(d.begin() + static_cast<long>(i), d.begin() + static_cast<long>(i + len));
    i += len;
  }
  if (i >= d.size()) return std::nullopt;
  int npps = d[i++];
  for (int k = 0; k < npps; ++k) {
    if (i + 2 > d.size()) return std::nullopt;
    size_t len = (size_t{d[i]} << 8) | d[i + 1];
    i += 2;
    if (len == 0 || i + len > d.size()) return std::nullopt;
    rec.pps.emplace_back(d.begin() + static_cast<long>(i), d.begin() + static_cast<long>(i + len));
    i += len;
  }
  if (rec.sps.empty() || rec.pps.empty()) return std::nullopt;
  return rec;
}

ParameterSets find_parameter_sets(ByteSpan au, int length_size) {
  ParameterSets ps;
  auto nals = split_avcc(au, length_size);
  if (!nals) return ps;
  for (auto n : *nals) {
    if (n.empty()) continue;
    if (nal_type(n[0]) == nal::kSps && ps.sps.empty()) ps.sps.assign(n.begin(), n.end());
    if (nal_type(n[0]) == nal::kPps && ps.pps.empty()) ps.pps.assign(n.begin(), n.end());
  }
  return ps;
}

}  // namespace voxcast::protocol
