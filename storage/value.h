#pragma once
// A value stored under a key: a string (kept inline in the value when short)
// or a collection of one of Redis's other types (see collection.h).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/access_meta.h"
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

  // --- access metadata for eviction (storage/access_meta.h); moves with the value.
  uint32_t lru() const { return access_ & access::kLruClockMax; }
  uint8_t lfu_counter() const { return static_cast<uint8_t>(access_ >> 24); }
  uint16_t lfu_time() const { return lfu_time_; }
  void set_lru(uint32_t lru) { access_ = (access_ & ~access::kLruClockMax) | (lru & access::kLruClockMax); }
  void set_lfu(uint16_t minutes, uint8_t counter) {
    lfu_time_ = minutes;
    access_ = (access_ & access::kLruClockMax) | (uint32_t{counter} << 24);
  }
  // Access information carried by a file or a RESTORE: seconds idle
  // (IDLE / IDLETIME) and the LFU counter (FREQ); -1 when absent.
  void restore_access(int64_t lru_idle_s, int lfu_freq) {
    if (lfu_freq >= 0) set_lfu(access::lfu_minutes(), static_cast<uint8_t>(lfu_freq));
    if (lru_idle_s >= 0) {
      const int64_t clock = access::lru_clock();
      int64_t when = clock - lru_idle_s;
      if (when < 0) when = (clock + access::kLruClockMax / 2) % access::kLruClockMax;  // as Redis
      set_lru(static_cast<uint32_t>(when));
    }
  }
  // Becomes `fresh` (the key's new value), keeping this key's access
  // metadata: the LRU clock and the LFU counter describe the key, not one
  // value of it.
  void replace_keeping_access(Value&& fresh) {
    fresh.access_ = access_;
    fresh.lfu_time_ = lfu_time_;
    *this = std::move(fresh);
  }
  // A new key: accessed now, LFU counter at its initial value.
  void init_access() {
    lfu_time_ = access::lfu_minutes();
    access_ = access::lru_clock() | (uint32_t{access::kLfuInitVal} << 24);
  }
  // An access (lookup): the active policy's metadata (LRU or LFU) moves.
  void touch() {
    if (access::lfu_mode()) {
      set_lfu(access::lfu_minutes(), access::lfu_log_incr(access::lfu_decayed(lfu_time_, lfu_counter())));
    } else {
      const uint32_t now = access::lru_clock();
      if (lru() != now) set_lru(now);
    }
  }

 private:
  void destroy() noexcept;

  ValueType type_ = ValueType::kString;
  bool raw_ = false;
  // Bytes 2..7: access metadata (see access_meta.h); sizeof(Value) stays 32.
  uint16_t lfu_time_ = 0;
  uint32_t access_ = 0;  // bits 0..23 LRU clock, 24..31 LFU counter
  union {
    CompactString str_;  // type_ == kString
    Collection* obj_;    // any other type; owned
  };
};

}  // namespace distcache::storage
