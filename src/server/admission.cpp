#include "voxcast/server/admission.hpp"

#include <string>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace voxcast::server {

bool admit(Admission* a, const AdmissionLimits& limits, const std::string& ip) {
  int& mine = a->by_ip[ip];
  if (mine >= limits.per_ip || a->total >= limits.total) {
    if (mine == 0) a->by_ip.erase(ip);
    a->refused += 1;
    return false;
  }
  mine += 1;
  a->total += 1;
  return true;
}

void release(Admission* a, const std::string& ip) {
  auto it = a->by_ip.find(ip);
  if (it == a->by_ip.end()) return;
  if (--it->second <= 0) a->by_ip.erase(it);
  a->total = a->total > 0 ? a->total - 1 : 0;
}

void SpareFd::reserve() {
  if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void SpareFd::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool out_of_descriptors(int e) { return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM; }

void send_refusal(int fd, const char* why) {
  std::string body = std::string("voxcast: ") + why + "; try again shortly\n";
  std::string res = "HTTP/1.1 503 Service Unavailable\r\nServer: voxcast\r\nContent-Type: text/plain\r\n"
                    "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  (void)::send(fd, res.data(), res.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
}

}  // namespace voxcast::server
