#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace voxcast::protocol {

inline constexpr size_t kPixelHeaderSize = 24;

enum class Codec : uint8_t { h264 = 1, hevc = 2, av1 = 3 };
inline constexpr uint8_t kFlagKeyframe = 0x01;

// The 24-byte big-endian header in front of every pixel-channel message.
struct PixelHeader {
  uint32_t seq = 0;
  double timestamp = 0.0;
  uint32_t width = 0;
  uint32_t height = 0;
  uint8_t codec = static_cast<uint8_t>(Codec::h264);
  uint8_t flags = 0;
  uint16_t reserved = 0;

  bool keyframe() const { return (flags & kFlagKeyframe) != 0; }
};

void write_pixel_header(const PixelHeader& h, uint8_t* out);  // writes kPixelHeaderSize bytes
// nullopt when the message is shorter than the header.
std::optional<PixelHeader> read_pixel_header(std::span<const uint8_t> message);

// Header + payload as one message.
std::vector<uint8_t> build_pixel_message(const PixelHeader& h, std::span<const uint8_t> payload);

}  // namespace voxcast::protocol
