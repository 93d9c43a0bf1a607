#include "server/stats.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "server/client_session.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "server/memory_limit.h"
#include "server/ops.h"

namespace distcache::server::stats {

thread_local uint64_t batch_clock_ns = 0;

namespace {
thread_local uint64_t wall_offset_read_at_ns = 0;  // monotonic time of the last CLOCK_REALTIME read
thread_local int64_t wall_offset_ns = 0;            // CLOCK_REALTIME - CLOCK_MONOTONIC then
}  // namespace

int64_t wall_ms_at(uint64_t mono_ns) {
  constexpr uint64_t kRefreshNs = 100'000'000;  // a wall-clock step shows within 100 ms, as the cron's
  if (wall_offset_read_at_ns == 0 || mono_ns - wall_offset_read_at_ns > kRefreshNs) {
    timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    const uint64_t mono = now_ns();
    wall_offset_ns = static_cast<int64_t>(static_cast<uint64_t>(wall.tv_sec) * 1000000000ull +
                                          static_cast<uint64_t>(wall.tv_nsec)) -
                     static_cast<int64_t>(mono);
    wall_offset_read_at_ns = mono;
  }
  return (static_cast<int64_t>(mono_ns) + wall_offset_ns) / 1000000;
}

namespace {

int64_t unix_seconds() { return static_cast<int64_t>(::time(nullptr)); }

// ---------------------------------------------------------------------------
// Dense command indexes: every spec (subcommands included) gets a slot.

class CommandIndex {
 public:
  static const CommandIndex& instance() {
    static const CommandIndex index;
    return index;
  }
  size_t size() const { return specs_.size(); }
  const CommandSpec* spec(size_t i) const { return specs_[i]; }
  // Open addressing on the spec's address: about one probe.
  size_t find(const CommandSpec* spec) const {
    size_t slot = hash(spec);
    while (slots_[slot].spec) {
      if (slots_[slot].spec == spec) return slots_[slot].index;
      slot = (slot + 1) & mask_;
    }
    return SIZE_MAX;
  }

 private:
  CommandIndex() {
    for (const CommandSpec* s : CommandTable::instance().all()) {
      specs_.push_back(s);
      for (const CommandSpec& sub : s->subcommands) specs_.push_back(&sub);
    }
    size_t cap = 64;
    while (cap < specs_.size() * 4) cap *= 2;
    mask_ = cap - 1;
    slots_.assign(cap, Slot{});
    for (size_t i = 0; i < specs_.size(); ++i) {
      size_t slot = hash(specs_[i]);
      while (slots_[slot].spec) slot = (slot + 1) & mask_;
      slots_[slot] = Slot{specs_[i], i};
    }
  }
  size_t hash(const CommandSpec* p) const {
    return static_cast<size_t>((reinterpret_cast<uintptr_t>(p) >> 3) * 0x9E3779B97F4A7C15ull >> 20) & mask_;
  }
  struct Slot {
    const CommandSpec* spec = nullptr;
    size_t index = 0;
  };
  std::vector<const CommandSpec*> specs_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// ---------------------------------------------------------------------------
// Latency histogram: log-linear buckets over nanoseconds (16 sub-buckets per
// power of two: about 6% precision), like a small HDR histogram.

constexpr size_t kLinear = 32;
constexpr size_t kSub = 16;
constexpr size_t kBuckets = kLinear + (64 - 5) * kSub;

size_t bucket_of(uint64_t v) {
  if (v < kLinear) return static_cast<size_t>(v);
  const int b = 63 - __builtin_clzll(v);  // >= 5
  const int shift = b - 4;
  const size_t sub = static_cast<size_t>((v >> shift) & (kSub - 1));
  return kLinear + static_cast<size_t>(b - 5) * kSub + sub;
}

// The highest value a bucket holds (HDR reports the bucket's top).
uint64_t bucket_top(size_t i) {
  if (i < kLinear) return i;
  const size_t b = (i - kLinear) / kSub + 5, sub = (i - kLinear) % kSub;
  const int shift = static_cast<int>(b) - 4;
  return ((uint64_t{kSub} + sub + 1) << shift) - 1;
}

using Counter = std::atomic<uint64_t>;
inline void bump(Counter& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// LATENCY HISTOGRAM's buckets, as Redis 7.0 reports them: Redis records each
// call's duration in whole microseconds (as nanoseconds, at least 1) in an
// HDR histogram of 2 significant digits and lists it at the levels 1024 ns
// * 2^k, each shown as the highest value its HDR bucket holds, in usec:
// 1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, ... (checked against
// redis-server 7.0.15). Durations are capped at 1 s. A call counts at the
// first level whose shown bound is >= its duration in usec.
constexpr size_t kRedisLevels = 21;
constexpr uint64_t redis_level_bound_us(size_t k) {
  // The level's HDR bucket spans 1024 * 2^k plus 1/128 of it (2 digits).
  return ((uint64_t{1032} << k) - 1) / 1000;
}
size_t redis_level_of(uint64_t duration_ns) {
  const uint64_t us = duration_ns / 1000;
  if (us <= 1) return 0;
  if (us >= 1000000) return kRedisLevels - 1;  // capped at 1 s (its HDR bucket is below level 20's)
  size_t k = static_cast<size_t>(63 - __builtin_clzll(us));  // 2^k <= us
  while (k > 0 && redis_level_bound_us(k - 1) >= us) --k;
  while (redis_level_bound_us(k) < us) ++k;
  return k;
}

struct Histogram {
  Counter buckets[kBuckets]{};
  Counter redis_levels[kRedisLevels]{};  // LATENCY HISTOGRAM
};

struct CommandCounters {
  Counter calls{0}, nanos{0}, rejected{0}, failed{0};
  std::atomic<Histogram*> histogram{nullptr};
};

// One per thread that ran commands; written by that thread only.
struct ThreadStats {
  explicit ThreadStats(size_t n) : commands(new CommandCounters[n]), size(n) {}
  ~ThreadStats() {
    for (size_t i = 0; i < size; ++i) delete commands[i].histogram.load();
  }
  std::unique_ptr<CommandCounters[]> commands;
  size_t size;
  std::atomic<uint64_t> reset_epoch{0};  // last global reset applied
};

std::mutex registry_mutex;
std::vector<ThreadStats*>& registry() {
  // Never destroyed: threads (and their stats) live as long as the process,
  // and a destroyed vector would leave them unreachable for LeakSanitizer.
  static auto* threads = new std::vector<ThreadStats*>;
  return *threads;
}
std::atomic<uint64_t> reset_epoch{0};

ThreadStats& local_stats() {
  thread_local ThreadStats* mine = [] {
    auto* t = new ThreadStats(CommandIndex::instance().size());
    t->reset_epoch.store(reset_epoch.load());
    std::lock_guard lock(registry_mutex);
    registry().push_back(t);
    return t;
  }();
  return *mine;
}

// A reset (CONFIG RESETSTAT) is applied by each thread to its own counters,
// at its next command, so that counters keep a single writer.
void apply_pending_reset(ThreadStats& t) {
  const uint64_t epoch = reset_epoch.load(std::memory_order_relaxed);
  if (t.reset_epoch.load(std::memory_order_relaxed) == epoch) return;
  for (size_t i = 0; i < t.size; ++i) {
    CommandCounters& c = t.commands[i];
    c.calls.store(0, std::memory_order_relaxed);
    c.nanos.store(0, std::memory_order_relaxed);
    c.rejected.store(0, std::memory_order_relaxed);
    c.failed.store(0, std::memory_order_relaxed);
    if (Histogram* h = c.histogram.load(std::memory_order_relaxed)) {
      for (auto& b : h->buckets) b.store(0, std::memory_order_relaxed);
      for (auto& b : h->redis_levels) b.store(0, std::memory_order_relaxed);
    }
  }
  t.reset_epoch.store(epoch, std::memory_order_relaxed);
}

thread_local const ClientSession* current_client = nullptr;
thread_local uint64_t thread_calls = 0;

// ---------------------------------------------------------------------------
// Errors (rare): errorstats by prefix.

std::mutex error_mutex;
std::map<std::string, uint64_t> error_counts;
std::atomic<uint64_t> total_errors{0};
std::atomic<uint64_t> total_rejected{0};

void count_error(std::string_view error) {
  std::string_view prefix = error.substr(0, error.find(' '));
  total_errors.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(error_mutex);
  // Redis stops tracking new error kinds past 128 of them.
  auto it = error_counts.find(std::string(prefix));
  if (it != error_counts.end())
    ++it->second;
  else if (error_counts.size() < 128)
    error_counts.emplace(std::string(prefix), 1);
}

// ---------------------------------------------------------------------------
// Slow log

std::mutex slowlog_mutex;
std::deque<SlowlogEntry> slowlog;  // newest first
uint64_t slowlog_next_id = 0;

void slowlog_add(const CommandSpec& spec, const protocol::ArgList& args, int64_t duration_us,
                 const Config& config) {
  constexpr size_t kMaxArgs = 32, kMaxArgLen = 128;
  const std::vector<bool> redacted = redacted_arguments(spec, args);
  SlowlogEntry e;
  e.time_s = unix_seconds();
  e.duration_us = duration_us;
  const size_t argc = std::min(args.size(), kMaxArgs);
  for (size_t i = 0; i < argc; ++i) {
    if (i == kMaxArgs - 1 && args.size() > kMaxArgs) {
      e.args.push_back(fmt::format("... ({} more arguments)", args.size() - kMaxArgs + 1));
      break;
    }
    std::string_view a = args[i];
    if (i < redacted.size() && redacted[i])
      e.args.emplace_back("(redacted)");
    else if (a.size() > kMaxArgLen)
      e.args.push_back(fmt::format("{}... ({} more bytes)", a.substr(0, kMaxArgLen), a.size() - kMaxArgLen));
    else
      e.args.emplace_back(a);
  }
  if (current_client) {
    e.peer = current_client->peer;
    e.name = current_client->name;
  }
  const auto max_len = static_cast<size_t>(std::max<int64_t>(0, config.slowlog_max_len.load(std::memory_order_relaxed)));
  std::lock_guard lock(slowlog_mutex);
  e.id = slowlog_next_id++;
  slowlog.push_front(std::move(e));
  while (slowlog.size() > max_len) slowlog.pop_back();
}

// ---------------------------------------------------------------------------
// Latency monitor

constexpr size_t kLatencySamples = 160;
std::mutex latency_mutex;
std::map<std::string, LatencyEvent> latency;

std::string format_percentile_value(uint64_t nanos) {
  return fmt::format("{:.3f}", static_cast<double>(nanos) / 1000.0);
}

}  // namespace

void set_current_client(const ClientSession* session) { current_client = session; }

std::vector<bool> redacted_arguments(const CommandSpec& spec, const protocol::ArgList& args) {
  std::vector<bool> out;
  auto redact = [&](size_t i) {
    if (i >= args.size()) return;
    if (out.size() < args.size()) out.resize(args.size(), false);
    out[i] = true;
  };
  const std::string_view name = spec.name;
  if (name == "auth" || name == "acl|setuser") {  // every argument (ACL SETUSER: after the subcommand)
    for (size_t i = name == "auth" ? 1 : 2; i < args.size(); ++i) redact(i);
  } else if (name == "hello") {  // AUTH <user> <password>
    for (size_t i = 2; i < args.size(); ++i) {
      if (is_option(args[i], "auth") && i + 2 < args.size()) {
        redact(i + 1);
        redact(i + 2);
        i += 2;
      } else if (is_option(args[i], "setname") && i + 1 < args.size()) {
        ++i;
      }
    }
  } else if (name == "migrate") {  // AUTH <password>, AUTH2 <user> <password>, before KEYS
    for (size_t i = 6; i < args.size(); ++i) {
      if (is_option(args[i], "keys")) break;
      if (is_option(args[i], "auth") && i + 1 < args.size()) {
        redact(++i);
      } else if (is_option(args[i], "auth2") && i + 2 < args.size()) {
        redact(i + 1);
        redact(i + 2);
        i += 2;
      }
    }
  } else if (name == "config|set") {  // the values of the password options
    for (size_t i = 2; i + 1 < args.size(); i += 2)
      if (is_option(args[i], "requirepass") || is_option(args[i], "masterauth") || is_option(args[i], "masteruser"))
        redact(i + 1);
  }
  return out;
}

void record_call(const CommandSpec& spec, const protocol::ArgList& args, uint64_t duration_ns,
                 std::string_view error, const Config& config) {
  ++thread_calls;
  ThreadStats& t = local_stats();
  if (t.reset_epoch.load(std::memory_order_relaxed) != reset_epoch.load(std::memory_order_relaxed))
    apply_pending_reset(t);
  const size_t i = CommandIndex::instance().find(&spec);
  if (i != SIZE_MAX) {
    CommandCounters& c = t.commands[i];
    bump(c.calls);
    bump(c.nanos, duration_ns);
    Histogram* h = c.histogram.load(std::memory_order_relaxed);
    if (!h) {
      h = new Histogram();
      c.histogram.store(h, std::memory_order_release);
    }
    bump(h->buckets[bucket_of(duration_ns)]);
    bump(h->redis_levels[redis_level_of(duration_ns)]);
    if (!error.empty()) bump(c.failed);
  }
  if (!error.empty()) count_error(error);
  const int64_t us = static_cast<int64_t>(duration_ns / 1000);
  const int64_t slower_than = config.slowlog_log_slower_than.load(std::memory_order_relaxed);
  if (slower_than >= 0 && us >= slower_than && !(spec.flags & kCmdSkipSlowlog)) slowlog_add(spec, args, us, config);
  const int64_t threshold_ms = config.latency_monitor_threshold.load(std::memory_order_relaxed);
  if (threshold_ms > 0 && us / 1000 >= threshold_ms)
    latency_add_sample((spec.flags & kCmdFast) ? "fast-command" : "command", static_cast<uint64_t>(us / 1000),
                       config);
}

void record_rejected(const CommandSpec* spec, std::string_view error) {
  if (spec) {
    ThreadStats& t = local_stats();
    apply_pending_reset(t);
    const size_t i = CommandIndex::instance().find(spec);
    if (i != SIZE_MAX) bump(t.commands[i].rejected);
    total_rejected.fetch_add(1, std::memory_order_relaxed);
  }
  count_error(error);
}

void record_error(std::string_view error) { count_error(error); }

uint64_t calls_on_this_thread() { return thread_calls; }

namespace {

struct Merged {
  uint64_t calls = 0, nanos = 0, rejected = 0, failed = 0;
  std::vector<uint64_t> histogram;
  uint64_t redis_levels[kRedisLevels] = {};
};

std::vector<Merged> merge() {
  const CommandIndex& index = CommandIndex::instance();
  std::vector<Merged> out(index.size());
  const uint64_t epoch = reset_epoch.load();
  std::lock_guard lock(registry_mutex);
  for (ThreadStats* t : registry()) {
    if (t->reset_epoch.load() != epoch) continue;  // reset, not applied yet: counts as zero
    for (size_t i = 0; i < index.size(); ++i) {
      const CommandCounters& c = t->commands[i];
      Merged& m = out[i];
      m.calls += c.calls.load(std::memory_order_relaxed);
      m.nanos += c.nanos.load(std::memory_order_relaxed);
      m.rejected += c.rejected.load(std::memory_order_relaxed);
      m.failed += c.failed.load(std::memory_order_relaxed);
      if (const Histogram* h = c.histogram.load(std::memory_order_acquire)) {
        if (m.histogram.empty()) m.histogram.assign(kBuckets, 0);
        for (size_t b = 0; b < kBuckets; ++b) m.histogram[b] += h->buckets[b].load(std::memory_order_relaxed);
        for (size_t k = 0; k < kRedisLevels; ++k) m.redis_levels[k] += h->redis_levels[k].load(std::memory_order_relaxed);
      }
    }
  }
  return out;
}

}  // namespace

void info_commandstats(std::string& out) {
  out += "# Commandstats\r\n";
  const CommandIndex& index = CommandIndex::instance();
  auto merged = merge();
  for (size_t i = 0; i < merged.size(); ++i) {
    const Merged& m = merged[i];
    if (m.calls == 0 && m.rejected == 0 && m.failed == 0) continue;
    const uint64_t usec = m.nanos / 1000;
    fmt::format_to(std::back_inserter(out),
                   "cmdstat_{}:calls={},usec={},usec_per_call={:.2f},rejected_calls={},failed_calls={}\r\n",
                   index.spec(i)->name, m.calls, usec,
                   m.calls ? static_cast<double>(usec) / static_cast<double>(m.calls) : 0.0, m.rejected, m.failed);
  }
}

void info_latencystats(std::string& out) {
  out += "# Latencystats\r\n";
  const CommandIndex& index = CommandIndex::instance();
  auto merged = merge();
  static constexpr double kPercentiles[] = {50.0, 99.0, 99.9};
  for (size_t i = 0; i < merged.size(); ++i) {
    const Merged& m = merged[i];
    if (m.histogram.empty()) continue;
    uint64_t total = 0;
    for (uint64_t b : m.histogram) total += b;
    if (total == 0) continue;
    fmt::format_to(std::back_inserter(out), "latency_percentiles_usec_{}:", index.spec(i)->name);
    bool first = true;
    for (double p : kPercentiles) {
      const auto wanted = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total)));
      uint64_t seen = 0;
      size_t b = 0;
      for (; b < kBuckets; ++b) {
        seen += m.histogram[b];
        if (seen >= std::max<uint64_t>(wanted, 1)) break;
      }
      if (b == kBuckets) b = kBuckets - 1;
      fmt::format_to(std::back_inserter(out), "{}p{}={}", first ? "" : ",", p == 99.9 ? "99.9" : fmt::format("{:.0f}", p),
                     format_percentile_value(bucket_top(b)));
      first = false;
    }
    out += "\r\n";
  }
}

std::vector<CommandHistogram> latency_histograms(const std::vector<std::string>& names) {
  const CommandIndex& index = CommandIndex::instance();
  auto merged = merge();
  std::vector<CommandHistogram> out;
  for (size_t i = 0; i < merged.size(); ++i) {
    const Merged& m = merged[i];
    if (m.histogram.empty() || m.calls == 0) continue;
    std::string_view name = index.spec(i)->name;
    if (!names.empty() && std::none_of(names.begin(), names.end(), [&](const std::string& n) {
          return n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) == b;
                 });
        }))
      continue;
    CommandHistogram h;
    h.name = std::string(name);
    h.calls = m.calls;
    uint64_t cumulative = 0;  // only the levels where the count grows, as Redis lists them
    for (size_t k = 0; k < kRedisLevels; ++k)
      if (m.redis_levels[k]) h.buckets.emplace_back(redis_level_bound_us(k), cumulative += m.redis_levels[k]);
    out.push_back(std::move(h));
  }
  return out;
}

void info_errorstats(std::string& out) {
  out += "# Errorstats\r\n";
  std::lock_guard lock(error_mutex);
  for (const auto& [prefix, count] : error_counts)
    fmt::format_to(std::back_inserter(out), "errorstat_{}:count={}\r\n", prefix, count);
}

uint64_t total_error_replies() { return total_errors.load(std::memory_order_relaxed); }
uint64_t total_rejected_calls() { return total_rejected.load(std::memory_order_relaxed); }

void reset_all() {
  reset_epoch.fetch_add(1);
  reset_evicted_keys();       // INFO stats evicted_keys (memory_limit.h)
  ops::reset_evicted_clients();  // and evicted_clients (ops.h), as Redis's CONFIG RESETSTAT
  total_errors.store(0);
  total_rejected.store(0);
  std::lock_guard lock(error_mutex);
  error_counts.clear();
}

std::vector<SlowlogEntry> slowlog_get(int64_t count) {
  std::lock_guard lock(slowlog_mutex);
  size_t n = count < 0 ? slowlog.size() : std::min(slowlog.size(), static_cast<size_t>(count));
  return std::vector<SlowlogEntry>(slowlog.begin(), slowlog.begin() + static_cast<std::ptrdiff_t>(n));
}

size_t slowlog_len() {
  std::lock_guard lock(slowlog_mutex);
  return slowlog.size();
}

void slowlog_reset() {
  std::lock_guard lock(slowlog_mutex);
  slowlog.clear();
}

void latency_add_sample(std::string_view event, uint64_t latency_ms, const Config&) {
  const int64_t now = unix_seconds();
  std::lock_guard lock(latency_mutex);
  LatencyEvent& e = latency[std::string(event)];
  e.name = std::string(event);
  e.max_ms = std::max(e.max_ms, latency_ms);
  if (!e.samples.empty() && e.samples.back().time_s == now) {
    e.samples.back().latency_ms = std::max(e.samples.back().latency_ms, latency_ms);
    return;
  }
  e.samples.push_back({now, latency_ms});
  if (e.samples.size() > kLatencySamples) e.samples.erase(e.samples.begin());
}

std::vector<LatencyEvent> latency_events() {
  std::lock_guard lock(latency_mutex);
  std::vector<LatencyEvent> out;
  for (const auto& [name, e] : latency) out.push_back(e);
  return out;
}

size_t latency_reset(const std::vector<std::string>& events) {
  std::lock_guard lock(latency_mutex);
  if (events.empty()) {
    size_t n = latency.size();
    latency.clear();
    return n;
  }
  size_t n = 0;
  for (const auto& name : events) n += latency.erase(name);
  return n;
}

}  // namespace distcache::server::stats
