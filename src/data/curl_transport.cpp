#include "curl_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <future>

namespace voxcast::data {

struct CurlTransport::Transfer {
  HttpRequest request;
  HttpResponse response;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::promise<HttpResponse> done;
};

namespace {

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<CurlTransport::Transfer*>(user);
  const size_t bytes = size * n;
  if (t->response.body.size() + bytes > t->request.max_bytes) return 0;  // aborts: CURLE_WRITE_ERROR
  t->response.body.insert(t->response.body.end(), data, data + bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<CurlTransport::Transfer*>(user);
  const size_t bytes = size * n;
  std::string line(data, bytes);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    if (name == "content-range") t->response.content_range = value;
    if (name == "retry-after") t->response.retry_after = value;
  } else if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or 100-continue): forget the previous one's headers.
    t->response.content_range.clear();
    t->response.retry_after.clear();
  }
  return bytes;
}

bool is_retryable(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

void configure(CurlTransport::Transfer* t) {
  CURL* e = t->easy;
  const HttpRequest& r = t->request;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);  // wait for a multiplexable connection rather than open another
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout_ms));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(r.low_speed_bytes));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(r.low_speed_seconds));
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_bytes));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
  if (r.head) curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  if (!r.range.empty()) curl_easy_setopt(e, CURLOPT_RANGE, r.range.c_str());
  if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
  if (!r.aws_sigv4.empty()) curl_easy_setopt(e, CURLOPT_AWS_SIGV4, r.aws_sigv4.c_str());
  if (!r.userpwd.empty()) {
    curl_easy_setopt(e, CURLOPT_USERPWD, r.userpwd.c_str());
    if (r.aws_sigv4.empty()) curl_easy_setopt(e, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
  }
  for (const auto& h : r.headers) t->headers = curl_slist_append(t->headers, h.c_str());
  if (t->headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
}

}  // namespace

CurlTransport::CurlTransport() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 16L);
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, 64L);
  thread_ = std::thread([this] { run(); });
}

CurlTransport::~CurlTransport() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  curl_multi_wakeup(multi_);
  thread_.join();
  curl_multi_cleanup(multi_);
}

CurlTransport& CurlTransport::shared() {
  // Never destroyed: chunk loads on pool threads may still be finishing at exit.
  static auto* transport = new CurlTransport();
  return *transport;
}

HttpResponse CurlTransport::fetch(const HttpRequest& request) {
  auto t = std::make_shared<Transfer>();
  t->request = request;
  auto result = t->done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stop_) {
      HttpResponse r;
      r.curl_code = CURLE_ABORTED_BY_CALLBACK;
      r.error = "the transport is shutting down";
      return r;
    }
    pending_.push_back(std::move(t));
  }
  curl_multi_wakeup(multi_);
  return result.get();
}

void CurlTransport::run() {
  std::vector<std::shared_ptr<Transfer>> active;
  while (true) {
    std::deque<std::shared_ptr<Transfer>> incoming;
    {
      std::lock_guard lock(mutex_);
      if (stop_) break;
      incoming.swap(pending_);
    }
    for (auto& t : incoming) {
      t->easy = curl_easy_init();
      configure(t.get());
      curl_multi_add_handle(multi_, t->easy);
      active.push_back(std::move(t));
    }
    int running = 0;
    curl_multi_perform(multi_, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* raw = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
      assert(raw);
      const CURLcode code = msg->data.result;
      raw->response.curl_code = static_cast<int>(code);
      if (code != CURLE_OK) {
        raw->response.retryable = is_retryable(code);
        raw->response.error = curl_easy_strerror(code);
        raw->response.body.clear();  // nothing half-read is ever handed on
      }
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &raw->response.status);
      curl_multi_remove_handle(multi_, msg->easy_handle);
      curl_easy_cleanup(msg->easy_handle);
      curl_slist_free_all(raw->headers);
      raw->done.set_value(std::move(raw->response));
      active.erase(std::find_if(active.begin(), active.end(), [&](const auto& p) { return p.get() == raw; }));
    }
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
  }
  // Shutting down: every waiter gets an answer.
  for (auto& t : active) {
    curl_multi_remove_handle(multi_, t->easy);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    t->response.curl_code = CURLE_ABORTED_BY_CALLBACK;
    t->response.error = "the transport is shutting down";
    t->response.body.clear();
    t->done.set_value(std::move(t->response));
  }
  std::lock_guard lock(mutex_);
  for (auto& t : pending_) {
    HttpResponse r;
    r.curl_code = CURLE_ABORTED_BY_CALLBACK;
    r.error = "the transport is shutting down";
    t->done.set_value(std::move(r));
  }
  pending_.clear();
}

}  // namespace voxcast::data
