#include "storage/compact_string.h"

#include <malloc.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>

namespace distcache::storage {

static_assert(std::endian::native == std::endian::little,
              "CompactString packs its heap capacity under the tag byte");

namespace {

constexpr uint64_t kCapMask = (uint64_t{1} << 56) - 1;
constexpr size_t kGreedyLimit = size_t{1} << 20;  // double below 1 MiB, then +1 MiB

char* alloc_bytes(size_t n, size_t& usable) {
  void* p = std::malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  usable = malloc_usable_size(p);
  return static_cast<char*>(p);
}

}  // namespace

char* CompactString::heap_ptr() const noexcept {
  char* p;
  std::memcpy(&p, bytes_, sizeof p);
  return p;
}
size_t CompactString::heap_size() const noexcept {
  uint64_t v;
  std::memcpy(&v, bytes_ + 8, 8);
  return static_cast<size_t>(v);
}
size_t CompactString::heap_capacity() const noexcept {
  uint64_t v;
  std::memcpy(&v, bytes_ + 16, 8);
  return static_cast<size_t>(v & kCapMask);
}
void CompactString::set_heap(char* p, size_t size, size_t cap) noexcept {
  std::memcpy(bytes_, &p, sizeof p);
  const uint64_t sz = size;
  std::memcpy(bytes_ + 8, &sz, 8);
  const uint64_t capword = (std::min<uint64_t>(cap, kCapMask)) | (uint64_t{kHeapTag} << 56);
  std::memcpy(bytes_ + 16, &capword, 8);
}
void CompactString::set_heap_size(size_t size) noexcept {
  const uint64_t sz = size;
  std::memcpy(bytes_ + 8, &sz, 8);
}
size_t CompactString::capacity() const noexcept {
  return is_heap() ? heap_capacity() : kInlineCapacity;
}

CompactString::CompactString() noexcept { bytes_[23] = 0; }

CompactString::CompactString(std::string_view s) {
  bytes_[23] = 0;
  assign(s);
}

CompactString::CompactString(const CompactString& other) {
  bytes_[23] = 0;
  assign(other.view());
}

CompactString::CompactString(CompactString&& other) noexcept {
  std::memcpy(bytes_, other.bytes_, sizeof bytes_);
  other.bytes_[23] = 0;
}

CompactString& CompactString::operator=(const CompactString& other) {
  if (this != &other) assign(other.view());
  return *this;
}

CompactString& CompactString::operator=(CompactString&& other) noexcept {
  if (this != &other) {
    if (is_heap()) std::free(heap_ptr());
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.bytes_[23] = 0;
  }
  return *this;
}

CompactString::~CompactString() {
  if (is_heap()) std::free(heap_ptr());
}

std::string_view CompactString::view() const noexcept {
  if (is_heap()) return {heap_ptr(), heap_size()};
  return {reinterpret_cast<const char*>(bytes_), bytes_[23]};
}

size_t CompactString::size() const noexcept { return is_heap() ? heap_size() : bytes_[23]; }

const char* CompactString::data() const noexcept {
  return is_heap() ? heap_ptr() : reinterpret_cast<const char*>(bytes_);
}

char* CompactString::mutable_data() noexcept {
  return is_heap() ? heap_ptr() : reinterpret_cast<char*>(bytes_);
}

size_t CompactString::heap_bytes() const noexcept { return is_heap() ? heap_capacity() : 0; }

void CompactString::clear() noexcept {
  if (is_heap()) std::free(heap_ptr());
  bytes_[23] = 0;
}

// Ensures capacity >= min_cap, keeping the current contents. `exact` asks for
// no slack (assign/copy); otherwise growth is geometric (amortised appends).
void CompactString::grow_to(size_t min_cap, bool exact) {
  const size_t cur = capacity();
  if (min_cap <= cur) return;
  size_t want = min_cap;
  if (!exact) want = min_cap < kGreedyLimit ? min_cap * 2 : min_cap + kGreedyLimit;
  const size_t n = size();
  size_t usable = 0;
  if (is_heap()) {
    void* p = std::realloc(heap_ptr(), want);
    if (p == nullptr) throw std::bad_alloc();
    usable = malloc_usable_size(p);
    set_heap(static_cast<char*>(p), n, usable);
  } else {
    char* p = alloc_bytes(want, usable);
    std::memcpy(p, bytes_, n);
    set_heap(p, n, usable);
  }
}

void CompactString::assign(std::string_view s) {
  const size_t n = s.size();
  if (n <= kInlineCapacity) {
    // memmove: `s` may point into our own storage.
    unsigned char tmp[kInlineCapacity];
    if (n) std::memcpy(tmp, s.data(), n);
    if (is_heap()) std::free(heap_ptr());
    if (n) std::memcpy(bytes_, tmp, n);
    set_inline_size(n);
    return;
  }
  // Reuse the block unless that would leave most of it idle.
  if (is_heap() && n <= heap_capacity() && n >= heap_capacity() / 4) {
    std::memmove(heap_ptr(), s.data(), n);
    set_heap_size(n);
    return;
  }
  // Fresh exact-size block; copy before freeing in case `s` aliases us.
  size_t usable = 0;
  char* p = alloc_bytes(n, usable);
  std::memcpy(p, s.data(), n);
  if (is_heap()) std::free(heap_ptr());
  set_heap(p, n, usable);
}

void CompactString::append(std::string_view s) {
  if (s.empty()) return;
  const size_t n = size();
  const size_t total = n + s.size();
  if (total > capacity()) {
    const char* old = data();
    const bool aliased = s.data() >= old && s.data() < old + capacity();
    if (aliased) {
      // Keep the offset; the buffer may move.
      const size_t off = static_cast<size_t>(s.data() - old);
      grow_to(total, false);
      s = std::string_view(data() + off, s.size());
    } else {
      grow_to(total, false);
    }
  }
  char* d = mutable_data();
  std::memmove(d + n, s.data(), s.size());
  if (is_heap()) {
    set_heap_size(total);
  } else {
    set_inline_size(total);
  }
}

void CompactString::resize_exact(size_t n) {
  grow_to(n, true);
  if (is_heap()) {
    set_heap_size(n);
  } else {
    set_inline_size(n);
  }
}

void CompactString::resize(size_t n, char fill) {
  const size_t cur = size();
  if (n > cur) {
    grow_to(n, false);
    std::memset(mutable_data() + cur, fill, n - cur);
  }
  if (is_heap()) {
    set_heap_size(n);
  } else {
    set_inline_size(n);
  }
}

}  // namespace distcache::storage
