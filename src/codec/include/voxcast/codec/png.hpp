#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace voxcast::codec {

// Writes an RGBA8 image as PNG; returns an error message on failure.
std::optional<std::string> write_png_rgba(const std::string& path, const uint8_t* rgba, int width, int height);
// Encodes an RGBA8 image as PNG in memory (screenshots travel in a command reply).
std::optional<std::string> encode_png_rgba(const uint8_t* rgba, int width, int height, std::vector<uint8_t>* png);
// Decodes a PNG held in memory as RGBA8.
std::optional<std::string> decode_png_rgba(const std::vector<uint8_t>& png, std::vector<uint8_t>* rgba, int* width, int* height);
// Reads a PNG as RGBA8 (for tests that look at what was written).
std::optional<std::string> read_png_rgba(const std::string& path, std::vector<uint8_t>* rgba, int* width, int* height);

}  // namespace voxcast::codec
