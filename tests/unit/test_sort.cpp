// SORT's logic (server/commands/sort_logic.h) without threads: option
// parsing and its errors, pattern expansion, key extraction, loading from
// real values, numeric and ALPHA ordering, LIMIT, GET, STORE rows, and the
// order of ties. Expected results were captured from redis-server 7.0.15.
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "server/commands/sort_logic.h"
#include "storage/hash_value.h"
#include "storage/keyspace.h"
#include "storage/list.h"
#include "storage/set_value.h"
#include "storage/value.h"
#include "storage/zset_value.h"

using namespace distcache;
using namespace std::string_literals;
using server::sort::PatternRef;
using server::sort::SortJob;
using server::sort::SortOptions;

namespace {

protocol::ArgList args_of(std::vector<std::string> words) {
  protocol::ArgList a;
  for (const auto& w : words) a.add(w);
  return a;
}

// Parses "SORT key <options...>"; returns the error ("" when fine).
std::string parse(std::vector<std::string> words, SortOptions& out, bool readonly = false) {
  words.insert(words.begin(), {"SORT", "key"});
  return server::sort::parse_sort_options(args_of(words), readonly, out);
}

// A keyspace for patterns: strings and hashes by name.
struct FakeKeys {
  std::map<std::string, std::string> strings;
  std::map<std::string, std::map<std::string, std::string>> hashes;
  int lookups = 0;

  std::optional<std::string> operator()(const PatternRef& r) {
    ++lookups;
    if (r.kind == PatternRef::kKey) {
      auto it = strings.find(r.key);
      if (it == strings.end()) return std::nullopt;
      return it->second;
    }
    if (r.kind == PatternRef::kHashField) {
      auto it = hashes.find(r.key);
      if (it == hashes.end()) return std::nullopt;
      auto f = it->second.find(r.field);
      if (f == it->second.end()) return std::nullopt;
      return f->second;
    }
    return std::nullopt;
  }
};

struct Result {
  bool ok = true;  // false: the score error
  std::vector<std::optional<std::string>> rows;
  std::string reply;  // RESP2 bytes
};

Result run_sort(std::vector<std::string> options, SortJob::SourceType type, std::vector<std::string> elements,
                FakeKeys keys = {}) {
  SortOptions opts;
  REQUIRE(parse(options, opts) == "");
  SortJob job(std::move(opts));
  job.load_elements(type, std::move(elements));
  Result res;
  res.ok = job.run([&keys](const PatternRef& r) { return keys(r); });
  if (!res.ok) return res;
  protocol::ReplyBuilder builder(&res.reply);
  job.write_reply(builder);
  return res;
}

std::vector<std::string> sorted(std::vector<std::string> options, SortJob::SourceType type,
                                std::vector<std::string> elements, FakeKeys keys = {}) {
  SortOptions opts;
  REQUIRE(parse(options, opts) == "");
  SortJob job(std::move(opts));
  job.load_elements(type, std::move(elements));
  REQUIRE(job.run([&keys](const PatternRef& r) { return keys(r); }));
  std::vector<std::string> out;
  for (auto v : job.store_rows()) out.emplace_back(v);
  return out;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

constexpr auto kList = SortJob::SourceType::kList;
constexpr auto kSet = SortJob::SourceType::kSet;
constexpr auto kZSet = SortJob::SourceType::kZSet;

}  // namespace

TEST_CASE("SORT option parsing and error order", "[sort]") {
  SortOptions o;
  CHECK(parse({}, o) == "");
  CHECK(o.limit_offset == 0);
  CHECK(o.limit_count == -1);

  o = {};
  CHECK(parse(words("by w_* limit 1 2 get # get o_*->f desc ALPHA store dst"), o) == "");
  CHECK(o.has_by);
  CHECK(o.by == "w_*");
  CHECK_FALSE(o.dontsort);
  CHECK(o.limit_offset == 1);
  CHECK(o.limit_count == 2);
  CHECK(o.gets == std::vector<std::string>{"#", "o_*->f"});
  CHECK(o.desc);
  CHECK(o.alpha);
  CHECK(o.has_store);
  CHECK(o.store == "dst");
  CHECK(o.reads_other_keys());

  // Errors are reported in argument order; LIMIT's integers are checked as met.
  o = {};
  CHECK(parse(words("LIMIT 1 x"), o) == "ERR value is not an integer or out of range");
  o = {};
  CHECK(parse(words("LIMIT 1"), o) == "ERR syntax error");
  o = {};
  CHECK(parse(words("LIMIT a b FOO"), o) == "ERR value is not an integer or out of range");
  o = {};
  CHECK(parse(words("FOO LIMIT a b"), o) == "ERR syntax error");
  o = {};
  CHECK(parse(words("LIMIT 1.5 2"), o) == "ERR value is not an integer or out of range");
  o = {};
  CHECK(parse(words("STORE"), o) == "ERR syntax error");
  o = {};
  CHECK(parse(words("GET"), o) == "ERR syntax error");
  o = {};
  CHECK(parse(words("BY"), o) == "ERR syntax error");
  // SORT_RO has no STORE.
  o = {};
  CHECK(parse(words("STORE dst"), o, /*readonly=*/true) == "ERR syntax error");
  // Option words are matched as C strings.
  o = {};
  CHECK(parse({std::string("desc\0junk", 9)}, o) == "");
  CHECK(o.desc);

  // BY without '*' disables sorting for good; the last BY is the pattern.
  o = {};
  CHECK(parse(words("BY nosort BY w_*"), o) == "");
  CHECK(o.dontsort);
  CHECK_FALSE(o.reads_other_keys());
  o = {};
  CHECK(parse({"BY", std::string("w_\0*", 4)}, o) == "");
  CHECK(o.dontsort);
  // Only GET patterns naming keys read other keys.
  o = {};
  CHECK(parse(words("GET # GET nostar"), o) == "");
  CHECK_FALSE(o.reads_other_keys());
  o = {};
  CHECK(parse(words("GET #*"), o) == "");
  CHECK(o.reads_other_keys());
}

TEST_CASE("SORT key extraction for COMMAND GETKEYS", "[sort]") {
  auto keys = [](std::string_view line) {
    auto a = args_of(words(line));
    std::vector<int> idx;
    REQUIRE(server::sort::sort_find_keys(a, idx));
    std::vector<std::string> out;
    for (int i : idx) out.emplace_back(a[static_cast<size_t>(i)]);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(keys("sort a") == V{"a"});
  CHECK(keys("sort a store b store c") == V{"a", "c"});
  CHECK(keys("sort a limit 0 1 store b") == V{"a", "b"});
  CHECK(keys("sort a store") == V{"a"});
  CHECK(keys("sort a get store b") == V{"a"});
  CHECK(keys("sort a limit 1 store b") == V{"a"});
  CHECK(keys("sort a by store b") == V{"a"});
  CHECK(keys("sort a xyz store b") == V{"a", "b"});
  CHECK(keys("sort a store a") == V{"a", "a"});
}

TEST_CASE("SORT pattern expansion", "[sort]") {
  auto r = server::sort::expand_pattern("w_*", "x");
  CHECK(r.kind == PatternRef::kKey);
  CHECK(r.key == "w_x");
  r = server::sort::expand_pattern("h_*_k->field", "7");
  CHECK(r.kind == PatternRef::kHashField);
  CHECK(r.key == "h_7_k");
  CHECK(r.field == "field");
  // "->" at the end is part of the key name.
  r = server::sort::expand_pattern("h_*->", "b");
  CHECK(r.kind == PatternRef::kKey);
  CHECK(r.key == "h_b->");
  // The first "->" after the '*' splits; the field keeps later arrows.
  r = server::sort::expand_pattern("x->y_*->z->q", "b");
  CHECK(r.kind == PatternRef::kHashField);
  CHECK(r.key == "x->y_b");
  CHECK(r.field == "z->q");
  // Only the first '*' is replaced.
  r = server::sort::expand_pattern("*_*", "e");
  CHECK(r.key == "e_*");
  CHECK(server::sort::expand_pattern("#", "e").kind == PatternRef::kElement);
  CHECK(server::sort::expand_pattern(std::string("#\0x", 3), "e").kind == PatternRef::kElement);
  CHECK(server::sort::expand_pattern("nostar", "e").kind == PatternRef::kNone);
  CHECK(server::sort::expand_pattern(std::string("o_\0*", 4), "e").kind == PatternRef::kNone);
  // Bytes after a NUL stay in the key when no field is split off.
  r = server::sort::expand_pattern(std::string("w_*->\0x", 7), "e");
  CHECK(r.kind == PatternRef::kKey);
  CHECK(r.key == std::string("w_e->\0x", 7));
  // The element is substituted byte for byte.
  r = server::sort::expand_pattern("k*", std::string("a\0b", 3));
  CHECK(r.key == std::string("ka\0b", 4));

  // Reading values: strings for plain patterns, fields for hash patterns.
  auto s = storage::Value::string("val");
  auto h = storage::Value::make<storage::HashValue>(storage::ValueType::kHash);
  h.as<storage::HashValue>().set("f", "hv", storage::HashLimits{});
  PatternRef key{PatternRef::kKey, "k", ""};
  PatternRef field{PatternRef::kHashField, "k", "f"};
  PatternRef other{PatternRef::kHashField, "k", "g"};
  CHECK(server::sort::pattern_value(&s, key) == std::optional<std::string>("val"));
  CHECK(server::sort::pattern_value(&s, field) == std::nullopt);
  CHECK(server::sort::pattern_value(&h, field) == std::optional<std::string>("hv"));
  CHECK(server::sort::pattern_value(&h, other) == std::nullopt);
  CHECK(server::sort::pattern_value(&h, key) == std::nullopt);
  CHECK(server::sort::pattern_value(nullptr, key) == std::nullopt);
}

TEST_CASE("SORT numeric ordering and score errors", "[sort]") {
  using V = std::vector<std::string>;
  CHECK(sorted({}, kList, {"3", "1", "2", "10"}) == V{"1", "2", "3", "10"});
  CHECK(sorted({"DESC"}, kList, {"3", "1", "2", "10"}) == V{"10", "3", "2", "1"});
  // strtod's syntax, up to the first NUL.
  CHECK(sorted({}, kList, {" 5", "2"}) == V{"2", " 5"});
  CHECK(sorted({}, kList, {"0x10", "2"}) == V{"2", "0x10"});
  CHECK(sorted({}, kList, {"inf", "-inf", "2"}) == V{"-inf", "2", "inf"});
  CHECK(sorted({}, kList, {"", "2", "-0"}) == V{"", "-0", "2"});
  CHECK(sorted({}, kList, {std::string("3\0abc", 5), "2"}) == V{"2", std::string("3\0abc", 5)});
  CHECK(sorted({}, kList, {std::string("\0003", 2), "2"}) == V{std::string("\0003", 2), "2"});
  CHECK(sorted({}, kList, {"0x1p3", "7", "infinity", "\t7"}) == V{"\t7", "7", "0x1p3", "infinity"});
  // Equal scores: byte order of the elements.
  CHECK(sorted({}, kList, {"1.0", "1", "01", "1e0"}) == V{"01", "1", "1.0", "1e0"});
  for (const char* bad : {"5 ", "nan", "-nan", "1_0", "abc", "1e400", "1e-400", "5e-324", "1e-310"}) {
    INFO(bad);
    CHECK_FALSE(run_sort({}, kList, {bad, "2"}).ok);
  }
  CHECK(run_sort({}, kList, {"2.2250738585072014e-308", "2"}).ok);
  // Every element is checked, also outside LIMIT; BY nosort checks nothing.
  CHECK_FALSE(run_sort(words("LIMIT 0 1"), kList, {"1", "x"}).ok);
  CHECK(run_sort(words("BY nosort"), kList, {"1", "x"}).ok);
  CHECK(run_sort({"ALPHA"}, kList, {"1", "x"}).ok);
}

TEST_CASE("SORT ALPHA collation and STORE ordering", "[sort]") {
  using V = std::vector<std::string>;
  const V input{"b", std::string("a\0z", 3), std::string("a\0b", 3), "a", "c", std::string("a\0a", 3), "B"};
  // Replies compare as C strings (the NUL ends the comparison), stable for ties.
  Result r = run_sort({"ALPHA"}, kList, input);
  REQUIRE(r.ok);
  CHECK(r.reply == "*7\r\n$1\r\nB\r\n$3\r\na\0z\r\n$3\r\na\0b\r\n$1\r\na\r\n$3\r\na\0a\r\n$1\r\nb\r\n$1\r\nc\r\n"s);
  // STORE compares whole strings.
  CHECK(sorted(words("ALPHA STORE d"), kList, input) ==
        V{"B", "a", std::string("a\0a", 3), std::string("a\0b", 3), std::string("a\0z", 3), "b", "c"});
  CHECK(sorted(words("ALPHA DESC STORE d"), kList, input) ==
        V{"c", "b", std::string("a\0z", 3), std::string("a\0b", 3), std::string("a\0a", 3), "a", "B"});
  CHECK(sorted({"ALPHA", "DESC"}, kList, input) ==
        V{"c", "b", std::string("a\0z", 3), std::string("a\0b", 3), "a", std::string("a\0a", 3), "B"});
  CHECK(sorted({"ALPHA"}, kList, {"10", "9", "-1", "é", "e", "\xff"}) == V{"-1", "10", "9", "e", "é", "\xff"});
}

TEST_CASE("SORT LIMIT arithmetic and BY nosort ranges", "[sort]") {
  using V = std::vector<std::string>;
  const V l{"5", "3", "1", "4", "2"};
  struct Case {
    std::string limit;
    V sorted, nosort, nosort_desc;
  };
  // Captured from redis-server 7.0.15 (SORT l LIMIT ..., with BY nosort, with BY nosort DESC).
  const Case cases[] = {
      {"0 2", {"1", "2"}, {"5", "3"}, {"2", "4"}},
      {"-1 2", {"1", "2"}, {"5", "3"}, {"2", "4"}},
      {"2 -1", {"3", "4", "5"}, {"1", "4", "2"}, {"1", "3", "5"}},
      {"10 2", {}, {}, {}},
      {"4 10", {"5"}, {"2"}, {"5"}},
      {"0 0", {}, {}, {}},
      {"5 1", {}, {}, {}},
      {"2 9223372036854775807", {"3", "4", "5"}, {"1", "4", "2"}, {"1", "3", "5"}},
      {"-5 -5", {"1", "2", "3", "4", "5"}, {"5", "3", "1", "4", "2"}, {"2", "4", "1", "3", "5"}},
      {"1 9223372036854775807", {"2", "3", "4", "5"}, {"3", "1", "4", "2"}, {"4", "1", "3", "5"}},
      {"9223372036854775807 9223372036854775807", {}, {}, {}},
      {"4 -9223372036854775808", {"5"}, {"2"}, {"5"}},
  };
  for (const auto& c : cases) {
    INFO(c.limit);
    auto lim = words("LIMIT " + c.limit);
    CHECK(sorted(lim, kList, l) == c.sorted);
    auto ns = lim;
    ns.insert(ns.end(), {"BY", "nosort"});
    CHECK(sorted(ns, kList, l) == c.nosort);
    ns.push_back("DESC");
    CHECK(sorted(ns, kList, l) == c.nosort_desc);
    // A sorted set behaves like a list in rank order.
    CHECK(sorted(ns, kZSet, l) == c.nosort_desc);
  }
  CHECK(sorted(words("BY nosort DESC"), kList, l) == V{"2", "4", "1", "3", "5"});
  // A set keeps its iteration order with BY nosort, DESC or not...
  CHECK(sorted(words("BY nosort DESC LIMIT 1 2"), kSet, {"-2", "1", "3", "5", "10"}) == V{"1", "3"});
  // ...but with STORE it is sorted ALPHA.
  CHECK(sorted(words("BY nosort STORE d"), kSet, {"-2", "1", "3", "5", "10"}) == V{"-2", "1", "10", "3", "5"});
  CHECK(sorted(words("BY nosort DESC STORE d"), kSet, {"-2", "1", "3", "5", "10"}) == V{"5", "3", "10", "1", "-2"});
  CHECK(sorted(words("BY nosort LIMIT 1 2 STORE d"), kSet, {"-2", "1", "3", "5", "10"}) == V{"1", "10"});
  // Empty source.
  CHECK(sorted(words("LIMIT 0 5"), kList, {}).empty());
  CHECK(sorted(words("BY nosort DESC"), kList, {}).empty());
}

TEST_CASE("SORT BY and GET patterns", "[sort]") {
  using V = std::vector<std::string>;
  FakeKeys keys;
  keys.strings = {{"w_a", "3"}, {"w_b", "1"}, {"w_c", "2"}, {"o_a", "OA"}, {"a", "VA"}, {"h_b->", "strval"}};
  keys.hashes = {{"h_a", {{"f", "10"}, {"g", "x"}}}, {"h_b", {{"f", "-1"}}}, {"h_c", {{"f", "5"}}}};
  CHECK(sorted(words("BY w_*"), kList, {"a", "b", "c", "d"}, keys) == V{"d", "b", "c", "a"});
  CHECK(sorted(words("BY w_* DESC"), kList, {"a", "b", "c", "d"}, keys) == V{"a", "c", "b", "d"});
  CHECK(sorted(words("BY h_*->f"), kList, {"a", "b", "c", "d"}, keys) == V{"b", "d", "c", "a"});
  // A non-numeric BY value is a score error, a missing one scores 0.
  CHECK_FALSE(run_sort(words("BY h_*->g"), kList, {"a", "b"}, keys).ok);
  // GET: '#' the element, a pattern without '*' nothing, else the key's value.
  Result r = run_sort(words("BY w_* GET # GET o_* GET h_*->f GET nostar GET *"), kList, {"a", "b"}, keys);
  REQUIRE(r.ok);
  CHECK(r.reply == "*10\r\n$1\r\nb\r\n$-1\r\n$2\r\n-1\r\n$-1\r\n$-1\r\n$1\r\na\r\n$2\r\nOA\r\n$2\r\n10\r\n$-1\r\n$2\r\nVA\r\n");
  CHECK(sorted(words("BY nosort GET h_*->"), kList, {"a", "b"}, keys) == V{"", "strval"});
  // STORE turns missing values into empty strings and repeats per GET.
  CHECK(sorted(words("ALPHA GET o_* GET # STORE d"), kList, {"b", "a"}, keys) == V{"OA", "a", "", "b"});

  // Lookups: BY only when sorting by a pattern, GET only for the selected elements.
  FakeKeys counting = keys;
  SortOptions o;
  REQUIRE(parse(words("BY w_* LIMIT 1 1 GET o_* GET # GET x"), o) == "");
  SortJob job(o);
  job.load_elements(kList, {"a", "b", "c", "d"});
  REQUIRE(job.run([&counting](const PatternRef& p) { return counting(p); }));
  CHECK(counting.lookups == 4 + 1);
  CHECK(job.output_length() == 3);
  counting.lookups = 0;
  SortOptions o2;
  REQUIRE(parse(words("BY nosort BY w_* GET #"), o2) == "");
  SortJob job2(o2);
  job2.load_elements(kList, {"a", "b"});
  REQUIRE(job2.run([&counting](const PatternRef& p) { return counting(p); }));
  CHECK(counting.lookups == 0);
}

TEST_CASE("SORT ties follow Redis: stable without LIMIT, partial quicksort with BY and LIMIT", "[sort]") {
  using V = std::vector<std::string>;
  const V l = words("e d c b a f g h i j");
  CHECK(sorted(words("BY nokey_* ALPHA"), kList, l) == l);
  CHECK(sorted(words("BY nokey_* ALPHA DESC"), kList, l) == l);
  CHECK(sorted(words("BY nokey_* ALPHA LIMIT 0 3"), kList, l) == V{"j", "d", "c"});
  CHECK(sorted(words("BY nokey_* ALPHA LIMIT 2 3"), kList, l) == V{"c", "b", "a"});
  CHECK(sorted(words("BY nokey_* LIMIT 2 3"), kList, l) == V{"c", "d", "e"});
  FakeKeys keys;
  keys.strings = {{"w_a", "x"}, {"w_c", "x"}, {"w_e", "y"}};
  CHECK(sorted(words("BY w_* ALPHA"), kList, l, keys) == words("d b f g h i j c a e"));
  CHECK(sorted(words("BY w_* ALPHA DESC"), kList, l, keys) == words("e c a d b f g h i j"));
  CHECK(sorted(words("BY w_* ALPHA LIMIT 1 4"), kList, l, keys) == words("d g h i"));
  CHECK(sorted(words("BY w_* ALPHA DESC LIMIT 1 4"), kList, l, keys) == words("c a f g"));

  // 50 elements (median-of-nine pivots), three BY values and some missing.
  V els;
  for (int i = 0; i < 50; ++i) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "e%02d", (i * 37) % 50);
    els.emplace_back(buf);
  }
  FakeKeys many;
  for (int i = 0; i < 50; ++i)
    if (i % 5 != 4) {
      // Built by appending: GCC 12 warns spuriously on "literal" + std::string.
      std::string key("w_"), value("v");
      key += els[static_cast<size_t>(i)];
      value += std::to_string(i % 3);
      many.strings[key] = value;
    }
  CHECK(sorted(words("BY w_* ALPHA LIMIT 5 10"), kList, els, many) == words("e28 e48 e18 e03 e43 e21 e22 e44 e04 e27"));
  CHECK(sorted(words("BY w_* ALPHA LIMIT 0 7"), kList, els, many) == words("e38 e13 e23 e33 e08 e28 e48"));
  CHECK(sorted(words("BY w_* ALPHA DESC LIMIT 3 20"), kList, els, many) ==
        words("e35 e29 e40 e06 e24 e46 e45 e39 e07 e17 e19 e37 e09 e20 e31 e42 e14 e25 e36 e47"));
  CHECK(sorted(words("BY w_* ALPHA LIMIT 40 20"), kList, els, many) ==
        words("e35 e17 e40 e29 e07 e46 e24 e34 e45 e39"));
}

TEST_CASE("SORT loads real values", "[sort]") {
  using V = std::vector<std::string>;
  auto rows = [](SortJob& job) {
    REQUIRE(job.run([](const PatternRef&) { return std::optional<std::string>(); }));
    V out;
    for (auto v : job.store_rows()) out.emplace_back(v);
    return out;
  };
  auto list = storage::Value::make<storage::List>(storage::ValueType::kList, int64_t{-2});
  for (const char* e : {"3", "1", "2", "-7", "x"}) list.as<storage::List>().push_back(e);
  {
    SortOptions o;
    REQUIRE(parse(words("BY nosort DESC LIMIT 1 3"), o) == "");
    SortJob job(o);
    REQUIRE(job.load(&list));
    CHECK(rows(job) == V{"-7", "2", "1"});
  }
  {
    SortOptions o;
    REQUIRE(parse({"ALPHA"}, o) == "");
    SortJob job(o);
    REQUIRE(job.load(&list));
    CHECK(rows(job) == V{"-7", "1", "2", "3", "x"});
  }
  // Intsets iterate in ascending order.
  auto set = storage::Value::make<storage::SetValue>(storage::ValueType::kSet);
  for (const char* e : {"5", "3", "10", "1", "-2"}) set.as<storage::SetValue>().add(e, 512);
  {
    SortOptions o;
    REQUIRE(parse(words("BY nosort"), o) == "");
    SortJob job(o);
    REQUIRE(job.load(&set));
    CHECK(rows(job) == V{"-2", "1", "3", "5", "10"});
  }
  // Sorted sets: rank order, converted to skiplist by SORT.
  auto zset = storage::Value::make<storage::ZSetValue>(storage::ValueType::kZSet);
  storage::ZSetLimits limits{};
  limits.max_listpack_entries = 128;
  limits.max_listpack_value = 64;
  auto& z = zset.as<storage::ZSetValue>();
  z.add(3, "a", 0, limits);
  z.add(1, "b", 0, limits);
  z.add(2, "c", 0, limits);
  z.add(5, "d", 0, limits);
  REQUIRE(zset.encoding_name() == "listpack");
  {
    SortOptions o;
    REQUIRE(parse(words("BY nosort DESC LIMIT 1 2"), o) == "");
    SortJob job(o);
    REQUIRE(job.load(&zset));
    CHECK(rows(job) == V{"a", "c"});
    CHECK(zset.encoding_name() == "skiplist");
  }
  {
    SortOptions o;
    REQUIRE(parse(words("ALPHA DESC"), o) == "");
    SortJob job(o);
    REQUIRE(job.load(&zset));
    CHECK(rows(job) == V{"d", "c", "b", "a"});
  }
  // A missing key is an empty list; other types are WRONGTYPE.
  {
    SortOptions o;
    SortJob job(o);
    REQUIRE(job.load(nullptr));
    CHECK(rows(job).empty());
    CHECK(job.output_length() == 0);
  }
  auto str = storage::Value::string("v");
  auto hash = storage::Value::make<storage::HashValue>(storage::ValueType::kHash);
  SortJob job{SortOptions{}};
  CHECK_FALSE(job.load(&str));
  CHECK_FALSE(job.load(&hash));
}

TEST_CASE("SORT as one synchronous command over a keyspace", "[sort]") {
  storage::Keyspace dbs(16);
  storage::Db& db = dbs.db(0);
  const int64_t now = 1'700'000'000'000;
  auto run = [&](std::vector<std::string> line, bool readonly = false, bool from_script = false) {
    std::string out;
    protocol::ReplyBuilder reply(&out);
    auto outcome = server::sort::run_sort_sync(args_of(std::move(line)), readonly, from_script, dbs, 0, now, -2,
                                               reply);
    return std::make_pair(outcome, out);
  };
  using server::sort::StoreOutcome;
  auto list = storage::Value::make<storage::List>(storage::ValueType::kList, int64_t{-2});
  for (const char* e : {"b", "c", "a"}) list.as<storage::List>().push_back(e);
  db.set("l", std::move(list));
  db.set("w_a", storage::Value::string("3"));
  db.set("w_b", storage::Value::string("1"));
  db.set("str", storage::Value::string("x"));
  auto set = storage::Value::make<storage::SetValue>(storage::ValueType::kSet);
  for (const char* e : {"z", "y", "x"}) set.as<storage::SetValue>().add(e, 512);
  db.set("s", std::move(set));

  CHECK(run({"SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*"}).second ==
        "*6\r\n$1\r\nc\r\n$-1\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n3\r\n");
  CHECK(run({"SORT", "l", "FOO"}).second == "-ERR syntax error\r\n");
  CHECK(run({"SORT", "str"}).second == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
  CHECK(run({"SORT", "l"}).second == "-ERR One or more scores can't be converted into double\r\n");
  CHECK(run({"SORT_RO", "l", "STORE", "d"}, true).second == "-ERR syntax error\r\n");

  // STORE: a list replacing any value and TTL; an empty result deletes.
  db.set("d", storage::Value::string("old"));
  db.set_expire("d", now + 100'000);
  auto [stored, reply] = run({"SORT", "l", "ALPHA", "DESC", "STORE", "d"});
  CHECK(stored == StoreOutcome::kStored);
  CHECK(reply == ":3\r\n");
  storage::Value* d = db.find("d", now);
  REQUIRE(d);
  REQUIRE(d->type() == storage::ValueType::kList);
  CHECK(d->as<storage::List>().front().to_string() == "c");
  CHECK(db.expire_at("d") == storage::kNoExpiry);
  CHECK(run({"SORT", "missing", "STORE", "d"}) == std::make_pair(StoreOutcome::kDeleted, std::string(":0\r\n")));
  CHECK(db.find("d", now) == nullptr);
  CHECK(run({"SORT", "missing", "STORE", "d"}) == std::make_pair(StoreOutcome::kUnchanged, std::string(":0\r\n")));

  // From a script, a set is sorted even with BY nosort.
  CHECK(run({"SORT", "s", "BY", "nosort"}, false, true).second == "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n");
}
