#include <gtest/gtest.h>

#include <limits>

#include "voxcast/protocol/envelope.hpp"
#include "voxcast/protocol/json.hpp"
#include "voxcast/protocol/messages.hpp"

using namespace voxcast::protocol;

namespace {
std::string nested(int depth, char open = '[', char close = ']') {
  return std::string(static_cast<size_t>(depth), open) + std::string(static_cast<size_t>(depth), close);
}
}  // namespace

TEST(Json, DepthIsCheckedBeforeAnythingIsBuilt) {
  EXPECT_TRUE(parse_json(nested(kMaxJsonDepth)));
  auto deep = parse_json(nested(kMaxJsonDepth + 1));
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code, "json_too_deep");
  EXPECT_EQ(deep.error().details["max_depth"], kMaxJsonDepth);
  EXPECT_EQ(parse_json(nested(150000)).error().code, "json_too_deep");
  std::string objects;
  for (int i = 0; i < 150000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(150000, '}');
  EXPECT_EQ(parse_json(objects).error().code, "json_too_deep");
  // Brackets inside strings (escaped quotes too) are not nesting.
  EXPECT_TRUE(parse_json("{\"s\":\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}"));
  EXPECT_EQ(parse_json("{nope").error().code, "invalid_json");
}

TEST(Json, DeepEnvelopesGetATypedError) {
  auto e = parse_envelope(R"({"type":"state.update","version":2,"timestamp":1,"payload":{"value":)" + nested(150000) + "}}");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, "json_too_deep");
}

TEST(Json, IntegersAreRangeCheckedNeverNarrowed) {
  EXPECT_EQ(json_int64(Json(5)), 5);
  EXPECT_EQ(json_int64(Json(2.0)), 2);
  EXPECT_FALSE(json_int64(Json(2.5)));
  EXPECT_FALSE(json_int64(Json(1e300)));
  EXPECT_FALSE(json_int64(Json("3")));
  EXPECT_EQ(json_int64(Json::parse("-9223372036854775808")), std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(json_int64(Json::parse("9223372036854775808")));
  // version 2^32 + 2 used to read as 2.
  EXPECT_FALSE(parse_envelope(R"({"type":"session.ack","version":4294967298,"session":"s","frame_id":"f","timestamp":1,"payload":{}})"));
  EXPECT_FALSE(parse_envelope(R"({"type":"notify.layers","version":2,"session":"s","timestamp":1,"seq":18446744073709551615,"delta_token":"d","payload":{}})"));
  // An int field of a payload refuses 2^32 + 1 instead of reading 1.
  auto w = parse_session_welcome(Json::parse(
      R"({"protocol_version":4294967298,"session":{"id":"s","heartbeat_s":1,"ack_timeout_ms":1},"features":{}})"));
  EXPECT_FALSE(w);
}

TEST(Json, RepliesQuoteAShortPrefix) {
  EXPECT_EQ(quote_prefix("short"), "short");
  std::string big(1 << 20, 'x');
  std::string q = quote_prefix(big);
  EXPECT_LE(q.size(), 64u + 3u);
  // Never cut inside a UTF-8 sequence.
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xC3\xA9";
  std::string qa = quote_prefix(accents, 63);
  EXPECT_EQ(qa.substr(0, 62), accents.substr(0, 62));
  EXPECT_EQ(qa.size(), 62u + 3u);
  // Oversized ids are refused by the envelope (they would be echoed in replies).
  EXPECT_FALSE(parse_envelope(R"({"type":"session.ack","version":2,"session":"s","frame_id":")" + std::string(300, 'f') +
                              R"(","timestamp":1,"payload":{}})"));
}
