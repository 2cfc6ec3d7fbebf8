#pragma once
// Bounded JSON reading for everything that comes from outside (sockets, files, CLI).
// nlohmann's parser is iterative, but copying, comparing, dumping and destroying a value
// recurse once per nesting level, so a value nested 150 000 deep overflows the stack
// wherever it goes next. The depth is checked on the text before anything is built.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "voxcast/protocol/result.hpp"

namespace voxcast::protocol {

// Envelope ids (session, frame_id, intent_id, delta_token) and the type are echoed in
// replies, so they are bounded: a real id is a UUID or a short counter. Longer ones are
// invalid envelopes ("json_too_deep" joins "invalid_json" as a parse error code).
inline constexpr size_t kMaxIdBytes = 256;

// Deep enough for every message and metadata file we read (protocol v2 nests ~6 levels).
inline constexpr int kMaxJsonDepth = 64;

// Parses `text`; error code "invalid_json" for malformed text, "json_too_deep" when arrays
// and objects nest deeper than `max_depth` (details: max_depth). NaN/Infinity literals are
// malformed JSON.
Result<nlohmann::json> parse_json(std::string_view text, int max_depth = kMaxJsonDepth);

// True when `text` nests arrays/objects deeper than `max_depth` (strings are skipped).
bool nests_deeper_than(std::string_view text, int max_depth);

// The value as an int64 when it is an integer that fits (integer-valued floats within
// ±2^53 count); nullopt for anything else, including unsigned values above INT64_MAX.
std::optional<int64_t> json_int64(const nlohmann::json& j);

// What an error reply may quote of something a peer sent: at most `max_bytes`, cut on
// a UTF-8 boundary, with "…" when shortened.
std::string quote_prefix(std::string_view s, size_t max_bytes = 64);

}  // namespace voxcast::protocol
