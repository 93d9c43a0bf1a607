#include "storage/zset_value.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>

namespace distcache::storage {

namespace zset_lp {

size_t encode_score(double s, uint8_t* out) {
  // Integers in 32-bit range. Like Redis's listpack (which stores scores as
  // text, "-0" as "0"), -0 is stored as 0.
  if (s >= -2147483648.0 && s <= 2147483647.0 && s == std::floor(s)) {
    const int32_t v = static_cast<int32_t>(s);
    if (v >= -kSmallBias && v < kTagInt16 - kSmallBias) {
      if (out) out[0] = static_cast<uint8_t>(v + kSmallBias);
      return 1;
    }
    if (v >= INT16_MIN && v <= INT16_MAX) {
      if (out) {
        const int16_t w = static_cast<int16_t>(v);
        out[0] = kTagInt16;
        std::memcpy(out + 1, &w, 2);
      }
      return 3;
    }
    if (out) {
      out[0] = kTagInt32;
      std::memcpy(out + 1, &v, 4);
    }
    return 5;
  }
  const float f = static_cast<float>(s);
  if (static_cast<double>(f) == s) {  // includes +-inf and -0
    if (out) {
      out[0] = kTagFloat;
      std::memcpy(out + 1, &f, 4);
    }
    return 5;
  }
  if (out) {
    out[0] = kTagDouble;
    std::memcpy(out + 1, &s, 8);
  }
  return 9;
}

namespace {

size_t varint_size(uint32_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

uint8_t* write_varint(uint8_t* p, uint32_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

size_t entry_size(std::string_view member, double score) {
  return varint_size(static_cast<uint32_t>(member.size())) + member.size() + encode_score(score, nullptr);
}

uint8_t* write_entry(uint8_t* p, std::string_view member, double score) {
  p = write_varint(p, static_cast<uint32_t>(member.size()));
  if (!member.empty()) std::memcpy(p, member.data(), member.size());
  p += member.size();
  return p + encode_score(score, p);
}

}  // namespace
}  // namespace zset_lp

namespace {

// Redis refuses to grow a listpack past 1 GiB (lpSafeToAdd).
constexpr size_t kListpackSafetySize = size_t{1} << 30;

inline bool entry_less(double s1, std::string_view m1, double s2, std::string_view m2) {
  return s1 < s2 || (s1 == s2 && m1 < m2);
}

}  // namespace

ZSetValue::ZSetValue(Encoding e) {
  if (e == Encoding::kSkiplist) sl_ = new ZSkipList();
}

ZSetValue::ZSetValue(const ZSetValue& other) : Collection() {
  if (other.sl_) {
    sl_ = new ZSkipList(*other.sl_);
  } else if (other.lp_bytes_ != 0) {
    lp_ = static_cast<uint8_t*>(std::malloc(other.lp_bytes_));
    if (!lp_) throw std::bad_alloc();
    std::memcpy(lp_, other.lp_, other.lp_bytes_);
    lp_bytes_ = other.lp_bytes_;
    lp_count_ = other.lp_count_;
  }
}

ZSetValue::~ZSetValue() {
  std::free(lp_);
  delete sl_;
}

std::unique_ptr<ZSetValue> ZSetValue::from_sorted(std::span<const Entry> sorted, Encoding e) {
  auto z = std::make_unique<ZSetValue>(e);
  if (e == Encoding::kSkiplist) {
    for (const Entry& x : sorted) z->sl_->insert(x.score, x.member);
    return z;
  }
  size_t bytes = 0;
  for (const Entry& x : sorted) bytes += zset_lp::entry_size(x.member, x.score);
  if (bytes == 0) return z;
  z->lp_reserve(bytes);
  uint8_t* p = z->lp_;
  for (const Entry& x : sorted) p = zset_lp::write_entry(p, x.member, x.score);
  z->lp_bytes_ = static_cast<uint32_t>(bytes);
  z->lp_count_ = static_cast<uint32_t>(sorted.size());
  return z;
}

std::unique_ptr<Collection> ZSetValue::clone() const { return std::make_unique<ZSetValue>(*this); }

std::string_view ZSetValue::encoding_name() const { return sl_ ? "skiplist" : "listpack"; }

size_t ZSetValue::heap_bytes() const { return sizeof(ZSetValue) + (sl_ ? sl_->heap_bytes() : lp_bytes_); }

// ---------------------------------------------------------------------------
// listpack internals

void ZSetValue::lp_reserve(size_t bytes) {
  void* p = std::realloc(lp_, bytes);
  if (!p) throw std::bad_alloc();
  lp_ = static_cast<uint8_t*>(p);
}

bool ZSetValue::lp_find(std::string_view member, size_t& offset, size_t& entry_size, double& score,
                        size_t* rank) const {
  const uint8_t* p = lp_begin();
  const uint8_t* end = lp_end();
  size_t i = 0;
  while (p < end) {
    std::string_view m;
    double s;
    const uint8_t* next = zset_lp::decode(p, m, s);
    if (m == member) {
      offset = static_cast<size_t>(p - lp_begin());
      entry_size = static_cast<size_t>(next - p);
      score = s;
      if (rank) *rank = i;
      return true;
    }
    p = next;
    ++i;
  }
  return false;
}

void ZSetValue::lp_insert(std::string_view member, double score) {
  // Position: before the first entry greater than (score, member).
  const uint8_t* p = lp_begin();
  const uint8_t* end = lp_end();
  while (p < end) {
    std::string_view m;
    double s;
    const uint8_t* next = zset_lp::decode(p, m, s);
    if (entry_less(score, member, s, m)) break;
    p = next;
  }
  const size_t offset = static_cast<size_t>(p - lp_begin());
  const size_t add = zset_lp::entry_size(member, score);
  lp_reserve(lp_bytes_ + add);
  std::memmove(lp_ + offset + add, lp_ + offset, lp_bytes_ - offset);
  zset_lp::write_entry(lp_ + offset, member, score);
  lp_bytes_ += static_cast<uint32_t>(add);
  ++lp_count_;
}

void ZSetValue::lp_erase(size_t offset, size_t bytes) {
  std::memmove(lp_ + offset, lp_ + offset + bytes, lp_bytes_ - offset - bytes);
  lp_bytes_ -= static_cast<uint32_t>(bytes);
  --lp_count_;
  if (lp_bytes_ == 0) {
    std::free(lp_);
    lp_ = nullptr;
  } else {
    lp_reserve(lp_bytes_);
  }
}

// ---------------------------------------------------------------------------
// updates

ZSetValue::AddResult ZSetValue::add(double score, std::string_view member, unsigned flags,
                                    const ZSetLimits& limits, double* newscore) {
  const bool incr = flags & kAddIncr, nx = flags & kAddNx, xx = flags & kAddXx;
  const bool gt = flags & kAddGt, lt = flags & kAddLt;
  if (std::isnan(score)) return AddResult::kNaN;

  if (!sl_) {
    size_t offset, bytes;
    double cur;
    if (lp_find(member, offset, bytes, cur, nullptr)) {
      if (nx) return AddResult::kNop;
      if (incr) {
        score += cur;
        if (std::isnan(score)) return AddResult::kNaN;
      }
      if ((lt && score >= cur) || (gt && score <= cur)) return AddResult::kNop;
      if (newscore) *newscore = score;
      if (score != cur) {
        lp_erase(offset, bytes);
        lp_insert(member, score);
        return AddResult::kUpdated;
      }
      return AddResult::kUnchanged;
    }
    if (xx) return AddResult::kNop;
    if (lp_count_ + size_t{1} > limits.max_listpack_entries || member.size() > limits.max_listpack_value ||
        lp_bytes_ + member.size() > kListpackSafetySize) {
      convert_to_skiplist();
    } else {
      lp_insert(member, score);
      if (newscore) *newscore = score;
      return AddResult::kAdded;
    }
  }

  ZSkipList::Node* n = sl_->find(member);
  if (n) {
    if (nx) return AddResult::kNop;
    const double cur = n->score;
    if (incr) {
      score += cur;
      if (std::isnan(score)) return AddResult::kNaN;
    }
    if ((lt && score >= cur) || (gt && score <= cur)) return AddResult::kNop;
    if (newscore) *newscore = score;
    if (score != cur) {
      sl_->update_score(n, score);
      return AddResult::kUpdated;
    }
    return AddResult::kUnchanged;
  }
  if (xx) return AddResult::kNop;
  sl_->insert(score, member);
  if (newscore) *newscore = score;
  return AddResult::kAdded;
}

bool ZSetValue::erase(std::string_view member) {
  if (sl_) return sl_->erase(member);
  size_t offset, bytes;
  double s;
  if (!lp_find(member, offset, bytes, s, nullptr)) return false;
  lp_erase(offset, bytes);
  return true;
}

size_t ZSetValue::erase_ranks(size_t first, size_t last) {
  const size_t n = size();
  if (n == 0 || first >= n || first > last) return 0;
  if (last >= n) last = n - 1;
  if (sl_) return sl_->erase_rank_range(first + 1, last + 1);
  const uint8_t* p = lp_begin();
  std::string_view m;
  double s;
  size_t i = 0;
  for (; i < first; ++i) p = zset_lp::decode(p, m, s);
  const uint8_t* q = p;
  for (; i <= last; ++i) q = zset_lp::decode(q, m, s);
  const size_t from = static_cast<size_t>(p - lp_begin());
  const size_t bytes = static_cast<size_t>(q - p);
  std::memmove(lp_ + from, lp_ + from + bytes, lp_bytes_ - from - bytes);
  lp_bytes_ -= static_cast<uint32_t>(bytes);
  lp_count_ -= static_cast<uint32_t>(last - first + 1);
  if (lp_bytes_ == 0) {
    std::free(lp_);
    lp_ = nullptr;
  } else {
    lp_reserve(lp_bytes_);
  }
  return last - first + 1;
}

// ---------------------------------------------------------------------------
// lookups

bool ZSetValue::score(std::string_view member, double& out) const {
  if (sl_) {
    const ZSkipList::Node* n = sl_->find(member);
    if (!n) return false;
    out = n->score;
    return true;
  }
  size_t offset, bytes;
  return lp_find(member, offset, bytes, out, nullptr);
}

bool ZSetValue::rank(std::string_view member, bool reverse, size_t& out) const {
  const size_t n = size();
  size_t r;
  if (sl_) {
    const ZSkipList::Node* node = sl_->find(member);
    if (!node) return false;
    r = sl_->rank_of(node) - 1;
  } else {
    size_t offset, bytes;
    double s;
    if (!lp_find(member, offset, bytes, s, &r)) return false;
  }
  out = reverse ? n - 1 - r : r;
  return true;
}

ZSetValue::Entry ZSetValue::at(size_t rank) const {
  Entry e{};
  walk(rank, false, [&](std::string_view m, double s) {
    e = Entry{m, s};
    return false;
  });
  return e;
}

bool ZSetValue::first_in_range(const ZScoreRange& r, size_t& rank) const {
  if (size() == 0 || r.empty()) return false;
  if (sl_) {
    if (!r.gte_min(sl_->last()->score) || !r.lte_max(sl_->first()->score)) return false;
    size_t rk;
    const ZSkipList::Node* n = sl_->first_not_before([&](const ZSkipList::Node* x) { return !r.gte_min(x->score); }, rk);
    if (!n || !r.lte_max(n->score)) return false;
    rank = rk - 1;
    return true;
  }
  size_t i = 0;
  bool found = false;
  walk(0, false, [&](std::string_view, double s) {
    if (r.gte_min(s)) {
      found = r.lte_max(s);
      return false;
    }
    ++i;
    return true;
  });
  if (found) rank = i;
  return found;
}

bool ZSetValue::last_in_range(const ZScoreRange& r, size_t& rank) const {
  if (size() == 0 || r.empty()) return false;
  if (sl_) {
    if (!r.gte_min(sl_->last()->score) || !r.lte_max(sl_->first()->score)) return false;
    size_t rk;
    const ZSkipList::Node* n = sl_->last_within([&](const ZSkipList::Node* x) { return r.lte_max(x->score); }, rk);
    if (!n || !r.gte_min(n->score)) return false;
    rank = rk - 1;
    return true;
  }
  // The highest-ranked element <= max (scanning backwards from the tail).
  size_t i = 0, last = 0;
  bool any = false;
  double last_score = 0;
  walk(0, false, [&](std::string_view, double s) {
    if (r.lte_max(s)) {
      any = true;
      last = i;
      last_score = s;
    }
    ++i;
  });
  if (!any || !r.gte_min(last_score)) return false;
  rank = last;
  return true;
}

// Redis first checks that the last element is >= min and the first <= max.
bool ZSetValue::lex_range_intersects(const ZLexRange& r) const {
  if (size() == 0 || r.empty()) return false;
  if (sl_) return r.gte_min(sl_->last()->member()) && r.lte_max(sl_->first()->member());
  return r.gte_min(at(size() - 1).member) && r.lte_max(at(0).member);
}

bool ZSetValue::lex_first_gte_min(const ZLexRange& r, size_t& rank) const {
  if (uniform_scores()) {
    size_t rk;
    const ZSkipList::Node* n =
        sl_->first_not_before([&](const ZSkipList::Node* x) { return !r.gte_min(x->member()); }, rk);
    if (!n) return false;
    rank = rk - 1;
    return true;
  }
  size_t i = 0;
  bool found = false;
  walk(0, false, [&](std::string_view m, double) {
    if (r.gte_min(m)) {
      found = true;
      return false;
    }
    ++i;
    return true;
  });
  if (found) rank = i;
  return found;
}

bool ZSetValue::first_in_range(const ZLexRange& r, size_t& rank) const {
  if (!lex_range_intersects(r)) return false;
  size_t first;
  if (!lex_first_gte_min(r, first) || !r.lte_max(at(first).member)) return false;
  rank = first;
  return true;
}

bool ZSetValue::first_to_delete(const ZLexRange& r, size_t& rank) const {
  if (!sl_) return first_in_range(r, rank);
  if (size() == 0) return false;
  return lex_first_gte_min(r, rank);
}

bool ZSetValue::last_in_range(const ZLexRange& r, size_t& rank) const {
  if (!lex_range_intersects(r)) return false;
  size_t last = 0;
  bool any = false;
  if (uniform_scores()) {
    size_t rk;
    const ZSkipList::Node* n = sl_->last_within([&](const ZSkipList::Node* x) { return r.lte_max(x->member()); }, rk);
    if (n) {
      any = true;
      last = rk - 1;
    }
  } else if (sl_) {
    // A one-level skip list: the end of the leading run of members <= max.
    size_t i = 0;
    walk(0, false, [&](std::string_view m, double) {
      if (!r.lte_max(m)) return false;
      any = true;
      last = i++;
      return true;
    });
  } else {
    // A listpack is scanned from the tail: the highest-ranked member <= max.
    size_t i = 0;
    walk(0, false, [&](std::string_view m, double) {
      if (r.lte_max(m)) {
        any = true;
        last = i;
      }
      ++i;
    });
  }
  if (!any || !r.gte_min(at(last).member)) return false;
  rank = last;
  return true;
}

// ---------------------------------------------------------------------------
// encodings

void ZSetValue::convert_to_skiplist() {
  if (sl_) return;
  auto* sl = new ZSkipList();
  walk(0, false, [&](std::string_view m, double s) { sl->insert(s, m); });
  std::free(lp_);
  lp_ = nullptr;
  lp_bytes_ = 0;
  lp_count_ = 0;
  sl_ = sl;
}

void ZSetValue::convert_to_listpack() {
  if (!sl_) return;
  std::vector<Entry> entries;
  entries.reserve(sl_->size());
  for (const ZSkipList::Node* n = sl_->first(); n; n = n->next()) entries.push_back(Entry{n->member(), n->score});
  std::unique_ptr<ZSetValue> lp = from_sorted(entries, Encoding::kListpack);
  delete sl_;
  sl_ = nullptr;
  lp_ = lp->lp_;
  lp_bytes_ = lp->lp_bytes_;
  lp_count_ = lp->lp_count_;
  lp->lp_ = nullptr;
  lp->lp_bytes_ = 0;
  lp->lp_count_ = 0;
}

void ZSetValue::maybe_convert_to_listpack(const ZSetLimits& limits) {
  if (!sl_) return;
  if (sl_->size() > limits.max_listpack_entries) return;
  size_t maxlen = 0, total = 0;
  for (const ZSkipList::Node* n = sl_->first(); n; n = n->next()) {
    maxlen = std::max<size_t>(maxlen, n->mlen);
    total += n->mlen;
  }
  if (maxlen > limits.max_listpack_value || total > kListpackSafetySize) return;
  convert_to_listpack();
}

size_t ZSetValue::max_member_len() const {
  size_t m = 0;
  walk(0, false, [&](std::string_view member, double) { m = std::max(m, member.size()); });
  return m;
}

std::string ZSetValue::validate() const {
  if (sl_) {
    if (lp_ || lp_bytes_ || lp_count_) return "listpack fields set in skiplist encoding";
    return sl_->validate();
  }
  const uint8_t* p = lp_begin();
  size_t count = 0;
  std::string_view pm;
  double ps = 0;
  while (p < lp_end()) {
    std::string_view m;
    double s;
    p = zset_lp::decode(p, m, s);
    if (count > 0 && !entry_less(ps, pm, s, m)) return "listpack order violated";
    pm = m;
    ps = s;
    ++count;
  }
  if (p != lp_end()) return "listpack overrun";
  if (count != lp_count_) return "listpack count mismatch";
  if ((lp_bytes_ == 0) != (lp_ == nullptr)) return "listpack buffer mismatch";
  return "";
}

}  // namespace distcache::storage
