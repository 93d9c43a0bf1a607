#pragma once
// A value stored under a key. Only strings exist so far; each further Redis
// type gets its own file and a payload kind here.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/compact_string.h"

namespace distcache::storage {

enum class ValueType : uint8_t { kString = 0, kList, kSet, kZSet, kHash, kStream };

// Redis's TYPE names.
std::string_view type_name(ValueType t);

class Value {
 public:
  Value() = default;
  static Value string(std::string_view s) {
    Value v;
    v.str_.assign(s);
    return v;
  }

  ValueType type() const { return type_; }
  bool is_string() const { return type_ == ValueType::kString; }

  // String payload (valid when is_string()).
  std::string_view str() const { return str_.view(); }
  CompactString& mutable_str() { return str_; }
  // Set once a string was modified in place (APPEND, SETRANGE, SETBIT...):
  // Redis then reports it as "raw" whatever its length.
  bool raw_flag() const { return raw_; }
  void set_raw_flag() { raw_ = true; }

  // Redis's OBJECT ENCODING name.
  std::string_view encoding_name() const;

  Value clone() const;

  // Approximate heap bytes held by the payload (for MEMORY USAGE / INFO).
  size_t heap_bytes() const;

 private:
  ValueType type_ = ValueType::kString;
  bool raw_ = false;
  CompactString str_;
};

}  // namespace distcache::storage
