#include <gtest/gtest.h>

#include <string>

#include "voxcast/protocol/receipt.hpp"

namespace voxcast::protocol {
namespace {

TEST(Receipt, RoundTripsItsSeq) {
  for (uint32_t seq : {0u, 1u, 4242u, UINT32_MAX}) {
    auto r = parse_receipt(receipt_text(seq));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r.value(), seq);
  }
  auto extra = parse_receipt(R"({"seq":7,"decode_ms":3.5})");  // later fields are ignored
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra.value(), 7u);
}

TEST(Receipt, MalformedReceiptsAreTypedErrors) {
  for (const char* text : {"", "seq=3", "[3]", "{}", R"({"seq":-1})", R"({"seq":1.5})", R"({"seq":"3"})",
                           R"({"seq":4294967296})", R"({"seq":3)", "null"}) {
    auto r = parse_receipt(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, "pixel.invalid") << text;
  }
  auto long_text = parse_receipt(std::string(R"({"seq":1,"pad":")") + std::string(300, 'x') + "\"}");
  ASSERT_FALSE(long_text);
  EXPECT_NE(long_text.error().message.find("longer than"), std::string::npos);
}

TEST(Receipt, OnlyAnExactQueryPairCounts) {
  EXPECT_TRUE(target_has_query_pair("/pixel?token=abc&receipts=1", "receipts=1"));
  EXPECT_TRUE(target_has_query_pair("/?receipts=1&still=png", "receipts=1"));
  EXPECT_FALSE(target_has_query_pair("/?receipts=10", "receipts=1"));
  EXPECT_FALSE(target_has_query_pair("/receipts=1", "receipts=1"));
  EXPECT_FALSE(target_has_query_pair("/?token=receipts=1", "receipts=1"));
}

}  // namespace
}  // namespace voxcast::protocol
