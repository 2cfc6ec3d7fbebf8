#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "voxcast/core/connection.hpp"
#include "voxcast/core/random_id.hpp"
#include "voxcast/core/stats.hpp"
#include "voxcast/core/thread_pool.hpp"

using namespace voxcast;

TEST(Stats, PercentilesInterpolate) {
  EXPECT_EQ(percentile({}, 50), 0);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 3}, 0), 1);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 3}, 100), 5);
  auto s = summarize({1, 2, 3, 4, 100});
  EXPECT_DOUBLE_EQ(s.p50, 3);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_GT(s.p99, s.p95);
}

TEST(Connection, FormatsAndParsesBack) {
  ConnectionOptions c;
  c.host = "127.0.0.1";
  c.control_port = 9001;
  c.pixel_port = 9002;
  c.token = "abc";
  std::string s = format_connection_string(c);
  EXPECT_EQ(s, "voxcast://127.0.0.1:9001?pixel=9002&token=abc");
  std::string err;
  auto back = parse_connection_string(s, &err);
  ASSERT_TRUE(back) << err;
  EXPECT_EQ(back->control_port, 9001);
  EXPECT_EQ(back->pixel_port, 9002);
  EXPECT_EQ(back->token, "abc");
  auto v6 = parse_connection_string("voxcast://[::1]:7?pixel=8", &err);
  ASSERT_TRUE(v6) << err;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_FALSE(parse_connection_string("http://x:1", &err));
  EXPECT_FALSE(parse_connection_string("voxcast://x:99999", &err));
  EXPECT_FALSE(parse_connection_string("voxcast://x:1?pixel=abc", &err));
  EXPECT_FALSE(parse_connection_string("voxcast://:1", &err));
}

TEST(Connection, CarriesTlsAndTheCertificatePin) {
  ConnectionOptions c;
  c.tls = true;
  c.fingerprint = std::string(64, 'a');
  std::string s = format_connection_string(c);
  EXPECT_NE(s.find("&tls=1&fp=" + c.fingerprint), std::string::npos);
  std::string err;
  auto back = parse_connection_string(s, &err);
  ASSERT_TRUE(back) << err;
  EXPECT_TRUE(back->tls);
  EXPECT_EQ(back->fingerprint, c.fingerprint);
  // A pin implies TLS; plain strings stay plain; a bad flag is refused.
  EXPECT_TRUE(parse_connection_string("voxcast://h:1?fp=ab", &err)->tls);
  EXPECT_FALSE(parse_connection_string("voxcast://h:1?pixel=2", &err)->tls);
  EXPECT_FALSE(parse_connection_string("voxcast://h:1?tls=yes", &err));
  c.tls = false;  // no pin without TLS
  EXPECT_EQ(format_connection_string(c).find("fp="), std::string::npos);
}

TEST(RandomId, IdsAreUniqueAndWellFormed) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(random_hex(16));
  EXPECT_EQ(seen.size(), 1000u);
  std::string u = random_uuid();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_EQ(make_auth_token().size(), 48u);
  EXPECT_EQ(make_frame_id("ack").rfind("ack-", 0), 0u);
}

TEST(ThreadPool, CoversTheRangeExactlyOnce) {
  ThreadPool pool(3);
  for (int n : {0, 1, 7, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, [&](int b, int e) {
      for (int i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
    });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
}
