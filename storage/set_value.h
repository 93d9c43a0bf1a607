#pragma once
// Set values (SADD, SMEMBERS, SINTER, ...) with Redis 7.0's two
// representations, switched at the same moments as Redis switches them:
//
//  - "intset": while every member is a canonical 64-bit integer (as
//    parse_int64 accepts it) and there are at most set-max-intset-entries of
//    them: one heap block holding the integers sorted ascending, packed with
//    the smallest width (2, 4 or 8 bytes) that fits all of them. Adding an
//    integer that needs a wider type re-encodes the block ("upgrade"); the
//    width never shrinks again, as in Redis. A block built in one go (a
//    batch of SADD members, a copy) is sized exactly; one that grows a member
//    at a time steps through size classes (four per doubling, like
//    jemalloc's), so that inserts neither realloc every time nor leave a
//    trail of odd-sized holes. Up to 8 bytes of integers (4 small ones) are
//    kept inside the object itself, with no block at all. Inserting is O(n)
//    (a memmove), as in Redis; a batch is one O(n + m log m) merge.
//
//    The whole hashtable is rehashed at once when it grows or shrinks (no
//    incremental rehash as in Redis's dict): amortised O(1), but one SADD
//    that doubles a table of millions of members takes milliseconds.
//
//  - "hashtable": an open-addressing table (linear probing, backward-shift
//    deletion, no tombstones) of 16-byte slots. Members of up to 14 bytes live
//    inside the slot; longer ones in an exact-size heap block the slot points
//    to. Each slot also keeps one byte of the member's hash, so probes rarely
//    compare bytes of members that do not match. The table grows by doubling
//    when it would be more than 80% full and shrinks when under 1/8 full.
//
// An intset converts to a hashtable when a non-integer member is added or when
// it would exceed the entry limit; a hashtable never converts back by itself
// (SPOP with a large count rebuilds the set, see set_commands.cpp, as Redis
// 7.0 does).
//
// The object itself is 24 bytes (vtable pointer, data pointer, and one word
// packing the count, the representation and the table size).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "storage/chained_table.h"  // reverse_bits, next_random
#include "storage/collection.h"
#include "storage/hash.h"
#include "storage/numbers.h"

namespace distcache::storage {

namespace set_detail {

// A hashtable slot. Byte 15 is the tag: 0 = empty, 1..15 = inline member of
// length tag-1 in bytes 0..13 (zero-padded), 0xFF = heap member (bytes 0..7:
// pointer, bytes 8..13: length). Byte 14 is the top byte of the member's hash.
struct Slot {
  alignas(8) unsigned char b[16];
};
static_assert(sizeof(Slot) == 16);

inline constexpr unsigned char kEmptyTag = 0;
inline constexpr unsigned char kHeapTag = 0xFF;
inline constexpr size_t kInlineMax = 14;

inline bool slot_used(const Slot& s) { return s.b[15] != kEmptyTag; }

inline std::string_view slot_view(const Slot& s) {
  const unsigned char tag = s.b[15];
  if (tag != kHeapTag) return {reinterpret_cast<const char*>(s.b), static_cast<size_t>(tag - 1)};
  const char* p;
  std::memcpy(&p, s.b, sizeof p);
  uint64_t word;
  std::memcpy(&word, s.b + 8, 8);
  return {p, static_cast<size_t>(word & ((uint64_t{1} << 48) - 1))};
}

inline uint64_t member_hash(std::string_view m) { return hash_bytes(m); }

// The integer at index i of a packed intset block of the given width.
inline int64_t intset_get(const void* data, unsigned width, size_t i) {
  const unsigned char* p = static_cast<const unsigned char*>(data) + i * width;
  switch (width) {
    case 2: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

}  // namespace set_detail

class SetValue final : public Collection {
 public:
  enum class Encoding : uint8_t { kIntSet, kHashTable };
  // Buffer for the text form of an intset member.
  using NumBuf = char[kInt64StrSize];
  // Redis caps the intset limit at 2^30 entries whatever the configuration.
  static constexpr size_t kIntSetHardLimit = size_t{1} << 30;

  SetValue() noexcept : count_(0), kind_(2), shift_(0) {}
  SetValue(const SetValue& other);
  SetValue(SetValue&& other) noexcept;
  SetValue& operator=(const SetValue&) = delete;
  SetValue& operator=(SetValue&& other) noexcept;
  ~SetValue() override;
  void swap(SetValue& other) noexcept;

  // Collection
  std::unique_ptr<Collection> clone() const override;
  std::string_view encoding_name() const override;
  size_t heap_bytes() const override;
  size_t length() const override { return size(); }

  size_t size() const { return static_cast<size_t>(count_); }
  bool empty() const { return count_ == 0; }
  Encoding encoding() const { return kind_ == 0 ? Encoding::kHashTable : Encoding::kIntSet; }
  bool is_intset() const { return kind_ != 0; }
  // 2, 4 or 8 for an intset; 0 for a hashtable.
  unsigned intset_width() const { return static_cast<unsigned>(kind_); }
  // Slots of the hashtable (0 for an intset).
  size_t capacity() const { return is_intset() ? 0 : table_cap(); }

  // Adds `member`; false if it was already present. An intset becomes a
  // hashtable when `member` is not a canonical integer or when it would then
  // hold more than `max_intset_entries` members.
  bool add(std::string_view member, size_t max_intset_entries);
  // Adds several members; returns how many were new. The result (members and
  // representation) is the same as add() of each in turn, but an intset
  // takes a batch of integers in one merge and one allocation.
  size_t add_many(std::span<const std::string_view> members, size_t max_intset_entries);
  // Removes `member`; false if absent.
  bool remove(std::string_view member);
  bool contains(std::string_view member) const;
  // Cache prefetch for a lookup of the member with hash h (hash_bytes) that
  // comes soon: stage 1 its home slot, stage 2 the bytes of a long member
  // kept in that slot. An intset is one small block: nothing to do.
  void prefetch_member(uint64_t h, int stage) const;
  // Integer membership (cheaper on an intset).
  bool contains_int(int64_t v) const;

  // Switches to the hashtable representation (no-op if it already is one),
  // sized for `expected_size` members (at least the current count).
  void convert_to_hashtable(size_t expected_size = 0);

  // --- Positions: an intset has positions [0, size()), all occupied; a
  // hashtable has positions [0, capacity()), occupied or not. Positions stay
  // valid until the set is modified.
  size_t position_end() const { return is_intset() ? size() : table_cap(); }
  bool position_used(size_t pos) const {
    return is_intset() ? pos < size() : set_detail::slot_used(slots()[pos]);
  }
  // The member at an occupied position (rendered into `buf` for an intset).
  std::string_view member_at(size_t pos, NumBuf& buf) const {
    if (is_intset()) {
      const size_t n = format_int64(set_detail::intset_get(intset_data(), intset_width(), pos), buf);
      return {buf, n};
    }
    return set_detail::slot_view(slots()[pos]);
  }
  // The integer at a position of an intset.
  int64_t int_at(size_t pos) const { return set_detail::intset_get(intset_data(), intset_width(), pos); }
  // A uniformly random occupied position. Requires !empty().
  size_t random_position(uint64_t& rng) const;
  // Removes the member at an occupied position (other positions may change).
  void erase_position(size_t pos);

  // Calls fn(std::string_view member) for every member; intsets in ascending
  // order. The set must not be modified meanwhile.
  template <class F>
  void for_each(F&& fn) const {
    if (is_intset()) {
      NumBuf buf;
      const unsigned w = intset_width();
      const void* data = intset_data();
      for (size_t i = 0; i < size(); ++i) {
        const size_t n = format_int64(set_detail::intset_get(data, w, i), buf);
        fn(std::string_view(buf, n));
      }
      return;
    }
    const set_detail::Slot* s = slots();
    const size_t cap = table_cap();
    for (size_t i = 0; i < cap; ++i)
      if (set_detail::slot_used(s[i])) fn(set_detail::slot_view(s[i]));
  }

  // One SSCAN step. An intset is visited whole and 0 is returned. A hashtable
  // visits the members whose home slot is the one the cursor designates and
  // returns the next cursor (0 when the walk is complete). The cursor walks
  // home slots in reverse-binary order as Redis's dictScan walks buckets, so
  // every member present for the whole walk is visited at least once even if
  // the table grows or shrinks between steps.
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) const {
    if (is_intset()) {
      for_each(fn);
      return 0;
    }
    if (count_ == 0) return 0;
    const uint64_t mask = table_cap() - 1;
    const size_t home = static_cast<size_t>(cursor & mask);
    const set_detail::Slot* s = slots();
    // Members with this home slot sit in the run of occupied slots that
    // starts there (linear probing with backward-shift deletion).
    for (size_t i = home; set_detail::slot_used(s[i]); i = (i + 1) & mask) {
      const std::string_view m = set_detail::slot_view(s[i]);
      if ((set_detail::member_hash(m) & mask) == home) fn(m);
    }
    cursor |= ~mask;
    return reverse_bits(reverse_bits(cursor) + 1);
  }

  // Checks the representation's invariants; "" when fine.
  std::string validate() const;

 private:
  using Slot = set_detail::Slot;

  size_t table_cap() const { return size_t{1} << shift_; }
  Slot* slots() const { return static_cast<Slot*>(ptr_); }

  // intset. Payloads of up to kInlineIntsetBytes live in the bytes of ptr_.
  static constexpr size_t kInlineIntsetBytes = sizeof(void*);
  static bool intset_inline(size_t bytes) { return bytes <= kInlineIntsetBytes; }
  const void* intset_data() const {
    return intset_inline(size() * intset_width()) ? static_cast<const void*>(&ptr_) : ptr_;
  }
  // Makes room for `new_bytes` of payload, keeping the first
  // min(old_bytes, new_bytes) bytes; returns the payload's address.
  unsigned char* intset_resize(size_t old_bytes, size_t new_bytes);
  size_t intset_lower_bound(int64_t v, bool& found) const;
  bool intset_insert(int64_t v);
  bool intset_remove(int64_t v);
  void intset_erase_index(size_t i);

  // hashtable
  size_t table_find(std::string_view m, uint64_t h) const;  // index or SIZE_MAX
  void table_insert_new(std::string_view m, uint64_t h);    // m must be absent
  void table_erase_index(size_t i);
  void table_rehash(size_t new_cap);
  void table_maybe_shrink();
  size_t home_of(size_t i) const;

  void release() noexcept;

  void* ptr_ = nullptr;  // intset: packed integers; hashtable: Slot[capacity]
  uint64_t count_ : 48;
  uint64_t kind_ : 8;    // intset: width in bytes (2, 4, 8); hashtable: 0
  uint64_t shift_ : 8;   // hashtable: log2(capacity)
};

}  // namespace distcache::storage
