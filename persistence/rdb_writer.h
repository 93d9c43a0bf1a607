#pragma once
// Writing Redis 7.0 RDB data (format version 10): single values (DUMP, and
// later MIGRATE) and whole snapshot files (SAVE / BGSAVE / DEBUG RELOAD).
//
// Values are written in the encodings Redis 7.0 writes for the same
// in-memory encodings, so that redis-server loads them into the same
// encodings (and the output has about the size Redis's has):
//   string                       STRING (int8/16/32 when the text is such an
//                                integer, LZF when longer than 20 bytes and
//                                compression saves space)
//   list                         LIST_QUICKLIST_2: one listpack per node
//   set     intset / hashtable   SET_INTSET / SET
//   zset    listpack / skiplist  ZSET_LISTPACK / ZSET_2 (binary doubles)
//   hash    listpack / hashtable HASH_LISTPACK / HASH
//   stream                       STREAM_LISTPACKS_2 (blocks as listpacks,
//                                consumer groups, PELs, consumers)
//
// Output goes through an RdbWriter, which batches bytes in its own buffer
// (64 KiB by default) and hands full chunks to an RdbSink, computing the
// CRC-64 on the way. Two sinks are provided: StringSink (DUMP payloads,
// tests) and FileSink (write(2) + fsync).
//
// A snapshot file, as Redis writes it:
//
//   FileSink sink;
//   if (!sink.open(tmp_path, &err)) ...;
//   RdbWriter w(sink, {.compression = rdbcompression, .checksum = rdbchecksum});
//   w.write_header();
//   w.write_standard_aux({.ctime = time(nullptr), .used_mem = used, .aof_base = false});
//   for (each function library) w.write_function(code);
//   for (each database i with keys) {
//     w.write_select_db(i, keys, keys_with_ttl);
//     for (each key) w.write_key(key, value, expire_ms);   // or write_db()
//   }
//   if (!w.finish() || !sink.sync_and_close(&err)) ...;   // then rename(tmp, final)
//
// Every write_* call is a no-op once an I/O error happened; finish() (or
// ok()) reports it, error() says what it was.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/db.h"
#include "storage/value.h"

namespace distcache::storage {
class List;
class SetValue;
class ZSetValue;
class HashValue;
class StreamValue;
}  // namespace distcache::storage

namespace distcache::persistence {

// Where RdbWriter's bytes go.
class RdbSink {
 public:
  virtual ~RdbSink() = default;
  // Writes all n bytes; returns false on an error (the writer then stops).
  virtual bool write(const char* data, size_t n) = 0;
  // Description of the last error ("" if none).
  virtual std::string error() const { return {}; }
};

// Appends to a std::string.
class StringSink final : public RdbSink {
 public:
  explicit StringSink(std::string& out) : out_(out) {}
  bool write(const char* data, size_t n) override {
    out_.append(data, n);
    return true;
  }

 private:
  std::string& out_;
};

// Writes to a file with write(2) (retrying short writes and EINTR). The
// RdbWriter already batches its output into large chunks, so this sink does
// no buffering of its own.
class FileSink final : public RdbSink {
 public:
  FileSink() = default;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;
  ~FileSink() override;  // closes the file if still open (without fsync)

  // Creates or truncates `path` (mode 0644).
  bool open(const std::string& path, std::string* error = nullptr);
  // Takes over an already open descriptor (e.g. a pipe); closed by close().
  void attach(int fd) { fd_ = fd; }
  bool write(const char* data, size_t n) override;
  // fsync(2) then close(2). Returns false (and sets error) if either fails.
  bool sync_and_close(std::string* error = nullptr);
  // close(2) without fsync.
  void close();
  int fd() const { return fd_; }
  uint64_t bytes_written() const { return written_; }
  std::string error() const override { return error_; }

 private:
  int fd_ = -1;
  uint64_t written_ = 0;
  std::string error_;
};

struct RdbWriterOptions {
  bool compression = true;           // rdbcompression: LZF for strings > 20 bytes
  bool checksum = true;              // rdbchecksum: CRC-64 footer (else 8 zero bytes)
  size_t buffer_bytes = 64 * 1024;   // bytes batched before each sink write
  // Per-key access information in files, as Redis writes it under an LRU
  // (IDLE: seconds idle) or an LFU (FREQ: the decayed counter) maxmemory-policy.
  enum class AccessInfo { kNone, kIdle, kFreq } access_info = AccessInfo::kNone;
};

// The aux fields Redis writes at the start of every file.
struct RdbAuxInfo {
  int64_t ctime = 0;      // unix time in seconds
  int64_t used_mem = 0;   // bytes
  bool aof_base = false;  // the file is the base of a multi-part AOF
};

class RdbWriter {
 public:
  explicit RdbWriter(RdbSink& sink, RdbWriterOptions options = {});
  RdbWriter(const RdbWriter&) = delete;
  RdbWriter& operator=(const RdbWriter&) = delete;

  // ---- whole files
  void write_header();  // "REDIS0010"
  void write_aux(std::string_view field, std::string_view value);
  void write_aux(std::string_view field, int64_t value);
  // redis-ver (7.0.15), redis-bits, ctime, used-mem, aof-base, in Redis's order.
  void write_standard_aux(const RdbAuxInfo& info);
  // One function library (its full source code, "#!lua name=..."): FUNCTION2.
  void write_function(std::string_view library_code);
  // SELECTDB + RESIZEDB (key counts are only a sizing hint for the loader).
  void write_select_db(uint64_t db, uint64_t keys, uint64_t keys_with_expiry);
  // [EXPIRETIME_MS] type key value. expire_ms: unix ms, or storage::kNoExpiry.
  void write_key(std::string_view key, const storage::Value& value, int64_t expire_ms = storage::kNoExpiry);
  // Database `index` held by one or more Db parts (one per shard): SELECTDB,
  // RESIZEDB and every live key with its TTL. Nothing is written when all
  // parts are empty (as Redis skips empty databases). Returns keys written.
  uint64_t write_db(uint64_t index, std::span<const storage::Db* const> parts, int64_t now_ms);
  // EOF opcode, checksum footer, flush. Returns ok().
  bool finish();

  // ---- single values (DUMP)
  // The RDB object type byte Redis 7.0 uses for this value's encoding.
  static uint8_t object_type(const storage::Value& value);
  void write_object_type(const storage::Value& value) { write_byte(object_type(value)); }
  void write_object(const storage::Value& value);

  // ---- primitives
  void write_raw(const void* data, size_t n);
  void write_byte(uint8_t b) {
    if (pos_ == cap_) flush_buffer();
    buf_[pos_++] = static_cast<char>(b);
  }
  void write_len(uint64_t len);
  // A string as Redis writes it: int8/16/32 when it is such an integer
  // (canonical text, <= 11 bytes), LZF when compression is on, the string is
  // longer than 20 bytes and compression saves at least 5 bytes, else raw.
  void write_string(std::string_view s);
  void write_millis(int64_t ms);  // 8 bytes little endian
  void write_binary_double(double d);

  // CRC-64 of every byte written so far (0 when checksums are off).
  uint64_t checksum();
  // Pushes buffered bytes to the sink. Returns ok().
  bool flush();
  bool ok() const { return ok_; }
  std::string error() const { return sink_.error(); }
  uint64_t bytes_written() const { return flushed_ + pos_; }

 private:
  void flush_buffer();
  void write_list(const storage::List& l);
  void write_set(const storage::SetValue& s);
  void write_zset(const storage::ZSetValue& z);
  void write_hash(const storage::HashValue& h);
  void write_stream(const storage::StreamValue& s);
  void write_stream_id_raw(uint64_t ms, uint64_t seq);

  RdbSink& sink_;
  RdbWriterOptions options_;
  std::unique_ptr<char[]> buf_;
  size_t pos_ = 0;         // bytes pending in buf_
  size_t cap_ = 0;
  uint64_t crc_ = 0;       // of the bytes already flushed
  uint64_t flushed_ = 0;
  bool ok_ = true;
  // Scratch space reused across values (no per-key allocations).
  std::string lp_;          // a listpack being built
  std::unique_ptr<char[]> lzf_;  // LZF output
  size_t lzf_cap_ = 0;
  std::vector<std::string_view> names_;
};

}  // namespace distcache::persistence
