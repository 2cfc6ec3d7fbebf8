// The pure half of remote stores: URLs and S3 addressing, credentials files, the retry
// policy, Content-Range, and that nothing a user is shown carries a credential.
#include <gtest/gtest.h>

#include "voxcast/data/remote_store.hpp"

using namespace voxcast::data;

namespace {
StoreLocation parse_ok(const std::string& url, const RemoteOptions& o = {}) {
  auto r = parse_store_url(url, o);
  if (auto* why = std::get_if<std::string>(&r)) ADD_FAILURE() << url << ": " << *why;
  return std::get_if<StoreLocation>(&r) ? std::get<StoreLocation>(r) : StoreLocation{};
}
std::string parse_error(const std::string& url, const RemoteOptions& o = {}) {
  auto r = parse_store_url(url, o);
  return std::get_if<std::string>(&r) ? std::get<std::string>(r) : std::string();
}
}  // namespace

TEST(RemoteUrl, HttpUrlsNameTheirLastComponent) {
  auto l = parse_ok("https://data.example.org/idr/zarr/v0.4/6001240.zarr/");
  EXPECT_EQ(l.base_url, "https://data.example.org/idr/zarr/v0.4/6001240.zarr/");
  EXPECT_EQ(l.display, "https://data.example.org/idr/zarr/v0.4/6001240.zarr");
  EXPECT_EQ(l.name, "6001240.zarr");
  EXPECT_FALSE(l.s3);
  EXPECT_EQ(parse_ok("http://127.0.0.1:8080/a.zarr").base_url, "http://127.0.0.1:8080/a.zarr/");
  EXPECT_TRUE(is_remote_url("s3://b/k"));
  EXPECT_FALSE(is_remote_url("/data/x.zarr"));
  EXPECT_FALSE(is_remote_url("file:///data/x.zarr"));
}

TEST(RemoteUrl, CredentialsInUrlsAndOddUrlsAreRefused) {
  EXPECT_NE(parse_error("https://alice:secret@host/x.zarr").find("VOXCAST_HTTP_USER"), std::string::npos);
  EXPECT_FALSE(parse_error("https://host/x.zarr?token=1").empty());
  EXPECT_FALSE(parse_error("https://host/a b.zarr").empty());
  EXPECT_FALSE(parse_error("https:///x.zarr").empty());
  EXPECT_FALSE(parse_error("s3://ab/x").empty()) << "bucket names have 3 characters at least";
  EXPECT_FALSE(parse_error("s3://Bad_Bucket!/x").empty());
  // The refusal names the URL without its credentials.
  auto opened = open_remote_store("https://alice:secret@host/x.zarr", RemoteOptions{});
  ASSERT_TRUE(std::holds_alternative<DataError>(opened));
  const auto& e = std::get<DataError>(opened);
  EXPECT_EQ((e.source + e.message).find("secret"), std::string::npos) << e.source << " " << e.message;
  EXPECT_EQ((e.source + e.message).find("alice"), std::string::npos) << e.source;
}

TEST(RemoteUrl, S3AddressingFollowsTheEndpoint) {
  RemoteOptions aws;
  aws.s3_region = "eu-west-1";
  auto v = parse_ok("s3://my-bucket/lab/scan.ome.zarr", aws);
  EXPECT_EQ(v.base_url, "https://my-bucket.s3.eu-west-1.amazonaws.com/lab/scan.ome.zarr/");
  EXPECT_EQ(v.display, "s3://my-bucket/lab/scan.ome.zarr");
  EXPECT_EQ(v.name, "scan.ome.zarr");
  EXPECT_EQ(v.region, "eu-west-1");
  EXPECT_TRUE(v.s3);
  RemoteOptions minio;
  minio.s3_endpoint = "http://127.0.0.1:9000/";
  EXPECT_EQ(parse_ok("s3://data/x.zarr", minio).base_url, "http://127.0.0.1:9000/data/x.zarr/");
  minio.s3_addressing = S3Addressing::virtual_hosted;
  EXPECT_EQ(parse_ok("s3://data/x.zarr", minio).base_url, "http://data.127.0.0.1:9000/x.zarr/");
  aws.s3_addressing = S3Addressing::path;
  EXPECT_EQ(parse_ok("s3://my-bucket/x", aws).base_url, "https://s3.eu-west-1.amazonaws.com/my-bucket/x/");
  EXPECT_EQ(parse_ok("s3://my-bucket", aws).name, "my-bucket");
  // Dotted buckets cannot be virtual-hosted over TLS (the certificate's wildcard covers one label).
  EXPECT_NE(parse_error("s3://my.bucket/x", RemoteOptions{}).find("--s3-addressing path"), std::string::npos);
  RemoteOptions bad;
  bad.s3_endpoint = "ftp://host";
  EXPECT_FALSE(parse_error("s3://data/x", bad).empty());
}

TEST(RemoteUrl, KeysArePercentEncoded) {
  EXPECT_EQ(encode_key("0/c/1/2"), "0/c/1/2");
  EXPECT_EQ(encode_key("labels/cell mask/.zattrs"), "labels/cell%20mask/.zattrs");
  EXPECT_EQ(encode_key("a+b?#"), "a%2Bb%3F%23");
}

TEST(RemoteUrl, AwsProfilesAreReadFromCredentialsAndConfigFiles) {
  const std::string text =
      "# comment\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key=s1\n\n"
      "[profile lab]\naws_access_key_id = AKIALAB\n aws_secret_access_key = s2 \nregion = eu-central-1\n[other]\nx=y\n";
  auto d = aws_profile_entries(text, "default");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], (std::pair<std::string, std::string>{"aws_access_key_id", "AKIADEFAULT"}));
  EXPECT_EQ(d[1].second, "s1");
  auto lab = aws_profile_entries(text, "lab");
  ASSERT_EQ(lab.size(), 3u);
  EXPECT_EQ(lab[1].second, "s2");
  EXPECT_EQ(lab[2].second, "eu-central-1");
  EXPECT_TRUE(aws_profile_entries(text, "missing").empty());
}

TEST(RemoteUrl, WhatAnAnswerMeans) {
  EXPECT_EQ(classify_response(200, 0, false), Outcome::ok);
  EXPECT_EQ(classify_response(206, 0, false), Outcome::ok);
  EXPECT_EQ(classify_response(404, 0, false), Outcome::missing);
  EXPECT_EQ(classify_response(416, 0, false), Outcome::out_of_range);
  for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) EXPECT_EQ(classify_response(s, 0, false), Outcome::retry) << s;
  for (long s : {400L, 401L, 403L, 405L}) EXPECT_EQ(classify_response(s, 0, false), Outcome::fail) << s;
  EXPECT_EQ(classify_response(0, 56, true), Outcome::retry) << "a reset";
  EXPECT_EQ(classify_response(0, 60, false), Outcome::fail) << "a certificate problem";
}

TEST(RemoteUrl, RetriesBackOffExponentiallyWithJitterUnderACap) {
  RemoteOptions o;
  o.backoff_ms = 100;
  o.backoff_cap_ms = 1000;
  std::mt19937 rng(1);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int cap = std::min(1000, 100 << attempt);
    int lo = cap, hi = 0;
    for (int i = 0; i < 200; ++i) {
      int d = retry_delay_ms(attempt, o, rng);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    EXPECT_GE(lo, cap / 2) << attempt;
    EXPECT_LE(hi, cap) << attempt;
    EXPECT_LT(lo, hi) << "jitter: retries after one failure do not come back in step";
  }
}

TEST(RemoteUrl, ContentRangeAndRangeText) {
  auto r = parse_content_range("bytes 100-199/1234");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 100u);
  EXPECT_EQ(r->last, 199u);
  EXPECT_EQ(r->total, 1234u);
  EXPECT_EQ(parse_content_range(" bytes 0-0/*")->total, 0u);
  EXPECT_FALSE(parse_content_range("bytes 5-4/10"));
  EXPECT_FALSE(parse_content_range("bytes 0-10/10"));
  EXPECT_FALSE(parse_content_range("items 0-1/2"));
  EXPECT_FALSE(parse_content_range("bytes -1/2"));
  EXPECT_FALSE(parse_content_range("bytes 0-99999999999999999999/2"));
  EXPECT_EQ(range_text(ByteRange::at(100, 100)), "100-199");
  EXPECT_EQ(range_text(ByteRange::last(16)), "-16");
}
