#pragma once
// Writes refused after the disk failed us (Redis's MISCONF).
//
// As Redis: once a background save failed, and while save points are set and
// `stop-writes-on-bgsave-error` is yes, commands that may change the dataset
// (and PING) are refused until a save succeeds; once a write to the operation
// log failed, the same until a write succeeds again. Better to refuse a write
// than to acknowledge one that a restart would lose.
//
// The state is process-wide (one server per process) so that paths without a
// Server at hand, such as redis.call() in a script, consult it too. The check
// costs two relaxed atomic loads while the disk is healthy.
#include <atomic>
#include <string>

namespace distcache::server {

struct Config;

namespace disk_errors_detail {
inline std::atomic<bool> bgsave_failed{false};
inline std::atomic<int> aof_write_errno{0};
}  // namespace disk_errors_detail

// Outcome of each dump.rdb background save (also SAVE and save points).
inline void note_bgsave_result(bool ok) { disk_errors_detail::bgsave_failed.store(!ok, std::memory_order_relaxed); }
// Outcome of each write to the operation log: 0 when written, else errno.
// Also 0 when the log is switched off.
inline void note_aof_write_result(int error_number) {
  disk_errors_detail::aof_write_errno.store(error_number, std::memory_order_relaxed);
}

// False while the disk has been healthy: the cheap test to make first.
inline bool disk_errors_seen() {
  return disk_errors_detail::bgsave_failed.load(std::memory_order_relaxed) ||
         disk_errors_detail::aof_write_errno.load(std::memory_order_relaxed) != 0;
}

// Whether writes are refused now. When they are and `message` is given, it
// receives the error reply's text (without the leading '-').
bool writes_refused_for_disk_error(const Config& config, std::string* message = nullptr);

}  // namespace distcache::server
