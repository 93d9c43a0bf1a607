// Redis-style log lines: "pid:role dd Mon yyyy hh:mm:ss.mmm <mark> message".
// Every line is written with a single write(2) while holding a mutex, so
// lines from different threads never interleave and nothing is buffered.
#include "server/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <strings.h>
#include <ctime>
#include <mutex>

namespace distcache::server {
namespace {

// The process that loaded this code; a forked child (e.g. a snapshot writer)
// logs with role 'C' like Redis's children, the main process with 'M'.
const pid_t main_pid = ::getpid();

std::atomic<int> current_level{static_cast<int>(LogLevel::kNotice)};
std::mutex write_mutex;  // guards log_fd and serialises writes
int log_fd = STDOUT_FILENO;
std::atomic<bool> syslog_on{false};

constexpr char kMarks[] = {'.', '-', '*', '#'};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere to report a logging failure
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

std::string format_line(LogLevel level, std::string_view message) {
  struct timeval tv;
  ::gettimeofday(&tv, nullptr);
  struct tm tm;
  time_t secs = tv.tv_sec;
  ::localtime_r(&secs, &tm);
  pid_t pid = ::getpid();
  int index = static_cast<int>(level);
  char mark = (index >= 0 && index < 4) ? kMarks[index] : '#';
  std::string line = fmt::format("{}:{} {:02d} {} {} {:02d}:{:02d}:{:02d}.{:03d} {} ", pid,
                                 pid == main_pid ? 'M' : 'C', tm.tm_mday, kMonths[tm.tm_mon],
                                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                                 static_cast<int>(tv.tv_usec / 1000), mark);
  line.append(message);
  line += '\n';
  return line;
}

}  // namespace

void log_init(const std::string& logfile, LogLevel level) {
  current_level.store(static_cast<int>(level), std::memory_order_relaxed);
  int fd = STDOUT_FILENO;
  std::string failure;
  if (!logfile.empty()) {
    fd = ::open(logfile.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      failure = fmt::format("Can't open the log file {}: {}; logging to standard output", logfile,
                            std::strerror(errno));
      fd = STDOUT_FILENO;
    }
  }
  {
    std::lock_guard lock(write_mutex);
    if (log_fd != STDOUT_FILENO && log_fd != fd) ::close(log_fd);
    log_fd = fd;
  }
  if (!failure.empty()) {
    std::string line = format_line(LogLevel::kWarning, failure);
    write_all(STDERR_FILENO, line.data(), line.size());
  }
}

void log_set_level(LogLevel level) { current_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= current_level.load(std::memory_order_relaxed);
}

void log_write(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  std::string line = format_line(level, message);
  std::lock_guard lock(write_mutex);
  write_all(log_fd, line.data(), line.size());
  if (syslog_on.load(std::memory_order_relaxed)) {
    static constexpr int kPriorities[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING};
    int index = static_cast<int>(level);
    ::syslog(kPriorities[index >= 0 && index < 4 ? index : 3], "%.*s", static_cast<int>(message.size()),
             message.data());
  }
}

bool log_enable_syslog(const std::string& ident, const std::string& facility) {
  static constexpr std::pair<const char*, int> kFacilities[] = {
      {"user", LOG_USER},     {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
      {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
      {"local7", LOG_LOCAL7}};
  int fac = -1;
  for (auto [name, value] : kFacilities)
    if (strcasecmp(name, facility.c_str()) == 0) fac = value;
  if (fac < 0) return false;
  static std::string kept_ident;  // openlog keeps the pointer
  kept_ident = ident;
  ::openlog(kept_ident.c_str(), LOG_PID | LOG_NDELAY | LOG_NOWAIT, fac);
  syslog_on.store(true, std::memory_order_relaxed);
  return true;
}

}  // namespace distcache::server
