// Incremental RESP request parser. The behaviour (accepted forms, error texts,
// the points at which limits are checked) follows redis-server 7.0 as observed
// on the wire; see resp_parser.h and tests/unit/test_resp_parser.cpp.
//
// Notable Redis details reproduced here:
//  * A header line ("*<n>" / "$<n>") ends at the first '\r'; the byte after it
//    is skipped without checking that it is '\n'. Bulk data is followed by two
//    bytes that are skipped without checking either.
//  * An inline line ends at the first '\n'; one '\r' before it is dropped.
//  * Redis searches for those terminators with strchr(), which stops at a NUL
//    byte: once a NUL precedes the terminator the line never completes and the
//    connection is closed with "too big ..." after max_inline_len bytes.
//  * The "too big" checks apply only to bytes buffered without a terminator.
#include "protocol/resp_parser.h"

#include <algorithm>
#include <cstring>

namespace distcache::protocol {

namespace {

// Header lines longer than this cannot hold a valid number (Redis's string2ll
// rejects 21+ characters), so only this many bytes of them are kept.
constexpr size_t kHeaderKeep = 32;
// First allocation for a bulk whose bytes have not arrived yet, and the least
// a bulk buffer grows by: enough to avoid tiny reallocations, small enough
// that a hostile "$500000000\r\n" costs little.
constexpr size_t kBulkMinChunk = 16 * 1024;

// Strict decimal parse with Redis's string2ll rules: optional '-', no '+', no
// leading zeros (except "0" itself), no spaces, fewer than 21 characters,
// within the int64 range.
bool parse_ll(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() >= 21) return false;
  if (s.size() == 1 && s[0] == '0') {
    out = 0;
    return true;
  }
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    i = 1;
    if (i == s.size()) return false;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    out = v == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    out = static_cast<int64_t>(v);
  }
  return true;
}

// isspace() in the C locale.
inline bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

inline bool is_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

inline int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// Splits an inline line into arguments with the rules of Redis's sdssplitargs:
// blanks (isspace) separate arguments; "double quotes" understand \n \r \t \b
// \a \xHH and \<any> (the character itself); 'single quotes' understand only
// \'; a quote may open in the middle of an argument; a closing quote must be
// followed by a blank or the end of the line. An unquoted argument ends only
// at ' ', '\t', '\r', '\n' (so \v and \f inside it are kept, as in Redis).
// Returns false on unbalanced quotes. `line` holds no NUL (see header notes).
bool split_inline(std::string_view line, ArgList& args) {
  const size_t n = line.size();
  auto at = [&](size_t k) -> unsigned char {
    return k < n ? static_cast<unsigned char>(line[k]) : 0;
  };
  size_t i = 0;
  for (;;) {
    while (i < n && is_space(at(i))) ++i;
    if (i >= n) return true;
    std::string& cur = args.add();
    bool in_dq = false, in_sq = false, done = false;
    while (!done) {
      unsigned char c = at(i);
      if (in_dq) {
        if (c == '\\' && at(i + 1) == 'x' && is_hex(at(i + 2)) && is_hex(at(i + 3))) {
          cur.push_back(static_cast<char>(hex_value(at(i + 2)) * 16 + hex_value(at(i + 3))));
          i += 3;
        } else if (c == '\\' && at(i + 1) != 0) {
          ++i;
          char e;
          switch (at(i)) {
            case 'n': e = '\n'; break;
            case 'r': e = '\r'; break;
            case 't': e = '\t'; break;
            case 'b': e = '\b'; break;
            case 'a': e = '\a'; break;
            default: e = static_cast<char>(at(i)); break;
          }
          cur.push_back(e);
        } else if (c == '"') {
          if (at(i + 1) != 0 && !is_space(at(i + 1))) return false;
          done = true;
        } else if (c == 0) {
          return false;
        } else {
          cur.push_back(static_cast<char>(c));
        }
      } else if (in_sq) {
        if (c == '\\' && at(i + 1) == '\'') {
          ++i;
          cur.push_back('\'');
        } else if (c == '\'') {
          if (at(i + 1) != 0 && !is_space(at(i + 1))) return false;
          done = true;
        } else if (c == 0) {
          return false;
        } else {
          cur.push_back(static_cast<char>(c));
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case 0:
            done = true;
            break;
          case '"':
            in_dq = true;
            break;
          case '\'':
            in_sq = true;
            break;
          default:
            cur.push_back(static_cast<char>(c));
            break;
        }
      }
      if (at(i) != 0) ++i;
    }
  }
}

// Makes room for `extra` more bytes in a bulk of declared length `total`,
// growing geometrically but never beyond `total`, and never by less than
// kBulkMinChunk (bounded by total): linear in the bytes actually received.
inline void grow_bulk(std::string& s, size_t extra, size_t total) {
  size_t need = s.size() + extra;
  if (need <= s.capacity()) return;
  size_t want = std::min(std::max({need, s.capacity() * 2, kBulkMinChunk}), std::max(total, need));
  // libstdc++'s reserve() rounds a growth of less than 2x up to 2x, which
  // would overshoot the declared length; build the exact buffer instead.
  std::string bigger;
  bigger.reserve(want);
  bigger.append(s);
  s.swap(bigger);
}

}  // namespace

void RespParser::start_line() {
  line_.clear();
  line_len_ = 0;
  line_cr_ = false;
  line_stuck_ = false;
}

RespParser::Status RespParser::fail(std::string msg, size_t pos, size_t& consumed) {
  error_ = std::move(msg);
  state_ = State::kError;
  consumed = pos;
  return Status::kError;
}

// Header lines end at '\r' and the byte after it is skipped; inline lines end
// at '\n'. A NUL before the terminator makes the line never complete (Redis's
// strchr). On kDone `line` views the line without its terminator (header lines
// of more than kHeaderKeep bytes are truncated; line_len_ has the true length).
RespParser::LineResult RespParser::feed_line(std::string_view input, size_t& pos, bool header,
                                             std::string_view& line) {
  const size_t size = input.size();
  if (header && line_cr_) {
    // Waiting for the (unchecked) byte after '\r'.
    if (pos >= size) return LineResult::kNeedMore;
    ++pos;
    line = line_;
    return LineResult::kDone;
  }
  if (pos >= size) return LineResult::kNeedMore;  // nothing new: state unchanged
  const size_t rest = size - pos;
  if (line_stuck_) {
    line_len_ += rest;
    pos = size;
    return line_len_ > limits_.max_inline_len ? LineResult::kTooBig : LineResult::kNeedMore;
  }
  const char term = header ? '\r' : '\n';
  const char* begin = input.data() + pos;
  const char* t = static_cast<const char*>(std::memchr(begin, term, rest));
  size_t scan = t ? static_cast<size_t>(t - begin) : rest;
  if (std::memchr(begin, '\0', scan) != nullptr) {
    // The terminator is unreachable for Redis: count bytes until "too big".
    line_stuck_ = true;
    line_len_ += rest;
    pos = size;
    return line_len_ > limits_.max_inline_len ? LineResult::kTooBig : LineResult::kNeedMore;
  }
  if (!t) {
    if (line_len_ + rest > limits_.max_inline_len) {
      pos = size;
      return LineResult::kTooBig;
    }
    if (header) {
      if (line_.size() < kHeaderKeep)
        line_.append(begin, std::min(rest, kHeaderKeep - line_.size()));
    } else {
      line_.append(begin, rest);
    }
    line_len_ += rest;
    pos = size;
    return LineResult::kNeedMore;
  }
  // Terminator found at begin + scan.
  const bool fast = line_len_ == 0;  // the whole line is in this input: no copy
  if (!fast) {
    if (header) {
      if (line_.size() < kHeaderKeep)
        line_.append(begin, std::min(scan, kHeaderKeep - line_.size()));
    } else {
      line_.append(begin, scan);
    }
  }
  line_len_ += scan;
  pos += scan + 1;
  if (header) {
    if (fast && scan <= kHeaderKeep) {
      line = std::string_view(begin, scan);
    } else {
      if (fast) line_.assign(begin, std::min(scan, kHeaderKeep));
      line = line_;
    }
    if (pos >= size) {
      line_cr_ = true;  // keep line_ for the next call
      if (fast && scan <= kHeaderKeep) line_.assign(begin, scan);
      return LineResult::kNeedMore;
    }
    ++pos;  // the byte after '\r', whatever it is
    return LineResult::kDone;
  }
  line = fast ? std::string_view(begin, scan) : std::string_view(line_);
  return LineResult::kDone;
}

// The fast path for the common case: a whole, well-formed multibulk command
// ("*<n>\r\n" then n times "$<len>\r\n<data>\r\n") already in `input`
// within every limit. It reads each byte once, with no line buffer. Anything
// else (a partial command, a limit exceeded, odd framing) returns false with
// `pos` unchanged, and the state machine below parses the same bytes with
// Redis's exact behaviour and error replies.
bool RespParser::parse_whole_command(std::string_view input, size_t& pos, ArgList& args) const {
  const char* p = input.data() + pos;
  const char* const end = input.data() + input.size();
  // A header's number and its "\r\n", read in the same pass. Only what a
  // well-formed header holds: up to 18 digits, no sign, no leading zero.
  // Anything else (negative counts, errors) goes to the state machine.
  auto read_number = [&p, end](int64_t& out) {
    const char* const digits = p;
    uint64_t v = 0;
    while (p < end && static_cast<unsigned char>(*p - '0') <= 9) {
      v = v * 10 + static_cast<uint64_t>(*p - '0');
      if (++p - digits > 18) return false;
    }
    const ptrdiff_t n = p - digits;
    if (n == 0 || (n > 1 && *digits == '0') || end - p < 2 || p[0] != '\r' || p[1] != '\n') return false;
    out = static_cast<int64_t>(v);
    p += 2;
    return true;
  };
  ++p;  // '*'
  int64_t count = 0;
  if (!read_number(count) || count <= 0 || count > limits_.max_multibulk_len ||
      (limits_.unauthenticated && count > 10))
    return false;
  args.clear();
  for (int64_t i = 0; i < count; ++i) {
    int64_t len = 0;
    if (p == end || *p != '$') return false;
    ++p;
    if (!read_number(len) || len < 0 || len > limits_.proto_max_bulk_len ||
        (limits_.unauthenticated && len > 16384))
      return false;
    if (end - p < len + 2 || p[len] != '\r' || p[len + 1] != '\n') return false;
    args.add(std::string_view(p, static_cast<size_t>(len)));
    p += len + 2;
  }
  pos = static_cast<size_t>(p - input.data());
  return true;
}

RespParser::Status RespParser::parse(std::string_view input, size_t& consumed, ArgList& args) {
  consumed = 0;
  if (state_ == State::kError) return Status::kError;
  const size_t size = input.size();
  size_t pos = 0;
  std::string_view line;
  for (;;) {
    switch (state_) {
      case State::kStart: {
        if (pos >= size) {
          consumed = pos;
          return Status::kNeedMore;
        }
        if (input[pos] == '*' && parse_whole_command(input, pos, args)) {
          consumed = pos;
          return Status::kCommand;
        }
        args.clear();
        start_line();
        state_ = input[pos] == '*' ? State::kMultibulkCount : State::kInline;
        break;
      }

      case State::kMultibulkCount: {
        LineResult r = feed_line(input, pos, true, line);
        if (r == LineResult::kNeedMore) {
          consumed = pos;
          return Status::kNeedMore;
        }
        if (r == LineResult::kTooBig)
          return fail("ERR Protocol error: too big mbulk count string", pos, consumed);
        int64_t n = 0;
        // line[0] is '*' (that is how this state was chosen).
        bool ok = line_len_ == line.size() && parse_ll(line.substr(1), n);
        if (!ok || n > limits_.max_multibulk_len)
          return fail("ERR Protocol error: invalid multibulk length", pos, consumed);
        if (limits_.unauthenticated && n > 10)
          return fail("ERR Protocol error: unauthenticated multibulk length", pos, consumed);
        if (n <= 0) {
          // Redis skips *0 and *-n without replying: an empty command.
          state_ = State::kStart;
          consumed = pos;
          return Status::kCommand;
        }
        args_expected_ = n;
        start_line();
        state_ = State::kBulkHeader;
        break;
      }

      case State::kBulkHeader: {
        LineResult r = feed_line(input, pos, true, line);
        if (r == LineResult::kNeedMore) {
          consumed = pos;
          return Status::kNeedMore;
        }
        if (r == LineResult::kTooBig)
          return fail("ERR Protocol error: too big bulk count string", pos, consumed);
        if (line_len_ == 0 || line[0] != '$') {
          // An empty line's first byte is its '\r'; Redis turns CR/LF in
          // error messages into spaces.
          char got = line_len_ == 0 ? ' ' : line[0];
          if (got == '\r' || got == '\n') got = ' ';
          std::string msg = "ERR Protocol error: expected '$', got '";
          msg.push_back(got);
          msg.push_back('\'');
          return fail(std::move(msg), pos, consumed);
        }
        int64_t len = 0;
        bool ok = line_len_ == line.size() && parse_ll(line.substr(1), len);
        if (!ok || len < 0 || len > limits_.proto_max_bulk_len)
          return fail("ERR Protocol error: invalid bulk length", pos, consumed);
        if (limits_.unauthenticated && len > 16384)
          return fail("ERR Protocol error: unauthenticated bulk length", pos, consumed);
        bulk_len_ = len;
        bulk_remaining_ = len + 2;
        args.add();  // cleared, capacity kept; grows as bytes arrive
        state_ = State::kBulkBody;
        break;
      }

      case State::kBulkBody: {
        std::string& arg = args.mutable_at(args.size() - 1);
        const size_t avail = size - pos;
        const size_t data_left = bulk_remaining_ > 2 ? static_cast<size_t>(bulk_remaining_ - 2) : 0;
        const size_t take = std::min(data_left, avail);
        if (take > 0) {
          grow_bulk(arg, take, static_cast<size_t>(bulk_len_));
          arg.append(input.data() + pos, take);
          pos += take;
          bulk_remaining_ -= static_cast<int64_t>(take);
        }
        if (bulk_remaining_ <= 2) {
          // The two bytes after the data: skipped unchecked, as Redis does.
          size_t skip = std::min(static_cast<size_t>(bulk_remaining_), size - pos);
          pos += skip;
          bulk_remaining_ -= static_cast<int64_t>(skip);
        }
        if (bulk_remaining_ > 0) {
          consumed = pos;
          return Status::kNeedMore;
        }
        if (static_cast<int64_t>(args.size()) == args_expected_) {
          state_ = State::kStart;
          consumed = pos;
          return Status::kCommand;
        }
        start_line();
        state_ = State::kBulkHeader;
        break;
      }

      case State::kInline: {
        LineResult r = feed_line(input, pos, false, line);
        if (r == LineResult::kNeedMore) {
          consumed = pos;
          return Status::kNeedMore;
        }
        if (r == LineResult::kTooBig)
          return fail("ERR Protocol error: too big inline request", pos, consumed);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!split_inline(line, args))
          return fail("ERR Protocol error: unbalanced quotes in request", pos, consumed);
        state_ = State::kStart;
        consumed = pos;
        return Status::kCommand;
      }

      case State::kError:
        return Status::kError;
    }
  }
}

bool RespParser::in_progress() const {
  return state_ != State::kStart && state_ != State::kError;
}

size_t RespParser::pending_bulk_bytes() const {
  return state_ == State::kBulkBody ? static_cast<size_t>(bulk_remaining_) : 0;
}

void RespParser::reset() {
  state_ = State::kStart;
  error_.clear();
  start_line();
  args_expected_ = 0;
  bulk_remaining_ = 0;
  bulk_len_ = 0;
}

}  // namespace distcache::protocol
