#pragma once
// Frame receipts (docs/messages.md, "Frame receipts"): a client that negotiated
// `pixel.receipts` and asked on its pixel upgrade (`receipts=1`) sends one text message
// `{"seq":N}` on the pixel socket when it is done with frame N (decoded, drawn or
// dropped). The server then keeps at most a few frames in flight to that client, so a
// picture never waits in a queue behind older ones: it renders the newest view when the
// client can take it.
#include <cstdint>
#include <string_view>

#include "voxcast/protocol/result.hpp"

namespace voxcast::protocol {

inline constexpr const char* kFeaturePixelReceipts = "pixel.receipts";
inline constexpr size_t kMaxReceiptBytes = 256;

// The seq of a receipt; "pixel.invalid" for anything but a small JSON object with an
// unsigned 32-bit "seq".
Result<uint32_t> parse_receipt(std::string_view text);
std::string receipt_text(uint32_t seq);

// Whether the query of an upgrade target ("/pixel?token=…&still=png") holds `pair`
// exactly (e.g. "still=png", "receipts=1").
bool target_has_query_pair(std::string_view target, std::string_view pair);

}  // namespace voxcast::protocol
