#include "storage/value.h"

#include <utility>

#include "storage/numbers.h"

namespace distcache::storage {

static_assert(sizeof(Value) == 32, "Value: 2 tag bytes + 6 bytes of LRU/LFU metadata + CompactString");

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
    default:
      return obj_->encoding_name();
  }
}

Value Value::clone() const {
  if (!is_string()) return collection(type_, obj_->clone());
  Value v;
  v.raw_ = raw_;
  v.str_ = str_;  // deep copy
  return v;
}

size_t Value::heap_bytes() const { return is_string() ? str_.heap_bytes() : obj_->heap_bytes(); }

Value Value::collection(ValueType t, std::unique_ptr<Collection> c) {
  Value v;
  v.str_.~CompactString();
  v.type_ = t;
  v.obj_ = c.release();
  return v;
}

void Value::destroy() noexcept {
  if (is_string())
    str_.~CompactString();
  else
    delete obj_;
}

Value::~Value() { destroy(); }

Value::Value(Value&& other) noexcept
    : type_(other.type_), raw_(other.raw_), lfu_time_(other.lfu_time_), access_(other.access_) {
  if (is_string()) {
    new (&str_) CompactString(std::move(other.str_));
  } else {
    obj_ = other.obj_;
    // Leave `other` a valid empty string.
    other.type_ = ValueType::kString;
    new (&other.str_) CompactString();
  }
}

Value& Value::operator=(Value&& other) noexcept {
  if (this != &other) {
    destroy();
    new (this) Value(std::move(other));
  }
  return *this;
}

}  // namespace distcache::storage
