#pragma once
// One libcurl multi handle driven by its own thread (internal to voxcast_data): every
// remote read of the process goes through it, so connections are shared and kept alive,
// HTTP/2 streams are multiplexed, and as many requests are in flight as threads ask.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace voxcast::data {

struct HttpRequest {
  std::string url;
  bool head = false;
  std::string range;                 // CURLOPT_RANGE text; empty: the whole value
  std::vector<std::string> headers;  // "Name: value"
  std::string userpwd;               // basic auth or the SigV4 key pair (never logged)
  std::string aws_sigv4;             // "aws:amz:REGION:s3"; empty: unsigned
  std::string ca_file;
  int connect_timeout_ms = 5000, timeout_ms = 30000;
  int low_speed_bytes = 1024, low_speed_seconds = 10;
  uint64_t max_bytes = uint64_t{1} << 31;  // a larger body is refused, not buffered
};

struct HttpResponse {
  long status = 0;
  int curl_code = 0;            // 0: the transfer completed
  bool retryable = false;       // a reset, time-out, early close: worth another attempt
  std::string error;            // curl's description when curl_code != 0
  std::string content_range;
  std::string retry_after;
  std::vector<uint8_t> body;
};

class CurlTransport {
 public:
  CurlTransport();
  ~CurlTransport();
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // Blocks until the exchange is over (or failed). Safe from any thread.
  HttpResponse fetch(const HttpRequest& request);

  // The process's transport, started on first use.
  static CurlTransport& shared();

  struct Transfer;  // one exchange in flight (defined in the .cpp)

 private:
  void run();

  void* multi_ = nullptr;  // CURLM*
  std::mutex mutex_;
  std::deque<std::shared_ptr<Transfer>> pending_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace voxcast::data
