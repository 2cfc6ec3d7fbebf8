#pragma once
// Rate control per client link (issue 18, item 3): what a pixel client's link carries,
// estimated from when each frame is done with (its receipt, or, for a client without
// receipts, the write's completion) against when it was handed to the socket, and the
// bitrate cap the client's stream should keep to.
//
// Delay-based, as WebRTC's congestion control: a frame's flight time is the link's base
// delay (round trip, decode) plus its own serialisation plus any queue in front of it.
// While flight times stay near the base, the link has room and the cap rises (then goes
// away); once they grow by more than kQueueDelayMs, frames queue, and the cap drops below
// what the link delivered meanwhile. Pure: the pixel session feeds it events and times.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

namespace voxcast::server {

inline constexpr double kQueueDelayMs = 30.0;      // flight time over the base that means a queue
inline constexpr double kRateWindowMs = 500.0;     // delivered bytes are counted over this
inline constexpr double kBaseWindowMs = 10000.0;   // the base delay is the minimum over this
inline constexpr double kIncreaseEveryMs = 250.0;  // a clear link raises the cap this often
inline constexpr double kMinCapBps = 250e3;
inline constexpr int kMinFramesInFlight = 2, kMaxFramesInFlight = 8;

struct LinkRateState {
  double cap_bps = 0;         // 0: uncapped
  double delivered_bps = 0;   // over the last kRateWindowMs
  double base_ms = -1;        // minimum flight time seen lately (-1: none yet)
  double last_flight_ms = 0;
  double last_change_ms = 0;  // when the cap last moved
  uint64_t decreases = 0, increases = 0;
  bool congested = false;     // the last frame done saw a queue
};
std::string describe(const LinkRateState& s);

class LinkRate {
 public:
  // A frame of `bytes` handed to the socket at `now_ms` (steady clock), with number `seq`.
  void on_sent(uint64_t seq, size_t bytes, double now_ms);
  // Every frame up to `seq` is done with (receipts may skip frames: the newest counts).
  void on_done(uint64_t seq, double now_ms);
  // The cap to encode at, in bits/s; 0 when the link is not what limits the stream.
  double cap_bps() const { return state_.cap_bps; }
  const LinkRateState& state() const { return state_; }
  // How many frames may be sent and not yet done with, at one frame per `frame_ms`: the
  // frames the base delay holds, and one (kMinFramesInFlight..kMaxFramesInFlight).
  int frames_in_flight(double frame_ms) const;

 private:
  struct Sent {
    uint64_t seq;
    size_t bytes;
    double sent_ms;
  };
  struct Done {
    double ms;
    size_t bytes;
  };
  struct Flight {
    double ms;
    double flight_ms;
  };
  void adapt(double now_ms);

  std::deque<Sent> sent_;
  std::deque<Done> done_;       // within kRateWindowMs
  std::deque<Flight> flights_;  // within kBaseWindowMs, for the base delay
  double offered_bps_ = 0;      // what the encoder made meanwhile (sent over the window)
  std::deque<Done> offered_;
  LinkRateState state_;
};

// The caps streams are encoded at: a ladder of sqrt(2) steps, so that clients on similar
// links share one encode. Returns the ladder step at or below `cap_bps` (-1: uncapped).
int cap_step(double cap_bps);
double cap_step_bps(int step);  // 0 for -1

}  // namespace voxcast::server
