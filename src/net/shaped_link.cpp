// The shaped link: namespace, veth and tc through the `ip`/`tc` commands (what an operator
// would type), the delay relay on plain blocking sockets (a thread per direction).
#include "voxcast/net/shaped_link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>

namespace voxcast::net {
namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int sh(const std::string& cmd) {
  int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

std::atomic<int> links_made{0};

}  // namespace

// One relayed connection: each direction a queue of chunks released after the delay.
struct ShapedLink::Relay {
  struct Chunk {
    double release_ms;
    std::string bytes;  // empty: the end of the stream
  };
  struct Direction {
    std::mutex m;
    std::condition_variable cv;
    std::deque<Chunk> q;
    size_t bytes = 0;  // queued: bounded, so a sender feels the link as through a router
  };
  int a = -1, b = -1;  // the client's side, the server's side
  Direction up, down;  // a -> b, b -> a
  std::atomic<bool> closed{false};
  void close_both() {
    if (closed.exchange(true)) return;
    ::shutdown(a, SHUT_RDWR);
    ::shutdown(b, SHUT_RDWR);
    for (Direction* d : {&up, &down}) {
      std::lock_guard lock(d->m);
      d->q.push_back({0, {}});
      d->cv.notify_all();
    }
  }
  ~Relay() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
};

std::variant<std::unique_ptr<ShapedLink>, std::string> ShapedLink::create(const ShapedLinkOptions& o) {
  if (geteuid() != 0) return std::string("a shaped link needs root (network namespaces, veth, tc)");
  if (sh("command -v ip") != 0 || sh("command -v tc") != 0) return std::string("`ip` and `tc` (iproute2) are needed");
  std::unique_ptr<ShapedLink> l(new ShapedLink());
  l->options_ = o;
  // Names and a /30 unique to this process and link (parallel test processes each make theirs).
  const int k = links_made++;
  const int n = static_cast<int>((static_cast<unsigned>(getpid()) * 7u + static_cast<unsigned>(k) * 13u) % 240u) + 10;
  const std::string id = std::to_string(getpid() % 100000) + "x" + std::to_string(k);
  l->ns_ = "vxlink" + id;
  l->near_if_ = "vxa" + id;
  const std::string far_if = "vxb" + id;
  const int sub = (static_cast<int>(getpid()) + k) % 60;  // the /30 within 127.77.n.0/24
  l->near_ = "127.77." + std::to_string(n) + "." + std::to_string(sub * 4 + 1);
  l->far_ = "127.77." + std::to_string(n) + "." + std::to_string(sub * 4 + 2);
  const std::string in = "ip netns exec " + l->ns_ + " ";
  char rate[64], burst[64];
  std::snprintf(rate, sizeof rate, "%.0fbit", o.rate_bps);
  // A burst of a few ms of the rate (at least a jumbo packet); 100 ms of queue, as a home router.
  std::snprintf(burst, sizeof burst, "%.0f", std::max(16384.0, o.rate_bps / 8 * 0.004));
  const std::string tbf = std::string(" root tbf rate ") + rate + " burst " + burst + " latency 100ms";
  const std::vector<std::string> steps = {
      "ip netns add " + l->ns_,
      "ip link add " + l->near_if_ + " type veth peer name " + far_if,
      "ip link set " + far_if + " netns " + l->ns_,
      "ip addr add " + l->near_ + "/30 dev " + l->near_if_,
      "ip link set " + l->near_if_ + " up",
      in + "ip addr add " + l->far_ + "/30 dev " + far_if,
      in + "ip link set " + far_if + " up",
      "sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf." + l->near_if_ + ".route_localnet=1",
      in + "sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf." + far_if + ".route_localnet=1",
      "tc qdisc add dev " + l->near_if_ + tbf,
      in + "tc qdisc add dev " + far_if + tbf,
  };
  for (const auto& s : steps) {
    if (sh(s) != 0) {
      sh("ip netns del " + l->ns_);
      sh("ip link del " + l->near_if_);
      return "could not make the shaped link: `" + s + "` failed";
    }
  }
  l->ns_fd_ = ::open(("/run/netns/" + l->ns_).c_str(), O_RDONLY | O_CLOEXEC);
  if (l->ns_fd_ < 0) {
    sh("ip netns del " + l->ns_);
    return std::string("could not open the namespace ") + l->ns_;
  }
  return l;
}

ShapedLink::~ShapedLink() {
  stopping_ = true;
  {
    std::lock_guard lock(mutex_);
    for (int fd : listeners_) ::shutdown(fd, SHUT_RDWR);
    for (auto& r : relays_) r->close_both();
  }
  for (auto& t : threads_) t.join();
  for (int fd : listeners_) ::close(fd);
  if (ns_fd_ >= 0) ::close(ns_fd_);
  sh("ip netns del " + ns_);  // the far end goes with it, and its peer with that
  sh("ip link del " + near_if_);
}

uint16_t ShapedLink::forward(uint16_t target_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, near_.c_str(), &addr.sin_addr);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return 0;
  }
  std::lock_guard lock(mutex_);
  listeners_.push_back(fd);
  threads_.emplace_back([this, fd, target_port] { accept_loop(fd, target_port); });
  return ntohs(addr.sin_port);
}

void ShapedLink::accept_loop(int listener, uint16_t target_port) {
  while (!stopping_) {
    int a = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (a < 0) return;  // shut down
    int b = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(target_port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (b < 0 || ::connect(b, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(a);
      if (b >= 0) ::close(b);
      continue;
    }
    int one = 1;
    ::setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // The link side holds little in the kernel: the queue is the link's (tbf), not ours.
    int sndbuf = 64 << 10;
    ::setsockopt(a, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    auto relay = std::make_shared<Relay>();
    relay->a = a;
    relay->b = b;
    // Reader: what arrives is released one delay later. Writer: sends it then (or after a stall).
    // The bytes in the delay line at the link's rate, and some: past that, the relay stops
    // reading, and the sender's socket fills as it would behind a real link.
    const size_t limit = static_cast<size_t>(std::max(65536.0, options_.rate_bps / 8 * options_.one_way_ms / 1000 * 2));
    auto reader = [this, relay, limit](int from, Relay::Direction* d) {
      char buf[65536];
      while (true) {
        ssize_t n = ::recv(from, buf, sizeof buf, 0);
        std::unique_lock lock(d->m);
        if (n <= 0) {
          d->q.push_back({0, {}});
          d->cv.notify_all();
          return;
        }
        d->q.push_back({now_ms() + options_.one_way_ms, std::string(buf, static_cast<size_t>(n))});
        d->bytes += static_cast<size_t>(n);
        d->cv.notify_all();
        d->cv.wait(lock, [&] { return d->bytes < limit || relay->closed; });
        if (relay->closed) return;
      }
    };
    auto writer = [this, relay](int to_fd, Relay::Direction* d) {
      while (true) {
        Relay::Chunk c;
        {
          std::unique_lock lock(d->m);
          d->cv.wait(lock, [&] { return !d->q.empty(); });
          c = std::move(d->q.front());
          d->q.pop_front();
          d->bytes -= c.bytes.size();
          d->cv.notify_all();
        }
        if (c.bytes.empty()) {
          relay->close_both();
          return;
        }
        while (true) {  // the delay, and any stall meanwhile
          const double wait = std::max(c.release_ms, stalled_until_ms_.load()) - now_ms();
          if (wait <= 0 || relay->closed) break;
          std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(std::min(wait, 20.0)));
        }
        size_t off = 0;
        while (off < c.bytes.size()) {
          ssize_t n = ::send(to_fd, c.bytes.data() + off, c.bytes.size() - off, MSG_NOSIGNAL);
          if (n <= 0) {
            relay->close_both();
            return;
          }
          off += static_cast<size_t>(n);
        }
      }
    };
    std::lock_guard lock(mutex_);
    if (stopping_) {
      relay->close_both();
      return;
    }
    relays_.push_back(relay);
    threads_.emplace_back(reader, a, &relay->up);
    threads_.emplace_back(writer, b, &relay->up);
    threads_.emplace_back(reader, b, &relay->down);
    threads_.emplace_back(writer, a, &relay->down);
  }
}

bool ShapedLink::run_inside(const std::function<void()>& fn) {
  bool entered = false;
  std::thread t([&] {
    if (!(entered = ::setns(ns_fd_, CLONE_NEWNET) == 0)) return;
    fn();
  });
  t.join();
  return entered;
}

void ShapedLink::stall(double seconds) { stalled_until_ms_ = now_ms() + seconds * 1000.0; }

}  // namespace voxcast::net
