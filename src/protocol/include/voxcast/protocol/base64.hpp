#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace voxcast::protocol {

std::string base64_encode(std::span<const uint8_t> data);  // standard alphabet, padded
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace voxcast::protocol
