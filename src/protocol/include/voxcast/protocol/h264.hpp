#pragma once
// H.264 bitstream helpers: NAL splitting, Annex-B <-> AVCC, the avcC record, SPS
// parsing. Everything works on byte spans; nothing here decodes pictures.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace voxcast::protocol {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

namespace nal {
inline constexpr int kSlice = 1;
inline constexpr int kIdr = 5;
inline constexpr int kSei = 6;
inline constexpr int kSps = 7;
inline constexpr int kPps = 8;
inline constexpr int kAud = 9;
}  // namespace nal

inline int nal_type(uint8_t header) { return header & 0x1f; }
inline bool is_vcl(int type) { return type >= 1 && type <= 5; }

// NAL units (without start codes) of an Annex-B buffer; leading garbage is skipped.
std::vector<ByteSpan> split_annexb(ByteSpan data);
// NAL units of a length-prefixed buffer; nullopt if a length runs past the end.
std::optional<std::vector<ByteSpan>> split_avcc(ByteSpan data, int length_size = 4);

Bytes annexb_to_avcc(ByteSpan data);
std::optional<Bytes> avcc_to_annexb(ByteSpan data, int length_size = 4);
// Appends one NAL with a 4-byte length prefix.
void append_avcc_nal(Bytes* out, ByteSpan nal);

// True if any NAL of the AVCC access unit is an IDR slice.
bool avcc_has_idr(ByteSpan au, int length_size = 4);

// Emulation prevention (0x000003) removal/insertion for the bytes after the NAL header.
Bytes rbsp_from_nal_payload(ByteSpan payload);
Bytes nal_payload_from_rbsp(ByteSpan rbsp);

struct SpsInfo {
  int profile_idc = 0;
  int constraint_flags = 0;
  int level_idc = 0;
  int chroma_format_idc = 1;
  int bit_depth_luma = 8;
  int bit_depth_chroma = 8;
  int width = 0;   // after cropping
  int height = 0;  // after cropping
};
// `sps` is the whole NAL unit including its header byte.
std::optional<SpsInfo> parse_sps(ByteSpan sps);

struct AvccRecord {
  int length_size = 4;
  std::vector<Bytes> sps;
  std::vector<Bytes> pps;
};
// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1). For High profiles the
// chroma/bit-depth extension is appended (the reference omits it).
Bytes build_avcc_record(ByteSpan sps, ByteSpan pps);
std::optional<AvccRecord> parse_avcc_record(ByteSpan record);

// SPS/PPS found in an AVCC access unit (empty when absent).
struct ParameterSets {
  Bytes sps;
  Bytes pps;
};
ParameterSets find_parameter_sets(ByteSpan au, int length_size = 4);

}  // namespace voxcast::protocol
