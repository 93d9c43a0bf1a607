#include "storage/set_value.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <malloc.h>
#include <new>
#include <utility>
#include <vector>

namespace distcache::storage {

using set_detail::kEmptyTag;
using set_detail::kHeapTag;
using set_detail::kInlineMax;
using set_detail::Slot;
using set_detail::slot_used;
using set_detail::slot_view;

namespace {

constexpr size_t kMinTableCap = 4;
constexpr size_t kNotFound = SIZE_MAX;

void* checked_malloc(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* checked_realloc(void* p, size_t n) {
  void* q = std::realloc(p, n == 0 ? 1 : n);
  if (q == nullptr) throw std::bad_alloc();
  return q;
}

Slot* alloc_slots(size_t cap) {
  void* p = std::calloc(cap, sizeof(Slot));
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<Slot*>(p);
}

// Bytes glibc malloc really takes for a request of n bytes (header included).
size_t chunk_bytes(size_t n) {
  if (n == 0) return 0;
  const size_t c = (n + 8 + 15) & ~size_t{15};
  return c < 32 ? 32 : c;
}

// Smallest table (power of two, >= kMinTableCap) that holds n members at a
// load of at most 80%.
size_t capacity_for(size_t n) {
  size_t cap = kMinTableCap;
  while (n * 5 > cap * 4) cap <<= 1;
  return cap;
}

// Bytes requested for an intset block holding `payload` bytes: chunk sizes of
// 32..128 in steps of 16, then four classes per power of two (160, 192, 224,
// 256, 320, ...), minus glibc's 8-byte chunk header.
size_t intset_alloc_bytes(size_t payload) {
  size_t chunk = payload + 8;
  if (chunk <= 32) {
    chunk = 32;
  } else if (chunk <= 128) {
    chunk = (chunk + 15) & ~size_t{15};
  } else {
    const size_t step = std::bit_floor(chunk - 1) / 4;
    chunk = (chunk + step - 1) / step * step;
  }
  return chunk - 8;
}

// Whether the table must grow before holding `n` members.
bool over_load(size_t n, size_t cap) { return n * 5 > cap * 4; }

unsigned width_for(int64_t v) {
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

void intset_put(void* data, unsigned width, size_t i, int64_t v) {
  unsigned char* p = static_cast<unsigned char*>(data) + i * width;
  switch (width) {
    case 2: {
      const int16_t x = static_cast<int16_t>(v);
      std::memcpy(p, &x, 2);
      break;
    }
    case 4: {
      const int32_t x = static_cast<int32_t>(v);
      std::memcpy(p, &x, 4);
      break;
    }
    default:
      std::memcpy(p, &v, 8);
      break;
  }
}

unsigned char fingerprint(uint64_t h) { return static_cast<unsigned char>(h >> 56); }

// Writes `m` into an empty slot.
void slot_assign(Slot& s, std::string_view m, uint64_t h) {
  std::memset(s.b, 0, sizeof s.b);
  if (m.size() <= kInlineMax) {
    if (!m.empty()) std::memcpy(s.b, m.data(), m.size());
    s.b[14] = fingerprint(h);
    s.b[15] = static_cast<unsigned char>(m.size() + 1);
    return;
  }
  char* p = static_cast<char*>(checked_malloc(m.size()));
  std::memcpy(p, m.data(), m.size());
  std::memcpy(s.b, &p, sizeof p);
  const uint64_t word = static_cast<uint64_t>(m.size()) | (uint64_t{fingerprint(h)} << 48) |
                        (uint64_t{kHeapTag} << 56);
  std::memcpy(s.b + 8, &word, 8);
}

void slot_free(Slot& s) {
  if (s.b[15] == kHeapTag) std::free(const_cast<char*>(slot_view(s).data()));
}

// The 16 bytes an inline slot holding `m` would have (m.size() <= kInlineMax).
void inline_image(std::string_view m, uint64_t h, uint64_t out[2]) {
  unsigned char b[16] = {};
  if (!m.empty()) std::memcpy(b, m.data(), m.size());
  b[14] = fingerprint(h);
  b[15] = static_cast<unsigned char>(m.size() + 1);
  std::memcpy(out, b, 16);
}

}  // namespace

// ---------------------------------------------------------------------------
// Lifetime

SetValue::SetValue(const SetValue& other)
    : Collection(), count_(other.count_), kind_(other.kind_), shift_(other.shift_) {
  if (other.is_intset()) {
    const size_t bytes = size() * intset_width();
    if (intset_inline(bytes)) {
      ptr_ = other.ptr_;  // the integers themselves
    } else {
      ptr_ = checked_malloc(bytes);
      std::memcpy(ptr_, other.ptr_, bytes);
    }
    return;
  }
  const size_t cap = table_cap();
  Slot* s = static_cast<Slot*>(checked_malloc(cap * sizeof(Slot)));
  std::memcpy(s, other.ptr_, cap * sizeof(Slot));
  size_t i = 0;
  try {
    for (; i < cap; ++i) {
      if (s[i].b[15] != kHeapTag) continue;
      const std::string_view m = slot_view(s[i]);
      char* p = static_cast<char*>(checked_malloc(m.size()));
      std::memcpy(p, m.data(), m.size());
      std::memcpy(s[i].b, &p, sizeof p);
    }
  } catch (...) {
    for (size_t j = 0; j < i; ++j) slot_free(s[j]);
    std::free(s);
    throw;
  }
  ptr_ = s;
}

SetValue::SetValue(SetValue&& other) noexcept
    : Collection(), ptr_(other.ptr_), count_(other.count_), kind_(other.kind_), shift_(other.shift_) {
  other.ptr_ = nullptr;
  other.count_ = 0;
  other.kind_ = 2;
  other.shift_ = 0;
}

SetValue& SetValue::operator=(SetValue&& other) noexcept {
  if (this != &other) {
    SetValue tmp(std::move(other));
    swap(tmp);
  }
  return *this;
}

SetValue::~SetValue() { release(); }

void SetValue::swap(SetValue& other) noexcept {
  std::swap(ptr_, other.ptr_);
  const uint64_t c = count_, k = kind_, s = shift_;
  count_ = other.count_;
  kind_ = other.kind_;
  shift_ = other.shift_;
  other.count_ = c;
  other.kind_ = k;
  other.shift_ = s;
}

void SetValue::release() noexcept {
  if (is_intset()) {
    if (!intset_inline(size() * intset_width())) std::free(ptr_);
    ptr_ = nullptr;
    return;
  }
  if (ptr_ == nullptr) return;
  {
    Slot* s = slots();
    const size_t cap = table_cap();
    for (size_t i = 0; i < cap; ++i) slot_free(s[i]);
  }
  std::free(ptr_);
  ptr_ = nullptr;
}

std::unique_ptr<Collection> SetValue::clone() const { return std::make_unique<SetValue>(*this); }

std::string_view SetValue::encoding_name() const { return is_intset() ? "intset" : "hashtable"; }

size_t SetValue::heap_bytes() const {
  size_t total = chunk_bytes(sizeof(SetValue));
  if (is_intset()) {
    const size_t bytes = size() * intset_width();
    return intset_inline(bytes) ? total : total + chunk_bytes(malloc_usable_size(ptr_));
  }
  const size_t cap = table_cap();
  total += chunk_bytes(cap * sizeof(Slot));
  const Slot* s = slots();
  for (size_t i = 0; i < cap; ++i)
    if (s[i].b[15] == kHeapTag) total += chunk_bytes(slot_view(s[i]).size());
  return total;
}

// ---------------------------------------------------------------------------
// Membership

bool SetValue::add(std::string_view member, size_t max_intset_entries) {
  if (max_intset_entries > kIntSetHardLimit) max_intset_entries = kIntSetHardLimit;
  if (is_intset()) {
    int64_t v;
    if (parse_int64(member, v)) {
      if (size() + 1 <= max_intset_entries || contains_int(v)) return intset_insert(v);
      convert_to_hashtable(size() + 1);
    } else {
      convert_to_hashtable(size() + 1);
    }
  }
  const uint64_t h = set_detail::member_hash(member);
  if (table_find(member, h) != kNotFound) return false;
  table_insert_new(member, h);
  return true;
}

size_t SetValue::add_many(std::span<const std::string_view> members, size_t max_intset_entries) {
  if (max_intset_entries > kIntSetHardLimit) max_intset_entries = kIntSetHardLimit;
  size_t added = 0;
  if (is_intset() && members.size() > 1) {
    std::vector<int64_t> vals;
    vals.reserve(members.size());
    bool all_ints = true;
    for (std::string_view m : members) {
      int64_t v;
      if (!parse_int64(m, v)) {
        all_ints = false;
        break;
      }
      vals.push_back(v);
    }
    if (!all_ints) {
      // The set ends up a hashtable whatever the order: convert once, sized
      // for the whole batch.
      convert_to_hashtable(size() + members.size());
    } else {
      std::sort(vals.begin(), vals.end());
      vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
      size_t fresh = 0;
      for (int64_t v : vals) fresh += contains_int(v) ? 0 : 1;
      if (fresh == 0) return 0;
      if (size() + fresh > max_intset_entries) {
        convert_to_hashtable(size() + fresh);
      } else {
        // Merge the sorted old and new integers into one new payload.
        const size_t n = size();
        const unsigned old_w = intset_width();
        const unsigned w = std::max({old_w, width_for(vals.front()), width_for(vals.back())});
        const size_t total = n + fresh;
        const size_t bytes = total * w;
        void* old_heap = intset_inline(n * old_w) ? nullptr : ptr_;
        void* old_inline = ptr_;
        const void* old = old_heap != nullptr ? old_heap : static_cast<const void*>(&old_inline);
        void* fresh_block = intset_inline(bytes) ? nullptr : checked_malloc(bytes);
        void* out_inline = nullptr;
        unsigned char* out = fresh_block != nullptr ? static_cast<unsigned char*>(fresh_block)
                                                    : reinterpret_cast<unsigned char*>(&out_inline);
        size_t i = 0, j = 0, k = 0;
        while (i < n || j < vals.size()) {
          int64_t v;
          if (j == vals.size()) {
            v = set_detail::intset_get(old, old_w, i++);
          } else if (i == n) {
            v = vals[j++];
          } else {
            const int64_t a = set_detail::intset_get(old, old_w, i);
            if (a < vals[j]) {
              v = a;
              ++i;
            } else {
              if (a == vals[j]) ++i;  // present already: take it once
              v = vals[j++];
            }
          }
          intset_put(out, w, k++, v);
        }
        std::free(old_heap);
        ptr_ = fresh_block != nullptr ? fresh_block : out_inline;
        kind_ = w;
        count_ = total;
        return fresh;
      }
    }
  }
  for (std::string_view m : members)
    if (add(m, max_intset_entries)) ++added;
  // A conversion sized for the whole batch may have over-estimated it
  // (repeated members): keep the table's load where random draws stay cheap.
  if (!is_intset()) table_maybe_shrink();
  return added;
}

bool SetValue::remove(std::string_view member) {
  if (is_intset()) {
    int64_t v;
    return parse_int64(member, v) && intset_remove(v);
  }
  const size_t i = table_find(member, set_detail::member_hash(member));
  if (i == kNotFound) return false;
  table_erase_index(i);
  table_maybe_shrink();
  return true;
}

bool SetValue::contains(std::string_view member) const {
  if (is_intset()) {
    int64_t v;
    return parse_int64(member, v) && contains_int(v);
  }
  return table_find(member, set_detail::member_hash(member)) != kNotFound;
}

bool SetValue::contains_int(int64_t v) const {
  if (is_intset()) {
    if (width_for(v) > intset_width()) return false;
    bool found;
    intset_lower_bound(v, found);
    return found;
  }
  NumBuf buf;
  const std::string_view m(buf, format_int64(v, buf));
  return table_find(m, set_detail::member_hash(m)) != kNotFound;
}

void SetValue::convert_to_hashtable(size_t expected_size) {
  if (!is_intset()) return;
  const size_t n = size();
  const size_t cap = capacity_for(expected_size > n ? expected_size : n);
  Slot* fresh = alloc_slots(cap);
  const unsigned width = intset_width();
  void* heap_block = intset_inline(n * width) ? nullptr : ptr_;
  void* inline_copy = ptr_;
  const void* old = heap_block != nullptr ? heap_block : static_cast<const void*>(&inline_copy);
  ptr_ = fresh;
  kind_ = 0;
  shift_ = static_cast<uint64_t>(std::countr_zero(cap));
  count_ = 0;
  NumBuf buf;
  for (size_t i = 0; i < n; ++i) {
    const std::string_view m(buf, format_int64(set_detail::intset_get(old, width, i), buf));
    table_insert_new(m, set_detail::member_hash(m));
  }
  std::free(heap_block);
}

// ---------------------------------------------------------------------------
// Positions

size_t SetValue::random_position(uint64_t& rng) const {
  if (is_intset()) return static_cast<size_t>(next_random(rng) % size());
  // The load is at least 1/8 (or the table is tiny), so few draws are needed;
  // every member is equally likely.
  const uint64_t mask = table_cap() - 1;
  const Slot* s = slots();
  for (;;) {
    const size_t i = static_cast<size_t>(next_random(rng) & mask);
    if (slot_used(s[i])) return i;
  }
}

void SetValue::erase_position(size_t pos) {
  if (is_intset()) {
    intset_erase_index(pos);
    return;
  }
  table_erase_index(pos);
  table_maybe_shrink();
}

// ---------------------------------------------------------------------------
// intset

unsigned char* SetValue::intset_resize(size_t old_bytes, size_t new_bytes) {
  const bool was_inline = intset_inline(old_bytes);
  const bool now_inline = intset_inline(new_bytes);
  if (was_inline && now_inline) return reinterpret_cast<unsigned char*>(&ptr_);
  if (was_inline) {
    void* inline_copy = ptr_;
    void* block = checked_malloc(intset_alloc_bytes(new_bytes));
    std::memcpy(block, &inline_copy, old_bytes);
    ptr_ = block;
    return static_cast<unsigned char*>(block);
  }
  if (now_inline) {
    void* block = ptr_;
    ptr_ = nullptr;
    std::memcpy(&ptr_, block, new_bytes);
    std::free(block);
    return reinterpret_cast<unsigned char*>(&ptr_);
  }
  // Blocks built in one go (batches, copies) are exact; blocks that grow one
  // member at a time step through the size classes. Shrink once a class
  // at least a quarter smaller fits.
  const size_t usable = malloc_usable_size(ptr_);
  const size_t want = intset_alloc_bytes(new_bytes);
  if (new_bytes > usable || want <= usable / 4 * 3) ptr_ = checked_realloc(ptr_, want);
  return static_cast<unsigned char*>(ptr_);
}

size_t SetValue::intset_lower_bound(int64_t v, bool& found) const {
  const unsigned w = intset_width();
  const void* data = intset_data();
  size_t lo = 0, hi = size();
  found = false;
  if (hi == 0) return 0;
  // Appends and prepends are common (ascending or descending inserts).
  if (v > set_detail::intset_get(data, w, hi - 1)) return hi;
  if (v < set_detail::intset_get(data, w, 0)) return 0;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const int64_t x = set_detail::intset_get(data, w, mid);
    if (x < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  found = lo < size() && set_detail::intset_get(data, w, lo) == v;
  return lo;
}

bool SetValue::intset_insert(int64_t v) {
  const size_t n = size();
  const unsigned need = width_for(v);
  const unsigned w = intset_width();
  if (need > w) {
    // v lies outside the range of every current member: it goes first when
    // negative, last otherwise. Re-encode from the back so that no member is
    // overwritten before it has been read.
    unsigned char* p = intset_resize(n * w, (n + 1) * need);
    const size_t shift = v < 0 ? 1 : 0;
    for (size_t i = n; i-- > 0;) intset_put(p, need, i + shift, set_detail::intset_get(p, w, i));
    intset_put(p, need, v < 0 ? 0 : n, v);
    kind_ = need;
    count_ = n + 1;
    return true;
  }
  bool found;
  const size_t pos = intset_lower_bound(v, found);
  if (found) return false;
  unsigned char* p = intset_resize(n * w, (n + 1) * w);
  if (pos < n) std::memmove(p + (pos + 1) * w, p + pos * w, (n - pos) * w);
  intset_put(p, w, pos, v);
  count_ = n + 1;
  return true;
}

bool SetValue::intset_remove(int64_t v) {
  if (width_for(v) > intset_width()) return false;
  bool found;
  const size_t pos = intset_lower_bound(v, found);
  if (!found) return false;
  intset_erase_index(pos);
  return true;
}

void SetValue::intset_erase_index(size_t i) {
  const size_t n = size();
  const unsigned w = intset_width();
  unsigned char* p = static_cast<unsigned char*>(const_cast<void*>(intset_data()));
  if (i + 1 < n) std::memmove(p + i * w, p + (i + 1) * w, (n - i - 1) * w);
  intset_resize(n * w, (n - 1) * w);
  count_ = n - 1;
  if (n == 1) ptr_ = nullptr;
}

// ---------------------------------------------------------------------------
// hashtable

void SetValue::prefetch_member(uint64_t h, int stage) const {
  if (is_intset()) return;
  const size_t mask = table_cap() - 1;
  const size_t home = static_cast<size_t>(h) & mask;
  if (stage == 1) {
    __builtin_prefetch(&slots()[home]);
    return;
  }
  // The member is in the first used slots from home (linear probing): look
  // at a few (those the home slot's cache line likely brought along) for a
  // long member with the same fingerprint, and ask for its bytes.
  constexpr size_t kProbeSlots = 4;
  const unsigned char fp = fingerprint(h);
  for (size_t k = 0, i = home; k < kProbeSlots; ++k, i = (i + 1) & mask) {
    const Slot& slot = slots()[i];
    if (slot.b[15] == kEmptyTag) return;
    if (slot.b[15] == kHeapTag && slot.b[14] == fp) {
      __builtin_prefetch(slot_view(slot).data());
      return;
    }
  }
}

size_t SetValue::table_find(std::string_view m, uint64_t h) const {
  const Slot* s = slots();
  const size_t mask = table_cap() - 1;
  size_t i = static_cast<size_t>(h) & mask;
  if (m.size() <= kInlineMax) {
    uint64_t want[2];
    inline_image(m, h, want);
    for (;; i = (i + 1) & mask) {
      uint64_t have[2];
      std::memcpy(have, s[i].b, 16);
      if (have[0] == want[0] && have[1] == want[1]) return i;
      if (s[i].b[15] == kEmptyTag) return kNotFound;
    }
  }
  const unsigned char fp = fingerprint(h);
  for (;; i = (i + 1) & mask) {
    const Slot& slot = s[i];
    const unsigned char tag = slot.b[15];
    if (tag == kEmptyTag) return kNotFound;
    if (tag == kHeapTag && slot.b[14] == fp) {
      const std::string_view have = slot_view(slot);
      if (have.size() == m.size() && std::memcmp(have.data(), m.data(), m.size()) == 0) return i;
    }
  }
}

void SetValue::table_insert_new(std::string_view m, uint64_t h) {
  if (over_load(size() + 1, table_cap())) table_rehash(table_cap() * 2);
  Slot* s = slots();
  const size_t mask = table_cap() - 1;
  size_t i = static_cast<size_t>(h) & mask;
  while (slot_used(s[i])) i = (i + 1) & mask;
  slot_assign(s[i], m, h);
  count_ = count_ + 1;
}

size_t SetValue::home_of(size_t i) const {
  return static_cast<size_t>(set_detail::member_hash(slot_view(slots()[i]))) & (table_cap() - 1);
}

void SetValue::table_erase_index(size_t i) {
  Slot* s = slots();
  const size_t mask = table_cap() - 1;
  slot_free(s[i]);
  // Backward-shift deletion: pull later members of the run into the hole
  // when their home slot allows it, so that no tombstones are needed.
  size_t hole = i;
  for (size_t j = (i + 1) & mask; slot_used(s[j]); j = (j + 1) & mask) {
    const size_t home = home_of(j);
    // The member at j may fill the hole unless its home lies in (hole, j].
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    s[hole] = s[j];
    hole = j;
  }
  std::memset(s[hole].b, 0, sizeof(Slot));
  count_ = count_ - 1;
}

void SetValue::table_rehash(size_t new_cap) {
  Slot* old = slots();
  const size_t old_cap = table_cap();
  Slot* fresh = alloc_slots(new_cap);
  const size_t mask = new_cap - 1;
  for (size_t j = 0; j < old_cap; ++j) {
    if (!slot_used(old[j])) continue;
    size_t i = static_cast<size_t>(set_detail::member_hash(slot_view(old[j]))) & mask;
    while (slot_used(fresh[i])) i = (i + 1) & mask;
    fresh[i] = old[j];
  }
  std::free(old);
  ptr_ = fresh;
  shift_ = static_cast<uint64_t>(std::countr_zero(new_cap));
}

void SetValue::table_maybe_shrink() {
  const size_t cap = table_cap();
  if (cap <= kMinTableCap || size() == 0 || size() * 8 >= cap) return;
  table_rehash(capacity_for(size() * 2));
}

// ---------------------------------------------------------------------------

std::string SetValue::validate() const {
  if (is_intset()) {
    const unsigned w = intset_width();
    if (w != 2 && w != 4 && w != 8) return "bad intset width";
    if (!intset_inline(size() * w) && ptr_ == nullptr) return "intset without a block";
    const void* data = intset_data();
    for (size_t i = 1; i < size(); ++i)
      if (set_detail::intset_get(data, w, i - 1) >= set_detail::intset_get(data, w, i))
        return "intset not strictly ascending";
    return "";
  }
  const size_t cap = table_cap();
  if (cap < kMinTableCap || ptr_ == nullptr) return "table too small";
  if (over_load(size(), cap)) return "table over its load limit";
  const Slot* s = slots();
  size_t used = 0;
  for (size_t i = 0; i < cap; ++i) {
    if (!slot_used(s[i])) continue;
    ++used;
    const std::string_view m = slot_view(s[i]);
    const uint64_t h = set_detail::member_hash(m);
    if (s[i].b[14] != fingerprint(h)) return "bad fingerprint";
    if (s[i].b[15] != kHeapTag) {
      if (m.size() > kInlineMax) return "bad inline length";
      for (size_t k = m.size(); k < 14; ++k)
        if (s[i].b[k] != 0) return "inline padding not zero";
    } else if (m.size() <= kInlineMax) {
      return "short member on the heap";
    }
    if (table_find(m, h) != i) return "member not found at its slot (probe chain broken or duplicate)";
  }
  if (used != size()) return "count mismatch";
  return "";
}

}  // namespace distcache::storage
