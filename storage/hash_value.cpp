#include "storage/hash_value.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <unordered_set>

namespace distcache::storage {

namespace {

// Bytes glibc malloc really takes for a request of n bytes (chunk header
// included, 16-byte granularity, 32-byte minimum).
size_t chunk_bytes(size_t n) {
  const size_t c = (n + 8 + 15) & ~size_t{15};
  return c < 32 ? 32 : c;
}

// Chunk bytes of a live malloc'd block.
size_t block_bytes(const void* p) { return p ? malloc_usable_size(const_cast<void*>(p)) + 8 : 0; }

void* checked_realloc(void* p, size_t n) {
  void* q = std::realloc(p, n);
  if (q == nullptr) throw std::bad_alloc();
  return q;
}

}  // namespace

// ---------------------------------------------------------------------------
// Listpack encoding

uint32_t HashValue::lp_count() const {
  if (buf_ == nullptr) return 0;
  uint32_t n;
  std::memcpy(&n, buf_, 4);
  return n;
}

void HashValue::lp_set_count(uint32_t n) { std::memcpy(buf_, &n, 4); }

size_t HashValue::lp_find(std::string_view field) const {
  if (buf_ == nullptr) return SIZE_MAX;
  const char* p = lp_begin();
  const char* end = lp_end();
  while (p < end) {
    const char* start = p;
    std::string_view f, v;
    p = lp_read(p, f);
    if (f.size() == field.size() && std::memcmp(f.data(), field.data(), f.size()) == 0)
      return static_cast<size_t>(start - buf_);
    p = lp_read(p, v);
  }
  return SIZE_MAX;
}

void HashValue::lp_reserve(size_t extra) {
  if (buf_ == nullptr) {
    const size_t need = 4 + extra;
    buf_ = static_cast<char*>(checked_realloc(nullptr, need));
    size_ = 4;
    lp_set_count(0);
    return;
  }
  const size_t need = size_ + extra;
  if (need <= malloc_usable_size(buf_)) return;
  // Small buffers grow to the exact size (malloc rounds to 16 bytes anyway),
  // so a finished small hash carries no slack; large ones (possible only with
  // raised limits) grow geometrically to keep appends amortised O(1).
  buf_ = static_cast<char*>(checked_realloc(buf_, need <= 4096 ? need : need + need / 8));
}

void HashValue::lp_splice(size_t off, size_t old_len, size_t new_len) {
  if (new_len > old_len) lp_reserve(new_len - old_len);
  const size_t tail = size_ - off - old_len;
  if (tail != 0 && new_len != old_len) std::memmove(buf_ + off + new_len, buf_ + off + old_len, tail);
  size_ = static_cast<uint32_t>(size_ + new_len - old_len);
  if (new_len < old_len) lp_maybe_shrink();
}

void HashValue::lp_maybe_shrink() {
  const size_t usable = malloc_usable_size(buf_);
  if (usable > size_ + size_ / 4 + 64) buf_ = static_cast<char*>(checked_realloc(buf_, size_));
}

// ---------------------------------------------------------------------------
// Hashtable entries

HashEntry* HashValue::new_entry(std::string_view field, std::string_view value) {
  auto* e = static_cast<HashEntry*>(checked_realloc(nullptr, HashEntry::bytes_for(field, value)));
  e->next = nullptr;
  hash_detail::write_str(hash_detail::write_str(e->data(), field), value);
  return e;
}

void HashValue::free_entry(HashEntry* e) {
  ht_->entry_bytes -= block_bytes(e);
  std::free(e);
}

void HashValue::prefetch_field(uint64_t h, int stage) const {
  if (enc_ != Encoding::kHashtable) return;
  if (stage == 1) {
    ht_->table.prefetch_buckets(h);
  } else if (stage == 2) {
    ht_->table.prefetch_chain(h);
  } else if (const HashEntry* e = ht_->table.first_in_chain(h)) {
    const std::string_view f = e->field();
    __builtin_prefetch(f.data() + f.size());
  }
}

HashEntry* HashValue::ht_find(std::string_view field, uint64_t h) const {
  return ht_->table.find(h, [field](const HashEntry* e) { return e->field() == field; });
}

void HashValue::ht_insert_new(std::string_view field, std::string_view value, uint64_t h) {
  HashEntry* e = new_entry(field, value);
  ht_->entry_bytes += block_bytes(e);
  ht_->table.insert(e, h);
}

// ---------------------------------------------------------------------------
// Life cycle

HashValue::HashValue(const HashValue& other) : Collection(), size_(0), enc_(other.enc_) {
  if (other.enc_ == Encoding::kListpack) {
    buf_ = nullptr;
    if (other.buf_ != nullptr) {
      buf_ = static_cast<char*>(checked_realloc(nullptr, other.size_));
      std::memcpy(buf_, other.buf_, other.size_);
      size_ = other.size_;
    }
  } else {
    ht_ = new Ht;
    try {
      other.ht_->table.for_each([this](const HashEntry* e) {
        ht_->table.step(2);
        ht_insert_new(e->field(), e->value(), hash_bytes(e->field()));
      });
    } catch (...) {
      release();
      throw;
    }
  }
}

HashValue::~HashValue() { release(); }

void HashValue::release() {
  if (enc_ == Encoding::kListpack) {
    std::free(buf_);
    buf_ = nullptr;
    size_ = 0;
  } else if (ht_ != nullptr) {
    ht_->table.clear([](HashEntry* e) { std::free(e); });
    delete ht_;
    ht_ = nullptr;
  }
}

std::unique_ptr<Collection> HashValue::clone() const { return std::make_unique<HashValue>(*this); }

std::string_view HashValue::encoding_name() const {
  return enc_ == Encoding::kListpack ? "listpack" : "hashtable";
}

size_t HashValue::heap_bytes() const {
  size_t total = chunk_bytes(sizeof(HashValue));
  if (enc_ == Encoding::kListpack) {
    total += block_bytes(buf_);
  } else {
    total += chunk_bytes(sizeof(Ht)) + ht_->entry_bytes + ht_->table.bucket_bytes();
  }
  return total;
}

static_assert(sizeof(HashValue) == 24, "vptr + buffer/table pointer + size + encoding: a 32-byte glibc chunk");

size_t HashValue::length() const { return enc_ == Encoding::kListpack ? lp_count() : ht_->table.size(); }

// ---------------------------------------------------------------------------
// Reads

std::optional<std::string_view> HashValue::get(std::string_view field) const {
  if (enc_ == Encoding::kListpack) {
    const size_t off = lp_find(field);
    if (off == SIZE_MAX) return std::nullopt;
    std::string_view f, v;
    lp_read(lp_read(buf_ + off, f), v);
    return v;
  }
  const HashEntry* e = ht_find(field, hash_bytes(field));
  if (e == nullptr) return std::nullopt;
  return e->value();
}

std::vector<HashValue::Pair> HashValue::pairs() const {
  std::vector<Pair> out;
  out.reserve(length());
  for_each([&out](std::string_view f, std::string_view v) { out.emplace_back(f, v); });
  return out;
}

// ---------------------------------------------------------------------------
// Writes

void HashValue::convert_to_hashtable() {
  if (enc_ == Encoding::kHashtable) return;
  auto ht = std::make_unique<Ht>();
  char* buf = buf_;
  // Build the table while the listpack is still intact; only swap on success.
  try {
    const char* p = buf ? buf + 4 : nullptr;
    const char* end = buf ? buf + size_ : nullptr;
    while (p < end) {
      std::string_view f, v;
      p = lp_read(p, f);
      p = lp_read(p, v);
      HashEntry* e = new_entry(f, v);
      ht->entry_bytes += block_bytes(e);
      ht->table.step(2);
      ht->table.insert(e, hash_bytes(f));
    }
  } catch (...) {
    ht->table.clear([](HashEntry* e) { std::free(e); });
    throw;
  }
  std::free(buf);
  size_ = 0;
  ht_ = ht.release();
  enc_ = Encoding::kHashtable;
}

void HashValue::convert_if_args_exceed(size_t longest, size_t total, const HashLimits& limits) {
  if (enc_ != Encoding::kListpack) return;
  if (longest > limits.max_listpack_value || size_t{size_} + total > kListpackSafetyBytes) convert_to_hashtable();
}

bool HashValue::set(std::string_view field, std::string_view value, const HashLimits& limits) {
  if (enc_ == Encoding::kListpack) {
    if (field.size() > limits.max_listpack_value || value.size() > limits.max_listpack_value ||
        size_t{size_} + field.size() + value.size() + 10 > kListpackSafetyBytes) {
      convert_to_hashtable();
    }
  }
  if (enc_ == Encoding::kListpack) {
    bool added;
    const size_t off = lp_find(field);
    if (off != SIZE_MAX) {
      std::string_view f, old;
      const char* vp = lp_read(buf_ + off, f);
      const char* vend = lp_read(vp, old);
      const size_t voff = static_cast<size_t>(vp - buf_);
      lp_splice(voff, static_cast<size_t>(vend - vp), lp_header_size(value.size()) + value.size());
      lp_write(buf_ + voff, value);
      added = false;
    } else {
      const size_t need =
          lp_header_size(field.size()) + field.size() + lp_header_size(value.size()) + value.size();
      const size_t at = buf_ ? size_ : 4;
      lp_splice(at, 0, need);  // allocates the buffer (size_ = 4) when there is none
      lp_write(lp_write(buf_ + at, field), value);
      lp_set_count(lp_count() + 1);
      added = true;
    }
    if (lp_count() > limits.max_listpack_entries) convert_to_hashtable();
    return added;
  }

  ht_->table.step(2);  // inserts outpace rehashing with one bucket per call on a growing table
  const uint64_t h = hash_bytes(field);
  HashEntry* e = ht_find(field, h);
  if (e == nullptr) {
    ht_insert_new(field, value, h);
    return true;
  }
  const size_t usable = malloc_usable_size(e);
  const size_t need = HashEntry::bytes_for(field, value);
  if (need <= usable && usable <= 2 * need + 32) {
    std::string_view f;
    hash_detail::write_str(const_cast<char*>(hash_detail::read_str(e->data(), f)), value);
    return false;
  }
  HashEntry* fresh = new_entry(field, value);
  ht_->entry_bytes += block_bytes(fresh);
  ht_->table.unlink_entry(e, h);
  free_entry(e);
  ht_->table.insert(fresh, h);
  return false;
}

bool HashValue::erase(std::string_view field) {
  if (enc_ == Encoding::kListpack) {
    const size_t off = lp_find(field);
    if (off == SIZE_MAX) return false;
    std::string_view f, v;
    const char* end = lp_read(lp_read(buf_ + off, f), v);
    const uint32_t n = lp_count() - 1;
    if (n == 0) {
      std::free(buf_);
      buf_ = nullptr;
      size_ = 0;
      return true;
    }
    lp_splice(off, static_cast<size_t>(end - (buf_ + off)), 0);
    lp_set_count(n);
    return true;
  }
  ht_->table.step(1);
  const uint64_t h = hash_bytes(field);
  HashEntry* e = ht_->table.unlink(h, [field](const HashEntry* x) { return x->field() == field; });
  if (e == nullptr) return false;
  free_entry(e);
  ht_->table.maybe_shrink();
  return true;
}

// ---------------------------------------------------------------------------
// Random access

HashValue::Pair HashValue::random_pair(uint64_t& rng) const {
  if (enc_ == Encoding::kHashtable) {
    const HashEntry* e = ht_->table.random(rng);
    return {e->field(), e->value()};
  }
  size_t skip = next_random(rng) % lp_count();
  const char* p = lp_begin();
  std::string_view f, v;
  for (;;) {
    p = lp_read(lp_read(p, f), v);
    if (skip-- == 0) return {f, v};
  }
}

void HashValue::random_pairs(size_t count, bool distinct, uint64_t& rng, std::vector<Pair>& out) const {
  const size_t n = length();
  if (n == 0 || count == 0) return;
  if (!distinct) {
    if (enc_ == Encoding::kHashtable) {
      for (size_t i = 0; i < count; ++i) {
        const HashEntry* e = ht_->table.random(rng);
        out.emplace_back(e->field(), e->value());
      }
    } else {
      const std::vector<Pair> all = pairs();
      for (size_t i = 0; i < count; ++i) out.push_back(all[next_random(rng) % n]);
    }
    return;
  }
  if (count >= n) {
    for_each([&out](std::string_view f, std::string_view v) { out.emplace_back(f, v); });
    return;
  }
  if (enc_ == Encoding::kListpack || count * 3 > n) {
    // Dense pick: partial Fisher-Yates over all pairs.
    std::vector<Pair> all = pairs();
    for (size_t i = 0; i < count; ++i) {
      const size_t j = i + next_random(rng) % (n - i);
      std::swap(all[i], all[j]);
      out.push_back(all[i]);
    }
    return;
  }
  // Sparse pick: draw until `count` distinct entries were found.
  std::unordered_set<const HashEntry*> seen;
  seen.reserve(count * 2);
  while (seen.size() < count) {
    const HashEntry* e = ht_->table.random(rng);
    if (seen.insert(e).second) out.emplace_back(e->field(), e->value());
  }
}

// ---------------------------------------------------------------------------

std::string HashValue::validate() const {
  if (enc_ == Encoding::kListpack) {
    if (buf_ == nullptr) return size_ == 0 ? "" : "size without buffer";
    if (size_ < 4 || size_ > malloc_usable_size(buf_)) return "bad listpack size";
    const char* p = lp_begin();
    const char* end = lp_end();
    std::vector<std::string_view> fields;
    while (p < end) {
      std::string_view f, v;
      p = lp_read(p, f);
      if (p >= end) return "field without value";
      p = lp_read(p, v);
      if (p > end) return "entry past the end";
      fields.push_back(f);
    }
    if (fields.size() != lp_count()) return "pair count mismatch";
    std::sort(fields.begin(), fields.end());
    if (std::adjacent_find(fields.begin(), fields.end()) != fields.end()) return "duplicate field";
    return "";
  }
  std::string why = ht_->table.validate();
  if (!why.empty()) return why;
  size_t bytes = 0;
  bool dup = false;
  ht_->table.for_each([&](const HashEntry* e) {
    bytes += block_bytes(e);
    if (ht_find(e->field(), hash_bytes(e->field())) != e) dup = true;
  });
  if (dup) return "duplicate field";
  if (bytes != ht_->entry_bytes) return "entry byte count mismatch";
  return "";
}

}  // namespace distcache::storage
