#include "server/ops.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "protocol/repr.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/multi_exec.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/dispatcher.h"
#include "server/event_loop.h"
#include "server/log.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/stats.h"

namespace distcache::server::ops {

std::atomic<int> pause_mode{0};
std::atomic<int> monitor_count{0};

namespace {

std::atomic<int64_t> pause_end_ms{0};

const CommandSpec* resolve_spec(const protocol::ArgList& args) {
  if (args.empty()) return nullptr;
  const CommandSpec* spec = CommandTable::instance().find(args[0]);
  if (spec && !spec->subcommands.empty() && args.size() >= 2)
    if (const CommandSpec* sub = CommandTable::find_subcommand(*spec, args[1])) return sub;
  return spec;
}

thread_local std::string discarded_replies;

}  // namespace

// ---------------------------------------------------------------------------
// Dispatch wrapper

void apply_reply_mode(Connection& conn) {
  ClientSession& s = conn.session();
  protocol::ReplyBuilder& reply = conn.reply();
  if (s.saved_reply_buffer) {
    reply.set_buffer(s.saved_reply_buffer);
    s.saved_reply_buffer = nullptr;
  }
  bool discard = false;
  switch (s.reply_mode) {
    case ClientSession::kReplyOn: break;
    case ClientSession::kReplyOff: discard = true; break;
    case ClientSession::kReplySkipNext:
      s.reply_mode = ClientSession::kReplySkipThis;
      discard = true;
      break;
    case ClientSession::kReplySkipThis: s.reply_mode = ClientSession::kReplyOn; break;
  }
  if (discard) {
    discarded_replies.clear();
    s.saved_reply_buffer = reply.buffer();
    reply.set_buffer(&discarded_replies);
  }
}

void dispatch(Connection& conn, const protocol::ArgList& args) {
  ClientSession& s = conn.session();
  if (s.reply_mode != ClientSession::kReplyOn || s.saved_reply_buffer) apply_reply_mode(conn);
  stats::set_current_client(&s);
  const std::string* buffer = conn.reply().buffer();
  const size_t mark = buffer->size();
  const uint64_t calls = stats::calls_on_this_thread();
  dispatch_command(conn, args);
  // A command refused before it ran replied an error synchronously without
  // reaching execution (the reply buffer may have been swapped meanwhile:
  // only look when it is the same one).
  if (buffer == conn.reply().buffer() && buffer->size() > mark && (*buffer)[mark] == '-' &&
      stats::calls_on_this_thread() == calls) {
    std::string_view rest(buffer->data() + mark + 1, buffer->size() - mark - 1);
    stats::record_rejected(resolve_spec(args), rest.substr(0, rest.find('\r')));
  }
  stats::set_current_client(nullptr);
}

// ---------------------------------------------------------------------------
// CLIENT PAUSE

namespace {

// The command name at the start of unparsed input, if complete.
bool peek_command_name(std::string_view in, std::string_view& name) {
  if (in.empty()) return false;
  if (in[0] != '*') {  // inline command: the first word
    size_t end = in.find_first_of(" \r\n\t");
    if (end == std::string_view::npos) return false;
    name = in.substr(0, end);
    return true;
  }
  size_t line = in.find("\r\n");
  if (line == std::string_view::npos) return false;
  size_t pos = line + 2;
  if (pos >= in.size() || in[pos] != '$') return false;
  size_t line2 = in.find("\r\n", pos);
  if (line2 == std::string_view::npos) return false;
  size_t len = 0;
  for (size_t i = pos + 1; i < line2; ++i) {
    if (in[i] < '0' || in[i] > '9') return false;
    len = len * 10 + static_cast<size_t>(in[i] - '0');
    if (len > 1024) return false;
  }
  if (line2 + 2 + len > in.size()) return false;
  name = in.substr(line2 + 2, len);
  return true;
}

bool paused_now() {
  if (pause_mode.load(std::memory_order_relaxed) == 0) return false;
  if (unix_time_ms() < pause_end_ms.load(std::memory_order_relaxed)) return true;
  pause_mode.store(0, std::memory_order_relaxed);
  return false;
}

void wait_for_unpause(EventLoop& loop, std::function<void()> resume) {
  const int64_t left = pause_end_ms.load(std::memory_order_relaxed) - unix_time_ms();
  loop.run_after(std::clamp<int64_t>(left, 1, 20), [&loop, resume = std::move(resume)]() mutable {
    if (paused_now()) {
      wait_for_unpause(loop, std::move(resume));
      return;
    }
    resume();
  });
}

}  // namespace

bool pause_hold_slow(Connection& conn, std::string_view input) {
  if (!paused_now() || conn.closed()) return false;
  if (pause_mode.load(std::memory_order_relaxed) == 1) {
    std::string_view name;
    if (peek_command_name(input, name)) {
      const CommandSpec* spec = CommandTable::instance().find(name);
      const bool writes = spec && ((spec->flags & (kCmdWrite | kCmdMayReplicate)) || spec->name == "eval" ||
                                   spec->name == "evalsha" || spec->name == "fcall" || spec->name == "exec");
      if (!writes) return false;
    }
    // An incomplete command waits too: it may be a write.
  }
  wait_for_unpause(conn.thread().loop(), conn.suspend());
  return true;
}

void pause_clients(int64_t until_ms, int mode) {
  // A pause never shortens or weakens one in effect (as Redis).
  if (paused_now()) {
    until_ms = std::max(until_ms, pause_end_ms.load());
    mode = std::max(mode, pause_mode.load());
  }
  pause_end_ms.store(until_ms);
  pause_mode.store(mode);
}

void unpause_clients() {
  pause_mode.store(0);
  pause_end_ms.store(0);
}

// ---------------------------------------------------------------------------
// MONITOR

namespace {
std::mutex monitor_mutex;
std::vector<std::weak_ptr<Connection>> monitors;
// EXEC lines held until the transaction's commands were shown (by client).
std::map<const Connection*, std::string> pending_exec;

bool is_script_command(const CommandSpec& spec) {
  return spec.name == "eval" || spec.name == "evalsha" || spec.name == "eval_ro" || spec.name == "evalsha_ro" ||
         spec.name == "fcall" || spec.name == "fcall_ro";
}

// Redis hides admin commands and those flagged skip_monitor, except the
// script commands, which show themselves before their script's commands.
bool shown(const CommandSpec& spec) {
  return !(spec.flags & (kCmdSkipMonitor | kCmdAdmin)) || is_script_command(spec);
}

std::string quoted_args(const CommandSpec& spec, const protocol::ArgList& args) {
  const std::vector<bool> redacted = stats::redacted_arguments(spec, args);  // passwords
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    out += ' ';
    out += i < redacted.size() && redacted[i] ? std::string("\"(redacted)\"") : protocol::repr(args[i]);
  }
  return out;
}

// Redis feeds a command once it ran: SELECT shows the database it selected.
int shown_database(const CommandSpec& spec, const protocol::ArgList& args, int db, size_t databases) {
  int64_t index;
  if (spec.name == "select" && args.size() == 2 && parse_int64(args[1], index) && index >= 0 &&
      static_cast<uint64_t>(index) < databases)
    return static_cast<int>(index);
  return db;
}

std::string monitor_timestamp() {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  return fmt::format("+{}.{:06d}", us / 1000000, us % 1000000);
}

void broadcast(const std::string& line) {
  std::lock_guard lock(monitor_mutex);
  for (auto it = monitors.begin(); it != monitors.end();) {
    auto c = it->lock();
    if (!c || c->closed()) {
      it = monitors.erase(it);
      monitor_count.fetch_sub(1);
      continue;
    }
    ++it;
    if (c->thread().is_current())
      c->push_message(line);
    else
      c->thread().post([c, line] { c->push_message(line); });
  }
}

}  // namespace

void add_monitor(Connection& conn) {
  std::lock_guard lock(monitor_mutex);
  monitors.push_back(std::static_pointer_cast<Connection>(conn.shared_from_this()));
  monitor_count.fetch_add(1);
}

void feed_monitors_slow(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args) {
  if (!shown(spec)) return;
  const ClientSession& s = conn.session();
  if (s.monitor) return;
  if (spec.name == "exec" && s.multi && !s.multi->aborted) {  // shown after its commands
    std::lock_guard lock(monitor_mutex);
    pending_exec[&conn] = quoted_args(spec, args);
    return;
  }
  const int db = shown_database(spec, args, s.db, conn.thread().keyspace().size());
  broadcast(fmt::format("{} [{} {}]{}\r\n", monitor_timestamp(), db, s.peer, quoted_args(spec, args)));
}

void feed_monitors_exec_done_slow(Connection& conn) {
  std::string exec_args = " \"EXEC\"";
  {
    std::lock_guard lock(monitor_mutex);
    auto it = pending_exec.find(&conn);
    if (it != pending_exec.end()) {
      exec_args = std::move(it->second);
      pending_exec.erase(it);
    }
  }
  const ClientSession& s = conn.session();
  broadcast(fmt::format("{} [{} {}]{}\r\n", monitor_timestamp(), s.db, s.peer, exec_args));
}

void feed_monitors_script_slow(const CommandSpec& spec, const protocol::ArgList& args, int db) {
  if (!shown(spec)) return;
  if (ShardThread* thread = ShardThread::current()) db = shown_database(spec, args, db, thread->keyspace().size());
  broadcast(fmt::format("{} [{} lua]{}\r\n", monitor_timestamp(), db, quoted_args(spec, args)));
}

// ---------------------------------------------------------------------------
// maxmemory-clients

namespace {

constexpr unsigned kMaxThreads = 1024;  // the `threads` option's maximum
struct alignas(64) ClientMemorySlot {
  std::atomic<int64_t> total{0};    // this thread's clients' counted bytes
  std::atomic<int64_t> largest{0};  // its biggest evictable client when last recounted
  std::atomic<bool> check_posted{false};
};
ClientMemorySlot client_slots[kMaxThreads];

std::atomic<bool> client_limit_reload{true};
std::atomic<int64_t> client_limit{0};  // bytes; 0 = off
std::atomic<uint64_t> evicted_clients_total{0};

int64_t current_client_limit(const Config& config) {
  if (client_limit_reload.load(std::memory_order_relaxed)) {
    client_limit_reload.store(false, std::memory_order_relaxed);
    int64_t setting = 0;  // bytes, or -percent
    auto kv = config_get(config, "maxmemory-clients");
    if (!kv.empty()) {
      const std::string& v = kv.front().second;
      if (!v.empty() && v.back() == '%')
        setting = -std::strtoll(v.c_str(), nullptr, 10);
      else
        setting = std::strtoll(v.c_str(), nullptr, 10);
    }
    int64_t limit = setting;
    if (setting < 0) {
      const int64_t maxmemory = config.maxmemory.load(std::memory_order_relaxed);
      limit = maxmemory > 0 ? static_cast<int64_t>(static_cast<double>(maxmemory) * static_cast<double>(-setting) / 100.0)
                            : 0;
    }
    if (limit > 0 && limit < 128 * 1024) limit = 128 * 1024;  // never so low that no client can talk
    client_limit.store(limit, std::memory_order_relaxed);
  }
  return client_limit.load(std::memory_order_relaxed);
}

int64_t all_clients_memory(unsigned threads) {
  int64_t sum = 0;
  for (unsigned i = 0; i < threads && i < kMaxThreads; ++i) sum += client_slots[i].total.load(std::memory_order_relaxed);
  return sum;
}

bool evictable(const Connection& c) { return !c.closed() && !c.session().no_evict; }

// Recounts every client of `thread` (its own thread); returns them, evictable
// ones only, biggest first.
std::vector<std::pair<int64_t, std::shared_ptr<Connection>>> recount_clients(ShardThread& thread) {
  std::vector<std::pair<int64_t, std::shared_ptr<Connection>>> candidates;
  int64_t total = 0;
  for (auto& c : thread.connections()) {
    if (c->closed()) continue;
    const auto bytes = static_cast<int64_t>(c->memory_usage());
    c->session().accounted_memory = bytes;
    total += bytes;
    if (evictable(*c)) candidates.emplace_back(bytes, std::move(c));
  }
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  ClientMemorySlot& slot = client_slots[thread.index() % kMaxThreads];
  slot.total.store(total, std::memory_order_relaxed);
  slot.largest.store(candidates.empty() ? 0 : candidates.front().first, std::memory_order_relaxed);
  return candidates;
}

void run_client_eviction(ShardThread& thread);

void post_client_eviction(Server& server, unsigned index) {
  if (index >= server.shard_count() || client_slots[index].check_posted.exchange(true)) return;
  ShardThread& other = server.shard(index);
  other.post([&other] {
    client_slots[other.index()].check_posted.store(false);
    run_client_eviction(other);
  });
}

// On `thread`: while all clients together exceed the limit, disconnect this
// thread's biggest client if no other thread has a bigger one (else ask it).
void run_client_eviction(ShardThread& thread) {
  Server& server = thread.server();
  const int64_t limit = current_client_limit(server.config());
  if (limit <= 0) return;
  const unsigned threads = server.shard_count();
  auto candidates = recount_clients(thread);
  ClientMemorySlot& mine = client_slots[thread.index() % kMaxThreads];
  size_t next = 0;
  while (all_clients_memory(threads) > limit) {
    unsigned other = thread.index();
    int64_t other_largest = -1;
    for (unsigned i = 0; i < threads && i < kMaxThreads; ++i) {
      if (i == thread.index()) continue;
      const int64_t l = client_slots[i].largest.load(std::memory_order_relaxed);
      if (l > other_largest) other_largest = l, other = i;
    }
    if (next == candidates.size() || candidates[next].first < other_largest) {
      if (other != thread.index() && other_largest > 0) post_client_eviction(server, other);
      return;
    }
    auto& [bytes, conn] = candidates[next++];
    if (!conn->closed()) {
      log(LogLevel::kVerbose, "Evicting client: {}", conn->client_info(unix_time_ms()));
      evicted_clients_total.fetch_add(1, std::memory_order_relaxed);
      conn->close();
      conn->session().accounted_memory = 0;
    }
    mine.total.fetch_sub(bytes, std::memory_order_relaxed);
    mine.largest.store(next < candidates.size() ? candidates[next].first : 0, std::memory_order_relaxed);
  }
}

// After `conn` read and ran commands: count its present size; check the limit when over it.
void account_client_memory(Connection& conn) {
  ShardThread& thread = conn.thread();
  const int64_t limit = current_client_limit(thread.server().config());
  if (limit <= 0) return;
  ClientSession& s = conn.session();
  const auto bytes = static_cast<int64_t>(conn.memory_usage());
  ClientMemorySlot& slot = client_slots[thread.index() % kMaxThreads];
  slot.total.fetch_add(bytes - s.accounted_memory, std::memory_order_relaxed);
  s.accounted_memory = bytes;
  if (!s.no_evict && bytes > slot.largest.load(std::memory_order_relaxed))
    slot.largest.store(bytes, std::memory_order_relaxed);
  if (all_clients_memory(thread.server().shard_count()) <= limit) return;
  // Over the limit: recount and evict, at most once a millisecond per thread
  // (a recount walks all the thread's clients; the cron goes on meanwhile).
  thread_local uint64_t last_check_ns = 0;
  const uint64_t now = stats::now_ns();
  if (now - last_check_ns < 1000000 && bytes <= limit) return;
  last_check_ns = now;
  run_client_eviction(thread);
}

}  // namespace

void client_eviction_config_changed() { client_limit_reload.store(true, std::memory_order_relaxed); }

uint64_t evicted_clients() { return evicted_clients_total.load(std::memory_order_relaxed); }

void reset_evicted_clients() { evicted_clients_total.store(0, std::memory_order_relaxed); }

void client_eviction_cron(ShardThread& thread) {
  if (current_client_limit(thread.server().config()) > 0) run_client_eviction(thread);  // recounts too
}

// ---------------------------------------------------------------------------
// Output buffer limits of normal clients (the pubsub class is in pubsub.cpp).

bool enforce_output_limits(Connection& conn) {
  if (client_limit.load(std::memory_order_relaxed) != 0 || client_limit_reload.load(std::memory_order_relaxed)) {
    account_client_memory(conn);  // maxmemory-clients
    if (conn.closed()) return true;
  }
  ClientSession& s = conn.session();
  if (s.subscribed() || s.monitor || conn.closed()) return false;
  const Config& c = conn.thread().server().config();
  const int64_t hard = c.normal_obuf_hard.load(std::memory_order_relaxed);
  const int64_t soft = c.normal_obuf_soft.load(std::memory_order_relaxed);
  if (hard <= 0 && soft <= 0) return false;
  const auto used = static_cast<int64_t>(conn.pending_output());
  bool over = hard > 0 && used >= hard;
  if (soft > 0 && used >= soft) {
    const int64_t now = unix_time_ms();
    if (s.obuf_soft_limit_since_ms == 0)
      s.obuf_soft_limit_since_ms = now;
    else if ((now - s.obuf_soft_limit_since_ms) / 1000 > c.normal_obuf_soft_seconds.load(std::memory_order_relaxed))
      over = true;
  } else {
    s.obuf_soft_limit_since_ms = 0;
  }
  if (!over) return false;
  log(LogLevel::kWarning, "Client {} closed for overcoming of output buffer limits.",
      conn.client_info(unix_time_ms()));
  conn.close();
  return true;
}

// ---------------------------------------------------------------------------
// tcp-keepalive, as Redis's anetKeepAlive: first probe after `interval`
// seconds idle, then every interval/3, dead after 3 unanswered probes.

void apply_tcp_keepalive(int fd, int64_t interval_s) {
  if (interval_s <= 0 || fd < 0) return;
  int yes = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof yes) != 0) return;
  int idle = static_cast<int>(std::min<int64_t>(interval_s, 32767));
  int intvl = std::max(1, idle / 3);
  int count = 3;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

// ---------------------------------------------------------------------------
// Supervisor

namespace {

void sd_notify_message(const Config& config, const char* message) {
  auto v = config_get(config, "supervised");
  const std::string mode = v.empty() ? "no" : v.front().second;
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) {
    if (mode == "systemd") log(LogLevel::kWarning, "systemd supervision requested or auto-detected, but NOTIFY_SOCKET environment variable is not set");
    return;
  }
  if (mode != "systemd" && mode != "auto") return;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::min(std::strlen(path), sizeof(addr.sun_path) - 1);
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract socket
  ::sendto(fd, message, std::strlen(message), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
  ::close(fd);
}

}  // namespace

void notify_supervisor_ready(const Config& config) {
  sd_notify_message(config, "STATUS=Ready to accept connections\nREADY=1");
}

void notify_supervisor_stopping(const Config& config) { sd_notify_message(config, "STOPPING=1"); }

}  // namespace distcache::server::ops
