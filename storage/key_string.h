#pragma once
// An immutable byte string of 16 bytes for keys held by the key table: up to
// 15 bytes inline (byte 15 holds the length), otherwise a pointer to an
// exact-size heap block of the bytes, the size (40 bits) and a 16-bit
// fingerprint of the key (given by the owner, e.g. bits of its hash) under
// the tag. equals() compares size and fingerprint before it reads the heap
// bytes, so walking a hash chain past other long keys costs no cache miss on
// their bytes.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string_view>

namespace distcache::storage {

class KeyString {
 public:
  static constexpr size_t kInlineCapacity = 15;

  KeyString() noexcept { bytes_[15] = 0; }
  explicit KeyString(std::string_view s, uint16_t fingerprint = 0) {
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
    if (n > kMaxSize) {
      std::free(p);
      throw std::length_error("key too long");
    }
    const uint64_t word = static_cast<uint64_t>(n) | (uint64_t{fingerprint} << 40) | (uint64_t{kHeapTag} << 56);
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
    return static_cast<size_t>(word & kMaxSize);
  }
  // The fingerprint given at construction (0 for inline keys, which need none).
  uint16_t fingerprint() const noexcept {
    if (!is_heap()) return 0;
    uint64_t word;
    std::memcpy(&word, bytes_ + 8, 8);
    return static_cast<uint16_t>(word >> 40);
  }
  // view() == k, for a k whose fingerprint (as given to the constructor) is fp.
  bool equals(std::string_view k, uint16_t fp) const noexcept {
    if (!is_heap()) return bytes_[15] == k.size() && std::memcmp(bytes_, k.data(), k.size()) == 0;
    uint64_t word;
    std::memcpy(&word, bytes_ + 8, 8);
    const uint64_t expected = static_cast<uint64_t>(k.size()) | (uint64_t{fp} << 40) | (uint64_t{kHeapTag} << 56);
    return word == expected && std::memcmp(data(), k.data(), k.size()) == 0;
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
  static constexpr uint64_t kMaxSize = (uint64_t{1} << 40) - 1;
  static_assert(std::endian::native == std::endian::little);
  void release() noexcept {
    if (is_heap()) std::free(const_cast<char*>(data()));
  }
  alignas(8) unsigned char bytes_[16];
};

static_assert(sizeof(KeyString) == 16);

}  // namespace distcache::storage
