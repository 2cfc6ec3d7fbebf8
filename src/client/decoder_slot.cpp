#include "voxcast/client/decoder_slot.hpp"

#include "voxcast/core/log.hpp"

namespace voxcast::client {

namespace {
std::optional<protocol::Error> create(DecoderSlot* slot) {
  auto choice = slot->forced_software ? codec::DecoderChoice::software : slot->policy.choice;
  auto d = codec::H264Decoder::open(slot->policy.threads, choice);
  if (!d) return d.error();
  slot->decoder = std::move(d).value();
  return std::nullopt;
}
}  // namespace

std::optional<protocol::Error> open_decoder(DecoderSlot* slot, DecoderPolicy policy) {
  slot->policy = policy;
  slot->injected_left = policy.inject_failures;
  return create(slot);
}

std::string decoder_name(const DecoderSlot& slot) { return slot.decoder ? slot.decoder->name() : "none"; }

DecodeOutcome decode_access_unit(DecoderSlot* slot, protocol::ByteSpan au) {
  DecodeOutcome out;
  std::string error;
  if (slot->injected_left > 0) {
    slot->injected_left -= 1;
    error = "injected decoder failure";
  } else {
    auto r = slot->decoder->decode(au);
    if (r) {
      slot->consecutive_failures = 0;
      out.picture = std::move(r).value();
      return out;
    }
    error = r.error().message;
  }
  out.failed = true;
  slot->failures += 1;
  slot->last_error = error;
  slot->decoder->flush();
  if (++slot->consecutive_failures < slot->policy.fallback_after) return out;
  // Repeated failures: a hardware decoder gives way to software; software starts afresh.
  slot->consecutive_failures = 0;
  if (slot->decoder->hardware()) {
    slot->forced_software = true;
    slot->fallbacks_to_software += 1;
    log_info("client", "decoder " + slot->decoder->name() + " failed repeatedly (" + error + "): software from now on");
  }
  if (auto err = create(slot)) {
    log_error("client", "decoder re-creation failed: " + err->message);
    return out;
  }
  slot->recreations += 1;
  out.recreated = true;
  return out;
}

}  // namespace voxcast::client
