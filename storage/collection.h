#pragma once
// Base of every non-string value type (list, hash, set, sorted set, stream).
// Each type lives in its own file and derives from Collection; Value owns one
// through a pointer, so adding a type touches neither Value nor the key table.
// The virtual calls are for rare operations only (copy, encoding name, size
// accounting); commands reach the concrete type through Value::as<T>().
#include <cstddef>
#include <memory>
#include <string_view>

namespace distcache::storage {

class Collection {
 public:
  virtual ~Collection() = default;
  // Deep copy (COPY, cross-shard gathering, DUMP later).
  virtual std::unique_ptr<Collection> clone() const = 0;
  // Redis's OBJECT ENCODING name for the current representation.
  virtual std::string_view encoding_name() const = 0;
  // Approximate heap bytes owned (MEMORY USAGE, INFO).
  virtual size_t heap_bytes() const = 0;
  // Number of elements; a collection that reaches 0 is deleted by the command.
  virtual size_t length() const = 0;
};

}  // namespace distcache::storage
