#pragma once
// Command statistics for INFO commandstats / errorstats / latencystats, the
// SLOWLOG and the LATENCY monitor.
//
// Hot path: a pipelined command costs one monotonic clock read (vDSO, no
// system call) and a few plain load+store updates of counters owned by the thread
// that runs it (no locked instruction). INFO merges the threads' counters.
// Errors, slow-log entries and latency events are rare and take a mutex.
#include <atomic>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/arg_list.h"

namespace distcache::server {

struct CommandSpec;
struct Config;
struct ClientSession;

namespace stats {

// Monotonic nanoseconds (clock_gettime(CLOCK_MONOTONIC): vDSO, no syscall).
inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The client whose command runs on this thread now (for SLOWLOG entries);
// set by the dispatcher, null for work run on behalf of a remote client.
void set_current_client(const ClientSession* session);

// The arguments Redis shows as "(redacted)" in SLOWLOG and MONITOR:
// passwords of AUTH, HELLO AUTH, MIGRATE AUTH/AUTH2, ACL SETUSER's rules,
// CONFIG SET requirepass/masterauth/masteruser. Empty when none.
std::vector<bool> redacted_arguments(const CommandSpec& spec, const protocol::ArgList& args);

// One executed command: its duration, and whether its reply was an error
// (`error` is the error line without '-' then, else empty).
void record_call(const CommandSpec& spec, const protocol::ArgList& args, uint64_t duration_ns,
                 std::string_view error, const Config& config);
// A command refused before it ran (arity, NOAUTH, OOM, ...): rejected_calls
// and errorstats. `spec` may be null (unknown command: errorstats only).
void record_rejected(const CommandSpec* spec, std::string_view error);
// An error reply not tied to a command's own execution (errorstats only).
void record_error(std::string_view error);
// Commands recorded by this thread so far (tells whether a command ran).
uint64_t calls_on_this_thread();

// One clock read per command, not two: while a connection processes a batch
// of pipelined commands, each command starts when the previous one ended
// (the batch's start for the first). Commands run outside a batch (on
// behalf of a client of another thread) read the clock at their start.
extern thread_local uint64_t batch_clock_ns;  // 0 = not inside a batch

// Wall-clock milliseconds at monotonic instant `mono_ns`: the monotonic
// reading plus an offset to CLOCK_REALTIME that is re-read at most every
// 100 ms. A command's "now" (expiry, LRU, OBJECT IDLETIME) then costs no
// clock read inside a batch, where it is the previous command's end.
int64_t wall_ms_at(uint64_t mono_ns);
// The current command's "now" in Unix milliseconds.
inline int64_t command_time_ms() {
  return wall_ms_at(batch_clock_ns ? batch_clock_ns : now_ns());
}
class BatchClock {
 public:
  BatchClock() : saved_(batch_clock_ns) { batch_clock_ns = now_ns(); }
  ~BatchClock() { batch_clock_ns = saved_; }
  BatchClock(const BatchClock&) = delete;
  BatchClock& operator=(const BatchClock&) = delete;

 private:
  uint64_t saved_;
};

// Measures one command run: construct before, call finish() after.
class CallTimer {
 public:
  CallTimer(const CommandSpec& spec, const protocol::ArgList& args, const std::string* reply_buffer)
      : spec_(spec), args_(args), buffer_(reply_buffer), mark_(reply_buffer ? reply_buffer->size() : 0),
        start_(batch_clock_ns ? batch_clock_ns : now_ns()) {}
  void finish(const Config& config) {
    const uint64_t end = now_ns();
    if (batch_clock_ns) batch_clock_ns = end;
    std::string_view error;
    if (buffer_ && buffer_->size() > mark_ && (*buffer_)[mark_] == '-') {
      std::string_view rest(buffer_->data() + mark_ + 1, buffer_->size() - mark_ - 1);
      error = rest.substr(0, rest.find('\r'));
    }
    record_call(spec_, args_, end - start_, error, config);
  }

 private:
  const CommandSpec& spec_;
  const protocol::ArgList& args_;
  const std::string* buffer_;
  size_t mark_;
  uint64_t start_;
};

// --- INFO
void info_commandstats(std::string& out);
void info_latencystats(std::string& out);
void info_errorstats(std::string& out);
uint64_t total_error_replies();
uint64_t total_rejected_calls();
void reset_all();  // CONFIG RESETSTAT

// LATENCY HISTOGRAM: per command, its calls and cumulative counts at Redis
// 7.0's bounds (about powers of two microseconds: 1, 2, 4, 8, 16, 33, 66,
// 132, ...; only bounds where the count grows). `names` empty = every
// command that ran.
struct CommandHistogram {
  std::string name;
  uint64_t calls = 0;
  std::vector<std::pair<uint64_t, uint64_t>> buckets;  // (upper bound usec, cumulative count)
};
std::vector<CommandHistogram> latency_histograms(const std::vector<std::string>& names);

// --- SLOWLOG
struct SlowlogEntry {
  uint64_t id;
  int64_t time_s;
  int64_t duration_us;
  std::vector<std::string> args;
  std::string peer;
  std::string name;
};
std::vector<SlowlogEntry> slowlog_get(int64_t count);  // newest first; count < 0 = all
size_t slowlog_len();
void slowlog_reset();

// --- LATENCY
struct LatencySample {
  int64_t time_s;
  uint64_t latency_ms;
};
struct LatencyEvent {
  std::string name;
  std::vector<LatencySample> samples;  // oldest first
  uint64_t max_ms = 0;
};
void latency_add_sample(std::string_view event, uint64_t latency_ms, const Config& config);
std::vector<LatencyEvent> latency_events();
size_t latency_reset(const std::vector<std::string>& events);  // empty = all; returns events reset

}  // namespace stats
}  // namespace distcache::server
