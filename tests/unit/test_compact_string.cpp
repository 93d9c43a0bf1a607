#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "storage/compact_string.h"
#include "storage/value.h"

using distcache::storage::CompactString;
using distcache::storage::Value;
using distcache::storage::ValueType;

namespace {
std::string pattern_string(size_t n, int salt = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + salt) % 26);
  return s;
}
}  // namespace

TEST_CASE("CompactString: layout", "[compact_string]") {
  STATIC_REQUIRE(sizeof(CompactString) == 24);
  STATIC_REQUIRE(CompactString::kInlineCapacity == 23);
  STATIC_REQUIRE(sizeof(Value) == 32);
}

TEST_CASE("CompactString: inline/heap boundary", "[compact_string]") {
  CompactString e;
  CHECK(e.empty());
  CHECK(e.size() == 0);
  CHECK(e.view().empty());
  CHECK(e.heap_bytes() == 0);
  for (size_t n = 0; n <= 64; ++n) {
    const std::string s = pattern_string(n, static_cast<int>(n));
    CompactString c(s);
    CHECK(c.size() == n);
    CHECK(c.view() == s);
    CHECK(c == s);
    if (n <= CompactString::kInlineCapacity) {
      CHECK(c.heap_bytes() == 0);
    } else {
      CHECK(c.heap_bytes() >= n);
    }
  }
  // Binary contents with NULs and 0xFF (the heap tag value) in the last byte.
  std::string bin(23, '\0');
  bin[22] = '\xff';
  CompactString b(bin);
  CHECK(b.view() == bin);
  CHECK(b.heap_bytes() == 0);
}

TEST_CASE("CompactString: append grows geometrically", "[compact_string]") {
  CompactString c;
  std::string model;
  size_t moves = 0;
  const char* last = c.data();
  for (int i = 0; i < 100000; ++i) {
    const char ch = static_cast<char>('a' + i % 26);
    c.append(std::string_view(&ch, 1));
    model.push_back(ch);
    if (c.data() != last) {
      ++moves;
      last = c.data();
    }
  }
  CHECK(c.view() == model);
  CHECK(moves < 40);  // amortised: O(log n) reallocations
  CHECK(c.heap_bytes() >= model.size());
  CHECK(c.heap_bytes() < model.size() * 3);

  // Appending chunks across the inline boundary.
  CompactString d("12345678901234567890");  // 20 bytes, inline
  d.append("abc");                          // 23: still inline
  CHECK(d.heap_bytes() == 0);
  d.append("X");  // 24: heap
  CHECK(d.heap_bytes() > 0);
  CHECK(d.view() == "12345678901234567890abcX");
  d.append("");
  CHECK(d.view() == "12345678901234567890abcX");
}

TEST_CASE("CompactString: self-aliasing append/assign", "[compact_string]") {
  CompactString a("abcdefghij");  // inline
  a.append(a.view());
  CHECK(a.view() == "abcdefghijabcdefghij");
  a.append(a.view());  // inline -> heap while reading itself
  CHECK(a.view() == "abcdefghijabcdefghijabcdefghijabcdefghij");
  a.append(a.view().substr(5, 10));
  CHECK(a.view() == "abcdefghijabcdefghijabcdefghijabcdefghijfghijabcde");
  a.assign(a.view().substr(1, 30));  // heap -> heap, overlapping
  CHECK(a.view() == "bcdefghijabcdefghijabcdefghija");
  a.assign(a.view().substr(2, 5));  // heap -> inline
  CHECK(a.view() == "defgh");
  CHECK(a.heap_bytes() == 0);
  a.assign(a.view().substr(1));  // inline, overlapping
  CHECK(a.view() == "efgh");
}

TEST_CASE("CompactString: assign, resize, clear, mutable_data", "[compact_string]") {
  CompactString c;
  c.assign(pattern_string(100));
  CHECK(c.view() == pattern_string(100));
  c.assign("short");
  CHECK(c.view() == "short");
  CHECK(c.heap_bytes() == 0);  // small contents go back inline

  c.resize(10, 'x');
  CHECK(c.view() == "shortxxxxx");
  c.resize(3);
  CHECK(c.view() == "sho");
  c.resize(30);  // inline -> heap, zero filled
  CHECK(c.size() == 30);
  CHECK(c.view().substr(0, 3) == "sho");
  CHECK(c.view().substr(3) == std::string(27, '\0'));
  c.resize(5);  // truncate on the heap
  CHECK(c.size() == 5);
  c.mutable_data()[0] = 'S';
  CHECK(c.view() == std::string("Sho\0\0", 5));
  c.resize(1 << 20, 'z');
  CHECK(c.size() == (1u << 20));
  CHECK(c.view()[(1 << 20) - 1] == 'z');
  c.clear();
  CHECK(c.empty());
  CHECK(c.heap_bytes() == 0);

  CompactString in("inline");
  in.mutable_data()[0] = 'I';
  CHECK(in.view() == "Inline");

  // Reusing a large block for a much smaller value gives the block back.
  CompactString big(pattern_string(4096));
  big.assign(pattern_string(100));
  CHECK(big.view() == pattern_string(100));
  CHECK(big.heap_bytes() < 1024);
}

TEST_CASE("CompactString: copies and moves", "[compact_string]") {
  for (size_t n : {0, 5, 23, 24, 200}) {
    const std::string s = pattern_string(n);
    CompactString a(s);
    CompactString b(a);
    CHECK(b.view() == s);
    if (n > 0) {
      b.mutable_data()[0] = '#';
      CHECK(a.view() == s);  // deep copy
    }
    CompactString c(std::move(a));
    CHECK(c.view() == s);
    CHECK(a.empty());  // NOLINT: moved-from is empty and usable
    a.assign("reuse");
    CHECK(a.view() == "reuse");

    CompactString d("something else entirely, on the heap");
    d = c;
    CHECK(d.view() == s);
    CompactString e("x");
    e = std::move(d);
    CHECK(e.view() == s);
    CHECK(d.empty());  // NOLINT
    e = e;             // self copy-assignment
    CHECK(e.view() == s);
    CompactString& er = e;
    e = std::move(er);  // self move-assignment
    CHECK(e.view() == s);
  }
}

TEST_CASE("Value: types, encodings, clone", "[value]") {
  using distcache::storage::type_name;
  CHECK(type_name(ValueType::kString) == "string");
  CHECK(type_name(ValueType::kList) == "list");
  CHECK(type_name(ValueType::kSet) == "set");
  CHECK(type_name(ValueType::kZSet) == "zset");
  CHECK(type_name(ValueType::kHash) == "hash");
  CHECK(type_name(ValueType::kStream) == "stream");

  auto enc = [](std::string_view s) { return std::string(Value::string(s).encoding_name()); };
  // Checked against redis-server 7.0.15 (SET k v; OBJECT ENCODING k).
  CHECK(enc("0") == "int");
  CHECK(enc("123") == "int");
  CHECK(enc("-5") == "int");
  CHECK(enc("9223372036854775807") == "int");
  CHECK(enc("-9223372036854775808") == "int");
  CHECK(enc("9223372036854775808") == "embstr");
  CHECK(enc("-9223372036854775809") == "embstr");
  CHECK(enc("18446744073709551616") == "embstr");
  CHECK(enc("-0") == "embstr");
  CHECK(enc("007") == "embstr");
  CHECK(enc("+1") == "embstr");
  CHECK(enc(" 1") == "embstr");
  CHECK(enc("1 ") == "embstr");
  CHECK(enc("-") == "embstr");
  CHECK(enc("") == "embstr");
  CHECK(enc("12345678901234567890123") == "embstr");
  CHECK(enc(std::string(44, 'x')) == "embstr");
  CHECK(enc(std::string(45, 'x')) == "raw");

  Value v = Value::string("123");
  v.set_raw_flag();  // SET k 123; APPEND k 4 -> "raw" in Redis
  CHECK(v.encoding_name() == "raw");
  CHECK(v.raw_flag());

  Value big = Value::string(std::string(100, 'q'));
  CHECK(big.heap_bytes() >= 100);
  CHECK(Value::string("small").heap_bytes() == 0);
  Value cl = big.clone();
  CHECK(cl.str() == big.str());
  cl.mutable_str().mutable_data()[0] = 'Z';
  CHECK(big.str()[0] == 'q');
  Value r = v.clone();
  CHECK(r.raw_flag());
  CHECK(r.is_string());
  CHECK(r.type() == ValueType::kString);
}
