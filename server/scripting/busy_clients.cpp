// Serving the other clients of a thread while a script runs on it past
// busy-reply-threshold, the way Redis processes events while a script is
// busy: their input is read and parsed, and each command is answered with
// BUSY (the dispatcher's BUSY hook, see busy_refuses()) unless it is one of
// the commands Redis allows then (SCRIPT KILL, FUNCTION KILL, FUNCTION STATS,
// SHUTDOWN NOSAVE, MULTI/DISCARD/WATCH/UNWATCH, AUTH/HELLO/...). Nothing else
// runs meanwhile: no posted work, no timers, no other thread's commands on
// this shard's data, so the script stays atomic.
//
// serve_busy_clients() is called from the Lua count hook (between two Lua
// instructions, never inside redis.call). It walks the thread's connections
// and lets each idle one read what its socket holds with a non-blocking
// recv(), run it through its normal parser and dispatcher, and write the
// replies with a non-blocking send(). A connection is left alone (it is
// served after the script) when it is not idle: the script's own connection
// (it is processing or suspended), one waiting for another thread or blocked,
// or one with output or input still queued. The event loop reads a socket
// only when it handles it (server/event_loop.h), so bytes that arrived in the
// same turn as the script's command are still in the socket: busy mode
// answers them too.
//
// While a script runs on a thread, the listener hands new connections to
// another thread (new_client_thread()); when none is free, the busy thread
// adopts them itself (offer_new_client(), start_while_busy()).
//
// Clients of other threads: the dispatcher's BUSY hook answers every command
// that arrives once a script is past the threshold. A command dispatched
// before and still waiting (posted to the script's thread, waiting for a
// shard lock a global script holds, or a multi-shard command, EXEC or global
// script still taking its shards' locks: busy_answerable()) carries a wait
// ticket; busy_cron(), run by each thread's cron, answers BUSY to those whose
// ticket is still unclaimed (the command then never runs; a transaction gives
// up once it holds its locks, releasing them without writing anything).
#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "server/commands/arg_util.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/log.h"
#include "server/ops.h"
#include "server/scripting/engine_internal.h"
#include "server/scripting/scripting.h"
#include "server/server.h"
#include "server/shard_thread.h"

namespace distcache::server {

// Defined here rather than in connection.cpp: it is part of the busy-script mode.
void Connection::serve_while_busy() {
  // (Not reading: a client accepted meanwhile, start_while_busy(); its first
  // read is issued after the script.)
  if (closed_ || suspended_ || processing_ || blocked_client_ || session_.close_after_reply ||
      write_in_progress_ || !out_.empty() || !held_pushes_.empty() || pending_pos_ < pending_input_.size())
    return;
  char buffer[16 * 1024];
  const char* data = buffer;
  size_t bytes = 0;
  if (const std::string_view ahead = take_read_ahead(); !ahead.empty()) {
    // Read by the event loop in the script's turn (Connection::prepare), not yet handled.
    data = ahead.data();
    bytes = ahead.size();
  } else {
    const ssize_t n = ::recv(session_.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n <= 0) return;  // nothing, or EOF / an error: the event loop sees it after the script
    bytes = static_cast<size_t>(n);
  }
  ThreadCounters::add(thread_.counters().net_input_bytes, bytes);
  session_.last_interaction_ms = unix_time_ms();
  processing_ = true;
  const size_t used = process(data, bytes);
  processing_ = false;
  if (used < bytes) pending_input_.append(data + used, bytes - used);  // after a command that suspended
  if (!held_pushes_.empty() && !suspended_) {
    out_.append(held_pushes_);
    std::string().swap(held_pushes_);
  }
  if (out_.empty()) return;
  const ssize_t sent = ::send(session_.fd, out_.data(), out_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent > 0) {
    ThreadCounters::add(thread_.counters().net_output_bytes, static_cast<size_t>(sent));
    out_.erase(0, static_cast<size_t>(sent));
  }
  // Whatever is left (or a close after the reply) is written by the event
  // loop once the script is over (also by the handler of a finished write).
  if (!out_.empty() || session_.close_after_reply) {
    thread_.post([self = shared_from_this()] { self->flush(); });
  }
}

void Connection::start_while_busy() {
  // What start() does, except watching the socket: busy mode reads it until
  // the script ends, then the event loop.
  server_.stats().connections_received.fetch_add(1, std::memory_order_relaxed);
  server_.stats().connected_clients.fetch_add(1, std::memory_order_relaxed);
  parser_.limits().proto_max_bulk_len = server_.config().proto_max_bulk_len.load(std::memory_order_relaxed);
  thread_.post([self = shared_from_this()] { self->read_more(); });
}

void Connection::answer_busy_if_waiting() {
  if (closed_ || !suspended_ || blocked_client_) return;
  uint64_t current = wait_ticket_.load(std::memory_order_acquire);
  if ((current & 3) != 1) return;  // not waiting, or its command already runs
  if (!wait_ticket_.compare_exchange_strong(current, current | 3, std::memory_order_acq_rel)) return;
  // The command will never run: its claim fails. Redis discards a rejected
  // EXEC's transaction (the multi-shard transaction's `abandoned` step does).
  if (!args_.empty() && is_option(args_[0], "exec"))
    reply_.error(fmt::format("EXECABORT Transaction discarded because of: {}", scripting::busy_error()));
  else
    reply_.error(scripting::busy_error());
  resume();
}

namespace scripting {
namespace {

// Bit i: thread i is serving clients in busy mode (a script there is past
// busy-reply-threshold). Read by the listener.
std::atomic<uint64_t> busy_threads{0};
// Bit i: a script runs on thread i (busy or not yet).
std::atomic<uint64_t> script_threads{0};

thread_local bool serving = false;    // inside serve_busy_clients(): no nesting
thread_local bool marked_busy = false;

// New clients not yet started by their thread (offer_new_client): a busy
// thread takes them itself.
struct Offer {
  uint64_t id;
  unsigned index;
  std::function<void()> adopt;
};
struct Inbox {
  std::mutex mutex;
  uint64_t next_id = 0;
  std::vector<Offer> offers;
};
Inbox& inbox() {
  static Inbox box;
  return box;
}

void adopt_new_clients(unsigned index) {
  std::vector<std::function<void()>> mine;
  {
    Inbox& box = inbox();
    std::lock_guard lock(box.mutex);
    for (auto it = box.offers.begin(); it != box.offers.end();) {
      if (it->index == index) {
        mine.push_back(std::move(it->adopt));
        it = box.offers.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& fn : mine) fn();
}

}  // namespace

void serve_busy_clients() {
  ShardThread* thread = ShardThread::current();
  if (thread == nullptr || serving) return;
  serving = true;
  if (!marked_busy && thread->index() < 64) {
    marked_busy = true;
    busy_threads.fetch_or(uint64_t{1} << thread->index(), std::memory_order_relaxed);
  }
  try {
    // Replies made earlier in the script's turn go out now, not after it
    // (serve_while_busy passes over a client whose output waits).
    thread->loop().run_turn_end();
    adopt_new_clients(thread->index());
    for (auto& conn : thread->connections()) {
      conn->answer_busy_if_waiting();  // waiting for locks the script holds (a global script)
      conn->serve_while_busy();
    }
  } catch (const std::exception& ex) {  // must not unwind through the Lua hook
    log(LogLevel::kWarning, "Error serving clients while a script runs: {}", ex.what());
  }
  serving = false;
}

void script_thread_enter() {
  ShardThread* thread = ShardThread::current();
  if (thread && thread->index() < 64)
    script_threads.fetch_or(uint64_t{1} << thread->index(), std::memory_order_relaxed);
}

void end_busy_mode() {
  ShardThread* thread = ShardThread::current();
  if (thread && thread->index() < 64)
    script_threads.fetch_and(~(uint64_t{1} << thread->index()), std::memory_order_relaxed);
  if (marked_busy && thread && thread->index() < 64)
    busy_threads.fetch_and(~(uint64_t{1} << thread->index()), std::memory_order_relaxed);
  marked_busy = false;
}

uint64_t offer_new_client(unsigned index, std::function<void()> adopt) {
  Inbox& box = inbox();
  std::lock_guard lock(box.mutex);
  const uint64_t id = ++box.next_id;
  box.offers.push_back(Offer{id, index, std::move(adopt)});
  return id;
}

void withdraw_new_client(uint64_t id) {
  std::function<void()> dropped;  // destroyed outside the lock
  Inbox& box = inbox();
  std::lock_guard lock(box.mutex);
  for (auto it = box.offers.begin(); it != box.offers.end(); ++it) {
    if (it->id == id) {
      dropped = std::move(it->adopt);
      box.offers.erase(it);
      return;
    }
  }
}

unsigned new_client_thread(unsigned target, unsigned thread_count) {
  const uint64_t busy =
      busy_threads.load(std::memory_order_relaxed) | script_threads.load(std::memory_order_relaxed);
  if (busy == 0 || target >= 64 || !(busy & (uint64_t{1} << target))) return target;
  for (unsigned i = 1; i < thread_count && i < 64; ++i) {
    const unsigned other = (target + i) % thread_count;
    if (other < 64 && !(busy & (uint64_t{1} << other))) return other;
  }
  return target;
}

void busy_cron(ShardThread& thread) {
  if (!script_running() || running_script_elapsed_ms() < busy_reply_threshold_ms(thread.server().config())) return;
  for (auto& conn : thread.connections()) conn->answer_busy_if_waiting();
}

ClientClaim busy_answerable(Connection& conn, std::function<void()> abandoned) {
  const uint64_t ticket = conn.take_wait_ticket();
  return ClientClaim{[c = &conn, ticket] { return c->claim_wait_ticket(ticket); }, std::move(abandoned)};
}

bool busy_refuses(const CommandSpec& spec, const protocol::ArgList& args, const Config& config) {
  const bool shutdown = spec.name == "shutdown";
  if ((spec.flags & kCmdAllowBusy) && !shutdown) return false;
  if (!script_running() || running_script_elapsed_ms() < busy_reply_threshold_ms(config)) return false;
  if (!shutdown) return true;
  // SHUTDOWN only with NOSAVE (Redis: a save could not include the script's
  // state); its syntax errors and ABORT are answered by SHUTDOWN itself first.
  bool refuse = true;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (is_option(a, "nosave") || is_option(a, "abort")) refuse = false;
    else if (!is_option(a, "save") && !is_option(a, "now") && !is_option(a, "force")) return false;
  }
  return refuse;
}

}  // namespace scripting
}  // namespace distcache::server
