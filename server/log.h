#pragma once
// Redis-style log lines: "pid:role dd Mon yyyy hh:mm:ss.mmm * message",
// written to the configured logfile (or stdout) at the configured level.
#include <fmt/format.h>

#include <string>
#include <string_view>

namespace distcache::server {

enum class LogLevel { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3 };

void log_init(const std::string& logfile, LogLevel level);
void log_set_level(LogLevel level);
bool log_enabled(LogLevel level);
void log_write(LogLevel level, std::string_view message);
// syslog-enabled: also send every line to syslog(3). False for an unknown facility.
bool log_enable_syslog(const std::string& ident, const std::string& facility);

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
  if (log_enabled(level)) log_write(level, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace distcache::server
