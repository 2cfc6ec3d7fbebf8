// Stores over HTTP(S) and S3: keys fetched whole or by byte range through the shared
// curl transport, retried with back-off on transient failures, metadata cached.
#include "voxcast/data/remote_store.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "curl_transport.hpp"

namespace voxcast::data {

namespace {

std::atomic<uint64_t> g_requests{0}, g_retries{0}, g_failures{0}, g_bytes{0};

// The SHA-256 of an empty payload: S3 wants the body's hash in x-amz-content-sha256, and
// libcurl signs the value given there.
constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool is_metadata_key(const std::string& key) {
  auto slash = key.rfind('/');
  std::string file = slash == std::string::npos ? key : key.substr(slash + 1);
  return file == "zarr.json" || file == ".zarray" || file == ".zattrs" || file == ".zgroup";
}

std::string status_text(long status) {
  if (status == 401) return "HTTP 401: not authorised (credentials missing or wrong)";
  if (status == 403) return "HTTP 403: access denied";
  return "HTTP " + std::to_string(status);
}

class RemoteStore final : public Store {
 public:
  RemoteStore(StoreLocation loc, RemoteOptions options) : loc_(std::move(loc)), options_(std::move(options)) {}

  std::optional<StoreError> read(const std::string& key, StoreRead* out) const override {
    const bool meta = is_metadata_key(key);
    if (meta) {
      std::lock_guard lock(mutex_);
      auto it = metadata_.find(key);
      if (it != metadata_.end()) {
        *out = it->second;
        return std::nullopt;
      }
    }
    auto err = fetch(key, std::nullopt, false, out);
    if (!err && meta) {
      std::lock_guard lock(mutex_);
      metadata_[key] = *out;
    }
    return err;
  }

  std::optional<StoreError> read_range(const std::string& key, ByteRange range, StoreRead* out) const override {
    if (range.length == 0) {
      *out = StoreRead{};
      return std::nullopt;
    }
    return fetch(key, range, false, out);
  }

  bool exists(const std::string& key) const override {
    StoreRead got;
    if (is_metadata_key(key)) return !read(key, &got) && !got.missing;  // the read is cached for the next one
    return !fetch(key, std::nullopt, true, &got) && !got.missing;
  }

  // Object stores have no directories to list without extra permissions; nothing here
  // needs listing (Zarr and OME metadata name every key).
  std::vector<std::string> list(const std::string&) const override { return {}; }

  std::string where(const std::string& key) const override { return key.empty() ? loc_.display : loc_.display + "/" + key; }

 private:
  HttpRequest request_for(const std::string& key, std::optional<ByteRange> range, bool head) const {
    HttpRequest r;
    r.url = loc_.base_url + encode_key(key);
    r.head = head;
    if (range) r.range = range_text(*range);
    r.ca_file = options_.ca_file;
    r.connect_timeout_ms = options_.connect_timeout_ms;
    r.timeout_ms = options_.request_timeout_ms;
    r.low_speed_bytes = options_.low_speed_bytes;
    r.low_speed_seconds = options_.low_speed_seconds;
    const auto& c = options_.credentials;
    if (loc_.s3) {
      if (c.has_aws()) {
        r.aws_sigv4 = "aws:amz:" + loc_.region + ":s3";
        r.userpwd = c.aws_access_key_id + ":" + c.aws_secret_access_key;
        r.headers.push_back(std::string("x-amz-content-sha256: ") + kEmptySha256);
        if (!c.aws_session_token.empty()) r.headers.push_back("x-amz-security-token: " + c.aws_session_token);
      }
    } else if (!c.http_bearer_token.empty()) {
      r.headers.push_back("Authorization: Bearer " + c.http_bearer_token);
    } else if (!c.http_user.empty()) {
      r.userpwd = c.http_user + ":" + c.http_password;
    }
    return r;
  }

  // One read with retries. Errors never carry request headers or credentials: only the
  // status, curl's description and the key.
  std::optional<StoreError> fetch(const std::string& key, std::optional<ByteRange> range, bool head, StoreRead* out) const {
    *out = StoreRead{};
    HttpRequest request = request_for(key, range, head);
    thread_local std::mt19937 rng(std::random_device{}());
    std::string last;
    const int attempts = std::max(1, options_.attempts);
    for (int attempt = 0; attempt < attempts; ++attempt) {
      if (attempt > 0) {
        g_retries += 1;
        std::this_thread::sleep_for(std::chrono::milliseconds(retry_delay_ms(attempt - 1, options_, rng)));
      }
      g_requests += 1;
      HttpResponse resp = CurlTransport::shared().fetch(request);
      switch (classify_response(resp.status, resp.curl_code, resp.retryable)) {
        case Outcome::missing:
          out->missing = true;
          return std::nullopt;
        case Outcome::out_of_range:
          return StoreError{StoreError::Kind::out_of_range, "the byte range " + request.range + " lies outside the value"};
        case Outcome::retry:
          last = resp.curl_code ? resp.error : status_text(resp.status);
          continue;
        case Outcome::fail:
          g_failures += 1;
          return StoreError{StoreError::Kind::io, resp.curl_code ? resp.error : status_text(resp.status)};
        case Outcome::ok:
          break;
      }
      g_bytes += resp.body.size();
      if (range && range->suffix && resp.status == 206) {
        // Some S3-compatible servers (s3rver) answer a suffix range from the start. Their
        // Content-Range still gives the value's size: ask for the exact bytes instead.
        auto cr = parse_content_range(resp.content_range);
        if (cr && cr->total >= range->length && cr->first != cr->total - range->length) {
          range = ByteRange::at(cr->total - range->length, range->length);
          request = request_for(key, range, head);
          --attempt;  // not a failure of the store
          continue;
        }
      }
      auto err = accept(resp, range, head, out);
      if (!err) return std::nullopt;
      if (err->kind == StoreError::Kind::out_of_range) return err;
      // A body that does not match what was asked is never handed on (a proxy cut it,
      // or the value changed between requests): try again.
      last = err->message;
      *out = StoreRead{};
    }
    g_failures += 1;
    return StoreError{StoreError::Kind::io, last + " (after " + std::to_string(attempts) + " attempts)"};
  }

  // Checks a 200/206 answer against the request and fills `out`; an io error is worth
  // another attempt, out_of_range is final.
  static std::optional<StoreError> accept(HttpResponse& resp, std::optional<ByteRange> range, bool head, StoreRead* out) {
    auto outside = [&](uint64_t size) {
      return StoreError{StoreError::Kind::out_of_range,
                        "bytes " + range_text(*range) + " lie outside the " + std::to_string(size) + "-byte value"};
    };
    if (head) return std::nullopt;
    if (!range) {
      out->total_size = resp.body.size();
      out->bytes = std::move(resp.body);
      return std::nullopt;
    }
    if (resp.status == 200) {
      // The server ignored Range and sent the whole value: cut the range out of it.
      const uint64_t size = resp.body.size();
      if (range->length > size) return outside(size);
      const uint64_t offset = range->suffix ? size - range->length : range->offset;
      if (offset > size - range->length) return outside(size);
      out->total_size = size;
      out->bytes.assign(resp.body.begin() + static_cast<ptrdiff_t>(offset),
                        resp.body.begin() + static_cast<ptrdiff_t>(offset + range->length));
      return std::nullopt;
    }
    auto cr = parse_content_range(resp.content_range);
    if (!cr) return StoreError{StoreError::Kind::io, "a 206 answer without a usable Content-Range"};
    const uint64_t got = cr->last - cr->first + 1;
    if (got != resp.body.size()) return StoreError{StoreError::Kind::io, "the answer's body is shorter than its Content-Range"};
    // A suffix longer than the value comes back as the whole value.
    if (range->suffix && cr->total && cr->total < range->length) return outside(cr->total);
    if (range->suffix ? got != range->length : (cr->first != range->offset || got != range->length))
      return StoreError{StoreError::Kind::io, "asked for bytes " + range_text(*range) + ", got " + std::to_string(cr->first) +
                                                  "-" + std::to_string(cr->last)};
    out->total_size = cr->total;
    out->bytes = std::move(resp.body);
    return std::nullopt;
  }

  StoreLocation loc_;
  RemoteOptions options_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, StoreRead> metadata_;  // whole metadata values (and their absence)
};

}  // namespace

std::variant<std::shared_ptr<const Store>, DataError> open_remote_store(const std::string& url, const RemoteOptions& options) {
  auto loc = parse_store_url(url, options);
  if (auto* why = std::get_if<std::string>(&loc)) {
    // Name the URL without anything between "://" and an '@' (credentials).
    std::string shown = url;
    auto start = shown.find("://"), at = shown.find('@');
    if (start != std::string::npos && at != std::string::npos && at > start && at < shown.find('/', start + 3))
      shown = shown.substr(0, start + 3) + "…" + shown.substr(at);
    return DataError{shown, *why};
  }
  return std::shared_ptr<const Store>(std::make_shared<RemoteStore>(std::get<StoreLocation>(loc), options));
}

RemoteStats remote_stats() { return {g_requests.load(), g_retries.load(), g_failures.load(), g_bytes.load()}; }

}  // namespace voxcast::data
