#pragma once
// Internal to the codec library: libav error codes as text.
#include <string>

extern "C" {
#include <libavutil/error.h>
}

namespace voxcast::codec {
inline std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}
}  // namespace voxcast::codec
