#pragma once
// Reading Redis RDB data, versions 1 to 10 (everything Redis 7.0 loads,
// modules aside): whole snapshot files (startup loading, DEBUG RELOAD, and
// later full resynchronisation) and single values (RESTORE, MIGRATE).
//
// Object types read: STRING, LIST (linked list), SET, ZSET (text scores),
// HASH, ZSET_2, HASH_ZIPMAP, LIST_ZIPLIST, SET_INTSET, ZSET_ZIPLIST,
// HASH_ZIPLIST, LIST_QUICKLIST (ziplist nodes), STREAM_LISTPACKS,
// HASH_LISTPACK, ZSET_LISTPACK, LIST_QUICKLIST_2, STREAM_LISTPACKS_2.
// Values are rebuilt into our own types with Redis 7.0's encoding rules at
// load time (from RdbValueLimits, i.e. the server's configuration):
//   - listpack-encoded hashes / sorted sets (and the ziplist and zipmap
//     forms) stay compact unless they have more entries than allowed; a
//     zipmap also converts for a too-long string;
//   - HASH / ZSET_2 / SET become compact when small enough (entries and
//     string lengths within the limits, sets all integers);
//   - an intset with more members than set-max-intset-entries converts;
//   - lists of any form become quicklists.
//
// The input is untrusted: the reader never reads out of bounds, never
// allocates more than the input can justify (string lengths are checked
// against the bytes left; LZF lengths against the maximum LZF ratio), and
// validates listpacks, ziplists, zipmaps and intsets completely (header
// sizes and counts, every entry's encoding and back-length, terminators,
// sort order and duplicates) before building anything from them, as Redis's
// deep sanitization does. Any problem is reported as an error; nothing is
// thrown to the caller.
//
// Loading a file:
//
//   struct Loader : RdbLoadHandler {
//     bool on_key(std::string&& key, storage::Value&& v, const RdbKeyInfo& info,
//                 std::string* error) override {
//       if (info.expire_ms != storage::kNoExpiry && info.expire_ms < now) return true;  // skip expired
//       db(info.db).set(key, std::move(v));  ... set_expire ...
//       return true;
//     }
//     bool on_function(std::string&& code, std::string* error) override { ... }
//   } loader;
//   RdbLoadResult r = load_rdb_file(path, loader, {.limits = limits_from_config, .databases = 16});
//   if (!r.ok) log(r.error);
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/db.h"
#include "storage/hash_value.h"
#include "storage/value.h"
#include "storage/zset_value.h"

namespace distcache::persistence {

// Encoding thresholds for values being built (the server's configuration:
// list-max-listpack-size, hash-max-listpack-*, set-max-intset-entries,
// zset-max-listpack-*). Defaults are Redis's.
struct RdbValueLimits {
  int64_t list_fill = -2;
  storage::HashLimits hash;
  size_t set_max_intset_entries = 512;
  storage::ZSetLimits zset;
};

// Where RDB bytes come from.
class RdbSource {
 public:
  virtual ~RdbSource() = default;
  // Reads up to n (> 0) bytes; returns the count read, 0 at the end of the
  // input, -1 on an error.
  virtual ptrdiff_t read(char* buf, size_t n) = 0;
  // Bytes left, when known: lengths read are checked against it before
  // anything is allocated. Unknown (a pipe, a socket): big strings are then
  // read in pieces so that a bogus length cannot allocate much.
  virtual std::optional<uint64_t> remaining() const { return std::nullopt; }
  virtual std::string error() const { return {}; }
};

// A file read with read(2).
class FileSource final : public RdbSource {
 public:
  FileSource() = default;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource() override;
  bool open(const std::string& path, std::string* error = nullptr);
  ptrdiff_t read(char* buf, size_t n) override;
  std::optional<uint64_t> remaining() const override;
  std::string error() const override { return error_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t pos_ = 0;
  bool size_known_ = false;
  std::string error_;
};

// Bytes in memory (they must outlive the load).
class MemorySource final : public RdbSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  ptrdiff_t read(char* buf, size_t n) override;
  std::optional<uint64_t> remaining() const override { return data_.size() - pos_; }
  std::string_view data() const { return data_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Per-key information from the opcodes before a key.
struct RdbKeyInfo {
  uint64_t db = 0;                           // the SELECTDB in effect
  int64_t expire_ms = storage::kNoExpiry;    // absolute unix ms (may be in the past)
  int64_t lru_idle_s = -1;                   // IDLE opcode, -1 if absent
  int lfu_freq = -1;                         // FREQ opcode, -1 if absent
};

// Receives what a file contains, in file order.
class RdbLoadHandler {
 public:
  virtual ~RdbLoadHandler() = default;
  virtual void on_aux(std::string_view field, std::string_view value) {}
  virtual void on_select_db(uint64_t db) {}
  virtual void on_resize_db(uint64_t keys, uint64_t keys_with_expiry) {}
  // A key and its value. Return false, with *error set, to abort the load.
  // Keys whose expire_ms has passed are delivered too (Redis's master drops
  // them, a replica keeps them): the handler decides.
  virtual bool on_key(std::string&& key, storage::Value&& value, const RdbKeyInfo& info, std::string* error) = 0;
  // A function library's source code (FUNCTION2). Return false to abort.
  virtual bool on_function(std::string&& library_code, std::string* error) { return true; }
};

struct RdbLoadOptions {
  RdbValueLimits limits;
  uint64_t databases = 16;        // a SELECTDB at or beyond this is an error
  bool verify_checksum = true;    // files saved without a checksum (0) are never checked
  size_t buffer_bytes = 256 * 1024;
};

struct RdbLoadResult {
  bool ok = false;
  // On failure: "Bad file format: <what> at offset <n>", "Unexpected end of
  // file at offset <n>", "RDB checksum mismatch (expected ..., file has ...)",
  // "Can't handle RDB format version <v>", an I/O error, or the handler's error.
  std::string error;
  int version = 0;
  uint64_t keys = 0;                // keys handed to on_key
  uint64_t empty_keys_skipped = 0;  // empty collections (skipped, as Redis does)
  uint64_t functions = 0;
  uint64_t bytes = 0;               // bytes consumed, checksum included
  bool checksum_checked = false;    // false when the file has no checksum (or checks are off)
};

RdbLoadResult load_rdb(RdbSource& source, RdbLoadHandler& handler, const RdbLoadOptions& options = {});
RdbLoadResult load_rdb_file(const std::string& path, RdbLoadHandler& handler, const RdbLoadOptions& options = {});

// ---- single values
enum class RdbValueStatus {
  kOk,
  kEmpty,    // a well-formed empty collection (Redis skips such keys in files; RESTORE rejects them)
  kCorrupt,  // *error says what is wrong
};

// Decodes one object of RDB type `type` (rdb_format.h) from the start of
// `data`. On kOk `out` holds the value and *consumed (if given) the bytes
// used. Never throws (running out of memory is reported as kCorrupt).
RdbValueStatus decode_rdb_object(uint8_t type, std::string_view data, const RdbValueLimits& limits,
                                 storage::Value& out, size_t* consumed = nullptr, std::string* error = nullptr);

}  // namespace distcache::persistence
