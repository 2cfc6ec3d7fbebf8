#pragma once
// Bounds on connections that have not authenticated yet (control before its welcome,
// pixel before its upgrade is checked, plain HTTP), and the accept loop's behaviour at
// the process's file-descriptor limit. Plain data on the network thread; no locks.
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace voxcast::server {

struct AdmissionLimits {
  int per_ip = 16;  // unauthenticated sockets from one address (ServerConfig::unauthenticated_per_ip)
  int total = 128;  // unauthenticated sockets in all (ServerConfig::unauthenticated_total)
};

struct Admission {
  std::map<std::string, int> by_ip;
  int total = 0;
  uint64_t refused = 0;  // connections closed at once: over a limit, or at the descriptor limit
};

// Counts one more unauthenticated connection from `ip`; false (nothing counted) when it
// would pass a limit: the caller closes the socket at once.
bool admit(Admission* a, const AdmissionLimits& limits, const std::string& ip);
// The connection authenticated or ended.
void release(Admission* a, const std::string& ip);

// An unauthenticated connection's place, given back (once) when it authenticates or ends.
class AdmissionTicket {
 public:
  AdmissionTicket() = default;
  AdmissionTicket(Admission* a, std::string ip) : a_(a), ip_(std::move(ip)) {}
  AdmissionTicket(AdmissionTicket&& o) noexcept : a_(std::exchange(o.a_, nullptr)), ip_(std::move(o.ip_)) {}
  AdmissionTicket& operator=(AdmissionTicket&& o) noexcept {
    if (this != &o) {
      give_back();
      a_ = std::exchange(o.a_, nullptr);
      ip_ = std::move(o.ip_);
    }
    return *this;
  }
  AdmissionTicket(const AdmissionTicket&) = delete;
  AdmissionTicket& operator=(const AdmissionTicket&) = delete;
  ~AdmissionTicket() { give_back(); }
  void give_back() {
    if (a_) release(a_, ip_);
    a_ = nullptr;
  }

 private:
  Admission* a_ = nullptr;
  std::string ip_;
};

// One descriptor held in reserve: at EMFILE the accept loop frees it, accepts the
// pending connection and closes it (the peer sees a clean close instead of a hang and
// the loop does not spin on the same error), then reserves it again.
class SpareFd {
 public:
  SpareFd() { reserve(); }
  ~SpareFd() { release(); }
  SpareFd(const SpareFd&) = delete;
  SpareFd& operator=(const SpareFd&) = delete;
  void reserve();
  void release();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// True for the accept errors that mean "out of descriptors" (EMFILE, ENFILE, ENOBUFS, ENOMEM).
bool out_of_descriptors(int error_value);

// Tells a connection that is turned away why (an HTTP 503 with Retry-After, which both
// ports speak first), without blocking: a fresh socket's send buffer has room. Plain TCP
// only; a TLS peer just sees the close. The caller closes the socket.
void send_refusal(int fd, const char* why);

}  // namespace voxcast::server
