#pragma once
// The hash data type (HSET, HGET, ...): field -> value, both binary strings.
//
// Two representations, switched exactly when Redis 7.0 switches:
//
//  listpack   One contiguous malloc'd buffer:
//                 [uint32 pair count][field][value][field][value]...
//             each string written as a length prefix followed by its bytes:
//                 0xxxxxxx                      length 0..127 (1 byte)
//                 10xxxxxx xxxxxxxx             length 128..16383 (2 bytes)
//                 11000000 + uint32 LE          anything longer (5 bytes)
//             Pairs keep insertion order (updates stay in place, deletes close
//             the gap), as Redis's listpack does. Lookups are linear, which is
//             what Redis does too for these small sizes.
//
//  hashtable  A ChainedTable (incrementally rehashed, power-of-two buckets)
//             of single-allocation entries {next, field, value} with the same
//             length prefixes. Entries never move while they are linked, and a
//             value update reuses the entry when the new value fits in its
//             malloc chunk.
//
// Conversion listpack -> hashtable happens (and never back, as in Redis 7.0)
//  - before a write when any argument string is longer than
//    hash-max-listpack-value (commands call convert_if_args_exceed() with the
//    longest argument, as Redis's hashTypeTryConversion does for HSET/HMSET
//    and for HSETNX when the field is new; set() also checks its own field
//    and value, which covers HINCRBY / HINCRBYFLOAT),
//  - after a write when the pair count exceeds hash-max-listpack-entries,
//  - when the buffer would pass 1 GiB (Redis's listpack safety limit).
// The thresholds come from the caller (storage/ does not read the config).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/chained_table.h"
#include "storage/collection.h"
#include "storage/hash.h"

namespace distcache::storage {

struct HashLimits {
  size_t max_listpack_entries = 512;  // hash-max-listpack-entries (Redis default)
  size_t max_listpack_value = 64;     // hash-max-listpack-value
};

namespace hash_detail {

// The length-prefixed string format shared by listpack pairs and hashtable
// entries: 1 header byte for lengths < 128, 2 for < 16384, else 5.
inline size_t str_header_size(size_t len) { return len < 128 ? 1 : len < 16384 ? 2 : 5; }

inline char* write_str(char* p, std::string_view s) {
  const size_t len = s.size();
  if (len < 128) {
    *p++ = static_cast<char>(len);
  } else if (len < 16384) {
    *p++ = static_cast<char>(0x80 | (len >> 8));
    *p++ = static_cast<char>(len & 0xFF);
  } else {
    *p++ = static_cast<char>(0xC0);
    const uint32_t l = static_cast<uint32_t>(len);
    std::memcpy(p, &l, 4);
    p += 4;
  }
  if (len != 0) std::memcpy(p, s.data(), len);
  return p + len;
}

inline const char* read_str(const char* p, std::string_view& out) {
  const unsigned char b = static_cast<unsigned char>(*p);
  size_t len;
  if (b < 0x80) {
    len = b;
    p += 1;
  } else if (b < 0xC0) {
    len = (static_cast<size_t>(b & 0x3F) << 8) | static_cast<unsigned char>(p[1]);
    p += 2;
  } else {
    uint32_t l;
    std::memcpy(&l, p + 1, 4);
    len = l;
    p += 5;
  }
  out = std::string_view(p, len);
  return p + len;
}

}  // namespace hash_detail

// One hashtable entry, a single malloc block: the chain link followed by the
// field and the value, each length-prefixed as above (so a short pair costs
// 8 + 2 bytes of overhead: e.g. "field:1234"/"value:1234" fits glibc's 32-byte chunk).
struct HashEntry {
  HashEntry* next;

  char* data() { return reinterpret_cast<char*>(this + 1); }
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view field() const {
    std::string_view f;
    hash_detail::read_str(data(), f);
    return f;
  }
  std::string_view value() const {
    std::string_view f, v;
    hash_detail::read_str(hash_detail::read_str(data(), f), v);
    return v;
  }
  // Bytes needed for an entry holding this pair.
  static size_t bytes_for(std::string_view field, std::string_view value) {
    return sizeof(HashEntry) + hash_detail::str_header_size(field.size()) + field.size() +
           hash_detail::str_header_size(value.size()) + value.size();
  }
};
static_assert(sizeof(HashEntry) == 8);

struct HashEntryTraits {
  static HashEntry* next(const HashEntry* e) { return e->next; }
  static void set_next(HashEntry* e, HashEntry* n) { e->next = n; }
  static uint64_t hash(const HashEntry* e) { return hash_bytes(e->field()); }
};

class HashValue final : public Collection {
 public:
  enum class Encoding : uint8_t { kListpack, kHashtable };
  using Pair = std::pair<std::string_view, std::string_view>;
  using Table = ChainedTable<HashEntry, HashEntryTraits>;

  // Listpack beyond this many bytes converts (Redis: LISTPACK_MAX_SAFETY_SIZE).
  static constexpr size_t kListpackSafetyBytes = size_t{1} << 30;

  HashValue() = default;
  HashValue(const HashValue& other);
  HashValue& operator=(const HashValue&) = delete;
  ~HashValue() override;

  // --- Collection
  std::unique_ptr<Collection> clone() const override;
  std::string_view encoding_name() const override;
  // Bytes of every heap block owned, as glibc chunks: this object, the
  // listpack buffer or the table (entries and bucket arrays). O(1).
  size_t heap_bytes() const override;
  size_t length() const override;

  Encoding encoding() const { return enc_; }
  bool is_listpack() const { return enc_ == Encoding::kListpack; }

  // --- Reads. Returned views stay valid until the next modification.
  std::optional<std::string_view> get(std::string_view field) const;
  // Cache prefetch for a lookup of the field with hash h (hash_bytes) that
  // comes soon: stage 1 its bucket, stage 2 the first entry of the chain,
  // stage 3 the end of that entry's field (a long field crosses a cache
  // line). A listpack is one small buffer: nothing to do.
  void prefetch_field(uint64_t h, int stage) const;
  bool contains(std::string_view field) const { return get(field).has_value(); }

  // Calls fn(field, value) for every pair (listpack: insertion order). fn
  // must not modify the hash.
  template <class F>
  void for_each(F&& fn) const {
    if (enc_ == Encoding::kListpack) {
      const char* p = lp_begin();
      const char* end = lp_end();
      while (p < end) {
        std::string_view f, v;
        p = lp_read(p, f);
        p = lp_read(p, v);
        fn(f, v);
      }
    } else {
      ht_->table.for_each([&fn](const HashEntry* e) { fn(e->field(), e->value()); });
    }
  }

  // --- Writes
  // Redis's pre-write check: converts a listpack when an argument of
  // `longest` bytes exceeds the value limit, or when `total` more bytes could
  // push the buffer past the safety limit.
  void convert_if_args_exceed(size_t longest, size_t total, const HashLimits& limits);

  // Sets field to value. Returns true if the field was added, false if an
  // existing value was replaced. Converts as described above. Neither view
  // may point into this hash (writes can move its storage).
  bool set(std::string_view field, std::string_view value, const HashLimits& limits);

  // Removes a field; true if it was present. A listpack stays a listpack and
  // a hashtable stays a hashtable (it may shrink its bucket array).
  bool erase(std::string_view field);

  void convert_to_hashtable();

  // --- Random access (HRANDFIELD). The hash must not be empty.
  // One pair, uniformly at random.
  Pair random_pair(uint64_t& rng) const;
  // `count` pairs appended to out: with `distinct`, count distinct pairs
  // (count must be < length(); callers serve count >= length() themselves);
  // otherwise independent uniform draws (repetitions allowed).
  void random_pairs(size_t count, bool distinct, uint64_t& rng, std::vector<Pair>& out) const;

  // --- HSCAN. A listpack returns everything at once (cursor 0, whatever the
  // cursor given), as Redis does. A hashtable walks buckets in reverse-binary
  // cursor order, visiting buckets until about `count` pairs were seen (at most
  // count * 10 bucket visits), so that every field present for the whole
  // iteration is returned at least once even if the table resizes between
  // calls. fn(field, value) must not modify the hash.
  template <class F>
  uint64_t scan(uint64_t cursor, size_t count, F&& fn) const {
    if (enc_ == Encoding::kListpack) {
      for_each(fn);
      return 0;
    }
    // Like Redis, `seen` counts fields and values alike.
    size_t seen = 0;
    size_t iterations = count > SIZE_MAX / 10 ? SIZE_MAX : count * 10;
    auto visit = [&](HashEntry* e) {
      fn(e->field(), e->value());
      seen += 2;
    };
    do {
      cursor = ht_->table.scan(cursor, visit);
    } while (cursor != 0 && iterations-- > 0 && seen < count);
    return cursor;
  }

  // All pairs (views), in iteration order.
  std::vector<Pair> pairs() const;

  // Structural self-check for tests: "" when consistent.
  std::string validate() const;

 private:
  // Listpack helpers. buf_ layout: [uint32 count][entries]; size_ = bytes used.
  static size_t lp_header_size(size_t len) { return hash_detail::str_header_size(len); }
  static char* lp_write(char* p, std::string_view s) { return hash_detail::write_str(p, s); }
  static const char* lp_read(const char* p, std::string_view& out) { return hash_detail::read_str(p, out); }
  const char* lp_begin() const { return buf_ + 4; }
  const char* lp_end() const { return buf_ + size_; }
  uint32_t lp_count() const;
  void lp_set_count(uint32_t n);
  // Offset of the pair whose field equals `field`, or SIZE_MAX.
  size_t lp_find(std::string_view field) const;
  // Makes room for `extra` more bytes (keeps contents).
  void lp_reserve(size_t extra);
  // Replaces bytes [off, off+old_len) by new_len bytes (contents undefined).
  void lp_splice(size_t off, size_t old_len, size_t new_len);
  void lp_maybe_shrink();

  // Hashtable helpers.
  static HashEntry* new_entry(std::string_view field, std::string_view value);
  void free_entry(HashEntry* e);
  HashEntry* ht_find(std::string_view field, uint64_t h) const;
  void ht_insert_new(std::string_view field, std::string_view value, uint64_t h);

  void release();

  struct Ht {
    Table table;
    size_t entry_bytes = 0;  // glibc chunk bytes of all entries
  };

  // Listpack: buf_ (malloc'd, may be null when empty). Hashtable: ht_.
  union {
    char* buf_ = nullptr;
    Ht* ht_;
  };
  uint32_t size_ = 0;  // listpack bytes used (0 when buf_ is null)
  Encoding enc_ = Encoding::kListpack;
};

}  // namespace distcache::storage
