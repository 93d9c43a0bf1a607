#pragma once
// An immutable byte string of 16 bytes for keys held by the key table: up to
// 15 bytes inline (byte 15 holds the length), otherwise a pointer to an
// exact-size heap block of the bytes plus the size (56 bits) under the tag.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace distcache::storage {

class KeyString {
 public:
  static constexpr size_t kInlineCapacity = 15;

  KeyString() noexcept { bytes_[15] = 0; }
  explicit KeyString(std::string_view s) {
    const size_t n = s.size();
    if (n <= kInlineCapacity) {
      if (n) std::memcpy(bytes_, s.data(), n);
      bytes_[15] = static_cast<unsigned char>(n);
      return;
    }
    void* p = std::malloc(n);
    if (p == nullptr) throw std::bad_alloc();
    std::memcpy(p, s.data(), n);
    std::memcpy(bytes_, &p, sizeof p);
    const uint64_t word = static_cast<uint64_t>(n) | (uint64_t{kHeapTag} << 56);
    std::memcpy(bytes_ + 8, &word, 8);
  }
  KeyString(const KeyString&) = delete;
  KeyString& operator=(const KeyString&) = delete;
  KeyString(KeyString&& o) noexcept {
    std::memcpy(bytes_, o.bytes_, 16);
    o.bytes_[15] = 0;
  }
  KeyString& operator=(KeyString&& o) noexcept {
    if (this != &o) {
      release();
      std::memcpy(bytes_, o.bytes_, 16);
      o.bytes_[15] = 0;
    }
    return *this;
  }
  ~KeyString() { release(); }

  bool is_heap() const noexcept { return bytes_[15] == kHeapTag; }
  size_t size() const noexcept {
    if (!is_heap()) return bytes_[15];
    uint64_t word;
    std::memcpy(&word, bytes_ + 8, 8);
    return static_cast<size_t>(word & ((uint64_t{1} << 56) - 1));
  }
  const char* data() const noexcept {
    if (!is_heap()) return reinterpret_cast<const char*>(bytes_);
    const char* p;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  std::string_view view() const noexcept { return {data(), size()}; }
  // Heap bytes (the malloc request; 0 when inline).
  size_t heap_bytes() const noexcept { return is_heap() ? size() : 0; }

 private:
  static constexpr unsigned char kHeapTag = 0xFF;
  static_assert(std::endian::native == std::endian::little);
  void release() noexcept {
    if (is_heap()) std::free(const_cast<char*>(data()));
  }
  alignas(8) unsigned char bytes_[16];
};

static_assert(sizeof(KeyString) == 16);

}  // namespace distcache::storage
