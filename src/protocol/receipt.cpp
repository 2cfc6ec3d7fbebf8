#include "voxcast/protocol/receipt.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace voxcast::protocol {

Result<uint32_t> parse_receipt(std::string_view text) {
  if (text.size() > kMaxReceiptBytes)
    return make_error("pixel.invalid", "receipt longer than " + std::to_string(kMaxReceiptBytes) + " bytes",
                      {{"bytes", text.size()}});
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("pixel.invalid", "receipt is not a JSON object");
  auto it = j.find("seq");
  if (it == j.end() || !it->is_number_unsigned() || it->get<uint64_t>() > UINT32_MAX)
    return make_error("pixel.invalid", "receipt needs an unsigned 32-bit seq");
  return static_cast<uint32_t>(it->get<uint64_t>());
}

std::string receipt_text(uint32_t seq) { return "{\"seq\":" + std::to_string(seq) + "}"; }

bool target_has_query_pair(std::string_view target, std::string_view pair) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return false;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    if (query.substr(0, amp) == pair) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

}  // namespace voxcast::protocol
