// The pure half of remote stores: URLs, addressing, credentials files, retry policy.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "voxcast/data/remote_store.hpp"

namespace voxcast::data {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return {};
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string lookup(const std::vector<std::pair<std::string, std::string>>& entries, const std::string& key) {
  for (const auto& [k, v] : entries)
    if (k == key) return v;
  return {};
}

bool valid_bucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  });
}

std::string last_component(std::string path) {
  while (!path.empty() && path.back() == '/') path.pop_back();
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string with_slash(std::string s) {
  if (s.empty() || s.back() != '/') s += '/';
  return s;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> aws_profile_entries(const std::string& text, const std::string& profile) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      std::string name = trim(line.substr(1, line.size() - 2));
      if (name.rfind("profile ", 0) == 0) name = trim(name.substr(8));
      inside = name == profile;
      continue;
    }
    auto eq = line.find('=');
    if (!inside || eq == std::string::npos) continue;
    out.emplace_back(trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
  }
  return out;
}

RemoteOptions remote_options_from_environment() {
  RemoteOptions o;
  o.s3_endpoint = env("AWS_ENDPOINT_URL_S3");
  if (o.s3_endpoint.empty()) o.s3_endpoint = env("AWS_ENDPOINT_URL");
  const std::string home = env("HOME");
  std::string profile = env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string creds_file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (creds_file.empty() && !home.empty()) creds_file = home + "/.aws/credentials";
  std::string config_file = env("AWS_CONFIG_FILE");
  if (config_file.empty() && !home.empty()) config_file = home + "/.aws/config";
  auto& c = o.credentials;
  c.aws_access_key_id = env("AWS_ACCESS_KEY_ID");
  c.aws_secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  c.aws_session_token = env("AWS_SESSION_TOKEN");
  if (!c.has_aws() && !creds_file.empty()) {
    auto entries = aws_profile_entries(read_text_file(creds_file), profile);
    c.aws_access_key_id = lookup(entries, "aws_access_key_id");
    c.aws_secret_access_key = lookup(entries, "aws_secret_access_key");
    c.aws_session_token = lookup(entries, "aws_session_token");
  }
  std::string region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (region.empty() && !config_file.empty()) region = lookup(aws_profile_entries(read_text_file(config_file), profile), "region");
  if (!region.empty()) o.s3_region = region;
  c.http_bearer_token = env("VOXCAST_HTTP_BEARER_TOKEN");
  c.http_user = env("VOXCAST_HTTP_USER");
  c.http_password = env("VOXCAST_HTTP_PASSWORD");
  return o;
}

bool is_remote_url(const std::string& spec) {
  return spec.rfind("http://", 0) == 0 || spec.rfind("https://", 0) == 0 || spec.rfind("s3://", 0) == 0;
}

std::string encode_key(const std::string& key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::variant<StoreLocation, std::string> parse_store_url(const std::string& url, const RemoteOptions& options) {
  StoreLocation loc;
  if (url.find_first_of(" \t\r\n\"<>\\^`{|}") != std::string::npos || url.find('\0') != std::string::npos)
    return std::string("the URL holds characters that must be percent-encoded");
  if (url.find('?') != std::string::npos || url.find('#') != std::string::npos)
    return std::string("a store URL names a directory: no query or fragment");
  if (url.rfind("s3://", 0) == 0) {
    std::string rest = url.substr(5);
    auto slash = rest.find('/');
    std::string bucket = rest.substr(0, slash);
    std::string prefix = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (!valid_bucket(bucket)) return "'" + bucket + "' is not an S3 bucket name (3-63 of a-z, 0-9, '.', '-')";
    std::string endpoint = options.s3_endpoint.empty() ? "https://s3." + options.s3_region + ".amazonaws.com" : options.s3_endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    auto scheme_end = endpoint.find("://");
    if (scheme_end == std::string::npos || (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0))
      return "the S3 endpoint '" + endpoint + "' must start with http:// or https://";
    if (endpoint.find('@') != std::string::npos) return std::string("the S3 endpoint must not hold credentials");
    const bool virtual_hosted = options.s3_addressing == S3Addressing::virtual_hosted ||
                                (options.s3_addressing == S3Addressing::automatic && options.s3_endpoint.empty());
    if (virtual_hosted) {
      if (bucket.find('.') != std::string::npos && endpoint.rfind("https://", 0) == 0)
        return "bucket '" + bucket + "' has dots, which break TLS names in virtual-hosted addressing; use --s3-addressing path";
      loc.base_url = endpoint.substr(0, scheme_end + 3) + bucket + "." + endpoint.substr(scheme_end + 3) + "/";
    } else {
      loc.base_url = endpoint + "/" + bucket + "/";
    }
    if (!prefix.empty()) loc.base_url += encode_key(prefix) + "/";
    loc.display = "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
    loc.name = prefix.empty() ? bucket : last_component(prefix);
    loc.s3 = true;
    loc.region = options.s3_region;
    return loc;
  }
  if (!is_remote_url(url)) return std::string("not an http://, https:// or s3:// URL");
  const size_t host_start = url.find("://") + 3;
  const size_t path_start = url.find('/', host_start);
  const std::string authority = url.substr(host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
  if (authority.empty()) return std::string("the URL has no host");
  if (authority.find('@') != std::string::npos)
    return std::string("credentials in the URL would show in logs; give them in VOXCAST_HTTP_USER/VOXCAST_HTTP_PASSWORD or "
                       "VOXCAST_HTTP_BEARER_TOKEN");
  std::string base = url;
  while (base.size() > host_start && base.back() == '/') base.pop_back();
  loc.display = base;
  loc.base_url = with_slash(base);
  loc.name = path_start == std::string::npos ? authority : last_component(url.substr(path_start));
  if (loc.name.empty()) loc.name = authority;
  return loc;
}

Outcome classify_response(long status, int curl_code, bool curl_retryable) {
  if (curl_code != 0) return curl_retryable ? Outcome::retry : Outcome::fail;
  if (status == 200 || status == 206) return Outcome::ok;
  if (status == 404 || status == 410) return Outcome::missing;  // Zarr: a missing chunk is fill
  if (status == 416) return Outcome::out_of_range;
  if (status == 408 || status == 429 || status >= 500) return Outcome::retry;
  return Outcome::fail;
}

int retry_delay_ms(int attempt, const RemoteOptions& options, std::mt19937& rng) {
  int64_t cap = options.backoff_ms;
  for (int i = 0; i < attempt && cap < options.backoff_cap_ms; ++i) cap *= 2;
  cap = std::min<int64_t>(cap, options.backoff_cap_ms);
  // Full jitter: many clients retrying after one server hiccup do not come back at once.
  std::uniform_int_distribution<int64_t> d(cap / 2, cap);
  return static_cast<int>(d(rng));
}

std::optional<ContentRange> parse_content_range(const std::string& value) {
  std::string v = trim(value);
  if (v.rfind("bytes ", 0) != 0) return std::nullopt;
  v = v.substr(6);
  auto dash = v.find('-'), slash = v.find('/');
  if (dash == std::string::npos || slash == std::string::npos || dash > slash) return std::nullopt;
  auto number = [](const std::string& s, uint64_t* out) {
    if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    *out = std::stoull(s);
    return true;
  };
  ContentRange r;
  if (!number(v.substr(0, dash), &r.first) || !number(v.substr(dash + 1, slash - dash - 1), &r.last) || r.last < r.first)
    return std::nullopt;
  std::string total = v.substr(slash + 1);
  if (total != "*" && (!number(total, &r.total) || r.total <= r.last)) return std::nullopt;
  return r;
}

std::string range_text(const ByteRange& range) {
  if (range.suffix) return "-" + std::to_string(range.length);
  return std::to_string(range.offset) + "-" + std::to_string(range.offset + range.length - 1);
}

}  // namespace voxcast::data
