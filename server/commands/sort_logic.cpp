#include "server/commands/sort_logic.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "server/command.h"
#include "server/commands/arg_util.h"
#include "storage/hash_value.h"
#include "storage/list.h"
#include "storage/numbers.h"
#include "storage/set_value.h"
#include "storage/zset_value.h"

namespace distcache::server::sort {
namespace {

int sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

// Byte-by-byte over the whole strings (Redis's binary string comparison).
int compare_binary(std::string_view a, std::string_view b) { return sign(a.compare(b)); }

// strcoll in the C and C.UTF-8 locales: unsigned bytes, up to the first NUL.
int compare_collate(std::string_view a, std::string_view b) {
  return sign(c_string_prefix(a).compare(c_string_prefix(b)));
}

// A score as Redis reads it for SORT: strtod over the C string (so up to the
// first NUL byte), which must consume everything, without overflow,
// underflow or NaN. strtod itself on purpose: SORT accepts what strtod
// accepts (leading blanks, hex floats, "infinity"), unlike the strict score
// parsing of other commands.
bool parse_score(const std::string& s, double& out) {
  errno = 0;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return *end == '\0' && errno != ERANGE && !std::isnan(out);
}

}  // namespace

bool SortOptions::reads_other_keys() const {
  if (has_by && !dontsort) return true;
  for (const auto& g : gets) {
    std::string_view c = c_string_prefix(g);
    if (c != "#" && c.find('*') != std::string_view::npos) return true;
  }
  return false;
}

std::string parse_sort_options(const protocol::ArgList& args, bool readonly, SortOptions& out) {
  const size_t argc = args.size();
  for (size_t j = 2; j < argc; ++j) {
    const size_t left = argc - j - 1;
    std::string_view a = args[j];
    if (is_option(a, "asc")) {
      out.desc = false;
    } else if (is_option(a, "desc")) {
      out.desc = true;
    } else if (is_option(a, "alpha")) {
      out.alpha = true;
    } else if (is_option(a, "limit") && left >= 2) {
      if (!parse_int64(args[j + 1], out.limit_offset) || !parse_int64(args[j + 2], out.limit_count))
        return std::string(errors::kNotInteger);
      j += 2;
    } else if (!readonly && is_option(a, "store") && left >= 1) {
      out.has_store = true;
      out.store.assign(args[j + 1]);
      ++j;
    } else if (is_option(a, "by") && left >= 1) {
      out.has_by = true;
      out.by.assign(args[j + 1]);
      if (c_string_prefix(out.by).find('*') == std::string_view::npos) out.dontsort = true;
      ++j;
    } else if (is_option(a, "get") && left >= 1) {
      out.gets.emplace_back(args[j + 1]);
      ++j;
    } else {
      return std::string(errors::kSyntax);
    }
  }
  return {};
}

bool sort_find_keys(const protocol::ArgList& args, std::vector<int>& out) {
  out.push_back(1);
  int store = -1;
  const size_t argc = args.size();
  for (size_t i = 2; i < argc; ++i) {
    std::string_view a = args[i];
    if (is_option(a, "limit")) {
      i += 2;
    } else if (is_option(a, "get") || is_option(a, "by")) {
      i += 1;
    } else if (is_option(a, "store") && i + 1 < argc) {
      store = static_cast<int>(i + 1);
      ++i;
    }
  }
  if (store >= 0) out.push_back(store);
  return true;
}

PatternRef expand_pattern(std::string_view pattern, std::string_view element) {
  PatternRef ref;
  const std::string_view c = c_string_prefix(pattern);
  if (c == "#") {
    ref.kind = PatternRef::kElement;
    return ref;
  }
  const size_t star = c.find('*');
  if (star == std::string_view::npos) {
    ref.kind = PatternRef::kNone;
    return ref;
  }
  const size_t arrow = c.find("->", star + 1);
  const bool has_field = arrow != std::string_view::npos && arrow + 2 < c.size();
  std::string_view postfix;
  if (has_field) {
    ref.kind = PatternRef::kHashField;
    ref.field.assign(pattern.substr(arrow + 2));
    postfix = pattern.substr(star + 1, arrow - star - 1);
  } else {
    ref.kind = PatternRef::kKey;
    postfix = pattern.substr(star + 1);
  }
  ref.key.reserve(star + element.size() + postfix.size());
  ref.key.append(pattern.substr(0, star)).append(element).append(postfix);
  return ref;
}

std::optional<std::string> pattern_value(const storage::Value* v, const PatternRef& ref) {
  if (!v) return std::nullopt;
  if (ref.kind == PatternRef::kHashField) {
    if (v->type() != storage::ValueType::kHash) return std::nullopt;
    auto field = v->as<storage::HashValue>().get(ref.field);
    if (!field) return std::nullopt;
    return std::string(*field);
  }
  if (ref.kind == PatternRef::kKey && v->is_string()) return std::string(v->str());
  return std::nullopt;
}

// ---------------------------------------------------------------- loading

// Redis's LIMIT arithmetic over a vector of `len` elements.
void SortJob::set_range(size_t len) {
  const int64_t n = static_cast<int64_t>(len);
  int64_t start = opts_.limit_offset < 0 ? 0 : opts_.limit_offset;
  int64_t end;
  if (opts_.limit_count < 0) {
    end = n - 1;
  } else {
    __int128 e = static_cast<__int128>(start) + opts_.limit_count - 1;
    end = e >= n ? n - 1 : static_cast<int64_t>(e);
  }
  if (start >= n) {
    start = n - 1;
    end = n - 2;
  }
  if (end >= n) end = n - 1;
  start_ = start;
  end_ = end;
}

namespace {

// How the elements of a source are read. `range(first, count, from_tail, out)`
// appends `count` elements starting at position `first` counted from the
// head (or from the tail, walking towards the head).
template <class Range>
void load_source(size_t len, bool direct_range, bool from_tail, int64_t& start, int64_t& end,
                 std::vector<std::string>& out, Range&& range) {
  if (direct_range) {
    // BY nosort over a list or sorted set: only the LIMIT range, in the
    // source's order (from the tail for DESC); it then is the whole output.
    if (end >= start) range(static_cast<size_t>(start), static_cast<size_t>(end - start + 1), from_tail, out);
    end = static_cast<int64_t>(out.size()) - 1;
    start = 0;
    return;
  }
  range(0, len, false, out);
}

}  // namespace

bool SortJob::load(storage::Value* source) {
  using storage::ValueType;
  SourceType type = SourceType::kList;
  if (source) {
    switch (source->type()) {
      case ValueType::kList: type = SourceType::kList; break;
      case ValueType::kSet: type = SourceType::kSet; break;
      case ValueType::kZSet: type = SourceType::kZSet; break;
      default: return false;
    }
  }
  type_ = type;
  sorting_ = !opts_.dontsort;
  by_pattern_ = opts_.has_by && !opts_.dontsort;
  alpha_ = opts_.alpha;
  if (opts_.dontsort && type == SourceType::kSet && (opts_.has_store || opts_.from_script)) {
    // A set's iteration order is arbitrary: a stored result is sorted instead.
    sorting_ = true;
    alpha_ = true;
    by_pattern_ = false;
  }
  elements_.clear();
  if (!source) {
    set_range(0);
  } else if (type == SourceType::kList) {
    const auto& list = source->as<storage::List>();
    const size_t len = list.size();
    set_range(len);
    load_source(len, !sorting_, opts_.desc, start_, end_, elements_,
                [&](size_t first, size_t count, bool from_tail, std::vector<std::string>& out) {
                  if (count == 0 || len == 0) return;
                  out.reserve(count);
                  char buf[storage::kInt64StrSize];
                  auto cur = list.cursor(from_tail ? len - 1 - first : first);
                  for (size_t i = 0; i < count && cur.valid(); ++i) {
                    out.emplace_back(cur.entry().view(buf));
                    if (from_tail)
                      cur.prev();
                    else
                      cur.next();
                  }
                });
  } else if (type == SourceType::kZSet) {
    auto& zset = source->as<storage::ZSetValue>();
    if (zset.is_listpack()) zset.convert_to_skiplist();
    const size_t len = zset.size();
    set_range(len);
    load_source(len, !sorting_, opts_.desc, start_, end_, elements_,
                [&](size_t first, size_t count, bool from_tail, std::vector<std::string>& out) {
                  if (count == 0 || len == 0) return;
                  out.reserve(count);
                  zset.walk(from_tail ? len - 1 - first : first, from_tail, [&](std::string_view m, double) {
                    out.emplace_back(m);
                    return out.size() < count;
                  });
                });
  } else {
    const auto& set = source->as<storage::SetValue>();
    elements_.reserve(set.size());
    set.for_each([&](std::string_view m) { elements_.emplace_back(m); });
    set_range(elements_.size());
  }
  items_.clear();
  items_.reserve(elements_.size());
  for (size_t i = 0; i < elements_.size(); ++i) items_.push_back({static_cast<uint32_t>(i), 0.0});
  by_values_.clear();
  get_slots_.clear();
  get_values_.clear();
  return true;
}

void SortJob::load_elements(SourceType type, std::vector<std::string> elements) {
  type_ = type;
  sorting_ = !opts_.dontsort;
  by_pattern_ = opts_.has_by && !opts_.dontsort;
  alpha_ = opts_.alpha;
  if (opts_.dontsort && type == SourceType::kSet && (opts_.has_store || opts_.from_script)) {
    sorting_ = true;
    alpha_ = true;
    by_pattern_ = false;
  }
  const size_t len = elements.size();
  set_range(len);
  elements_.clear();
  const bool direct = !sorting_ && type != SourceType::kSet;
  load_source(len, direct, opts_.desc, start_, end_, elements_,
              [&](size_t first, size_t count, bool from_tail, std::vector<std::string>& out) {
                for (size_t i = 0; i < count && first + i < len; ++i)
                  out.push_back(from_tail ? elements[len - 1 - first - i] : elements[first + i]);
              });
  items_.clear();
  for (size_t i = 0; i < elements_.size(); ++i) items_.push_back({static_cast<uint32_t>(i), 0.0});
  by_values_.clear();
  get_slots_.clear();
  get_values_.clear();
}

// ---------------------------------------------------------------- BY

std::vector<PatternRef> SortJob::by_lookups() const {
  std::vector<PatternRef> refs;
  if (!by_pattern_) return refs;
  refs.reserve(elements_.size());
  for (const auto& e : elements_) refs.push_back(expand_pattern(opts_.by, e));
  return refs;
}

void SortJob::set_by_values(std::vector<std::optional<std::string>> values) { by_values_ = std::move(values); }

// ---------------------------------------------------------------- sorting

int SortJob::compare(const Item& a, const Item& b) const {
  int c;
  if (!alpha_) {
    if (a.score > b.score)
      c = 1;
    else if (a.score < b.score)
      c = -1;
    else
      c = compare_binary(elements_[a.index], elements_[b.index]);
  } else if (by_pattern_) {
    const auto& x = by_values_[a.index];
    const auto& y = by_values_[b.index];
    if (!x || !y)
      c = (!x && !y) ? 0 : (!x ? -1 : 1);
    else
      c = opts_.has_store ? compare_binary(*x, *y) : compare_collate(*x, *y);
  } else {
    c = opts_.has_store ? compare_binary(elements_[a.index], elements_[b.index])
                        : compare_collate(elements_[a.index], elements_[b.index]);
  }
  return opts_.desc ? -c : c;
}

size_t SortJob::median_of_three(size_t i, size_t j, size_t k) const {
  const auto& a = items_;
  if (compare(a[i], a[j]) < 0) {
    if (compare(a[j], a[k]) < 0) return j;
    return compare(a[i], a[k]) < 0 ? k : i;
  }
  if (compare(a[j], a[k]) > 0) return j;
  return compare(a[i], a[k]) < 0 ? i : k;
}

// Quicksort with Bentley-McIlroy three-way partitioning ("Engineering a Sort
// Function", 1993) over items_[lo, lo + n), descending only into parts that
// overlap the output range [start_, end_]. This is the algorithm Redis uses
// for SORT ... BY ... LIMIT, so elements that compare equal end up in the
// same order as in Redis.
void SortJob::partial_quicksort(size_t lo, size_t n) {
  auto& a = items_;
  auto overlaps = [this](size_t first, size_t count) {
    const int64_t last = static_cast<int64_t>(first + count) - 1;
    return !(end_ < static_cast<int64_t>(first) || start_ > last);
  };
  auto swap_runs = [&a](size_t i, size_t j, size_t count) {
    for (size_t t = 0; t < count; ++t) std::swap(a[i + t], a[j + t]);
  };
  for (;;) {
    if (n < 7) {  // insertion sort
      for (size_t m = lo + 1; m < lo + n; ++m)
        for (size_t l = m; l > lo && compare(a[l - 1], a[l]) > 0; --l) std::swap(a[l], a[l - 1]);
      return;
    }
    size_t m = lo + n / 2;
    if (n > 7) {
      size_t l = lo;
      size_t r = lo + n - 1;
      if (n > 40) {
        const size_t d = n / 8;
        l = median_of_three(l, l + d, l + 2 * d);
        m = median_of_three(m - d, m, m + d);
        r = median_of_three(r - 2 * d, r - d, r);
      }
      m = median_of_three(l, m, r);
    }
    std::swap(a[lo], a[m]);  // the pivot sits at lo
    size_t pa = lo + 1, pb = lo + 1;
    size_t pc = lo + n - 1, pd = lo + n - 1;
    for (;;) {
      int c;
      while (pb <= pc && (c = compare(a[pb], a[lo])) <= 0) {
        if (c == 0) std::swap(a[pa++], a[pb]);
        ++pb;
      }
      while (pb <= pc && (c = compare(a[pc], a[lo])) >= 0) {
        if (c == 0) std::swap(a[pc], a[pd--]);
        --pc;
      }
      if (pb > pc) break;
      std::swap(a[pb++], a[pc--]);
    }
    // Move the runs equal to the pivot from both ends to the middle.
    const size_t pn = lo + n;
    size_t r = std::min(pa - lo, pb - pa);
    swap_runs(lo, pb - r, r);
    r = std::min(pd - pc, pn - pd - 1);
    swap_runs(pb, pn - r, r);
    // The parts left and right of the pivot's run. They are disjoint, so the
    // order in which they are sorted does not change the result: recurse into
    // the smaller one and loop on the other to bound the stack depth.
    const size_t left_n = pb - pa;
    const size_t right_n = pd - pc;
    const bool left = left_n > 1 && overlaps(lo, left_n);
    const bool right = right_n > 1 && overlaps(pn - right_n, right_n);
    if (left && right) {
      if (left_n <= right_n) {
        partial_quicksort(lo, left_n);
        lo = pn - right_n;
        n = right_n;
      } else {
        partial_quicksort(pn - right_n, right_n);
        n = left_n;
      }
    } else if (left) {
      n = left_n;
    } else if (right) {
      lo = pn - right_n;
      n = right_n;
    } else {
      return;
    }
  }
}

bool SortJob::sort() {
  if (!sorting_) return true;
  if (by_pattern_ && by_values_.size() != elements_.size()) by_values_.resize(elements_.size());
  if (!alpha_) {
    bool ok = true;
    for (auto& it : items_) {
      const std::string* v = &elements_[it.index];
      if (by_pattern_) {
        const auto& b = by_values_[it.index];
        if (!b) continue;  // a missing BY key scores 0
        v = &*b;
      }
      if (!parse_score(*v, it.score)) ok = false;
    }
    if (!ok) return false;
  }
  const int64_t n = static_cast<int64_t>(items_.size());
  if (n == 0) return true;
  if (by_pattern_ && (start_ != 0 || end_ != n - 1))
    partial_quicksort(0, items_.size());
  else
    std::stable_sort(items_.begin(), items_.end(),
                     [this](const Item& a, const Item& b) { return compare(a, b) < 0; });
  return true;
}

// ---------------------------------------------------------------- GET and output

std::vector<PatternRef> SortJob::get_lookups() {
  std::vector<PatternRef> refs;
  get_slots_.clear();
  get_values_.clear();
  if (opts_.gets.empty()) return refs;
  for (int64_t j = start_; j <= end_; ++j) {
    const std::string& e = elements_[items_[static_cast<size_t>(j)].index];
    for (const auto& g : opts_.gets) {
      PatternRef ref = expand_pattern(g, e);
      if (ref.kind == PatternRef::kElement) {
        get_slots_.push_back(-1);
      } else if (ref.kind == PatternRef::kNone) {
        get_slots_.push_back(-2);
      } else {
        get_slots_.push_back(static_cast<int32_t>(refs.size()));
        refs.push_back(std::move(ref));
      }
    }
  }
  return refs;
}

void SortJob::set_get_values(std::vector<std::optional<std::string>> values) { get_values_ = std::move(values); }

size_t SortJob::output_length() const {
  const int64_t rows = end_ >= start_ ? end_ - start_ + 1 : 0;
  return static_cast<size_t>(rows) * (opts_.gets.empty() ? 1 : opts_.gets.size());
}

template <class F>
void SortJob::for_each_output(F&& fn) const {
  size_t slot = 0;
  for (int64_t j = start_; j <= end_; ++j) {
    const std::string& e = elements_[items_[static_cast<size_t>(j)].index];
    if (opts_.gets.empty()) {
      fn(std::optional<std::string_view>(e));
      continue;
    }
    for (size_t g = 0; g < opts_.gets.size(); ++g, ++slot) {
      const int32_t s = slot < get_slots_.size() ? get_slots_[slot] : -2;
      if (s == -1) {
        fn(std::optional<std::string_view>(e));
      } else if (s >= 0 && static_cast<size_t>(s) < get_values_.size() && get_values_[static_cast<size_t>(s)]) {
        fn(std::optional<std::string_view>(*get_values_[static_cast<size_t>(s)]));
      } else {
        fn(std::optional<std::string_view>());
      }
    }
  }
}

void SortJob::write_reply(protocol::ReplyBuilder& reply) const {
  reply.array(output_length());
  for_each_output([&reply](std::optional<std::string_view> v) {
    if (v)
      reply.bulk(*v);
    else
      reply.null_bulk();
  });
}

std::vector<std::string_view> SortJob::store_rows() const {
  std::vector<std::string_view> rows;
  rows.reserve(output_length());
  for_each_output([&rows](std::optional<std::string_view> v) { rows.push_back(v ? *v : std::string_view()); });
  return rows;
}

bool SortJob::run(const Lookup& lookup) {
  auto by_refs = by_lookups();
  if (!by_refs.empty()) {
    std::vector<std::optional<std::string>> values;
    values.reserve(by_refs.size());
    for (const auto& r : by_refs) values.push_back(lookup(r));
    set_by_values(std::move(values));
  }
  if (!sort()) return false;
  auto get_refs = get_lookups();
  if (!get_refs.empty()) {
    std::vector<std::optional<std::string>> values;
    values.reserve(get_refs.size());
    for (const auto& r : get_refs) values.push_back(lookup(r));
    set_get_values(std::move(values));
  }
  return true;
}

// ---------------------------------------------------------------- whole command

StoreOutcome store_job_result(const SortJob& job, storage::Db& db, std::string_view dest, int64_t now_ms,
                              int64_t list_fill) {
  if (job.output_length() == 0) return db.erase(dest, now_ms) ? StoreOutcome::kDeleted : StoreOutcome::kUnchanged;
  auto value = storage::Value::make<storage::List>(storage::ValueType::kList, list_fill);
  auto& list = value.as<storage::List>();
  for (std::string_view row : job.store_rows()) list.push_back(row);
  db.set(dest, std::move(value));
  return StoreOutcome::kStored;
}

StoreOutcome run_sort_sync(const protocol::ArgList& args, bool readonly, bool from_script, storage::Keyspace& dbs,
                           int db, int64_t now_ms, int64_t list_fill, protocol::ReplyBuilder& out) {
  SortOptions opts;
  if (auto error = parse_sort_options(args, readonly, opts); !error.empty()) {
    out.error(error);
    return StoreOutcome::kUnchanged;
  }
  opts.from_script = from_script;
  SortJob job(std::move(opts));
  return run_job_sync(job, dbs.db(static_cast<size_t>(db)), args[1], now_ms, list_fill, out);
}

StoreOutcome run_job_sync(SortJob& job, storage::Db& d, std::string_view source, int64_t now_ms, int64_t list_fill,
                          protocol::ReplyBuilder& out) {
  if (!job.load(d.find(source, now_ms))) {
    out.error(errors::kWrongType);
    return StoreOutcome::kUnchanged;
  }
  if (!job.run([&d, now_ms](const PatternRef& r) { return pattern_value(d.find(r.key, now_ms), r); })) {
    out.error(kScoreError);
    return StoreOutcome::kUnchanged;
  }
  if (!job.options().has_store) {
    job.write_reply(out);
    return StoreOutcome::kUnchanged;
  }
  const StoreOutcome outcome = store_job_result(job, d, job.options().store, now_ms, list_fill);
  out.integer(static_cast<int64_t>(job.output_length()));
  return outcome;
}

}  // namespace distcache::server::sort
