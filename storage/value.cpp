#include "storage/value.h"

namespace distcache::storage {

static_assert(sizeof(Value) == 32, "Value: 2 tag bytes + padding (room for LRU/LFU) + CompactString");

std::string_view type_name(ValueType t) {
  switch (t) {
    case ValueType::kString: return "string";
    case ValueType::kList: return "list";
    case ValueType::kSet: return "set";
    case ValueType::kZSet: return "zset";
    case ValueType::kHash: return "hash";
    case ValueType::kStream: return "stream";
  }
  return "none";
}

namespace {

// True if `s` is exactly the canonical decimal form of a signed 64-bit integer
// (what Redis's string2ll accepts): optional '-', no '+', no leading zeros, no
// spaces, "-0" rejected, within [INT64_MIN, INT64_MAX].
bool is_canonical_int64(std::string_view s) {
  const size_t n = s.size();
  if (n == 0 || n > 20) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    i = 1;
    if (n == 1) return false;
  }
  if (s[i] == '0') return n == 1;  // "0" only; "-0", "01" rejected
  uint64_t v = 0;
  for (; i < n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  const uint64_t limit = neg ? (uint64_t{1} << 63) : (uint64_t{1} << 63) - 1;
  return v <= limit;
}

}  // namespace

// Strings: Redis stores canonical integers (length <= 20) as "int", short
// strings (<= 44 bytes) as "embstr" and the rest as "raw". A value modified in
// place (APPEND, SETRANGE, ...) is "raw" whatever its contents: real Redis 7.0
// answers "raw" for `SET k 123; APPEND k 4; OBJECT ENCODING k`.
std::string_view Value::encoding_name() const {
  switch (type_) {
    case ValueType::kString: {
      if (raw_) return "raw";
      const std::string_view s = str_.view();
      if (is_canonical_int64(s)) return "int";
      return s.size() <= 44 ? "embstr" : "raw";
    }
    case ValueType::kList: return "quicklist";
    case ValueType::kSet: return "hashtable";
    case ValueType::kZSet: return "skiplist";
    case ValueType::kHash: return "hashtable";
    case ValueType::kStream: return "stream";
  }
  return "unknown";
}

Value Value::clone() const {
  Value v;
  v.type_ = type_;
  v.raw_ = raw_;
  v.str_ = str_;  // deep copy
  return v;
}

size_t Value::heap_bytes() const { return str_.heap_bytes(); }

}  // namespace distcache::storage
