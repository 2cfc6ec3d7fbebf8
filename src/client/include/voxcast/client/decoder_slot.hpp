#pragma once
// The media thread's decoder with its failure policy: after `fallback_after` failures in
// a row a hardware decoder is replaced by a software one (and a software one is
// recreated); every (re)creation makes the caller wait for the next keyframe. The
// reference had no fallback at all (and reset PyAV on every packet).
#include <memory>
#include <optional>
#include <string>

#include "voxcast/codec/decoder.hpp"

namespace voxcast::client {

struct DecoderPolicy {
  codec::DecoderChoice choice = codec::DecoderChoice::automatic;
  int threads = 2;
  int fallback_after = 3;
  int inject_failures = 0;  // tests: the first N access units fail as a broken decoder would
};

struct DecoderSlot {
  DecoderPolicy policy;
  std::unique_ptr<codec::H264Decoder> decoder;
  bool forced_software = false;
  int consecutive_failures = 0;
  int injected_left = 0;
  uint64_t failures = 0, recreations = 0, fallbacks_to_software = 0;
  std::string last_error;
};

std::optional<protocol::Error> open_decoder(DecoderSlot* slot, DecoderPolicy policy);

struct DecodeOutcome {
  std::optional<codec::YuvImage> picture;
  bool failed = false;
  bool recreated = false;  // a new decoder: wait for a keyframe
};
DecodeOutcome decode_access_unit(DecoderSlot* slot, protocol::ByteSpan au);
std::string decoder_name(const DecoderSlot& slot);

}  // namespace voxcast::client
