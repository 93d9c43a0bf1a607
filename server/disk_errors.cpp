#include "server/disk_errors.h"

#include <cstring>

#include <fmt/format.h>

#include "server/config.h"

namespace distcache::server {

bool writes_refused_for_disk_error(const Config& config, std::string* message) {
  using namespace disk_errors_detail;
  const bool rdb_failed = bgsave_failed.load(std::memory_order_relaxed);
  const int aof_errno = aof_write_errno.load(std::memory_order_relaxed);
  if (!rdb_failed && aof_errno == 0) return false;  // the healthy case: nothing else to read
  if (rdb_failed && config.stop_writes_on_bgsave_error && !config.get_string(config.save).empty()) {
    if (message)
      *message =
          "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
          "Commands that may modify the data set are disabled, because this instance is configured to report "
          "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check "
          "the Redis logs for details about the RDB error.";
    return true;
  }
  if (aof_errno != 0) {
    if (message) *message = fmt::format("MISCONF Errors writing to the AOF file: {}", std::strerror(aof_errno));
    return true;
  }
  return false;
}

}  // namespace distcache::server
