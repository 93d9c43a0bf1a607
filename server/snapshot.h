#pragma once
// BGSAVE without fork: an RDB file of the whole dataset as of one instant,
// written while every shard keeps serving writes.
//
// The instant: the coordinator takes a shared whole-shard lock on every shard
// (no write runs anywhere while all are held) and, under it, tells each shard
// to begin, which flips one mark bit per key table (storage/key_table.h): all
// keys present are now "pending". Each shard then walks its tables in small
// slices between its other work, writing pending keys and marking them done.
// A command about to change a key that is still pending writes the key's old
// value first (prepare_keys_for_write in routing.h): copy-on-write at key
// granularity, so a snapshot costs memory only for the bytes in flight, not
// a second copy of the dataset. Keys created after the instant are born done.
//
// Shards write complete entries into 64 KiB chunks, each starting with its own
// SELECTDB, and hand them to one writer thread that appends them to a temp
// file in whatever order they arrive (RDB allows any number of SELECTDB
// opcodes), computes the CRC-64, writes the footer, fsyncs and renames the
// file over the previous snapshot: a crash mid-save leaves the old file intact.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace distcache::storage {
class Value;
}

namespace distcache::server {

class Server;
class ShardThread;
class SnapshotFile;

struct SnapshotResult {
  bool ok = false;
  std::string error;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  int64_t duration_ms = 0;
};

// Starts a snapshot into Config::dir/dbfilename. `started` runs on `home` at
// the snapshot's instant (every write acknowledged after it is not in the
// file, every one before it is); `done` runs on `home` once the file is
// complete (or failed). Returns false when a snapshot is already running.
bool start_snapshot(Server& server, ShardThread& home, std::function<void()> started,
                    std::function<void(const SnapshotResult&)> done);

// Where and how a snapshot is written when it is not dump.rdb: the base file
// of an AOF rewrite (server/aof.h).
struct SnapshotTarget {
  std::string path;            // the final file; "" = Config::dir/dbfilename
  std::string temp_path;       // written first, then renamed; "" = "temp-<pid>-<ms>.rdb" next to `path`
  bool aof_base = false;       // the aux field aof-base = 1
  bool commands = false;       // AOF commands instead of RDB (aof-use-rdb-preamble no)
  bool rdb_bookkeeping = true; // LASTSAVE, rdb_* INFO fields, save points: only for dump.rdb
  // Runs on `home` at the instant, while every shard is locked, before `started`.
  std::function<void()> at_instant;
};
bool start_snapshot(Server& server, ShardThread& home, SnapshotTarget target, std::function<void()> started,
                    std::function<void(const SnapshotResult&)> done);

// Stops a running snapshot's file writer (shutdown); the temp file is removed.
void cancel_snapshot(SnapshotFile& file);

// Writes the whole dataset now, on the calling thread, while no shard thread
// runs (shutdown after the threads stopped).
SnapshotResult save_snapshot_stopped(Server& server);
// The same into `target` (an AOF base at start-up); no RDB bookkeeping.
SnapshotResult save_snapshot_stopped(Server& server, const SnapshotTarget& target);

// A snapshot of dump.rdb written shard after shard, each shard's part by the
// caller of write_shard(): at shutdown all from one thread; for DEBUG RELOAD
// each shard's on its own thread while every shard is locked (the calls are
// ordered by the lock handoffs). The instant is whenever no shard can change
// between the first and the last call. finish() writes the footer, fsyncs and
// renames over dump.rdb, and does SAVE's bookkeeping (LASTSAVE, INFO).
class SequentialSnapshot {
 public:
  explicit SequentialSnapshot(Server& server);  // opens the temp file (an error shows in finish())
  ~SequentialSnapshot();                        // removes the temp file if finish() never ran
  SequentialSnapshot(const SequentialSnapshot&) = delete;
  SequentialSnapshot& operator=(const SequentialSnapshot&) = delete;
  void write_shard(ShardThread& shard);
  SnapshotResult finish();

 private:
  struct File;
  Server& server_;
  std::string path_;
  std::string temp_;
  int64_t start_ms_;
  std::unique_ptr<File> file_;
  SnapshotResult result_;
  bool finished_ = false;
};

// Loads Config::dir/dbfilename into the shards before the threads start.
// A missing file is not an error (an empty dataset).
struct SnapshotLoadResult {
  bool ok = true;
  bool found = false;
  std::string error;
  uint64_t keys_loaded = 0;
  uint64_t keys_expired = 0;
  int64_t duration_ms = 0;
};
SnapshotLoadResult load_snapshot_at_startup(Server& server);
// Loads the keys of dump.rdb that belong to `shard` into it; runs on the
// shard's thread (DEBUG RELOAD). `replace_existing`: a loaded key replaces
// one already present instead of failing the load.
SnapshotLoadResult load_snapshot_into_shard(Server& server, ShardThread& shard, bool replace_existing);

// One shard's part of a running snapshot. Lives on the shard's thread.
class ShardSnapshot {
 public:
  ShardSnapshot(ShardThread& shard, std::shared_ptr<SnapshotFile> file, int64_t start_ms, bool commands = false);
  ~ShardSnapshot();

  // A command is about to change or delete `key`: write it first if pending.
  void take(int db, std::string_view key);
  // Writes every pending key now (before FLUSHALL, FLUSHDB, SWAPDB).
  void take_all();
  // One slice of the walk; schedules the next slice until the shard is done.
  void step();

 private:
  struct Writer;
  void write_entry(int db, std::string_view key, const storage::Value& value, int64_t expire_ms);
  void finish();

  ShardThread& shard_;
  std::shared_ptr<SnapshotFile> file_;
  int64_t start_ms_;
  size_t db_ = 0;
  uint64_t cursor_ = 0;
  bool finished_ = false;
  bool commands_ = false;  // AOF commands instead of RDB entries
  std::unique_ptr<Writer> writer_;
};

}  // namespace distcache::server
