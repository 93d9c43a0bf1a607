#include "server/snapshot.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "persistence/crc64.h"
#include "persistence/rdb_format.h"
#include "persistence/rdb_reader.h"
#include "persistence/rdb_writer.h"
#include "server/aof.h"
#include "server/disk_errors.h"
#include "server/log.h"
#include "server/memory_limit.h"
#include "server/scripting/scripting.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/cluster/slot.h"
#include "server/transaction.h"

namespace distcache::server {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
constexpr size_t kBacklogChunks = 64;   // 4 MiB queued for the disk: shards pause their walks
constexpr size_t kWalkBucketsPerSlice = 256;

std::string snapshot_path(const Config& config) {
  std::string dir = config.get_string(config.dir);
  std::string name = config.get_string(config.dbfilename);
  if (dir.empty()) dir = ".";
  return dir + "/" + name;
}

uint64_t used_memory_estimate() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

persistence::RdbWriterOptions writer_options(const Config& config, bool checksum) {
  persistence::RdbWriterOptions o;
  o.compression = config.rdbcompression;
  o.checksum = checksum;
  const std::string_view policy = maxmemory_policy_name();
  if (policy.find("lru") != std::string_view::npos) o.access_info = persistence::RdbWriterOptions::AccessInfo::kIdle;
  if (policy.find("lfu") != std::string_view::npos) o.access_info = persistence::RdbWriterOptions::AccessInfo::kFreq;
  return o;
}

// What an RDB file holds before its keys: magic, version, aux fields and
// the function libraries (Redis writes them there too).
void write_prelude(persistence::RdbWriter& w, int64_t now_ms, bool aof_base) {
  w.write_header();
  w.write_standard_aux(
      {.ctime = now_ms / 1000, .used_mem = static_cast<int64_t>(used_memory_estimate()), .aof_base = aof_base});
  for (const std::string& code : scripting::function_library_codes()) w.write_function(code);
}

// The same for an AOF in command form: FUNCTION LOAD for every library.
std::string function_load_commands() {
  std::string out;
  for (const std::string& code : scripting::function_library_codes())
    out += fmt::format("*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n${}\r\n{}\r\n", code.size(), code);
  return out;
}

std::string file_header(const Config& config, bool aof_base = false) {
  std::string out;
  persistence::StringSink sink(out);
  persistence::RdbWriter w(sink, writer_options(config, false));
  write_prelude(w, unix_time_ms(), aof_base);
  w.flush();
  return out;
}

// Collects one shard's output between chunk boundaries.
class ChunkSink final : public persistence::RdbSink {
 public:
  bool write(const char* data, size_t n) override {
    pending_.append(data, n);
    return true;
  }
  std::string take() {
    std::string out;
    out.swap(pending_);
    return out;
  }

 private:
  std::string pending_;
};

}  // namespace

// The file being written: a queue of chunks drained by one writer thread.
class SnapshotFile : public std::enable_shared_from_this<SnapshotFile> {
 public:
  SnapshotFile(Server& server, ShardThread& home, std::string path, bool checksum,
               std::function<void(const SnapshotResult&)> done, std::string temp_path = {}, bool rdb = true)
      : server_(server), home_(home), final_path_(std::move(path)), checksum_(checksum && rdb), rdb_(rdb),
        done_(std::move(done)) {
    temp_path_ = !temp_path.empty() ? std::move(temp_path)
                                    : final_path_.substr(0, final_path_.rfind('/') + 1) + "temp-" +
                                          std::to_string(getpid()) + "-" + std::to_string(unix_time_ms()) + ".rdb";
    shards_left_ = server.shard_count();
    waiting_.assign(server.shard_count(), false);
    started_ms_ = unix_time_ms();
  }

  ~SnapshotFile() {
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id())
        thread_.detach();
      else
        thread_.join();
    }
  }

  bool open(std::string header, std::string* error) {
    int fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      *error = fmt::format("Failed opening the temp RDB file {} (in server root dir {}) for saving: {}", temp_path_,
                           final_path_.substr(0, final_path_.rfind('/')), std::strerror(errno));
      return false;
    }
    sink_.attach(fd);
    queue_.push_back(std::move(header));
    thread_ = std::thread([self = shared_from_this()] { self->run(); });
    return true;
  }

  void push(std::string chunk, uint64_t keys) {
    std::lock_guard lock(mutex_);
    keys_ += keys;
    queue_.push_back(std::move(chunk));
    cv_.notify_one();
  }

  void shard_done() {
    std::lock_guard lock(mutex_);
    --shards_left_;
    cv_.notify_one();
  }

  // A walking shard asks before each slice; when the disk lags behind it
  // stops and is posted again once the queue drained.
  bool pause_if_backlogged(unsigned shard) {
    std::lock_guard lock(mutex_);
    if (queue_.size() < kBacklogChunks || cancelled_) return false;
    waiting_[shard] = true;
    return true;
  }

  void cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    cv_.notify_one();
  }

  int64_t started_ms() const { return started_ms_; }

 private:
  void run() {
    uint64_t crc = 0;
    bool write_ok = true;
    std::string error;
    uint64_t bytes = 0;
    for (;;) {
      std::string chunk;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return !queue_.empty() || shards_left_ == 0 || cancelled_; });
        if (cancelled_) {
          write_ok = false;
          error = "snapshot cancelled (server shutting down)";
          break;
        }
        if (queue_.empty()) break;  // every shard finished and everything is written
        chunk = std::move(queue_.front());
        queue_.pop_front();
        if (queue_.size() < kBacklogChunks / 2) resume_waiting_shards();
      }
      if (!write_ok) continue;  // keep draining so shards finish; the file is discarded
      if (checksum_) crc = persistence::crc64(crc, chunk.data(), chunk.size());
      if (!sink_.write(chunk.data(), chunk.size())) {
        write_ok = false;
        error = sink_.error();
      }
      bytes += chunk.size();
    }
    if (write_ok && !rdb_) {  // AOF commands: no footer
      write_ok = sink_.sync_and_close(&error);
      if (!write_ok && error.empty()) error = sink_.error();
    } else if (write_ok) {
      char footer[9];
      footer[0] = static_cast<char>(persistence::rdb::kOpEof);
      if (checksum_) crc = persistence::crc64(crc, footer, 1);
      for (int i = 0; i < 8; ++i) footer[1 + i] = checksum_ ? static_cast<char>(crc >> (8 * i)) : 0;
      write_ok = sink_.write(footer, sizeof footer) && sink_.sync_and_close(&error);
      if (!write_ok && error.empty()) error = sink_.error();
      bytes += sizeof footer;
    } else {
      sink_.close();
    }
    if (write_ok && std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      write_ok = false;
      error = fmt::format("Error moving temp DB file {} on the final destination {}: {}", temp_path_, final_path_,
                          std::strerror(errno));
    }
    if (!write_ok) ::unlink(temp_path_.c_str());

    SnapshotResult result;
    result.ok = write_ok;
    result.error = error;
    result.keys = keys_;
    result.bytes = bytes;
    result.duration_ms = unix_time_ms() - started_ms_;
    home_.post([self = shared_from_this(), result] {
      if (self->thread_.joinable()) self->thread_.join();
      self->done_(result);
    });
  }

  void resume_waiting_shards() {  // mutex_ held
    for (unsigned s = 0; s < waiting_.size(); ++s) {
      if (!waiting_[s]) continue;
      waiting_[s] = false;
      ShardThread& shard = server_.shard(s);
      shard.post([&shard] {
        if (ShardSnapshot* snap = shard.snapshot()) snap->step();
      });
    }
  }

  Server& server_;
  ShardThread& home_;
  std::string final_path_;
  std::string temp_path_;
  bool checksum_;
  bool rdb_;
  std::function<void(const SnapshotResult&)> done_;
  persistence::FileSink sink_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::vector<bool> waiting_;
  unsigned shards_left_ = 0;
  uint64_t keys_ = 0;
  bool cancelled_ = false;
  int64_t started_ms_ = 0;
};

struct ShardSnapshot::Writer {
  explicit Writer(const Config& config) : rdb(sink, writer_options(config, false)) {}
  ChunkSink sink;
  persistence::RdbWriter rdb;
  std::string aof;        // AOF commands of the current chunk (commands mode)
  int chunk_db = -1;      // the SELECTDB in effect in the current chunk
  uint64_t chunk_keys = 0;
  uint64_t chunk_bytes_at_start = 0;
};

ShardSnapshot::ShardSnapshot(ShardThread& shard, std::shared_ptr<SnapshotFile> file, int64_t start_ms, bool commands)
    : shard_(shard), file_(std::move(file)), start_ms_(start_ms), commands_(commands),
      writer_(std::make_unique<Writer>(shard.server().config())) {
  for (size_t db = 0; db < shard_.keyspace().size(); ++db) shard_.keyspace().db(db).snapshot_begin();
}

ShardSnapshot::~ShardSnapshot() = default;

void ShardSnapshot::write_entry(int db, std::string_view key, const storage::Value& value, int64_t expire_ms) {
  // A key already expired at the snapshot's instant was not part of the dataset then.
  if (expire_ms != storage::kNoExpiry && expire_ms <= start_ms_) return;
  Writer& w = *writer_;
  if (commands_) {  // an AOF base in command form
    if (w.chunk_db != db) {
      aof_append_select(w.aof, db);
      w.chunk_db = db;
    }
    aof_rewrite_key(w.aof, key, value, expire_ms);
    ++w.chunk_keys;
    if (w.aof.size() >= kChunkBytes) {
      std::string chunk;
      chunk.swap(w.aof);
      file_->push(std::move(chunk), w.chunk_keys);
      w.chunk_db = -1;
      w.chunk_keys = 0;
    }
    return;
  }
  if (w.chunk_db != db) {
    const storage::Db& d = shard_.keyspace().db(static_cast<size_t>(db));
    w.rdb.write_select_db(static_cast<uint64_t>(db), d.size(), d.expires_size());
    w.chunk_db = db;
  }
  w.rdb.write_key(key, value, expire_ms);
  ++w.chunk_keys;
  if (w.rdb.bytes_written() - w.chunk_bytes_at_start >= kChunkBytes) {
    w.rdb.flush();
    w.chunk_bytes_at_start = w.rdb.bytes_written();
    file_->push(w.sink.take(), w.chunk_keys);
    w.chunk_db = -1;  // the next chunk may follow another shard's: it restates its database
    w.chunk_keys = 0;
  }
}

void ShardSnapshot::take(int db, std::string_view key) {
  if (finished_ || db < 0 || static_cast<size_t>(db) >= shard_.keyspace().size()) return;
  shard_.keyspace().db(static_cast<size_t>(db)).snapshot_take(
      key, [this, db](std::string_view k, const storage::Value& v, int64_t expire_ms) { write_entry(db, k, v, expire_ms); });
}

void ShardSnapshot::take_all() {
  while (!finished_) {
    storage::Db& d = shard_.keyspace().db(db_);
    const int db = static_cast<int>(db_);
    cursor_ = d.snapshot_walk(cursor_, SIZE_MAX, [this, db](std::string_view k, const storage::Value& v,
                                                           int64_t expire_ms) { write_entry(db, k, v, expire_ms); });
    if (cursor_ == 0 && ++db_ == shard_.keyspace().size()) finish();
  }
}

void ShardSnapshot::step() {
  if (finished_) return;
  if (file_->pause_if_backlogged(shard_.index())) return;  // the file posts step() again
  storage::Db& d = shard_.keyspace().db(db_);
  const int db = static_cast<int>(db_);
  cursor_ = d.snapshot_walk(cursor_, kWalkBucketsPerSlice, [this, db](std::string_view k, const storage::Value& v,
                                                                      int64_t expire_ms) { write_entry(db, k, v, expire_ms); });
  if (cursor_ == 0 && ++db_ == shard_.keyspace().size()) {
    finish();
    return;
  }
  ShardThread* shard = &shard_;
  shard_.post([shard] {
    if (ShardSnapshot* snap = shard->snapshot()) snap->step();
  });
}

void ShardSnapshot::finish() {
  finished_ = true;
  Writer& w = *writer_;
  w.rdb.flush();
  std::string rest = commands_ ? std::move(w.aof) : w.sink.take();
  if (!rest.empty()) file_->push(std::move(rest), w.chunk_keys);
  file_->shard_done();
  // Drop this object once the current call stack is gone.
  ShardThread* shard = &shard_;
  shard_.post([shard] { shard->end_snapshot(); });
}

bool start_snapshot(Server& server, ShardThread& home, std::function<void()> started,
                    std::function<void(const SnapshotResult&)> done) {
  return start_snapshot(server, home, SnapshotTarget{}, std::move(started), std::move(done));
}

bool start_snapshot(Server& server, ShardThread& home, SnapshotTarget target, std::function<void()> started,
                    std::function<void(const SnapshotResult&)> done) {
  PersistenceState& state = server.persistence();
  bool expected = false;
  // One snapshot at a time (BGSAVE or an AOF rewrite): shards hold one each.
  if (!state.snapshot_running.compare_exchange_strong(expected, true)) return false;
  const bool bookkeeping = target.rdb_bookkeeping;
  if (bookkeeping) state.bgsave_in_progress.store(true);
  const Config& config = server.config();
  auto finished = [&server, bookkeeping, done = std::move(done)](const SnapshotResult& r) {
    PersistenceState& st = server.persistence();
    if (bookkeeping) {
      if (r.ok) {
        st.lastsave_s.store(unix_time_ms() / 1000);
        st.dirty_at_last_save.store(st.dirty_at_save_start.load());
        st.saves.fetch_add(1);
        log(LogLevel::kNotice, "DB saved on disk ({} keys, {} bytes, {} ms)", r.keys, r.bytes, r.duration_ms);
      } else {
        log(LogLevel::kWarning, "Background saving error: {}", r.error);
      }
      st.last_bgsave_ok.store(r.ok);
      note_bgsave_result(r.ok);
      st.last_bgsave_time_s.store(r.duration_ms / 1000);
    }
    server.set_running_snapshot(nullptr);
    if (bookkeeping) st.bgsave_in_progress.store(false);
    st.snapshot_running.store(false);
    done(r);
  };
  const bool commands = target.commands;
  auto file = std::make_shared<SnapshotFile>(server, home, target.path.empty() ? snapshot_path(config) : target.path,
                                             config.rdbchecksum, finished, target.temp_path, !commands);
  std::string error;
  if (!file->open(commands ? function_load_commands() : file_header(config, target.aof_base), &error)) {
    SnapshotResult r;
    r.error = error;
    started();
    finished(r);
    return true;
  }
  server.set_running_snapshot(file);
  if (bookkeeping) {
    state.bgsave_started_ms.store(unix_time_ms());
    state.dirty_at_save_start.store(server.dirty_count());
  }

  // The instant: every shard is locked against writes at once, and each
  // shard begins under that lock (the begin messages precede the releases).
  std::vector<ShardStep> steps(server.shard_count());
  for (unsigned i = 0; i < steps.size(); ++i) {
    steps[i].shard = i;
    steps[i].lock.whole_shard = true;
    steps[i].lock.exclusive = false;
  }
  const int64_t start_ms = unix_time_ms();
  auto begin_all = [&server, &home, file, start_ms, commands, at_instant = std::move(target.at_instant)] {
    if (at_instant) at_instant();
    for (unsigned i = 0; i < server.shard_count(); ++i) {
      ShardThread& shard = server.shard(i);
      auto begin = [&shard, file, start_ms, commands] {
        shard.begin_snapshot(std::make_unique<ShardSnapshot>(shard, file, start_ms, commands));
        shard.post([&shard] {
          if (ShardSnapshot* snap = shard.snapshot()) snap->step();
        });
      };
      if (&shard == &home)
        begin();
      else
        shard.post(std::move(begin));
    }
  };
  run_shard_transaction(server, home, std::move(steps), std::move(begin_all), std::move(started));
  return true;
}

void cancel_snapshot(SnapshotFile& file) { file.cancel(); }

SnapshotResult save_snapshot_stopped(Server& server, const SnapshotTarget& target) {
  const Config& config = server.config();
  const std::string path = target.path.empty() ? snapshot_path(config) : target.path;
  const std::string temp = !target.temp_path.empty()
                               ? target.temp_path
                               : path.substr(0, path.rfind('/') + 1) + "temp-" + std::to_string(getpid()) + ".rdb";
  SnapshotResult result;
  const int64_t start = unix_time_ms();
  persistence::FileSink sink;
  if (!sink.open(temp, &result.error)) return result;
  if (target.commands) {
    std::string out = function_load_commands();
    for (size_t db = 0; db < server.shard(0).keyspace().size(); ++db) {
      bool selected = false;
      for (unsigned s = 0; s < server.shard_count(); ++s) {
        storage::Db& d = server.shard(s).keyspace().db(db);
        // The keys first: a lookup inside for_each could move the table's rehashing on under the walk.
        std::vector<std::string> keys;
        d.for_each(start, [&](std::string_view key, const storage::Value&) { keys.emplace_back(key); });
        for (const std::string& key : keys) {
          const storage::Value* v = d.peek(key, start);
          if (!v) continue;
          if (!selected) {
            aof_append_select(out, static_cast<int>(db));
            selected = true;
          }
          aof_rewrite_key(out, key, *v, d.expire_at(key));
          ++result.keys;
          if (out.size() >= kChunkBytes) {
            sink.write(out.data(), out.size());
            out.clear();
          }
        }
      }
    }
    if (!sink.write(out.data(), out.size()) || !sink.sync_and_close(&result.error)) {
      if (result.error.empty()) result.error = sink.error();
      ::unlink(temp.c_str());
      return result;
    }
    result.bytes = sink.bytes_written();
  } else {
    persistence::RdbWriter w(sink, writer_options(config, config.rdbchecksum));
    write_prelude(w, start, target.aof_base);
    std::vector<const storage::Db*> parts(server.shard_count());
    for (size_t db = 0; db < server.shard(0).keyspace().size(); ++db) {
      for (unsigned s = 0; s < server.shard_count(); ++s) parts[s] = &server.shard(s).keyspace().db(db);
      result.keys += w.write_db(db, parts, start);
    }
    if (!w.finish() || !sink.sync_and_close(&result.error)) {
      if (result.error.empty()) result.error = w.error();
      ::unlink(temp.c_str());
      return result;
    }
    result.bytes = w.bytes_written();
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    result.error = std::strerror(errno);
    ::unlink(temp.c_str());
    return result;
  }
  result.ok = true;
  result.duration_ms = unix_time_ms() - start;
  return result;
}

struct SequentialSnapshot::File {
  persistence::FileSink sink;
  std::unique_ptr<persistence::RdbWriter> writer;
};

SequentialSnapshot::SequentialSnapshot(Server& server)
    : server_(server), path_(snapshot_path(server.config())), start_ms_(unix_time_ms()),
      file_(std::make_unique<File>()) {
  temp_ = path_.substr(0, path_.rfind('/') + 1) + "temp-" + std::to_string(getpid()) + ".rdb";
  if (!file_->sink.open(temp_, &result_.error)) return;
  const Config& config = server.config();
  file_->writer = std::make_unique<persistence::RdbWriter>(file_->sink, writer_options(config, config.rdbchecksum));
  write_prelude(*file_->writer, start_ms_, false);
}

SequentialSnapshot::~SequentialSnapshot() {
  if (file_->writer && !finished_) ::unlink(temp_.c_str());
}

void SequentialSnapshot::write_shard(ShardThread& shard) {
  if (!file_->writer) return;
  for (size_t db = 0; db < shard.keyspace().size(); ++db) {
    const storage::Db* part = &shard.keyspace().db(db);
    result_.keys += file_->writer->write_db(db, std::span<const storage::Db* const>(&part, 1), start_ms_);
  }
}

SnapshotResult SequentialSnapshot::finish() {
  finished_ = true;
  if (!file_->writer) return result_;
  persistence::RdbWriter& w = *file_->writer;
  if (!w.finish() || !file_->sink.sync_and_close(&result_.error)) {
    if (result_.error.empty()) result_.error = w.error();
    ::unlink(temp_.c_str());
    return result_;
  }
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    result_.error = std::strerror(errno);
    ::unlink(temp_.c_str());
    return result_;
  }
  result_.ok = true;
  result_.bytes = w.bytes_written();
  result_.duration_ms = unix_time_ms() - start_ms_;
  PersistenceState& st = server_.persistence();
  st.lastsave_s.store(unix_time_ms() / 1000);
  st.dirty_at_last_save.store(server_.dirty_count());
  st.saves.fetch_add(1);
  st.last_bgsave_ok.store(true);
  note_bgsave_result(true);
  return result_;
}

SnapshotResult save_snapshot_stopped(Server& server) {
  SequentialSnapshot snapshot(server);
  for (unsigned s = 0; s < server.shard_count(); ++s) snapshot.write_shard(server.shard(s));
  return snapshot.finish();
}

namespace {

// Puts each loaded key on the shard that owns it.
// With `only_shard` set, keeps only that shard's keys (DEBUG RELOAD, where
// every shard reads the file on its own thread); `replace` lets a loaded key
// replace one already there (DEBUG RELOAD MERGE) instead of failing the load.
class ShardLoader final : public persistence::RdbLoadHandler {
 public:
  ShardLoader(Server& server, int64_t now_ms, ShardThread* only_shard = nullptr, bool replace = false)
      : server_(server), now_ms_(now_ms), only_shard_(only_shard), replace_(replace) {}
  bool on_key(std::string&& key, storage::Value&& value, const persistence::RdbKeyInfo& info,
              std::string* error) override {
    ShardThread& shard = server_.shard(shard_of_key(key, server_.shard_count()));
    if (only_shard_ && &shard != only_shard_) return true;
    if (info.expire_ms != storage::kNoExpiry && info.expire_ms <= now_ms_) {
      ++expired;  // as a Redis master does: expired keys are not loaded
      return true;
    }
    storage::Db& db = shard.keyspace().db(info.db);
    if (db.peek(key, now_ms_) != nullptr) {
      if (!replace_) {
        *error = fmt::format("Duplicate key '{}' found in RDB file", key);
        return false;
      }
      db.erase(key, now_ms_);
    }
    db.set(key, std::move(value)).restore_access(info.lru_idle_s, info.lfu_freq);
    if (info.expire_ms != storage::kNoExpiry) db.set_expire(key, info.expire_ms);
    ++loaded;
    return true;
  }
  // Function libraries are loaded by the loader of shard 0 only (there is
  // one set of them per server); `replace` as for keys.
  bool on_function(std::string&& code, std::string* error) override {
    if (only_shard_ && only_shard_->index() != 0) return true;
    std::string name_or_error;
    if (scripting::function_load(code, replace_, name_or_error)) return true;
    *error = fmt::format("Failed loading library: {}", name_or_error);
    return false;
  }
  uint64_t loaded = 0;
  uint64_t expired = 0;

 private:
  Server& server_;
  int64_t now_ms_;
  ShardThread* only_shard_;
  bool replace_;
};

persistence::RdbLoadOptions load_options(Server& server) {
  persistence::RdbLoadOptions options;
  options.databases = server.shard(0).keyspace().size();
  const Config& config = server.config();
  options.limits.list_fill = config.list_max_listpack_size.load(std::memory_order_relaxed);
  options.limits.set_max_intset_entries = config.set_max_intset_entries.load(std::memory_order_relaxed);
  options.limits.hash.max_listpack_entries = config.hash_max_listpack_entries.load(std::memory_order_relaxed);
  options.limits.hash.max_listpack_value = config.hash_max_listpack_value.load(std::memory_order_relaxed);
  options.limits.zset.max_listpack_entries = config.zset_max_listpack_entries.load(std::memory_order_relaxed);
  options.limits.zset.max_listpack_value = config.zset_max_listpack_value.load(std::memory_order_relaxed);
  return options;
}

}  // namespace

SnapshotLoadResult load_snapshot_into_shard(Server& server, ShardThread& shard, bool replace_existing) {
  SnapshotLoadResult result;
  const int64_t start = unix_time_ms();
  ShardLoader loader(server, start, &shard, replace_existing);
  auto r = persistence::load_rdb_file(snapshot_path(server.config()), loader, load_options(server));
  result.found = true;
  result.ok = r.ok;
  result.error = r.error;
  result.keys_loaded = loader.loaded;
  result.keys_expired = loader.expired;
  result.duration_ms = unix_time_ms() - start;
  return result;
}

SnapshotLoadResult load_snapshot_at_startup(Server& server) {
  SnapshotLoadResult result;
  const std::string path = snapshot_path(server.config());
  if (::access(path.c_str(), F_OK) != 0) return result;
  result.found = true;
  const int64_t start = unix_time_ms();
  ShardLoader loader(server, start);
  auto r = persistence::load_rdb_file(path, loader, load_options(server));
  result.ok = r.ok;
  result.error = r.error;
  result.keys_loaded = loader.loaded;
  result.keys_expired = loader.expired;
  result.duration_ms = unix_time_ms() - start;
  PersistenceState& st = server.persistence();
  st.last_load_keys_loaded.store(loader.loaded);
  st.last_load_keys_expired.store(loader.expired);
  st.lastsave_s.store(unix_time_ms() / 1000);
  return result;
}

}  // namespace distcache::server
