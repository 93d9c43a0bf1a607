#pragma once
// SORT / SORT_RO without threads: option parsing, the element vector, BY and
// GET patterns, comparison, LIMIT and the output. The routing code
// (sort_command.cpp) runs the stages on the right threads; tests run them
// with a fake lookup.
//
// Stages of a SortJob, in order:
//   1. load(source)          on the thread owning the source key
//   2. by_lookups() -> values -> set_by_values()   (keys named by BY)
//   3. sort()                false: a score is not a number
//   4. get_lookups() -> values -> set_get_values() (keys named by GET)
//   5. write_reply() or store_rows()
// run() does 2-4 with a synchronous lookup function.
//
// Behaviour follows redis-server 7.0 (checked against it):
//  * the element vector is loaded in the source's order (list order, set
//    iteration order, sorted-set rank order); with BY nosort a list or sorted
//    set yields only the LIMIT range, read from the tail for DESC, while a set
//    yields its iteration order whatever DESC says (and with STORE a set is
//    sorted ALPHA instead, so that the stored result is deterministic);
//  * SORT converts a sorted set source to the skiplist encoding (even SORT_RO,
//    and even if it then fails);
//  * numeric sorting reads elements (or BY values) as C's strtod does, as far
//    as the first NUL byte: leading blanks, hex, "inf" accepted; trailing
//    bytes, NaN, overflow and underflow rejected. A missing BY key scores 0.
//    Equal scores are ordered by comparing the elements byte by byte;
//  * ALPHA compares as strcoll in the C / C.UTF-8 locale (bytes up to the
//    first NUL) when replying, and byte by byte over the whole string with
//    STORE; a missing BY value sorts before any present one;
//  * without LIMIT (or without BY) the sort is stable, as glibc's qsort; with
//    BY and a LIMIT that selects a part of the vector, elements that compare
//    equal come out in the order of the partial quicksort Redis uses
//    (Bentley-McIlroy partitioning, recursing only into parts that overlap
//    the requested range).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "storage/keyspace.h"
#include "storage/value.h"

namespace distcache::server::sort {

inline constexpr std::string_view kScoreError = "ERR One or more scores can't be converted into double";

struct SortOptions {
  bool has_by = false;   // a BY was given (the last one counts)
  std::string by;
  bool dontsort = false; // some BY pattern had no '*' (BY nosort): no sorting at all
  int64_t limit_offset = 0;
  int64_t limit_count = -1;
  std::vector<std::string> gets;
  bool desc = false;
  bool alpha = false;
  bool has_store = false;
  std::string store;
  // Called from a script: like STORE, a set is then sorted even with BY
  // nosort, so that the result does not depend on its iteration order.
  bool from_script = false;

  // Whether running the command may read keys other than the source (and
  // the STORE destination): a BY pattern that is sorted by, or a GET pattern
  // other than "#" that names a key.
  bool reads_other_keys() const;
};

// Parses the options of SORT (readonly = SORT_RO, which has no STORE) from
// args[2] on. Returns "" or the error to reply ("ERR syntax error", or
// "ERR value is not an integer or out of range" for LIMIT), in Redis's order.
std::string parse_sort_options(const protocol::ArgList& args, bool readonly, SortOptions& out);

// COMMAND GETKEYS for SORT: the source and the last STORE destination.
bool sort_find_keys(const protocol::ArgList& args, std::vector<int>& out);

// What a BY / GET pattern designates for one element.
struct PatternRef {
  enum Kind : uint8_t {
    kElement,    // "#": the element itself
    kNone,       // no '*' in the pattern: always missing
    kKey,        // the string value of `key`
    kHashField,  // field `field` of the hash at `key`
  };
  Kind kind = kNone;
  std::string key;
  std::string field;
};
// Substitutes the element for the first '*' of the pattern. "key->field"
// names a hash field when "->" follows the '*' and is not at the end.
// Redis scans patterns as C strings: "#", '*' and "->" are looked for only
// before the first NUL byte (the key and field keep every byte).
PatternRef expand_pattern(std::string_view pattern, std::string_view element);
// The value a key-reading PatternRef yields from the value stored at its key
// (nullptr: no such key): a string's bytes, or the hash field; nothing for
// other types.
std::optional<std::string> pattern_value(const storage::Value* v, const PatternRef& ref);

class SortJob {
 public:
  explicit SortJob(SortOptions opts) : opts_(std::move(opts)) {}
  const SortOptions& options() const { return opts_; }

  enum class SourceType { kList, kSet, kZSet };

  // Stage 1. `source` is the value at the source key, nullptr when missing
  // (an empty list). Returns false when it is not a list, set or sorted set
  // (WRONGTYPE). A sorted set is converted to the skiplist encoding.
  bool load(storage::Value* source);
  // Stage 1 for tests: a source of `type` whose elements come in this order
  // (for a sorted set: rank order).
  void load_elements(SourceType type, std::vector<std::string> elements);

  // Stage 2: one lookup per loaded element, empty when not sorting by a pattern.
  std::vector<PatternRef> by_lookups() const;
  void set_by_values(std::vector<std::optional<std::string>> values);

  // Stage 3. False when a score can't be read as a double (reply kScoreError).
  bool sort();

  // Stage 4: the key-reading GET lookups of the selected elements, in output order.
  std::vector<PatternRef> get_lookups();
  void set_get_values(std::vector<std::optional<std::string>> values);

  // Stage 5. Number of output entries (selected elements times GETs, or the elements).
  size_t output_length() const;
  void write_reply(protocol::ReplyBuilder& reply) const;
  // The STORE result in order (missing GET values are empty strings).
  std::vector<std::string_view> store_rows() const;

  // Stages 2-4 with a synchronous lookup. False on a score error.
  using Lookup = std::function<std::optional<std::string>(const PatternRef&)>;
  bool run(const Lookup& lookup);

 private:
  struct Item {
    uint32_t index;  // into elements_
    double score;
  };
  void set_range(size_t len);
  int compare(const Item& a, const Item& b) const;
  void partial_quicksort(size_t lo, size_t n);
  size_t median_of_three(size_t i, size_t j, size_t k) const;
  // Visits the output: fn(element index, get index or -1).
  template <class F>
  void for_each_output(F&& fn) const;

  SortOptions opts_;
  SourceType type_ = SourceType::kList;
  bool sorting_ = false;  // elements get sorted
  bool by_pattern_ = false;
  bool alpha_ = false;
  int64_t start_ = 0;     // output range in items_ (inclusive; end_ < start_ when empty)
  int64_t end_ = -1;
  std::vector<std::string> elements_;
  std::vector<std::optional<std::string>> by_values_;
  std::vector<Item> items_;
  // Per output slot with a GET: -1 the element, -2 missing, >= 0 index into get_values_.
  std::vector<int32_t> get_slots_;
  std::vector<std::optional<std::string>> get_values_;
};

// Writes the STORE result of a finished job: a list at `dest` (replacing
// any value and TTL), or no key when the result is empty.
enum class StoreOutcome { kUnchanged, kStored, kDeleted };
StoreOutcome store_job_result(const SortJob& job, storage::Db& db, std::string_view dest, int64_t now_ms,
                              int64_t list_fill);

// Stages 1-5 of a parsed job synchronously against `db`, which holds the
// source and every key the patterns name; writes the reply (or error) to `out`.
StoreOutcome run_job_sync(SortJob& job, storage::Db& db, std::string_view source, int64_t now_ms, int64_t list_fill,
                          protocol::ReplyBuilder& out);

// The whole SORT / SORT_RO synchronously against one keyspace that holds
// every key the command reads (a single-shard server, or a script's
// keyspace): options, WRONGTYPE, sorting, BY/GET lookups, the reply and the
// STORE. list_fill is list-max-listpack-size for a stored list. Keyspace
// notifications, WATCH and blocked clients are the caller's business (the
// outcome says what happened to the destination).
StoreOutcome run_sort_sync(const protocol::ArgList& args, bool readonly, bool from_script, storage::Keyspace& dbs,
                           int db, int64_t now_ms, int64_t list_fill, protocol::ReplyBuilder& out);

}  // namespace distcache::server::sort
