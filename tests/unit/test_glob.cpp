#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <string>

#include "storage/glob.h"

using distcache::storage::glob_match;

namespace {

// Straightforward recursive reference of Redis's semantics (exponential in
// the worst case; only used on tiny inputs). Kept independent of glob.cpp.
int lower(int c, bool nocase) { return (nocase && c >= 'A' && c <= 'Z') ? c + 32 : c; }

bool ref_match(const char* p, size_t pl, const char* s, size_t sl, bool nocase, bool first) {
  if (first && sl == 0) return pl == 0;
  if (pl == 0) return sl == 0;
  if (*p == '*') {
    while (pl > 0 && *p == '*') { ++p; --pl; }
    if (pl == 0) return true;
    for (size_t i = 0; i < sl; ++i) {
      if (ref_match(p, pl, s + i, sl - i, nocase, false)) return true;
    }
    return false;
  }
  if (sl == 0) return false;
  const int c = static_cast<signed char>(*s);
  size_t used;
  bool ok;
  if (*p == '?') {
    ok = true;
    used = 1;
  } else if (*p == '[') {
    size_t q = 1;
    bool neg = false;
    if (q < pl && p[q] == '^') { neg = true; ++q; }
    bool m = false;
    for (;;) {
      if (q >= pl) { used = pl; break; }
      if (p[q] == '\\' && q + 1 < pl) { if (p[q + 1] == *s) m = true; q += 2; continue; }
      if (p[q] == ']') { used = q + 1; break; }
      if (q + 2 < pl && p[q + 1] == '-') {
        int a = static_cast<signed char>(p[q]), b = static_cast<signed char>(p[q + 2]);
        if (a > b) std::swap(a, b);
        a = lower(a, nocase); b = lower(b, nocase);
        const int cc = lower(c, nocase);
        if (cc >= a && cc <= b) m = true;
        q += 3;
        continue;
      }
      if (lower(static_cast<signed char>(p[q]), nocase) == lower(c, nocase)) m = true;
      ++q;
    }
    ok = neg ? !m : m;
  } else {
    size_t k = 0;
    if (*p == '\\' && pl >= 2) k = 1;
    ok = lower(static_cast<signed char>(p[k]), nocase) == lower(c, nocase);
    used = k + 1;
  }
  return ok && ref_match(p + used, pl - used, s + 1, sl - 1, nocase, false);
}

bool ref(std::string_view p, std::string_view s, bool nocase = false) {
  return ref_match(p.data(), p.size(), s.data(), s.size(), nocase, true);
}

}  // namespace

TEST_CASE("glob: literals, ? and *", "[glob]") {
  CHECK(glob_match("hello", "hello"));
  CHECK_FALSE(glob_match("hello", "hell"));
  CHECK_FALSE(glob_match("hell", "hello"));
  CHECK(glob_match("h?llo", "hallo"));
  CHECK_FALSE(glob_match("h?llo", "hllo"));
  CHECK(glob_match("h*llo", "hllo"));
  CHECK(glob_match("h*llo", "heeeello"));
  CHECK(glob_match("*", "x"));
  CHECK(glob_match("**", "anything"));
  CHECK(glob_match("a*", "a"));
  CHECK(glob_match("*a", "a"));
  CHECK(glob_match("*a*", "bab"));
  CHECK_FALSE(glob_match("*a*", "bbb"));
  CHECK(glob_match("key:*", "key:123"));
  CHECK_FALSE(glob_match("key:*", "kez:123"));
  CHECK(glob_match("*:*:*", "a:b:c"));
  CHECK_FALSE(glob_match("*:*:*", "a:b"));
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "a"));
  // Redis: a '*' never matches the empty text on its own (KEYS ** skips "").
  CHECK_FALSE(glob_match("*", ""));
  CHECK_FALSE(glob_match("**", ""));
  CHECK_FALSE(glob_match("?", ""));
}

TEST_CASE("glob: classes, ranges, negation", "[glob]") {
  CHECK(glob_match("h[ae]llo", "hello"));
  CHECK(glob_match("h[ae]llo", "hallo"));
  CHECK_FALSE(glob_match("h[ae]llo", "hillo"));
  CHECK(glob_match("h[^e]llo", "hallo"));
  CHECK_FALSE(glob_match("h[^e]llo", "hello"));
  CHECK(glob_match("h[a-b]llo", "hbllo"));
  CHECK_FALSE(glob_match("h[a-b]llo", "hcllo"));
  CHECK(glob_match("[z-a]", "q"));  // reversed range is swapped
  CHECK(glob_match("[0-9][0-9]", "42"));
  CHECK_FALSE(glob_match("[0-9]", "a"));
  CHECK(glob_match("[^0-9]", "a"));
  CHECK_FALSE(glob_match("[]", "a"));     // empty class
  CHECK(glob_match("[^]", "a"));          // negated empty class: any byte
  CHECK(glob_match("[abc", "b"));         // unterminated class runs to the end
  CHECK_FALSE(glob_match("[abc", "bx"));
  CHECK_FALSE(glob_match("[", "["));      // a lone '[' never matches
  CHECK(glob_match("[^", "z"));
  // "[a-]x": the range a..']' (swapped to ']'..'a') swallows the ']', so 'x'
  // is a class member and the class runs unterminated to the end.
  CHECK(glob_match("[a-]x", "x"));
  CHECK(glob_match("[a-]x", "_"));
  CHECK_FALSE(glob_match("[a-]x", "bx"));
  CHECK(glob_match("[a-", "-"));          // too short for a range: literals 'a', '-'
  CHECK(glob_match("[]]", "]") == ref("[]]", "]"));
  CHECK(glob_match("[\\]]", "]"));        // escaped ']' inside a class
  CHECK(glob_match("[\\-]", "-"));
  CHECK_FALSE(glob_match("[\\-]", "\\"));
  CHECK(glob_match("[*?]", "*"));
  CHECK_FALSE(glob_match("[*?]", "x"));
}

TEST_CASE("glob: escapes", "[glob]") {
  CHECK(glob_match("\\*", "*"));
  CHECK_FALSE(glob_match("\\*", "a"));
  CHECK(glob_match("a\\?b", "a?b"));
  CHECK_FALSE(glob_match("a\\?b", "axb"));
  CHECK(glob_match("\\[a]", "[a]"));
  CHECK(glob_match("\\\\", "\\"));
  CHECK(glob_match("\\", "\\"));          // a trailing lone backslash is literal
  CHECK(glob_match("a\\", "a\\"));
  CHECK(glob_match("\\a", "a"));
  CHECK(glob_match("*\\*", "abc*"));
  CHECK_FALSE(glob_match("*\\*", "abc"));
}

TEST_CASE("glob: nocase", "[glob]") {
  CHECK(glob_match("HeLLo", "hello", true));
  CHECK_FALSE(glob_match("HeLLo", "hello", false));
  CHECK(glob_match("h[A-C]llo", "hbllo", true));
  CHECK(glob_match("h[a-c]llo", "hBllo", true));
  CHECK(glob_match("h[E]llo", "hello", true));
  CHECK(glob_match("maxmemory*", "MAXMEMORY-policy", true));
  // Escaped bytes inside a class compare case-sensitively (Redis quirk).
  CHECK_FALSE(glob_match("[\\A]", "a", true));
  // Ranges are swapped, then folded: [Z-a] folds to z..a, which is empty.
  CHECK_FALSE(glob_match("[Z-a]", "_", true));
  CHECK(glob_match("[Z-a]", "_", false));
  // Only ASCII folds.
  CHECK_FALSE(glob_match("\xc3\x89", "\xc3\xa9", true));
}

TEST_CASE("glob: binary and high bytes", "[glob]") {
  using namespace std::string_view_literals;
  CHECK(glob_match("a\0b"sv, "a\0b"sv));
  CHECK_FALSE(glob_match("a\0b"sv, "a\0c"sv));
  CHECK(glob_match("a?b"sv, "a\0b"sv));
  CHECK(glob_match("*\xff"sv, "abc\xff"sv));
  // Ranges compare signed chars, as Redis on x86-64: 0xff is -1 < 'a'.
  CHECK(glob_match("[\xff-a]"sv, "0"sv));
  CHECK_FALSE(glob_match("[\xff-a]"sv, "b"sv));
  CHECK(glob_match("[\x80-\xff]"sv, "\x90"sv));
}

TEST_CASE("glob: Redis nesting limit of 1000 '*' groups", "[glob]") {
  const std::string text(1001, 'a');
  std::string p1000, p1001;
  for (int i = 0; i < 1000; ++i) p1000 += "*a";
  p1001 = p1000 + "*a";
  // Checked against redis-server 7.0.15 with KEYS.
  CHECK(glob_match(p1000, text));
  CHECK_FALSE(glob_match(p1001, text));
  CHECK_FALSE(glob_match(p1001 + "*", text + "zz"));
  CHECK(glob_match(p1000 + "*", text));  // the final group does not recurse
}

TEST_CASE("glob: pathological patterns stay fast", "[glob]") {
  std::string pat;
  for (int i = 0; i < 40; ++i) pat += "a*";
  pat += "b";
  const std::string text(20000, 'a');
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(glob_match(pat, text));
  CHECK(glob_match(pat, text + "b"));
  std::string many;
  for (int i = 0; i < 900; ++i) many += "*a";
  many += "*b";
  CHECK_FALSE(glob_match(many, std::string(5000, 'a')));
  CHECK_FALSE(glob_match("*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*0", std::string(20000, 'q')));
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  CHECK(ms < 2000);  // O(pattern * text): well under a second even unoptimised
}

TEST_CASE("glob: random patterns agree with a reference matcher", "[glob]") {
  std::mt19937 rng(12345);
  const std::string pat_alpha = "ab-]^[\\*?Az\x80\xff";
  const std::string txt_alpha = "ab-]^[\\Az\x80\xff*?";
  size_t checked = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string p, s;
    const int pl = static_cast<int>(rng() % 8), sl = static_cast<int>(rng() % 7);
    for (int k = 0; k < pl; ++k) p += pat_alpha[rng() % pat_alpha.size()];
    for (int k = 0; k < sl; ++k) s += txt_alpha[rng() % txt_alpha.size()];
    const bool nocase = (rng() & 1) != 0;
    const bool want = ref(p, s, nocase);
    if (glob_match(p, s, nocase) != want) {
      INFO("pattern=" << p << " text=" << s << " nocase=" << nocase);
      CHECK(glob_match(p, s, nocase) == want);
    }
    ++checked;
  }
  CHECK(checked == 200000);
}
