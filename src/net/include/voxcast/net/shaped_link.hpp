#pragma once
// A real, shaped network link on one machine, for tests and benchmarks (needs root): a
// network namespace with a veth pair into it (127.77.N.1 on this side, 127.77.N.2 inside;
// loopback-range addresses only, route_localnet on both ends), `tc tbf` at the link's rate
// each way, and a relay on this side that adds the one-way delay each way and can stall
// (netem is not in these kernels). A client run inside the namespace reaches a server on
// 127.0.0.1 only through forward()'s ports, so through the rate, the delay and the stalls.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace voxcast::net {

struct ShapedLinkOptions {
  double rate_bps = 10e6;   // each way
  double one_way_ms = 20;   // added by the relay each way (the round trip is twice this)
};

class ShapedLink {
 public:
  // The link, or why it cannot be made here (not root, no `ip`/`tc`, no veth).
  static std::variant<std::unique_ptr<ShapedLink>, std::string> create(const ShapedLinkOptions& options);
  ~ShapedLink();  // stops the relays, deletes the namespace (and the veth pair with it)
  ShapedLink(const ShapedLink&) = delete;
  ShapedLink& operator=(const ShapedLink&) = delete;

  // Where a client inside the namespace connects: this side's address.
  const std::string& address() const { return near_; }
  // A relay port on address() that forwards to 127.0.0.1:`target_port` with the delay;
  // 0 when it cannot listen.
  uint16_t forward(uint16_t target_port);
  // Runs `fn` on a thread inside the namespace and waits for it: sockets it opens, and
  // threads it starts (a client's io thread), stay in the namespace. False (fn not run)
  // when the thread could not enter it.
  bool run_inside(const std::function<void()>& fn);
  // Holds every byte in both directions for `seconds` from now (nothing is lost).
  void stall(double seconds);
  const ShapedLinkOptions& options() const { return options_; }

 private:
  ShapedLink() = default;
  struct Relay;
  void accept_loop(int listener, uint16_t target_port);

  ShapedLinkOptions options_;
  std::string ns_, near_if_, near_, far_;
  int ns_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<double> stalled_until_ms_{0};
  std::mutex mutex_;
  std::vector<int> listeners_;
  std::vector<std::shared_ptr<Relay>> relays_;
  std::vector<std::thread> threads_;
};

}  // namespace voxcast::net
