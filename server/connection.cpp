#include "server/connection.h"

#include "server/acl/acl.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "protocol/resp_peek.h"
#include "server/aof.h"
#include "server/blocking.h"
#include "server/cluster/slot.h"
#include "server/command_table.h"
#include "server/commands/member_prefetch.h"
#include "server/dispatcher.h"
#include "server/log.h"
#include "server/multi_exec.h"
#include "server/ops.h"
#include "server/stats.h"
#include "server/pubsub.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "storage/same_bytes.h"

namespace distcache::server {

struct Connection::Socket {
  explicit Socket(int descriptor) : fd(descriptor) {}
  int fd;
  static constexpr size_t kReadChunk = 16 * 1024;
  char read_buffer[kReadChunk];
};

namespace {
// "127.0.0.1:6379" or "[::1]:6379", as Redis shows addresses; empty if unknown.
std::string address_text(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    if (!inet_ntop(AF_INET, &a.sin_addr, host, sizeof(host))) return {};
    return std::string(host) + ":" + std::to_string(ntohs(a.sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    if (!inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof(host))) return {};
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a.sin6_port));
  }
  return {};
}

std::string peer_text(int fd, bool local) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  const int rc = local ? getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                       : getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return rc == 0 ? address_text(addr) : std::string();
}
}  // namespace

Connection::Connection(ShardThread& thread, int fd)
    : thread_(thread), server_(thread.server()), socket_(std::make_unique<Socket>(fd)), reply_(&out_, 2) {
  session_.id = server_.next_client_id();
  session_.created_ms = unix_time_ms();
  session_.last_interaction_ms = session_.created_ms;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ops::apply_tcp_keepalive(fd, server_.config().tcp_keepalive.load());  // tcp-keepalive
  session_.peer = peer_text(fd, false);
  session_.local = peer_text(fd, true);
  session_.fd = fd;
  session_.authenticated = acl::default_user_nopass();  // default user on and nopass (server/acl/acl.h)
}

Connection::~Connection() {
  acl::forget_script_caller(args_);  // (the last script this connection ran has ended: nothing holds it now)
  if (subscriptions_ && !closed_) pubsub_unsubscribe_all(*this);
  if (socket_->fd >= 0) ::close(socket_->fd);  // (not closed: the process is ending)
}

void Connection::start() {
  server_.stats().connections_received.fetch_add(1, std::memory_order_relaxed);
  server_.stats().connected_clients.fetch_add(1, std::memory_order_relaxed);
  parser_.limits().proto_max_bulk_len = server_.config().proto_max_bulk_len.load(std::memory_order_relaxed);
  read_more();
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  if (blocked_client_) {
    auto blocked = std::move(blocked_client_);  // the client must never be served after it left
    cancel_blocked(blocked);
  }
  if (session_.multi || session_.watch) forget_transaction_state(server_, session_);
  if (subscriptions_) pubsub_unsubscribe_all(*this);
  if (watching_) thread_.loop().unwatch(socket_->fd);
  watching_ = false;
  ::shutdown(socket_->fd, SHUT_RDWR);
  ::close(socket_->fd);
  socket_->fd = -1;
  server_.stats().connected_clients.fetch_sub(1, std::memory_order_relaxed);
  thread_.remove_connection(this);
}

// The socket is watched for input also while a command is suspended
// (blocked clients must notice a disconnect); input that arrives meanwhile
// waits in pending_input_.
void Connection::close_when_flushed() {
  if (closed_) return;
  if (suspended_ || (out_.empty() && !write_in_progress_)) {
    close();
    return;
  }
  session_.close_after_reply = true;
  flush();
}

void Connection::read_more() {
  if (watching_ || closed_) return;
  watching_ = true;
  thread_.loop().watch(socket_->fd, this, shared_from_this());
  if (write_in_progress_) thread_.loop().want_write(socket_->fd, true);  // (busy mode wrote part of a reply)
}

void Connection::on_ready(bool readable, bool writable) {
  auto self = shared_from_this();  // a command may close the connection
  if (writable && write_in_progress_) write_more();
  if (closed_) return;
  if (ahead_ > 0) {
    on_read(take_read_ahead().size());
  } else if (readable) {
    read_once();
  }
}

std::string_view Connection::take_read_ahead() {
  ahead_key_ = {};
  return {socket_->read_buffer, std::exchange(ahead_, 0)};
}

// Several clients became readable in one turn: read each, then fetch the
// hash bucket, chain head and key bytes of each one's first key, stage by
// stage, before any command runs (a pipeline's other keys are prefetched by
// process()). At pipeline 1 the key lookup's cache misses are most of the
// server's own time.
void Connection::prepare(int stage) {
  if (stage == 0) {
    if (closed_ || ahead_ > 0) return;
    ahead_ = receive();
    const unsigned shards = server_.shard_count();
    protocol::peek_first_keys(socket_->read_buffer, ahead_, 1, [&](std::string_view key) {
      if (shards == 1 || shard_of_key(key, shards) == thread_.index()) {
        ahead_key_ = key;
        ahead_hash_ = storage::Db::key_hash(key);
      }
    });
    return;
  }
  if (!ahead_key_.empty())
    thread_.keyspace().db(static_cast<size_t>(session_.db)).prefetch(ahead_key_, ahead_hash_, stage);
}

// One recv() per readiness report, as Redis reads a client: more input is
// reported again (level-triggered), after the other ready clients had a turn.
void Connection::read_once() {
  if (const size_t n = receive()) on_read(n);
}

size_t Connection::receive() {
  const ssize_t n = ::recv(socket_->fd, socket_->read_buffer, Socket::kReadChunk, MSG_DONTWAIT);
  if (n > 0) return static_cast<size_t>(n);
  if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) close();  // end of input or an error
  return 0;
}

void Connection::on_read(size_t bytes) {
  if (closed_) return;
  ThreadCounters::add(thread_.counters().net_input_bytes, bytes);
  if (suspended_) {
    session_.last_interaction_ms = unix_time_ms();  // (process() sets it otherwise, from its batch clock)
    pending_input_.append(socket_->read_buffer, bytes);
    auto limit = static_cast<size_t>(server_.config().client_query_buffer_limit.load(std::memory_order_relaxed));
    if (pending_input_.size() - pending_pos_ > limit) {
      log(LogLevel::kWarning, "Closing client that reached max query buffer length: id={} addr={}", session_.id,
          session_.peer);
      close();
      return;
    }
    read_more();
    return;
  }
  if (pending_pos_ < pending_input_.size()) {
    // Older input still waits (CLIENT PAUSE held it): it goes first.
    pending_input_.append(socket_->read_buffer, bytes);
    run_pending_input();
  } else {
    processing_ = true;
    size_t used = process(socket_->read_buffer, bytes);
    processing_ = false;
    if (used < bytes) pending_input_.append(socket_->read_buffer + used, bytes - used);
  }
  // Between commands: what a huge command left in the argument list is not
  // kept while the connection idles (protocol/arg_list.h).
  if (command_bytes_ == 0 && !suspended_ && pending_input_.empty()) args_.shrink_big();
  // The replies go out once every client of this turn has been handled.
  if (!flush_at_turn_end_) {
    flush_at_turn_end_ = true;
    thread_.loop().at_turn_end(this);
  }
}

void Connection::on_turn_end() {
  flush_at_turn_end_ = false;
  if (closed_) return;
  flush();
  ops::enforce_output_limits(*this);  // client-output-buffer-limit normal
}

// A pipeline of requests arrived at once: ask the memory system for the
// keys' hash buckets, then for their first nodes, then for the next node of
// chains whose head is another key, before running any of them, so the
// cache misses of the whole batch overlap (they dominate the cost of small
// commands); then the same for the members that HSET, SADD, ZADD... look up.
// One walk over the batch finds both. Only keys of this thread's own shard
// are touched.
void Connection::prefetch_keys(const char* data, size_t len) {
  constexpr size_t kMinPipelineBytes = 64;
  constexpr size_t kMaxRequests = 32;
  if (len < kMinPipelineBytes) return;
  struct Key {
    std::string_view name;
    uint64_t hash;
  };
  std::array<Key, kMaxRequests> keys;
  std::array<MemberLookup, kMaxRequests> members;
  size_t n = 0, m = 0;
  const unsigned shards = server_.shard_count();
  const unsigned home = thread_.index();
  protocol::peek_requests<4>(data, len, kMaxRequests, [&](const std::array<std::string_view, 4>& args, int64_t argc) {
    if (argc < 2) return;
    if (shards != 1 && shard_of_key(args[1], shards) != home) return;
    // A repeated key (LPUSH mylist ...) needs one prefetch.
    if (n == 0 || args[1].size() != keys[n - 1].name.size() ||
        !storage::same_bytes(args[1].data(), keys[n - 1].name.data(), args[1].size()))
      keys[n++] = {args[1], storage::Db::key_hash(args[1])};
    // The member the command looks up first (CommandSpec::member_arg). ZADD's
    // is argument 3 only without options (ZADD key NX 1 m makes it the score
    // "1"): a wasted prefetch, never a wrong result.
    const CommandSpec* spec = CommandTable::instance().find(args[0]);
    const int member_arg = spec ? spec->member_arg : 0;
    if (member_arg > 0 && argc > member_arg) members[m++] = {args[1], args[static_cast<size_t>(member_arg)]};
  });
  const storage::Db& db = thread_.keyspace().db(static_cast<size_t>(session_.db));
  if (n >= 2)
    for (int stage = 1; stage <= 3; ++stage)
      for (size_t i = 0; i < n; ++i) db.prefetch(keys[i].name, keys[i].hash, stage);
  if (m >= 2) prefetch_members(db, members.data(), m);
}

size_t Connection::process(const char* data, size_t len) {
  stats::BatchClock batch_clock;  // one clock read per command for commandstats (server/stats.h)
  session_.last_interaction_ms = stats::command_time_ms();
  prefetch_keys(data, len);
  size_t pos = 0;
  while (!suspended_ && !closed_ && !session_.close_after_reply) {
    if (command_bytes_ == 0 && pos < len && ops::pause_hold(*this, std::string_view(data + pos, len - pos))) break;  // CLIENT PAUSE
    parser_.limits().unauthenticated = !session_.authenticated;  // Redis's small limits before AUTH
    size_t consumed = 0;
    auto status = parser_.parse(std::string_view(data + pos, len - pos), consumed, args_);
    pos += consumed;
    command_bytes_ += consumed;
    if (status == protocol::RespParser::Status::kError) {
      fail_protocol(parser_.error());
      return len;
    }
    if (status == protocol::RespParser::Status::kNeedMore) {
      auto limit = static_cast<size_t>(server_.config().client_query_buffer_limit.load(std::memory_order_relaxed));
      if (command_bytes_ > limit) {
        log(LogLevel::kWarning, "Closing client that reached max query buffer length: id={} addr={}",
            session_.id, session_.peer);
        close();
      }
      return len;
    }
    command_bytes_ = 0;
    if (args_.empty()) continue;  // empty inline line or *0
    ops::dispatch(*this, args_);  // dispatch_command with CLIENT REPLY and rejected-call accounting (server/ops.h)
    if (pos == len) break;
  }
  return pos;
}

void Connection::fail_protocol(const std::string& message) {
  reply_.error(message);
  log(LogLevel::kVerbose, "Protocol error ({}) from client: id={} addr={}", message, session_.id, session_.peer);
  session_.close_after_reply = true;
}

std::function<void()> Connection::suspend() {
  suspended_ = true;
  ++suspend_count_;
  return [self = shared_from_this()] { self->resume(); };
}

void Connection::resume() {
  suspended_ = false;
  if (closed_) return;
  if (!held_pushes_.empty()) {
    out_.append(held_pushes_);
    std::string().swap(held_pushes_);
  }
  // Resumed from inside a command that process() is running (the work was
  // done at once): that process() goes on with the next command itself.
  if (processing_) return;
  run_pending_input();
  read_more();
  flush();
}

// Input that arrived while suspended is run in place from pending_pos_: a
// long pipeline of commands that each suspend costs no copy per command
// (copying the rest back each time made it quadratic). process() cannot
// append to pending_input_ meanwhile: reads complete only from the event loop.
void Connection::run_pending_input() {
  if (pending_pos_ < pending_input_.size()) {
    processing_ = true;
    pending_pos_ += process(pending_input_.data() + pending_pos_, pending_input_.size() - pending_pos_);
    processing_ = false;
  }
  if (pending_pos_ == pending_input_.size()) {
    pending_input_.clear();
    pending_pos_ = 0;
  } else if (pending_pos_ > 64 * 1024 && pending_pos_ * 2 > pending_input_.size()) {
    pending_input_.erase(0, pending_pos_);  // amortised: at most once per half of the buffer
    pending_pos_ = 0;
  }
}

void Connection::flush() {
  if (closed_ || write_in_progress_) return;
  // The AOF has these replies' commands (on disk with appendfsync always: group commit).
  if (!out_.empty() && !aof_reply_ready(thread_, [self = shared_from_this()] { self->flush(); })) return;
  if (out_.empty()) {
    if (session_.close_after_reply && !suspended_) close();
    return;
  }
  writing_.swap(out_);
  out_.clear();
  write_offset_ = 0;
  ThreadCounters::add(thread_.counters().net_output_bytes, writing_.size());
  write_more();
}

// Sends what the socket takes now; the rest when the event loop reports it writable.
void Connection::write_more() {
  const ssize_t sent = ::send(socket_->fd, writing_.data() + write_offset_, writing_.size() - write_offset_,
                              MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    close();
    return;
  }
  if (sent > 0) write_offset_ += static_cast<size_t>(sent);
  const bool done = write_offset_ == writing_.size();
  if (done != !write_in_progress_) {
    write_in_progress_ = !done;
    thread_.loop().want_write(socket_->fd, !done);
  }
  if (done) on_written();
}

ClientSubscriptions& Connection::ensure_subscriptions() {
  if (!subscriptions_) subscriptions_ = std::make_unique<ClientSubscriptions>();
  return *subscriptions_;
}

void Connection::push_message(std::string_view bytes) {
  if (closed_) return;
  // A suspended command may still be producing its reply; a blocked one
  // writes it in one piece later, so messages may go out before it.
  if (suspended_ && !blocked_client_) {
    held_pushes_.append(bytes);
    return;
  }
  out_.append(bytes);
  flush();
}

void Connection::on_written() {
  // Keep a modest buffer for reuse; drop one that a huge reply inflated.
  if (writing_.capacity() > 1024 * 1024) std::string().swap(writing_);
  writing_.clear();
  flush();
}

namespace {
// CLIENT LIST multi-mem: the commands queued by MULTI, with their arguments.
size_t queued_commands_memory(const ClientSession& s) {
  size_t bytes = 0;
  if (s.multi)
    for (const auto& q : s.multi->queued) {
      bytes += sizeof(q) + q.args.size() * 16;
      for (size_t i = 0; i < q.args.size(); ++i) bytes += q.args[i].size();
    }
  return bytes;
}
}  // namespace

size_t Connection::memory_usage() const {
  const size_t argv_mem = args_.size() * sizeof(std::string_view) + command_bytes_;
  const size_t omem = out_.capacity() + writing_.capacity() + held_pushes_.capacity();
  return sizeof(*this) + pending_input_.capacity() + Socket::kReadChunk + omem + argv_mem +
         queued_commands_memory(session_);
}

std::string Connection::client_info(int64_t now_ms) const {
  // Redis 7.0's CLIENT LIST line (plus 7.2's lib-name / lib-ver).
  auto age = (now_ms - session_.created_ms) / 1000;
  auto idle = (now_ms - session_.last_interaction_ms) / 1000;
  std::string flags;
  if (session_.monitor) flags += 'O';
  if (session_.subscribed()) flags += 'P';
  if (session_.multi) flags += 'x';
  if (blocked_client_) flags += 'b';
  if (session_.close_after_reply) flags += 'c';
  if (session_.no_evict) flags += 'e';
  if (session_.no_touch) flags += 'T';
  if (flags.empty()) flags = "N";
  const size_t qbuf = pending_input_.size() - pending_pos_;
  const size_t argv_mem = args_.size() * sizeof(std::string_view) + command_bytes_;
  const size_t multi_mem = queued_commands_memory(session_);
  const size_t omem = out_.capacity() + writing_.capacity() + held_pushes_.capacity();
  const size_t tot = memory_usage();
  return fmt::format(
      "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} "
      "qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} events={} "
      "cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}",
      session_.id, session_.peer, session_.local, session_.fd, session_.name, age, idle, flags, session_.db,
      session_.subscribed_channels, session_.subscribed_patterns, session_.subscribed_shard_channels,
      session_.multi ? static_cast<int64_t>(session_.multi->queued.size()) : -1, qbuf,
      pending_input_.capacity() - qbuf, argv_mem, multi_mem, Socket::kReadChunk, Socket::kReadChunk,
      out_.size(), writing_.empty() ? 0 : 1, omem, tot, write_in_progress_ || !out_.empty() ? "rw" : "r",
      session_.last_command, session_.user, session_.resp, session_.lib_name, session_.lib_version);
}

}  // namespace distcache::server
