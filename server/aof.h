#pragma once
// The operation log (AOF) in Redis 7.0's multi-part format (issue 4):
// `appendonly`, `appendfsync`, `appenddirname`, `appendfilename`,
// BGREWRITEAOF and automatic rewrites, loading at start-up.
//
// Writing. Every shard thread records the commands it executes in its own
// buffer, in Redis's propagated form (see "Propagation" below), and writes
// the whole buffer to the current incremental file with one write(2) under a
// short mutex: before any reply of those commands leaves the server
// (aof_before_reply, from the connection's flush) and before the thread
// hands work to another thread (aof_flush_thread, from ShardThread::post), so
// that whatever another thread does next with the same keys comes later in
// the file. A buffer starts with SELECT when the file's last command was in
// another database; within it SELECT is written whenever the database
// changes. appendfsync always: fsync before replying (group commit: one
// fsync covers every thread's writes so far); everysec: a background thread
// fsyncs once a second; no: never.
//
// Units. A command whose propagated form is several commands (SPOP with a
// count, a lazily expired key followed by the command, a script), EXEC, and
// a command over keys of several shards are written as one unit, wrapped in
// MULTI ... EXEC when it holds more than one command. Multi-shard commands and
// EXEC collect their unit in an AofBatch (AofBatchScope on every thread that
// runs part of it) and write it before their locks are released; their
// shards' buffers were written when those shards handed control back, so no
// later command on the same keys can precede the unit in the file.
//
// Propagation. The propagated form of a command is computed when it ends,
// from its arguments, its reply and the keyspace after it, with Redis 7.0's
// rules (checked against redis-server 7.0.15's AOF for the same commands):
// commands that changed nothing are not logged; relative expiries become
// PEXPIREAT / SET ... PXAT, expiries in the past DEL; INCRBYFLOAT becomes
// SET ... KEEPTTL, HINCRBYFLOAT HSET; SPOP becomes SREM (DEL when it emptied
// the set); blocking pops their non-blocking forms with the key they served;
// GEOADD a ZADD with the scores; RESTORE gets an absolute TTL; XADD's "*" IDs
// and approximate trims become exact; XREADGROUP / XCLAIM / XAUTOCLAIM become
// XCLAIM ... FORCE JUSTID (and XGROUP SETID with NOACK); scripts are logged
// as the commands they ran. Keys that expire (lazily or actively) are logged
// as DEL by the thread owning them.
//
// Files (persistence/aof_manifest.h): at start-up with `appendonly yes` the
// base and incremental files are loaded in manifest order (an old-style
// appendonly.aof is moved into the directory as the base, as Redis 7.0
// does); nothing expires while loading. With no AOF yet a base file is
// written from the (empty) dataset. A rewrite takes a point-in-time snapshot
// of every shard (server/snapshot.h) into a new base while commands go to a
// new incremental file opened at the same instant; the manifest then
// switches atomically to the new files and the old ones are deleted.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "persistence/aof_manifest.h"
#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"

namespace distcache::storage {
class Db;
class Keyspace;
class Value;
}  // namespace distcache::storage

namespace distcache::server {

class Server;
class ShardThread;
class ConnectionContext;
struct CommandSpec;
struct CommandContext;

// ---------------------------------------------------------------------------
// Commands in propagated form, as RESP, with the database of each.
struct AofEffects {
  std::string bytes;                             // the commands, back to back
  std::vector<std::pair<int, size_t>> commands;  // (database, offset in bytes)

  size_t size() const { return commands.size(); }
  bool empty() const { return commands.empty(); }
  void clear() {
    bytes.clear();
    commands.clear();
  }
  void add(int db, const protocol::ArgList& args);
  void add(int db, std::initializer_list<std::string_view> args);
  void add(int db, const std::vector<std::string>& args);
  void append(const AofEffects& other);
  std::string_view command(size_t i) const {
    size_t end = i + 1 < commands.size() ? commands[i + 1].second : bytes.size();
    return std::string_view(bytes).substr(commands[i].second, end - commands[i].second);
  }
};

// ---------------------------------------------------------------------------
// Hooks for the command paths. All of them are a load and a branch while the
// AOF is off.

// Wraps one run of a keyed command handler (every keyed command: a read may
// delete expired keys). Construct it before the handler runs (it notes the
// little state some commands are logged from: LTRIM's length, whether a
// STORE destination or an XREADGROUP consumer existed), call done() after it
// (also when it blocked). Created and finished on the thread running the
// handler, over the keyspace the handler gets.
class AofCommand {
 public:
  AofCommand(const CommandSpec& spec, const protocol::ArgList& args, storage::Keyspace& keyspace, int db,
             const protocol::ReplyBuilder& reply);
  ~AofCommand();
  AofCommand(const AofCommand&) = delete;
  AofCommand& operator=(const AofCommand&) = delete;
  void done(const CommandContext& ctx);

 private:
  const CommandSpec& spec_;
  const protocol::ArgList& args_;
  int db_;
  const std::string* reply_buffer_;
  size_t reply_mark_;
  bool active_;
  int64_t before_ = -1;  // noted state: LTRIM / SETBIT length, STORE destination or XREADGROUP consumer existed, ...
};

// Commands written to the file as one unit: EXEC's, or one command over keys
// of several shards. Filled through AofBatchScope (possibly on several
// threads, one after another), written with write() before the locks of the
// transaction are released.
class AofBatch {
 public:
  // A command logged as sent (EXEC's FLUSHALL, FLUSHDB, SWAPDB).
  void add_command(int db, const protocol::ArgList& args);
  bool empty() const { return effects_.empty(); }
  // Writes the unit (after the calling thread's own pending commands) and clears it.
  void write();
  AofEffects& effects() { return effects_; }
  // Nothing of the unit is ever written, also what is added later: a script
  // ended by SHUTDOWN did not complete (inside EXEC, neither did the EXEC),
  // and Redis never propagates an unfinished script or transaction.
  void discard() {
    discarded_ = true;
    effects_.clear();
  }

 private:
  AofEffects effects_;
  bool discarded_ = false;
};

// While alive, AofCommands finished on this thread record into `batch`.
class AofBatchScope {
 public:
  explicit AofBatchScope(AofBatch& batch);
  ~AofBatchScope();
  AofBatchScope(const AofBatchScope&) = delete;
  AofBatchScope& operator=(const AofBatchScope&) = delete;

 private:
  AofBatch* previous_;
};

// The batch AofCommands on this thread record into, or null.
AofBatch* aof_current_batch();
// Drops what the innermost command running on this thread (its AofCommand)
// recorded so far: a script ended by SHUTDOWN did not complete, and Redis
// never propagates an unfinished script.
void aof_drop_running_command_effects();

// The propagated form of a keyed write command that already ran on `thread`
// (without its reply: logged from its arguments and the keyspace). Prefer
// AofCommand, which also sees the reply and expiries during the command.
void aof_feed(ShardThread& thread, int db, const CommandSpec& spec, const protocol::ArgList& args,
              const CommandContext* ctx);

// Writes the calling shard thread's pending commands (before handing work to
// another thread).
void aof_flush_thread(ShardThread& thread);
// Before replies leave `thread`: writes its pending commands and, with
// appendfsync always, makes every write so far durable (fsync now).
void aof_before_reply(ShardThread& thread);
// The same with group commit, for the connection's flush: writes the
// thread's pending commands; returns true when the replies may leave now.
// With appendfsync always and writes not yet on disk it returns false and
// runs `retry` on this thread once they are: every connection of the thread
// waiting meanwhile shares one fsync (as Redis does once per event loop).
// While the retries run, this returns true.
bool aof_reply_ready(ShardThread& thread, std::function<void()> retry);
// A key of `db` was deleted because it expired (storage's hook). Logged as
// DEL when `db` belongs to the calling shard thread's keyspace.
void aof_key_expired(const storage::Db& db, std::string_view key);
// FLUSHALL / FLUSHDB / SWAPDB: logged as sent (in database `db`, the
// client's), from their body, while every shard's lock is held. Not inside
// EXEC (ConnectionContext::holds_all_shards): EXEC logs its own commands.
void aof_log_keyspace_command(int db, const protocol::ArgList& args);

// A key a command replaced as a whole without running as a keyed handler
// (SORT ... STORE): logged as its new content, "DEL key" then the key in
// rewrite form, on the thread owning the key (or into the batch of that
// thread); `value` null when the key was deleted.
void aof_log_replaced_key(int db, std::string_view key, const storage::Value* value, int64_t expire_ms);

// A key in command form, as Redis's rewrite writes it (aof-use-rdb-preamble
// no): SET / RPUSH / SADD / ZADD / HMSET / XADD ... then PEXPIREAT.
void aof_rewrite_key(std::string& out, std::string_view key, const storage::Value& value, int64_t expire_ms);
void aof_append_select(std::string& out, int db);

// ---------------------------------------------------------------------------
class Aof {
 public:
  explicit Aof(Server& server);
  ~Aof();

  // ---- start-up (before the shard threads run)
  // Reads the manifest if the AOF directory has one (also with appendonly
  // no: the sequence numbers go on). False on a fatal error (logged).
  bool load_manifest();
  // appendonly yes: loads the base and incremental files. false: fatal.
  bool load_dataset(bool* found = nullptr);
  // appendonly yes: writes a base if there is none, opens the last
  // incremental file (a new one if none), persists the manifest, deletes
  // history files. false: fatal.
  bool open_on_start();
  // Starts the background thread (fsync everysec, rewrite scheduling).
  void start();
  // After the shard threads stopped: writes what is pending, fsyncs, closes.
  void shutdown();

  // ---- run time
  enum class RewriteStart { kStarted, kScheduled, kInProgress, kError };
  // BGREWRITEAOF. `started` runs on `home` at the snapshot's instant.
  RewriteStart request_rewrite(ShardThread& home, std::function<void()> started, std::string* error);
  // Starts one when possible (inside EXEC): kScheduled, or kInProgress.
  RewriteStart schedule_rewrite();
  // CONFIG SET hook: `name` was changed (called with the config's string mutex held).
  void on_config_set(std::string_view name);
  // INFO persistence: the aof_* lines.
  void info(std::string& out) const;
  // Bytes held for the file and not written yet (a failed write's retry
  // buffer): INFO mem_aof_buffer, left out of maxmemory's count (memory_limit.h).
  uint64_t buffered_bytes();
  bool enabled() const { return state_.load(std::memory_order_relaxed) != kOff; }

  // ---- internal, used by the hooks above
  struct Stream;
  void write_stream(Stream& s);
  bool reply_ready(ShardThread& thread, std::function<void()>& retry);
  void write_effects(const AofEffects& effects);
  void sync_all_written();
  Stream& thread_stream(unsigned shard);

 private:
  enum State { kOff = 0, kOn = 1, kWaitRewrite = 2 };
  std::string dir_path() const;   // dir/appenddirname
  std::string file_path(std::string_view name) const;
  bool persist_manifest_locked(std::string* error);
  void delete_history_locked();
  void switch_file(int fd, uint64_t size);
  void close_file();
  bool start_rewrite(ShardThread& home, std::function<void()> started, std::string* error);
  void rewrite_done(bool ok, const std::string& error, const std::string& base_name, bool was_wait_rewrite,
                    const std::string& temp_incr, int64_t started_ms, uint64_t base_bytes);
  void cron();
  void background_loop();
  bool write_all(const char* data, size_t n, std::string* error);
  void fsync_now(uint64_t target);  // until written_total_ >= target is on disk

  Server& server_;
  std::atomic<int> state_{kOff};
  std::atomic<int> fsync_policy_{0};  // 0 everysec, 1 always, 2 no
  std::atomic<bool> timestamps_{false};

  // Manifest and rewrite state; touched by one thread at a time.
  mutable std::mutex mu_;
  persistence::AofManifest manifest_;
  std::string appendfilename_;
  std::string appenddirname_;

  // The file being appended to.
  std::mutex write_mu_;
  int fd_ = -1;
  int file_db_ = -1;            // the SELECT in effect at the end of the file
  int64_t last_timestamp_s_ = 0;
  std::string failed_bytes_;    // a write that failed, retried first
  std::atomic<uint64_t> written_total_{0};   // bytes handed to write(2), across files
  std::atomic<bool> last_write_ok_{true};

  std::mutex sync_mu_;
  std::atomic<uint64_t> synced_total_{0};
  std::atomic<int64_t> last_fsync_ms_{0};
  std::atomic<bool> fsync_in_progress_{false};

  std::atomic<uint64_t> current_size_{0};  // base + incremental files
  std::atomic<uint64_t> base_size_{0};
  std::atomic<uint64_t> incr_size_{0};     // the incremental file being written

  std::atomic<bool> rewrite_in_progress_{false};
  std::atomic<bool> rewrite_scheduled_{false};
  std::atomic<int64_t> rewrite_started_ms_{-1};
  std::atomic<int64_t> last_rewrite_time_s_{-1};
  std::atomic<bool> last_rewrite_ok_{true};
  std::atomic<uint64_t> rewrites_{0};
  std::atomic<uint64_t> rewrite_failures_{0};
  std::atomic<int64_t> last_failed_rewrite_ms_{0};

  std::vector<std::unique_ptr<Stream>> streams_;  // one per shard thread

  std::thread background_;
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stopping_ = false;
};

}  // namespace distcache::server
