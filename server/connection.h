#pragma once
// One client connection: reads bytes, parses commands, dispatches them in
// order, and writes replies. Lives on one ShardThread. A command that must run
// elsewhere suspends the connection until its reply is back, so replies always
// leave in request order.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "protocol/resp_parser.h"
#include "server/client_session.h"
#include "server/event_loop.h"

namespace distcache::server {

class ShardThread;
class Server;
struct BlockedClient;
struct ClientSubscriptions;

class Connection : public std::enable_shared_from_this<Connection>, private EventLoop::Handler {
 public:
  // Takes over `fd`, a connected TCP socket (closed with the connection).
  Connection(ShardThread& thread, int fd);
  ~Connection();

  void start();
  // Closes the socket now (pending output is dropped).
  void close();
  // Closes once the replies already produced are written (shutdown).
  void close_when_flushed();
  bool closed() const { return closed_; }

  ShardThread& thread() { return thread_; }
  ClientSession& session() { return session_; }
  const ClientSession& session() const { return session_; }
  protocol::ReplyBuilder& reply() { return reply_; }
  const protocol::ArgList& args() const { return args_; }

  // Stops command processing until the returned function runs (on this thread).
  std::function<void()> suspend();
  uint64_t suspend_count() const { return suspend_count_; }  // tells whether a call suspended
  // A reply buffer for work executed on another thread while suspended.
  std::string& remote_reply() { return remote_reply_; }

  // The blocked command this connection waits for, if any (see blocking.h).
  void set_blocked_client(std::shared_ptr<BlockedClient> client) { blocked_client_ = std::move(client); }
  bool is_blocked() const { return blocked_client_ != nullptr; }
  const std::shared_ptr<BlockedClient>& blocked_client() const { return blocked_client_; }

  // Pub/sub (server/pubsub.h): the connection's subscriptions (null before
  // the first), and writing a message to it. A message that arrives while a
  // command is suspended (but not blocked) is sent after that command's reply.
  ClientSubscriptions* subscriptions() { return subscriptions_.get(); }
  ClientSubscriptions& ensure_subscriptions();
  void push_message(std::string_view bytes);
  // Reply bytes produced but not yet written to the socket.
  size_t pending_output() const { return out_.size() + writing_.size() + held_pushes_.size(); }

  // One line of CLIENT LIST for this connection.
  std::string client_info(int64_t now_ms) const;

  // While a script runs past busy-reply-threshold on this thread: reads and
  // answers what an idle connection sent (server/scripting/busy_clients.cpp).
  void serve_while_busy();
  // start() for a client accepted by a thread in busy mode: until the
  // script ends, serve_while_busy() reads it (the event loop does not yet).
  void start_while_busy();
  // A command waiting to run elsewhere (posted to its keys' thread, or for
  // locks): ticket taken on this thread, claimed where it runs; one still
  // unclaimed when a script passes busy-reply-threshold is answered BUSY here
  // instead (answer_busy_if_waiting, server/scripting/busy_clients.cpp).
  uint64_t take_wait_ticket() {
    const uint64_t next = (wait_ticket_.load(std::memory_order_relaxed) >> 2) + 1;
    wait_ticket_.store(next << 2 | 1, std::memory_order_relaxed);
    return next;
  }
  bool claim_wait_ticket(uint64_t ticket) {
    uint64_t expected = ticket << 2 | 1;
    return wait_ticket_.compare_exchange_strong(expected, ticket << 2 | 2, std::memory_order_acq_rel);
  }
  void answer_busy_if_waiting();
  // Bytes this client uses (CLIENT LIST tot-mem): buffers plus fixed overhead (maxmemory-clients, server/ops.h).
  size_t memory_usage() const;

 private:
  struct Socket;  // the descriptor and the read buffer (connection.cpp)
  // The event loop watches the socket from now on (if not yet).
  void read_more();
  void on_ready(bool readable, bool writable) override;
  void prepare(int stage) override;
  void on_turn_end() override;
  // The bytes prepare() read and nobody handled yet (empty if none); taken.
  std::string_view take_read_ahead();
  void read_once();
  // One recv() into the read buffer: the byte count, or 0 when nothing is
  // there yet (the connection is closed at end of input or on an error).
  size_t receive();
  void on_read(size_t bytes);
  void write_more();
  // Parses and runs commands from `data`; returns bytes consumed (less than
  // data.size() only when a command suspended the connection).
  size_t process(const char* data, size_t len);
  void prefetch_keys(const char* data, size_t len);
  void resume();
  void run_pending_input();
  void flush();
  void on_written();
  void fail_protocol(const std::string& message);

  ShardThread& thread_;
  Server& server_;
  std::unique_ptr<Socket> socket_;
  protocol::RespParser parser_;
  protocol::ArgList args_;
  std::string out_;           // replies not yet handed to the socket
  std::string writing_;       // replies being written
  size_t write_offset_ = 0;   // how much of writing_ the socket took
  size_t ahead_ = 0;           // bytes prepare() read into the read buffer, not yet handled
  std::string_view ahead_key_; // their first command's key on this shard, prefetched
  uint64_t ahead_hash_ = 0;     // ... and its hash
  std::string pending_input_; // input left unparsed while suspended
  size_t pending_pos_ = 0;    // how much of pending_input_ has been run
  bool processing_ = false;   // process() is running (a resume() inside it must not re-enter)
  bool flush_at_turn_end_ = false;  // on_turn_end() is due: it sends what the turn's input produced
  std::string remote_reply_;
  protocol::ReplyBuilder reply_;
  ClientSession session_;
  std::shared_ptr<BlockedClient> blocked_client_;
  std::unique_ptr<ClientSubscriptions> subscriptions_;
  std::string held_pushes_;   // pub/sub messages waiting for a suspended command
  size_t command_bytes_ = 0;  // bytes of the command being parsed (query buffer limit)
  bool suspended_ = false;
  uint64_t suspend_count_ = 0;
  bool watching_ = false;           // the event loop reports this socket's readiness
  bool write_in_progress_ = false;  // writing_ waits for the socket to take more
  std::atomic<uint64_t> wait_ticket_{0};  // (ticket << 2) | 1 waiting, 2 claimed, 3 answered BUSY
  bool closed_ = false;
};

}  // namespace distcache::server
