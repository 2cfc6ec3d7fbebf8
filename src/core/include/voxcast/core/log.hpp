#pragma once
#include <string_view>

namespace voxcast {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

// Set once at start from the config; messages below it are dropped.
void set_log_level(LogLevel level);
LogLevel log_level();
bool parse_log_level(std::string_view text, LogLevel* out);

// Thread-safe; one line to stderr with a time stamp and the component name.
void log_line(LogLevel level, std::string_view component, std::string_view message);

inline void log_debug(std::string_view c, std::string_view m) { log_line(LogLevel::debug, c, m); }
inline void log_info(std::string_view c, std::string_view m) { log_line(LogLevel::info, c, m); }
inline void log_warn(std::string_view c, std::string_view m) { log_line(LogLevel::warn, c, m); }
inline void log_error(std::string_view c, std::string_view m) { log_line(LogLevel::error, c, m); }

}  // namespace voxcast
