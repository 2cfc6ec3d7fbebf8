#pragma once
// The session.hello checks of protocol.md §2.4, as a pure function over the first
// frame, plus voxcast's additions: the auth token and two-sided feature negotiation.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "voxcast/protocol/messages.hpp"

namespace voxcast::server {

struct HandshakePolicy {
  bool require_token = true;
  std::string token;
  double heartbeat_s = 15.0;
  std::vector<std::string> commands;  // registered command names, in order
};

struct HandshakeOutcome {
  std::optional<protocol::SessionReject> reject;  // set: send it and close
  protocol::SessionHello hello;
  std::set<std::string> features;  // enabled for this session
};

// Topics a peer gets only when it asks for them (true) in hello.features.
inline const char* kOptInFeatures[] = {"notify.dims", "notify.camera", "notify.error", "pixel.exact_still", "pixel.receipts"};

HandshakeOutcome evaluate_hello(std::string_view first_frame, const HandshakePolicy& policy);
protocol::SessionWelcome make_welcome(const std::string& session_id, const std::set<std::string>& features,
                                      const HandshakePolicy& policy);
// Constant-time comparison, so the token cannot be guessed byte by byte from timing.
bool token_matches(std::string_view expected, std::string_view given);

}  // namespace voxcast::server
