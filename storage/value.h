#pragma once
// A value stored under a key: a string (kept inline in the value when short)
// or a collection of one of Redis's other types (see collection.h).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/collection.h"
#include "storage/compact_string.h"

namespace distcache::storage {

enum class ValueType : uint8_t { kString = 0, kList, kSet, kZSet, kHash, kStream };

// Redis's TYPE names.
std::string_view type_name(ValueType t);

class Value {
 public:
  Value() noexcept : str_() {}
  Value(Value&& other) noexcept;
  Value& operator=(Value&& other) noexcept;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  ~Value();

  static Value string(std::string_view s) {
    Value v;
    v.str_.assign(s);
    return v;
  }
  // Takes ownership of a collection of type `t` (t != kString).
  static Value collection(ValueType t, std::unique_ptr<Collection> c);
  template <typename T, typename... Args>
  static Value make(ValueType t, Args&&... args) {
    return collection(t, std::make_unique<T>(std::forward<Args>(args)...));
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

  // Collection payload (valid when !is_string()); T is the concrete type.
  template <typename T>
  T& as() {
    return *static_cast<T*>(obj_);
  }
  template <typename T>
  const T& as() const {
    return *static_cast<const T*>(obj_);
  }
  Collection* collection() { return is_string() ? nullptr : obj_; }
  const Collection* collection() const { return is_string() ? nullptr : obj_; }

  // Redis's OBJECT ENCODING name.
  std::string_view encoding_name() const;

  Value clone() const;

  // Approximate heap bytes held by the payload (for MEMORY USAGE / INFO).
  size_t heap_bytes() const;

 private:
  void destroy() noexcept;

  ValueType type_ = ValueType::kString;
  bool raw_ = false;
  // Bytes 2..7 are padding: room for a future LRU/LFU clock.
  union {
    CompactString str_;  // type_ == kString
    Collection* obj_;    // any other type; owned
  };
};

}  // namespace distcache::storage
