#include "storage/glob.h"

#include <cstddef>
#include <utility>

namespace distcache::storage {

// Redis-compatible glob matching (the semantics of Redis 7.0's stringmatchlen),
// written as an iterative matcher with a single backtrack point for the most
// recent '*', so the cost is O(len(pattern) * len(text)) at worst and no
// recursion is involved, whatever the pattern.
//
// Semantics reproduced, including Redis's quirks:
//  * '*' any run (also empty), '?' one byte, '\x' the byte x, '[...]' a class.
//  * In a class: '^' first negates; 'a-z' is a range, reversed ranges are
//    swapped; '\x' is x taken literally (compared case-sensitively even with
//    nocase); ']' closes (so "[]" is an empty class); an unterminated class runs
//    to the end of the pattern; a range may end with ']' ("[a-]...").
//  * Range bounds compare bytes as signed chars (as Redis's `char` on x86-64).
//  * nocase folds ASCII letters only (Redis runs in the "C" LC_CTYPE locale);
//    ranges are swapped first and then folded.
//  * An empty text matches only the empty pattern (Redis never lets a '*' match
//    an empty text on its own: "*" does not match "").
//  * Redis stops recursing at a nesting depth of 1000 '*' groups and reports no
//    match; equivalently, a pattern with more than 1000 '*' groups that are
//    followed by something else never matches a non-empty text.
namespace {

inline int fold(int c, bool nocase) {
  if (nocase && c >= 'A' && c <= 'Z') return c + ('a' - 'A');
  return c;
}

inline int as_signed(char c) { return static_cast<signed char>(c); }

// Matches the single-byte token (anything but '*') starting at pattern[p]
// against `c`; advances p past the token.
bool match_token(std::string_view pat, size_t& p, char c, bool nocase) {
  const size_t m = pat.size();
  const char t = pat[p];
  if (t == '?') {
    ++p;
    return true;
  }
  if (t == '[') {
    size_t q = p + 1;
    bool negate = false;
    if (q < m && pat[q] == '^') {
      negate = true;
      ++q;
    }
    bool match = false;
    for (;;) {
      if (q >= m) {  // unterminated: the class extends to the end
        p = m;
        break;
      }
      if (pat[q] == '\\' && q + 1 < m) {
        if (pat[q + 1] == c) match = true;
        q += 2;
        continue;
      }
      if (pat[q] == ']') {
        p = q + 1;
        break;
      }
      if (q + 2 < m && pat[q + 1] == '-') {
        int lo = as_signed(pat[q]);
        int hi = as_signed(pat[q + 2]);
        if (lo > hi) std::swap(lo, hi);
        lo = fold(lo, nocase);
        hi = fold(hi, nocase);
        const int ci = fold(as_signed(c), nocase);
        if (ci >= lo && ci <= hi) match = true;
        q += 3;
        continue;
      }
      if (fold(as_signed(pat[q]), nocase) == fold(as_signed(c), nocase)) match = true;
      ++q;
    }
    return negate ? !match : match;
  }
  if (t == '\\' && p + 1 < m) ++p;
  const bool eq = fold(as_signed(pat[p]), nocase) == fold(as_signed(c), nocase);
  ++p;
  return eq;
}

// Number of '*' runs that are followed by more pattern (Redis recurses once per
// such run while matching).
size_t inner_star_groups(std::string_view pat) {
  const size_t m = pat.size();
  size_t groups = 0;
  size_t p = 0;
  while (p < m) {
    if (pat[p] == '*') {
      while (p < m && pat[p] == '*') ++p;
      if (p < m) ++groups;
      continue;
    }
    match_token(pat, p, 'x', false);  // only the advance matters
  }
  return groups;
}

constexpr size_t kMaxNesting = 1000;

}  // namespace

bool glob_match(std::string_view pat, std::string_view text, bool nocase) {
  if (text.empty()) return pat.empty();
  const size_t m = pat.size();
  const size_t n = text.size();

  // Redis's nesting limit. Cheap pre-check: count '*' bytes first.
  size_t stars = 0;
  for (char ch : pat) stars += (ch == '*');
  if (stars > kMaxNesting && inner_star_groups(pat) > kMaxNesting) return false;

  size_t p = 0, s = 0;
  size_t star_p = std::string_view::npos;  // pattern position after the last '*' run
  size_t star_s = 0;                       // text position that run currently stops at
  while (s < n) {
    if (p < m && pat[p] == '*') {
      while (p < m && pat[p] == '*') ++p;
      if (p == m) return true;  // a trailing '*' takes the rest
      star_p = p;
      star_s = s;
      continue;
    }
    if (p < m) {
      size_t np = p;
      if (match_token(pat, np, text[s], nocase)) {
        p = np;
        ++s;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    // Let the last '*' absorb one more byte and retry the rest after it.
    s = ++star_s;
    p = star_p;
  }
  while (p < m && pat[p] == '*') ++p;
  return p == m;
}

}  // namespace distcache::storage
