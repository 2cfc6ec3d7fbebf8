#pragma once
// Base64 (RFC 4648, with padding): binary payloads inside JSON replies (screenshots).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace voxcast {

std::string base64_encode(const uint8_t* data, size_t size);
inline std::string base64_encode(const std::vector<uint8_t>& v) { return base64_encode(v.data(), v.size()); }
// nullopt when `text` is not valid base64.
std::optional<std::vector<uint8_t>> base64_decode(const std::string& text);

}  // namespace voxcast
