// The list type: a ring of packed nodes. See list.h for the layout.
#include "storage/list.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include "storage/numbers.h"

namespace distcache::storage {

// One node: this header, then a buffer of cap_units * 8 bytes holding
// `count` packed entries in [head, head + bytes). Pushes and
// pops at the list's head move `head` instead of memmoving the whole node
// (up to list-max-listpack-size bytes per LPUSH/LPOP, as a listpack does):
// the free bytes before `head` are the "front gap". Everything but the two
// head-end operations sees only data() and cap(), the buffer from head on.
struct ListNode {
  uint32_t bytes;
  uint32_t head;       // front gap: buffer bytes before the first entry
  uint32_t count;
  uint32_t cap_units;  // buffer capacity in units of 8 bytes

  size_t buffer_cap() const { return static_cast<size_t>(cap_units) * 8; }
  size_t cap() const { return buffer_cap() - head; }
  uint8_t* buffer() { return reinterpret_cast<uint8_t*>(this + 1); }
  uint8_t* data() { return buffer() + head; }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(this + 1) + head; }
};
static_assert(sizeof(ListNode) == List::kNodeHeaderBytes);

namespace {

// Redis's per-node safety limit when the fill is an entry count.
constexpr size_t kSafetyBytes = 8192;
// Largest entry count per node Redis accepts (quicklist FILL_MAX).
constexpr int64_t kMaxFill = (1 << 15) - 1;

// Bytes glibc malloc really takes for a request of n bytes.
size_t chunk_bytes(size_t n) {
  if (n == 0) return 0;
  const size_t c = (n + 8 + 15) & ~size_t{15};
  return c < 32 ? 32 : c;
}

// Node capacities are 8 more than a multiple of 16: with the 16-byte header
// and glibc's 8-byte chunk overhead the whole chunk is then used.
size_t round_cap(size_t n) { return ((n + 8 + 15) & ~size_t{15}) - 8; }

// Node buffers (and so the entries' bytes) stay under 4 GiB: a node's
// offsets are 32-bit. Redis caps an element at proto-max-bulk-len (512 MB).
constexpr size_t kMaxNodeBytes = std::numeric_limits<uint32_t>::max() & ~size_t{7};

// Checked before a buffer is allocated, so that a refusal leaks nothing.
void check_cap(size_t cap) {
  if (cap > kMaxNodeBytes) throw std::length_error("list element too large");
}

void set_cap(ListNode* n, size_t cap) { n->cap_units = static_cast<uint32_t>(cap / 8); }

ListNode* node_new(size_t cap) {
  check_cap(cap);
  void* p = std::malloc(sizeof(ListNode) + cap);
  if (!p) throw std::bad_alloc();
  auto* n = static_cast<ListNode*>(p);
  n->bytes = 0;
  n->head = 0;
  n->count = 0;
  set_cap(n, cap);
  return n;
}

// Moves the entries to the buffer's start (no front gap).
void close_front_gap(ListNode* n) {
  if (n->head == 0) return;
  std::memmove(n->buffer(), n->data(), n->bytes);
  n->head = 0;
}

// A new buffer of `cap` bytes (the entries first, no front gap).
ListNode* node_resize(ListNode* n, size_t cap) {
  check_cap(cap);
  close_front_gap(n);
  void* p = std::realloc(n, sizeof(ListNode) + cap);
  if (!p) throw std::bad_alloc();
  n = static_cast<ListNode*>(p);
  set_cap(n, cap);
  return n;
}

void node_free(ListNode* n) { std::free(n); }

// ---------------------------------------------------------------------------
// Entry encoding
//
//   tag 0x00-0x7F            integer 0..127, no payload
//   tag 0x80-0xBF            string of (tag & 0x3F) bytes
//   tag 0xC0-0xDF + 1 byte   13-bit signed integer -4096..4095
//   tag 0xE0-0xEF + 1 byte   string of 12-bit length (64..4095 bytes)
//   tag 0xF0 + 4 bytes LE    string with 32-bit length
//   tag 0xF1/F2/F3/F4        16/24/32/64-bit signed integer, little endian
//   tag 0xF5 + 8 bytes LE    string with 64-bit length
// followed by the back-length: the size of tag + payload in 7-bit groups,
// lowest group in the LAST byte; every byte but the first has bit 7 set, so
// a backwards reader knows whether another group precedes.

constexpr uint8_t kTagStr32 = 0xF0;
constexpr uint8_t kTagInt16 = 0xF1;
constexpr uint8_t kTagInt24 = 0xF2;
constexpr uint8_t kTagInt32 = 0xF3;
constexpr uint8_t kTagInt64 = 0xF4;
constexpr uint8_t kTagStr64 = 0xF5;

inline size_t backlen_size(size_t l) {
  size_t n = 1;
  while (l >= 128) {
    l >>= 7;
    ++n;
  }
  return n;
}

inline void write_backlen(uint8_t* p, size_t l, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = static_cast<uint8_t>(l & 0x7F);
    l >>= 7;
    if (i + 1 < n) b |= 0x80;
    p[n - 1 - i] = b;
  }
}

// Length (tag + payload) of the entry that ends just before `end`; *nbytes
// receives the size of its back-length.
inline size_t read_backlen(const uint8_t* end, size_t* nbytes) {
  const uint8_t* p = end - 1;
  size_t v = *p & 0x7F;
  unsigned shift = 7;
  size_t n = 1;
  while (*p & 0x80) {
    --p;
    v |= static_cast<size_t>(*p & 0x7F) << shift;
    shift += 7;
    ++n;
  }
  *nbytes = n;
  return v;
}

inline uint64_t load_le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

inline void store_le(uint8_t* p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

inline int64_t sign_extend(uint64_t v, unsigned bits) {
  const uint64_t m = uint64_t{1} << (bits - 1);
  return static_cast<int64_t>((v ^ m) - m);
}

// Size of tag + payload of the entry at p.
inline size_t entry_len(const uint8_t* p) {
  const uint8_t t = p[0];
  if (t < 0x80) return 1;
  if (t < 0xC0) return 1 + (t & 0x3F);
  if (t < 0xE0) return 2;
  if (t < 0xF0) return 2 + ((static_cast<size_t>(t & 0x0F) << 8) | p[1]);
  switch (t) {
    case kTagStr32: return 5 + load_le(p + 1, 4);
    case kTagInt16: return 3;
    case kTagInt24: return 4;
    case kTagInt32: return 5;
    case kTagInt64: return 9;
    default: return 9 + load_le(p + 1, 8);  // kTagStr64
  }
}

// Whole size of the entry at p, back-length included.
inline size_t entry_total(const uint8_t* p) {
  const size_t l = entry_len(p);
  return l + backlen_size(l);
}

inline ListEntry decode(const uint8_t* p) {
  ListEntry e;
  const uint8_t t = p[0];
  auto str = [&](size_t hdr, size_t len) {
    e.ptr = reinterpret_cast<const char*>(p + hdr);
    e.len = len;
  };
  auto num = [&](int64_t v) {
    e.is_int = true;
    e.ival = v;
  };
  if (t < 0x80) {
    num(t);
  } else if (t < 0xC0) {
    str(1, t & 0x3F);
  } else if (t < 0xE0) {
    num(sign_extend((static_cast<uint64_t>(t & 0x1F) << 8) | p[1], 13));
  } else if (t < 0xF0) {
    str(2, (static_cast<size_t>(t & 0x0F) << 8) | p[1]);
  } else {
    switch (t) {
      case kTagStr32: str(5, load_le(p + 1, 4)); break;
      case kTagInt16: num(sign_extend(load_le(p + 1, 2), 16)); break;
      case kTagInt24: num(sign_extend(load_le(p + 1, 3), 24)); break;
      case kTagInt32: num(sign_extend(load_le(p + 1, 4), 32)); break;
      case kTagInt64: num(static_cast<int64_t>(load_le(p + 1, 8))); break;
      default: str(9, load_le(p + 1, 8)); break;
    }
  }
  return e;
}

// Start offset of the entry that ends at `end` inside `data`.
inline size_t prev_start(const uint8_t* data, size_t end) {
  size_t bl;
  const size_t l = read_backlen(data + end, &bl);
  return end - bl - l;
}

// A value ready to be written as one entry.
struct Encoded {
  uint8_t head[9];
  uint8_t head_len = 0;
  uint8_t back_len = 0;
  const char* str = nullptr;
  size_t str_len = 0;

  size_t len() const { return head_len + str_len; }
  size_t total() const { return len() + back_len; }
  void write(uint8_t* p) const {
    std::memcpy(p, head, head_len);
    if (str_len) std::memcpy(p + head_len, str, str_len);
    write_backlen(p + len(), len(), back_len);
  }
};

Encoded encode(std::string_view v) {
  Encoded e;
  int64_t iv;
  if (!v.empty() && v.size() < kInt64StrSize && parse_int64(v, iv)) {
    const uint64_t u = static_cast<uint64_t>(iv);
    if (iv >= 0 && iv <= 127) {
      e.head[0] = static_cast<uint8_t>(iv);
      e.head_len = 1;
    } else if (iv >= -4096 && iv <= 4095) {
      const uint64_t b = u & 0x1FFF;
      e.head[0] = static_cast<uint8_t>(0xC0 | (b >> 8));
      e.head[1] = static_cast<uint8_t>(b & 0xFF);
      e.head_len = 2;
    } else if (iv >= INT16_MIN && iv <= INT16_MAX) {
      e.head[0] = kTagInt16;
      store_le(e.head + 1, u, 2);
      e.head_len = 3;
    } else if (iv >= -(1 << 23) && iv < (1 << 23)) {
      e.head[0] = kTagInt24;
      store_le(e.head + 1, u, 3);
      e.head_len = 4;
    } else if (iv >= INT32_MIN && iv <= INT32_MAX) {
      e.head[0] = kTagInt32;
      store_le(e.head + 1, u, 4);
      e.head_len = 5;
    } else {
      e.head[0] = kTagInt64;
      store_le(e.head + 1, u, 8);
      e.head_len = 9;
    }
  } else {
    const size_t n = v.size();
    if (n < 64) {
      e.head[0] = static_cast<uint8_t>(0x80 | n);
      e.head_len = 1;
    } else if (n < 4096) {
      e.head[0] = static_cast<uint8_t>(0xE0 | (n >> 8));
      e.head[1] = static_cast<uint8_t>(n & 0xFF);
      e.head_len = 2;
    } else if (n <= std::numeric_limits<uint32_t>::max()) {
      e.head[0] = kTagStr32;
      store_le(e.head + 1, n, 4);
      e.head_len = 5;
    } else {
      e.head[0] = kTagStr64;
      store_le(e.head + 1, n, 8);
      e.head_len = 9;
    }
    e.str = v.data();
    e.str_len = n;
  }
  e.back_len = static_cast<uint8_t>(backlen_size(e.len()));
  return e;
}

size_t next_pow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

// ---------------------------------------------------------------------------
// ListEntry / ListNeedle

std::string_view ListEntry::view(char* buf) const {
  if (!is_int) return {ptr, len};
  return {buf, format_int64(ival, buf)};
}

std::string ListEntry::to_string() const {
  if (!is_int) return std::string(ptr, len);
  return int64_to_string(ival);
}

ListNeedle::ListNeedle(std::string_view s) : s_(s) {
  is_int_ = !s.empty() && s.size() < kInt64StrSize && parse_int64(s, iv_);
}

bool ListNeedle::matches(const ListEntry& e) const {
  // Canonical integers are always stored as integers, so a string entry
  // never equals an integer needle and vice versa.
  if (e.is_int) return is_int_ && e.ival == iv_;
  return !is_int_ && e.len == s_.size() && (e.len == 0 || std::memcmp(e.ptr, s_.data(), e.len) == 0);
}

// ---------------------------------------------------------------------------
// Construction

List::List(int64_t fill) {
  if (fill > kMaxFill) fill = kMaxFill;
  if (fill < -5) fill = -5;
  fill_ = static_cast<int32_t>(fill);
}

List::List(const List& other) : fill_(other.fill_) {
  ring_reserve(other.nnodes_);
  for (size_t k = 0; k < other.nnodes_; ++k) {
    const ListNode* src = other.node_at(k);
    ListNode* n = node_new(round_cap(src->bytes));
    std::memcpy(n->data(), src->data(), src->bytes);
    n->bytes = src->bytes;
    n->count = src->count;
    ring_insert(nnodes_, n);
  }
  size_ = other.size_;
}

List::~List() {
  for (size_t k = 0; k < nnodes_; ++k) node_free(node_at(k));
  if (ring_cap_ > 1) delete[] ring_;
}

std::unique_ptr<Collection> List::clone() const { return std::make_unique<List>(*this); }

size_t List::heap_bytes() const {
  size_t total = chunk_bytes(sizeof(List));
  if (ring_cap_ > 1) total += chunk_bytes(ring_cap_ * sizeof(ListNode*));
  for (size_t k = 0; k < nnodes_; ++k) total += chunk_bytes(sizeof(ListNode) + node_at(k)->cap());
  return total;
}

size_t List::node_entries(size_t k) const { return node_at(k)->count; }
size_t List::node_bytes(size_t k) const { return node_at(k)->bytes; }

// ---------------------------------------------------------------------------
// The ring of nodes

void List::ring_reserve(size_t n) {
  if (n <= ring_cap_) return;
  const size_t cap = std::max<size_t>(4, next_pow2(n));
  auto** fresh = new ListNode*[cap];
  for (size_t k = 0; k < nnodes_; ++k) fresh[k] = node_at(k);
  if (ring_cap_ > 1) delete[] ring_;
  ring_ = fresh;
  ring_cap_ = static_cast<uint32_t>(cap);
  head_ = 0;
}

void List::ring_insert(size_t k, ListNode* n) {
  ring_reserve(nnodes_ + 1);
  const size_t mask = ring_cap_ - 1;
  if (k < nnodes_ / 2) {
    head_ = (head_ - 1) & mask;
    for (size_t i = 0; i < k; ++i) node_at(i) = node_at(i + 1);
  } else {
    for (size_t i = nnodes_; i > k; --i) node_at(i) = node_at(i - 1);
  }
  node_at(k) = n;
  ++nnodes_;
}

void List::ring_erase(size_t k) {
  const size_t mask = ring_cap_ - 1;
  if (k < nnodes_ / 2) {
    for (size_t i = k; i > 0; --i) node_at(i) = node_at(i - 1);
    head_ = (head_ + 1) & mask;
  } else {
    for (size_t i = k; i + 1 < nnodes_; ++i) node_at(i) = node_at(i + 1);
  }
  --nnodes_;
  ring_maybe_shrink();
}

void List::ring_maybe_shrink() {
  if (ring_cap_ == 1) return;
  if (nnodes_ <= 1) {
    ListNode* only = nnodes_ ? node_at(0) : nullptr;
    delete[] ring_;
    single_ = only;
    ring_cap_ = 1;
    head_ = 0;
    return;
  }
  if (ring_cap_ > 16 && nnodes_ * 8 <= ring_cap_) {
    const size_t cap = std::max<size_t>(4, next_pow2(nnodes_ * 2));
    auto** fresh = new ListNode*[cap];
    for (size_t k = 0; k < nnodes_; ++k) fresh[k] = node_at(k);
    delete[] ring_;
    ring_ = fresh;
    ring_cap_ = static_cast<uint32_t>(cap);
    head_ = 0;
  }
}

void List::drop_node(size_t k) {
  node_free(node_at(k));
  ring_erase(k);
}

// ---------------------------------------------------------------------------
// Node capacity rules

size_t List::node_limit_bytes() const {
  if (fill_ < 0) return size_t{4096} << (-fill_ - 1);
  return kSafetyBytes;
}

bool List::fits(const ListNode* n, size_t add_bytes) const {
  if (n->count == 0) return true;
  const size_t nb = n->bytes + add_bytes;
  if (fill_ < 0) return nb <= node_limit_bytes();
  return n->count < static_cast<uint64_t>(std::max<int64_t>(fill_, 1)) && nb <= kSafetyBytes;
}

bool List::can_merge(const ListNode* a, const ListNode* b) const {
  if (a->bytes + b->bytes > node_limit_bytes()) return false;
  return fill_ < 0 || static_cast<uint64_t>(a->count) + b->count <= static_cast<uint64_t>(std::max<int64_t>(fill_, 1));
}

namespace {

// Makes room for `add` more bytes in the node held by `slot`.
ListNode* reserve_in(ListNode*& slot, size_t add, size_t limit) {
  ListNode* n = slot;
  const size_t need = n->bytes + add;
  if (need <= n->cap()) return n;
  if (need <= n->buffer_cap()) {  // the front gap makes the room
    close_front_gap(n);
    return n;
  }
  // Grow to the next of eight size classes per power of two: at most 12.5%
  // slack, and a realloc only every ~9% of growth.
  size_t cap = need;
  if (need > 64) {
    size_t p = 1;
    while (p * 2 <= need) p *= 2;
    const size_t step = p / 8;
    cap = (need + step - 1) / step * step;
  }
  if (cap > limit && need <= limit) cap = limit;
  slot = node_resize(n, round_cap(cap));
  return slot;
}

// Gives memory back after deletions left a node mostly empty.
void shrink_in(ListNode*& slot) {
  ListNode* n = slot;
  if (n->cap() > 64 && n->bytes < n->cap() / 2) slot = node_resize(n, round_cap(n->bytes + n->bytes / 8));
}

}  // namespace

void List::merge_next(size_t k) {
  ListNode* b = node_at(k + 1);
  ListNode* a = reserve_in(node_at(k), b->bytes, node_limit_bytes());
  std::memcpy(a->data() + a->bytes, b->data(), b->bytes);
  a->bytes += b->bytes;
  a->count += b->count;
  drop_node(k + 1);
}

void List::merge_around(size_t k) {
  if (k + 1 < nnodes_ && can_merge(node_at(k), node_at(k + 1))) merge_next(k);
  if (k > 0 && k < nnodes_ && can_merge(node_at(k - 1), node_at(k))) merge_next(k - 1);
}

// ---------------------------------------------------------------------------
// Positions

List::Location List::locate(size_t index) const {
  size_t k;
  size_t base;
  if (index < size_ / 2) {
    k = 0;
    base = 0;
    while (base + node_at(k)->count <= index) {
      base += node_at(k)->count;
      ++k;
    }
  } else {
    k = nnodes_ - 1;
    base = size_ - node_at(k)->count;
    while (base > index) {
      --k;
      base -= node_at(k)->count;
    }
  }
  const ListNode* n = node_at(k);
  const size_t i = index - base;
  size_t off;
  if (i <= n->count / 2) {
    off = 0;
    for (size_t j = 0; j < i; ++j) off += entry_total(n->data() + off);
  } else {
    off = n->bytes;
    for (size_t j = n->count; j > i; --j) off = prev_start(n->data(), off);
  }
  return {k, off, i};
}

bool List::Cursor::valid() const { return list_ && node_ < list_->nnodes_; }

ListEntry List::Cursor::entry() const { return decode(list_->node_at(node_)->data() + off_); }

void List::Cursor::next() {
  const ListNode* n = list_->node_at(node_);
  off_ += entry_total(n->data() + off_);
  if (off_ >= n->bytes) {
    ++node_;
    off_ = 0;
  }
}

void List::Cursor::prev() {
  if (off_ == 0) {
    if (node_ == 0) {
      node_ = std::numeric_limits<size_t>::max();
      return;
    }
    --node_;
    off_ = list_->node_at(node_)->bytes;
  }
  off_ = prev_start(list_->node_at(node_)->data(), off_);
}

List::Cursor List::cursor(size_t index) const {
  Cursor c;
  c.list_ = this;
  if (index >= size_) {
    c.node_ = std::numeric_limits<size_t>::max();
    return c;
  }
  const Location loc = locate(index);
  c.node_ = loc.node;
  c.off_ = loc.off;
  return c;
}

// ---------------------------------------------------------------------------
// Reads

ListEntry List::front() const { return decode(node_at(0)->data()); }

ListEntry List::back() const {
  const ListNode* n = node_at(nnodes_ - 1);
  return decode(n->data() + prev_start(n->data(), n->bytes));
}

ListEntry List::at(size_t index) const {
  const Location loc = locate(index);
  return decode(node_at(loc.node)->data() + loc.off);
}

std::optional<size_t> List::find(const ListNeedle& needle) const {
  size_t index = 0;
  for (size_t k = 0; k < nnodes_; ++k) {
    const ListNode* n = node_at(k);
    for (size_t off = 0; off < n->bytes; off += entry_total(n->data() + off), ++index)
      if (needle.matches(decode(n->data() + off))) return index;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Writes

void List::push_back(std::string_view v) {
  const Encoded e = encode(v);
  const size_t t = e.total();
  if (nnodes_ == 0 || !fits(node_at(nnodes_ - 1), t)) ring_insert(nnodes_, node_new(round_cap(t)));
  ListNode* n = reserve_in(node_at(nnodes_ - 1), t, node_limit_bytes());
  e.write(n->data() + n->bytes);
  n->bytes += t;
  ++n->count;
  ++size_;
}

void List::push_front(std::string_view v) {
  const Encoded e = encode(v);
  const size_t t = e.total();
  if (nnodes_ == 0 || !fits(node_at(0), t)) ring_insert(0, node_new(round_cap(t)));
  ListNode* n = node_at(0);
  if (n->head < t) {
    // Make room, then move the entries towards the buffer's end: the next
    // pushes at the head find a gap until the node must grow again. A node
    // that is also the tail keeps half its free room for pushes there.
    n = reserve_in(node_at(0), t, node_limit_bytes());
    const size_t free_room = n->buffer_cap() - n->bytes - t;
    const size_t head = t + (nnodes_ == 1 ? free_room / 2 : free_room);
    std::memmove(n->buffer() + head, n->data(), n->bytes);
    n->head = static_cast<uint32_t>(head);
  }
  n->head -= static_cast<uint32_t>(t);
  e.write(n->data());
  n->bytes += t;
  ++n->count;
  ++size_;
}

void List::pop_front() {
  ListNode* n = node_at(0);
  const size_t t = entry_total(n->data());
  n->head += static_cast<uint32_t>(t);
  n->bytes -= static_cast<uint32_t>(t);
  --size_;
  if (--n->count == 0)
    drop_node(0);
  else
    shrink_in(node_at(0));
}

void List::pop_back() {
  const size_t k = nnodes_ - 1;
  ListNode* n = node_at(k);
  n->bytes = prev_start(n->data(), n->bytes);
  --size_;
  if (--n->count == 0)
    drop_node(k);
  else
    shrink_in(node_at(k));
}

void List::insert(size_t index, std::string_view v) {
  if (index == 0) return push_front(v);
  if (index >= size_) return push_back(v);
  const Location loc = locate(index);
  const Encoded e = encode(v);
  const size_t t = e.total();
  const size_t limit = node_limit_bytes();
  auto insert_at = [&](size_t k, size_t off) {
    ListNode* n = reserve_in(node_at(k), t, limit);
    std::memmove(n->data() + off + t, n->data() + off, n->bytes - off);
    e.write(n->data() + off);
    n->bytes += t;
    ++n->count;
  };
  ++size_;
  ListNode* n = node_at(loc.node);
  if (fits(n, t)) return insert_at(loc.node, loc.off);
  if (loc.in_node == 0) {
    // Between two nodes: the end of the previous one, or a node of its own.
    if (loc.node > 0 && fits(node_at(loc.node - 1), t))
      return insert_at(loc.node - 1, node_at(loc.node - 1)->bytes);
    ring_insert(loc.node, node_new(round_cap(t)));
    return insert_at(loc.node, 0);
  }
  // Split the full node at the insertion point.
  const size_t tail_bytes = n->bytes - loc.off;
  ListNode* right = node_new(round_cap(tail_bytes));
  std::memcpy(right->data(), n->data() + loc.off, tail_bytes);
  right->bytes = tail_bytes;
  right->count = static_cast<uint32_t>(n->count - loc.in_node);
  n->bytes = loc.off;
  n->count = static_cast<uint32_t>(loc.in_node);
  ring_insert(loc.node + 1, right);
  if (fits(node_at(loc.node), t)) {
    insert_at(loc.node, node_at(loc.node)->bytes);
  } else if (fits(node_at(loc.node + 1), t)) {
    insert_at(loc.node + 1, 0);
  } else {
    ring_insert(loc.node + 1, node_new(round_cap(t)));
    insert_at(loc.node + 1, 0);
  }
  shrink_in(node_at(loc.node));
}

void List::set(size_t index, std::string_view v) {
  const Location loc = locate(index);
  ListNode* n = node_at(loc.node);
  const size_t old = entry_total(n->data() + loc.off);
  const Encoded e = encode(v);
  const size_t t = e.total();
  const size_t limit = node_limit_bytes();
  if (t <= old || n->count == 1 || n->bytes - old + t <= limit) {
    if (t > old) n = reserve_in(node_at(loc.node), t - old, limit);
    std::memmove(n->data() + loc.off + t, n->data() + loc.off + old, n->bytes - loc.off - old);
    e.write(n->data() + loc.off);
    n->bytes = n->bytes - old + t;
    if (t < old) shrink_in(node_at(loc.node));
    return;
  }
  erase(index, 1);
  insert(index, v);
}

void List::erase(size_t index, size_t count) {
  if (index >= size_ || count == 0) return;
  count = std::min(count, size_ - index);
  const Location loc = locate(index);
  size_t k = loc.node;
  size_t off = loc.off;
  size_t in = loc.in_node;
  while (count > 0) {
    ListNode* n = node_at(k);
    if (in == 0 && count >= n->count) {
      count -= n->count;
      size_ -= n->count;
      drop_node(k);
      continue;
    }
    const size_t del = std::min<size_t>(count, n->count - in);
    size_t end;
    if (del == n->count - in) {
      end = n->bytes;
    } else {
      end = off;
      for (size_t j = 0; j < del; ++j) end += entry_total(n->data() + end);
    }
    std::memmove(n->data() + off, n->data() + end, n->bytes - end);
    n->bytes -= end - off;
    n->count = static_cast<uint32_t>(n->count - del);
    size_ -= del;
    count -= del;
    shrink_in(node_at(k));
    ++k;
    off = 0;
    in = 0;
  }
  if (nnodes_ > 0) merge_around(std::min<size_t>(loc.node, nnodes_ - 1));
}

size_t List::remove(const ListNeedle& needle, int64_t count) {
  if (size_ == 0) return 0;
  const uint64_t limit = count == 0   ? std::numeric_limits<uint64_t>::max()
                         : count > 0  ? static_cast<uint64_t>(count)
                                      : 0 - static_cast<uint64_t>(count);
  size_t start = 0;
  if (count < 0) {
    // The matches to remove are the last `limit` ones: find where they start.
    uint64_t found = 0;
    size_t idx = size_ - 1;
    for (Cursor c = cursor(size_ - 1); c.valid(); c.prev(), --idx) {
      if (needle.matches(c.entry()) && ++found == limit) {
        start = idx;
        break;
      }
    }
    if (found == 0) return 0;
  }
  const Location loc = locate(start);
  uint64_t removed = 0;
  size_t k = loc.node;
  size_t first_off = loc.off;
  while (k < nnodes_ && removed < limit) {
    ListNode* n = node_at(k);
    uint8_t* d = n->data();
    size_t rd = first_off;
    size_t wr = first_off;
    first_off = 0;
    while (rd < n->bytes) {
      if (removed >= limit) {
        std::memmove(d + wr, d + rd, n->bytes - rd);
        wr += n->bytes - rd;
        rd = n->bytes;
        break;
      }
      const size_t len = entry_total(d + rd);
      if (needle.matches(decode(d + rd))) {
        ++removed;
        --n->count;
      } else {
        if (wr != rd) std::memmove(d + wr, d + rd, len);
        wr += len;
      }
      rd += len;
    }
    n->bytes = wr;
    if (n->count == 0) {
      drop_node(k);
      continue;
    }
    shrink_in(node_at(k));
    ++k;
  }
  size_ -= removed;
  // Merge neighbours the deletions left small.
  size_t end = k;
  size_t j = loc.node > 0 ? loc.node - 1 : 0;
  while (j < end && j + 1 < nnodes_) {
    if (can_merge(node_at(j), node_at(j + 1))) {
      merge_next(j);
      --end;
    } else {
      ++j;
    }
  }
  return removed;
}

// ---------------------------------------------------------------------------
// Checks

std::string List::validate() const {
  size_t total = 0;
  for (size_t k = 0; k < nnodes_; ++k) {
    const ListNode* n = node_at(k);
    if (n->count == 0) return "empty node " + std::to_string(k);
    if (n->head > n->buffer_cap()) return "node " + std::to_string(k) + " front gap past its buffer";
    if (n->bytes > n->cap()) return "node " + std::to_string(k) + " overflows its capacity";
    size_t off = 0;
    size_t seen = 0;
    while (off < n->bytes) {
      off += entry_total(n->data() + off);
      ++seen;
    }
    if (off != n->bytes) return "node " + std::to_string(k) + " entries overrun its bytes";
    if (seen != n->count) return "node " + std::to_string(k) + " count mismatch";
    size_t back = n->bytes;
    size_t seen_back = 0;
    while (back > 0) {
      back = prev_start(n->data(), back);
      ++seen_back;
    }
    if (seen_back != n->count) return "node " + std::to_string(k) + " backward walk mismatch";
    total += n->count;
  }
  if (total != size_) return "size mismatch";
  if (nnodes_ > ring_cap_) return "ring overflow";
  if (ring_cap_ == 0 || (ring_cap_ & (ring_cap_ - 1)) != 0) return "ring capacity not a power of two";
  return "";
}

}  // namespace distcache::storage
