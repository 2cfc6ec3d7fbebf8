#pragma once
// Datasets in object stores: OME-Zarr over HTTP(S) and S3 (AWS or any S3-compatible
// server), read through the same Store interface as local files. libcurl carries the
// requests (many in flight on one multi handle, keep-alive, HTTP/2 where offered);
// S3 requests are signed with SigV4 when credentials are found.
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "voxcast/data/store.hpp"
#include "voxcast/data/volume_source.hpp"

namespace voxcast::data {

// Secrets, kept apart from everything that is ever printed. Never logged, never put in an
// error message, never sent to a client.
struct StoreCredentials {
  std::string aws_access_key_id, aws_secret_access_key, aws_session_token;
  std::string http_bearer_token;            // VOXCAST_HTTP_BEARER_TOKEN
  std::string http_user, http_password;     // VOXCAST_HTTP_USER / VOXCAST_HTTP_PASSWORD
  bool has_aws() const { return !aws_access_key_id.empty() && !aws_secret_access_key.empty(); }
};

enum class S3Addressing { automatic, path, virtual_hosted };

// How remote stores are reached; resolved once from the command line and the environment.
struct RemoteOptions {
  std::string s3_endpoint;          // --s3-endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; empty: AWS
  S3Addressing s3_addressing = S3Addressing::automatic;  // automatic: virtual-hosted on AWS, path elsewhere
  std::string s3_region = "us-east-1";  // AWS_REGION, AWS_DEFAULT_REGION, the profile's region
  std::string ca_file;              // --store-ca: PEM bundle trusted for HTTPS stores
  int connect_timeout_ms = 5000;
  int request_timeout_ms = 30000;   // a whole request, body included
  int low_speed_bytes = 1024;       // slower than this ...
  int low_speed_seconds = 10;       // ... for this long: the transfer is abandoned (and retried)
  int attempts = 5;                 // per request, on 5xx / 429 / resets / time-outs
  int backoff_ms = 100;             // first retry's delay; doubles, capped, with jitter
  int backoff_cap_ms = 2000;
  StoreCredentials credentials;
};

// Reads AWS_* (or ~/.aws/credentials and ~/.aws/config for AWS_PROFILE) and VOXCAST_HTTP_*.
RemoteOptions remote_options_from_environment();
// The profile `profile` of an AWS credentials or config file's text ("[default]",
// "[profile x]" in config): key -> value.
std::vector<std::pair<std::string, std::string>> aws_profile_entries(const std::string& text, const std::string& profile);

// True for http://, https:// and s3:// dataset names.
bool is_remote_url(const std::string& spec);

// Where a store's keys are fetched from, and how it is named to users (no credentials).
struct StoreLocation {
  std::string base_url;  // ends with '/': keys are appended
  std::string display;   // "https://host/data/x.zarr", "s3://bucket/x.zarr"
  std::string name;      // last path component: the dataset's name
  bool s3 = false;
  std::string region;    // s3: for SigV4
};
std::variant<StoreLocation, std::string> parse_store_url(const std::string& url, const RemoteOptions& options);
// `key` with every byte outside [A-Za-z0-9-._~/] percent-encoded.
std::string encode_key(const std::string& key);

// What one HTTP exchange means for a store read.
enum class Outcome { ok, missing, out_of_range, retry, fail };
// `curl_code` 0 = the transfer completed; `curl_retryable` = a reset, time-out or early
// close (curl codes are not exposed here).
Outcome classify_response(long status, int curl_code, bool curl_retryable);
// The delay before retry number `attempt` (0-based): exponential, capped, full jitter.
int retry_delay_ms(int attempt, const RemoteOptions& options, std::mt19937& rng);
// "bytes 100-199/1234" -> (100, 199, 1234); total 0 when "*".
struct ContentRange {
  uint64_t first = 0, last = 0, total = 0;
};
std::optional<ContentRange> parse_content_range(const std::string& value);
// CURLOPT_RANGE's text for `range` ("100-199", "-16").
std::string range_text(const ByteRange& range);

// A store over HTTP(S) or S3 at `url`; the first request is made by the caller's first read.
std::variant<std::shared_ptr<const Store>, DataError> open_remote_store(const std::string& url,
                                                                         const RemoteOptions& options);

// Requests this process has made to remote stores (for benchmarks and /metrics).
struct RemoteStats {
  uint64_t requests = 0, retries = 0, failures = 0, bytes = 0;
};
RemoteStats remote_stats();

}  // namespace voxcast::data
