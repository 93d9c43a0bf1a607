#pragma once
// A sorted set (Redis type "zset") in one of Redis 7.0's two encodings:
//
//  * "listpack": one contiguous buffer of entries sorted by (score, member),
//    used while the set has at most zset-max-listpack-entries elements and no
//    member longer than zset-max-listpack-value bytes. Each entry is
//      varint(member length) member-bytes score
//    where the score takes 1 byte for small integers (-32..207), 3 or 5 bytes
//    for other 16/32-bit integers, 5 bytes for values exact as a float and 9
//    bytes otherwise, so an element costs less than in Redis's listpack. As in
//    Redis's listpack (which keeps scores as text), -0 reads back as 0.
//  * "skiplist": a ZSkipList (skip list with spans + member index), see
//    skiplist.h; O(log n) inserts, deletes, ranks and rank lookups.
//
// Conversion to "skiplist" happens exactly when Redis converts (an insert that
// would exceed either limit); like Redis, deletions never convert back, only
// the explicit maybe_convert_to_listpack() used by the *STORE commands.
//
// The thresholds are passed in by the caller (ZSetLimits); storage/ does not
// read the server configuration.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "storage/collection.h"
#include "storage/skiplist.h"

namespace distcache::storage {

struct ZSetLimits {
  size_t max_listpack_entries = 128;
  size_t max_listpack_value = 64;
};

// A score interval as ZRANGEBYSCORE takes it ("(1" = exclusive).
struct ZScoreRange {
  double min = 0, max = 0;
  bool minex = false, maxex = false;
  bool gte_min(double v) const { return minex ? v > min : v >= min; }
  bool lte_max(double v) const { return maxex ? v < max : v <= max; }
  // Redis treats these as empty before looking at the data.
  bool empty() const { return min > max || (min == max && (minex || maxex)); }
};

// One end of a lex interval: "-" (below everything), "+" (above everything),
// or a member, inclusive ('[') or exclusive ('(').
struct ZLexBound {
  enum Kind : uint8_t { kMinusInf, kPlusInf, kValue };
  Kind kind = kMinusInf;
  bool ex = false;
  std::string_view value;  // for kValue; must outlive the range's use
};

// Redis's sdscmplex: -/+ compare below/above every string and equal to
// themselves only.
inline int lex_compare(const ZLexBound& a, const ZLexBound& b) {
  if (a.kind == b.kind && a.kind != ZLexBound::kValue) return 0;
  if (a.kind == ZLexBound::kMinusInf || b.kind == ZLexBound::kPlusInf) return -1;
  if (a.kind == ZLexBound::kPlusInf || b.kind == ZLexBound::kMinusInf) return 1;
  const int c = a.value.compare(b.value);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}
inline int lex_compare(std::string_view v, const ZLexBound& b) {
  if (b.kind == ZLexBound::kMinusInf) return 1;
  if (b.kind == ZLexBound::kPlusInf) return -1;
  const int c = v.compare(b.value);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

struct ZLexRange {
  ZLexBound min, max;
  bool gte_min(std::string_view v) const { return min.ex ? lex_compare(v, min) > 0 : lex_compare(v, min) >= 0; }
  bool lte_max(std::string_view v) const { return max.ex ? lex_compare(v, max) < 0 : lex_compare(v, max) <= 0; }
  bool empty() const {
    const int c = lex_compare(min, max);
    return c > 0 || (c == 0 && (min.ex || max.ex));
  }
};

// The listpack entry codec (exposed for the inline iteration below).
namespace zset_lp {

enum : uint8_t { kTagInt16 = 0xF0, kTagInt32 = 0xF1, kTagFloat = 0xF2, kTagDouble = 0xF3 };
inline constexpr int kSmallBias = 32;  // tag bytes 0x00..0xEF hold integers -32..207

// Bytes the score encoding of `s` takes, written to `out` if non-null.
size_t encode_score(double s, uint8_t* out);

inline const uint8_t* read_varint(const uint8_t* p, uint32_t& v) {
  uint32_t r = 0;
  int shift = 0;
  while (*p & 0x80) {
    r |= static_cast<uint32_t>(*p++ & 0x7F) << shift;
    shift += 7;
  }
  v = r | (static_cast<uint32_t>(*p++) << shift);
  return p;
}

inline const uint8_t* decode_score(const uint8_t* p, double& s) {
  const uint8_t tag = *p++;
  if (tag < kTagInt16) {
    s = static_cast<int>(tag) - kSmallBias;
    return p;
  }
  switch (tag) {
    case kTagInt16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      s = v;
      return p + 2;
    }
    case kTagInt32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      s = v;
      return p + 4;
    }
    case kTagFloat: {
      float v;
      std::memcpy(&v, p, 4);
      s = v;
      return p + 4;
    }
    default: {
      std::memcpy(&s, p, 8);
      return p + 8;
    }
  }
}

// Decodes the entry at p; returns the position after it.
inline const uint8_t* decode(const uint8_t* p, std::string_view& member, double& score) {
  uint32_t len;
  p = read_varint(p, len);
  member = std::string_view(reinterpret_cast<const char*>(p), len);
  return decode_score(p + len, score);
}

}  // namespace zset_lp

class ZSetValue final : public Collection {
 public:
  enum class Encoding : uint8_t { kListpack, kSkiplist };

  struct Entry {
    std::string_view member;
    double score;
  };

  explicit ZSetValue(Encoding e = Encoding::kListpack);
  ZSetValue(const ZSetValue& other);
  ZSetValue& operator=(const ZSetValue&) = delete;
  ~ZSetValue() override;

  // Builds a set from entries sorted by (score, member) without duplicates.
  static std::unique_ptr<ZSetValue> from_sorted(std::span<const Entry> sorted, Encoding e);

  // Collection
  std::unique_ptr<Collection> clone() const override;
  std::string_view encoding_name() const override;
  size_t heap_bytes() const override;
  size_t length() const override { return size(); }

  size_t size() const { return sl_ ? sl_->size() : lp_count_; }
  bool is_listpack() const { return sl_ == nullptr; }
  // Cache prefetch for a lookup of the member with hash h (hash_bytes) that
  // comes soon (stages 1..3, see ZSkipList::prefetch_member). A listpack is
  // one small buffer: nothing to do.
  void prefetch_member(uint64_t h, int stage) const {
    if (sl_) sl_->prefetch_member(h, stage);
  }

  // --- updates (Redis's zsetAdd)
  enum AddFlag : unsigned { kAddNx = 1, kAddXx = 2, kAddGt = 4, kAddLt = 8, kAddIncr = 16 };
  enum class AddResult {
    kAdded,      // new member
    kUpdated,    // score changed
    kUnchanged,  // present, score equal (counts as processed)
    kNop,        // skipped because of NX/XX/GT/LT
    kNaN,        // the score (or the incremented score) is NaN: nothing done
  };
  // `newscore` receives the member's score after an added/updated/unchanged.
  AddResult add(double score, std::string_view member, unsigned flags, const ZSetLimits& limits,
                double* newscore = nullptr);
  bool erase(std::string_view member);
  // Removes 0-based ranks [first, last] (clamped); returns how many.
  size_t erase_ranks(size_t first, size_t last);

  // --- lookups
  bool score(std::string_view member, double& out) const;
  bool contains(std::string_view member) const {
    double ignored;
    return score(member, ignored);
  }
  // 0-based rank, counted from the lowest (or the highest when reverse).
  bool rank(std::string_view member, bool reverse, size_t& out) const;
  Entry at(size_t rank) const;  // 0-based, rank < size()

  // Boundaries of a range as Redis finds them (0-based ranks): the first is
  // the lowest element >= min, valid if <= max; the last is the highest
  // element <= max, valid if >= min.
  //
  // Lex ranges are meant for sets whose scores are all equal (members are
  // then in order). Over mixed scores Redis's answer depends on how it scans:
  // a listpack is scanned linearly (from the head for the first element,
  // from the tail for the last one), a skip list by a descent whose shortcuts
  // depend on random node levels. For mixed scores in a skiplist this class
  // answers as a skip list whose nodes all have one level (a linear scan from
  // the head for both ends), Redis's single most likely structure; with
  // equal scores it uses the O(log n) descent, which then gives the same
  // answers.
  bool first_in_range(const ZScoreRange& r, size_t& rank) const;
  bool last_in_range(const ZScoreRange& r, size_t& rank) const;
  bool first_in_range(const ZLexRange& r, size_t& rank) const;
  bool last_in_range(const ZLexRange& r, size_t& rank) const;
  // Where ZREMRANGEBYLEX starts deleting: like first_in_range, except that a
  // skiplist skips the preliminary "range intersects the set" check (Redis's
  // skiplist deletion does not make it).
  bool first_to_delete(const ZLexRange& r, size_t& rank) const;

  // Visits elements starting at 0-based rank `start`, towards higher ranks
  // (or lower ones when reverse). fn(std::string_view member, double score)
  // may return bool: false stops the walk.
  template <class F>
  void walk(size_t start, bool reverse, F&& fn) const;

  // --- encodings
  void convert_to_skiplist();
  void convert_to_listpack();
  // Redis's zsetConvertToListpackIfNeeded (used for *STORE destinations).
  void maybe_convert_to_listpack(const ZSetLimits& limits);
  size_t max_member_len() const;

  // ZSCAN step: a listpack is returned whole (next cursor 0), a skiplist is
  // scanned through its member index. fn(std::string_view, double).
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) {
    if (is_listpack()) {
      walk(0, false, [&](std::string_view m, double s) { fn(m, s); });
      return 0;
    }
    return sl_->scan(cursor, [&](const ZSkipList::Node* n) { fn(n->member(), n->score); });
  }

  // For tests: "" when every invariant holds.
  std::string validate() const;

 private:
  // The first element (in list order) with member >= min, if any.
  bool lex_first_gte_min(const ZLexRange& r, size_t& rank) const;
  bool lex_range_intersects(const ZLexRange& r) const;
  bool uniform_scores() const { return sl_ && sl_->size() > 0 && sl_->first()->score == sl_->last()->score; }

  // listpack helpers
  bool lp_find(std::string_view member, size_t& offset, size_t& entry_size, double& score, size_t* rank) const;
  void lp_insert(std::string_view member, double score);
  void lp_erase(size_t offset, size_t bytes);
  void lp_reserve(size_t bytes);
  const uint8_t* lp_begin() const { return lp_; }
  const uint8_t* lp_end() const { return lp_ + lp_bytes_; }

  template <class F>
  static bool call(F& fn, std::string_view m, double s) {
    if constexpr (std::is_same_v<decltype(fn(m, s)), bool>)
      return fn(m, s);
    else {
      fn(m, s);
      return true;
    }
  }

  uint8_t* lp_ = nullptr;   // listpack buffer (malloc'ed), nullptr when empty or skiplist
  uint32_t lp_bytes_ = 0;
  uint32_t lp_count_ = 0;
  ZSkipList* sl_ = nullptr;  // non-null in the skiplist encoding
};

template <class F>
void ZSetValue::walk(size_t start, bool reverse, F&& fn) const {
  if (start >= size()) return;
  if (sl_) {
    const ZSkipList::Node* n = sl_->at_rank(start + 1);
    while (n) {
      if (!call(fn, n->member(), n->score)) return;
      n = reverse ? n->prev() : n->next();
    }
    return;
  }
  const uint8_t* p = lp_begin();
  std::string_view m;
  double s;
  if (!reverse) {
    size_t i = 0;
    for (; i < start; ++i) p = zset_lp::decode(p, m, s);
    for (; i < lp_count_; ++i) {
      p = zset_lp::decode(p, m, s);
      if (!call(fn, m, s)) return;
    }
    return;
  }
  // Entries can only be decoded forwards: remember where each one starts.
  uint32_t small[256];
  std::vector<uint32_t> big;
  uint32_t* offs = small;
  if (start + 1 > std::size(small)) {
    big.resize(start + 1);
    offs = big.data();
  }
  for (size_t i = 0; i <= start; ++i) {
    offs[i] = static_cast<uint32_t>(p - lp_begin());
    p = zset_lp::decode(p, m, s);
  }
  for (size_t i = start + 1; i-- > 0;) {
    zset_lp::decode(lp_begin() + offs[i], m, s);
    if (!call(fn, m, s)) return;
  }
}

}  // namespace distcache::storage
