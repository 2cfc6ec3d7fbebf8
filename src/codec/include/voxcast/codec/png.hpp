#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace voxcast::codec {

// Writes an RGBA8 image as PNG; returns an error message on failure.
std::optional<std::string> write_png_rgba(const std::string& path, const uint8_t* rgba, int width, int height);
// Encodes an RGBA8 image as PNG in memory (screenshots travel in a command reply).
std::optional<std::string> encode_png_rgba(const uint8_t* rgba, int width, int height, std::vector<uint8_t>* png);
// The RGB of an RGBA8 image as an 8-bit RGB PNG, compressed for speed (exact stills: the
// picture is lossless, the time to the still matters more than its size).
std::optional<std::string> encode_png_rgb_fast(const uint8_t* rgba, int width, int height, std::vector<uint8_t>* png);
// Decodes a PNG held in memory as RGBA8.
std::optional<std::string> decode_png_rgba(std::span<const uint8_t> png, std::vector<uint8_t>* rgba, int* width, int* height);
// Decodes a PNG that must be `width` x `height` (checked before anything is allocated: the
// size in an untrusted PNG's header never sizes memory).
std::optional<std::string> decode_png_rgba_sized(std::span<const uint8_t> png, int width, int height,
                                                 std::vector<uint8_t>* rgba);
// Reads a PNG as RGBA8 (for tests that look at what was written).
std::optional<std::string> read_png_rgba(const std::string& path, std::vector<uint8_t>* rgba, int* width, int* height);

}  // namespace voxcast::codec
