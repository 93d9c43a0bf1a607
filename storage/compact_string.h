#pragma once
// A byte string that stores short contents inline (no heap allocation) and
// longer ones in one heap block. Used for keys and string values, where most
// contents are short: a key and a small value cost no allocation of their own.
//
// Layout contract (sizeof == 16 bytes): up to kInlineCapacity bytes are kept
// inline; otherwise a pointer to a heap block holding size, capacity and data.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace distcache::storage {

class CompactString {
 public:
  static constexpr size_t kInlineCapacity = 15;

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
  void resize(size_t n, char fill = '\0');  // grows with `fill` bytes or truncates
  void clear() noexcept;
  // Bytes on the heap for this string (0 when inline).
  size_t heap_bytes() const noexcept;

  bool operator==(std::string_view s) const noexcept { return view() == s; }

 private:
  // Implementation detail; see compact_string.cpp.
  alignas(8) unsigned char bytes_[16];
};

static_assert(sizeof(CompactString) == 16);

}  // namespace distcache::storage
