#pragma once
// A byte string that stores short contents inline (no heap allocation) and
// longer ones in one heap block. Used for string values, where most contents
// are short: a small value costs no allocation of its own.
//
// Layout (sizeof == 24 bytes): up to kInlineCapacity (23) bytes are kept inline,
// with the last byte holding the inline length; otherwise the object holds a
// pointer to a heap block of data plus the size and capacity.
//
// Why 24 and not 16 bytes: a 16-byte string value (the common small-value case)
// then lives inside the key's node instead of in a separate heap block of its
// own (glibc: a 32-byte chunk): 8 more bytes in every key's node save 32 bytes
// per key whose value is 16..23 bytes long. Keys inside the table are stored
// at the tail of their node instead (storage/node_key.h).
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace distcache::storage {

class CompactString {
 public:
  static constexpr size_t kInlineCapacity = 23;

  CompactString() noexcept;
  explicit CompactString(std::string_view s);
  CompactString(const CompactString& other);
  CompactString(CompactString&& other) noexcept;
  CompactString& operator=(const CompactString& other);
  CompactString& operator=(CompactString&& other) noexcept;
  ~CompactString();

  std::string_view view() const noexcept;
  size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  const char* data() const noexcept;
  // Writable bytes [0, size()). Invalidated by any resizing call.
  char* mutable_data() noexcept;

  void assign(std::string_view s);
  void append(std::string_view s);       // amortised O(1) growth
  void resize(size_t n, char fill = '\0');  // grows with `fill` bytes or truncates (room to grow more)
  // Size n with exactly the room it needs (a value read whole, e.g. from an
  // RDB file, which will not be appended to); the bytes are uninitialised.
  void resize_exact(size_t n);
  void clear() noexcept;
  // Bytes on the heap for this string (0 when inline).
  size_t heap_bytes() const noexcept;

  bool operator==(std::string_view s) const noexcept { return view() == s; }

 private:
  // Inline: bytes_[0..23) data, bytes_[23] = length (0..23).
  // Heap:   bytes_[0..8) data pointer, [8..16) size, [16..23) capacity (56
  //         bits), bytes_[23] = kHeapTag. See compact_string.cpp.
  static constexpr unsigned char kHeapTag = 0xFF;
  bool is_heap() const noexcept { return bytes_[23] == kHeapTag; }
  char* heap_ptr() const noexcept;
  size_t heap_size() const noexcept;
  size_t heap_capacity() const noexcept;
  void set_heap(char* p, size_t size, size_t cap) noexcept;
  void set_heap_size(size_t size) noexcept;
  void set_inline_size(size_t n) noexcept { bytes_[23] = static_cast<unsigned char>(n); }
  void grow_to(size_t min_cap, bool exact);  // keeps contents
  size_t capacity() const noexcept;

  alignas(8) unsigned char bytes_[24];
};

static_assert(sizeof(CompactString) == 24);

}  // namespace distcache::storage
