#pragma once
// A key stored at the tail of its key-table node, in the node's own heap
// block: one length byte (255: a 4-byte length follows), then the bytes.
// A lookup that reaches a node has its key bytes in the same or the next
// cache line: no separate block to miss on, and no per-key block to pay for
// (glibc's smallest chunk is 32 bytes).
//
// A NodeKey is only ever the last member of a node that was allocated with
// room for bytes_for(size) bytes from the key's address on (see KeyNode);
// it cannot be copied or moved, since its bytes lie past its own sizeof.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "storage/same_bytes.h"

namespace distcache::storage {

class NodeKey {
 public:
  // Largest key: Redis caps a bulk string at 512 MB (proto-max-bulk-len).
  static constexpr size_t kMaxSize = UINT32_MAX;

  // Bytes a key of n bytes occupies from the NodeKey's address on.
  static constexpr size_t bytes_for(size_t n) { return n < kLongTag ? 1 + n : 1 + sizeof(uint32_t) + n; }

  NodeKey() = default;
  NodeKey(const NodeKey&) = delete;
  NodeKey& operator=(const NodeKey&) = delete;

  // Writes s at this address; the node must hold bytes_for(s.size()) bytes
  // from here (and s.size() <= kMaxSize).
  void assign(std::string_view s) noexcept {
    unsigned char* p = base();
    if (s.size() < kLongTag) {
      p[0] = static_cast<unsigned char>(s.size());
      ++p;
    } else {
      p[0] = kLongTag;
      const auto n = static_cast<uint32_t>(s.size());
      std::memcpy(p + 1, &n, sizeof n);
      p += 1 + sizeof n;
    }
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
  }

  size_t size() const noexcept {
    const unsigned char* p = base();
    if (p[0] != kLongTag) return p[0];
    uint32_t n;
    std::memcpy(&n, p + 1, sizeof n);
    return n;
  }
  const char* data() const noexcept {
    const unsigned char* p = base();
    return reinterpret_cast<const char*>(p[0] != kLongTag ? p + 1 : p + 1 + sizeof(uint32_t));
  }
  std::string_view view() const noexcept { return {data(), size()}; }
  bool equals(std::string_view k) const noexcept { return size() == k.size() && same_bytes(data(), k.data(), k.size()); }

 private:
  static constexpr unsigned char kLongTag = 0xFF;
  // The node's block, not this one-byte member, holds the bytes.
  unsigned char* base() noexcept { return reinterpret_cast<unsigned char*>(this); }
  const unsigned char* base() const noexcept { return reinterpret_cast<const unsigned char*>(this); }
  unsigned char head_ = 0;  // the length byte; the rest lies past sizeof
};

}  // namespace distcache::storage
