// RESP2/RESP3 reply writer. Wire formats follow redis-server 7.0 (checked on
// the wire; see tests/unit/test_reply_builder.cpp).
#include "protocol/reply_builder.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace distcache::protocol {

namespace {

// Room for a type byte, any 64-bit number (20 digits + sign) and CRLF.
constexpr size_t kHeaderBuf = 32;

inline size_t write_number(char* p, char* end, int64_t v) {
  return static_cast<size_t>(std::to_chars(p, end, v).ptr - p);
}

inline size_t write_number(char* p, char* end, uint64_t v) {
  return static_cast<size_t>(std::to_chars(p, end, v).ptr - p);
}

// "<prefix><n>\r\n" into buf; returns its length. No heap allocation.
template <typename N>
inline size_t make_header(char* buf, char prefix, N n) {
  buf[0] = prefix;
  size_t len = 1 + write_number(buf + 1, buf + kHeaderBuf - 2, n);
  buf[len++] = '\r';
  buf[len++] = '\n';
  return len;
}

template <typename N>
inline void append_header(std::string* out, char prefix, N n) {
  char buf[kHeaderBuf];
  out->append(buf, make_header(buf, prefix, n));
}

// Appends prefix + text + CRLF with every CR or LF of text turned into a
// space, as Redis does for status and error replies (keeps the protocol sane).
inline void append_line_sanitized(std::string* out, char prefix, std::string_view text) {
  const size_t start = out->size() + 1;
  out->push_back(prefix);
  out->append(text);
  if (!text.empty() &&
      (std::memchr(text.data(), '\r', text.size()) || std::memchr(text.data(), '\n', text.size()))) {
    for (size_t i = start; i < out->size(); ++i) {
      char& c = (*out)[i];
      if (c == '\r' || c == '\n') c = ' ';
    }
  }
  out->append("\r\n", 2);
}

inline void append_bulk(std::string* out, std::string_view s) {
  char buf[kHeaderBuf];
  size_t hlen = make_header(buf, '$', static_cast<uint64_t>(s.size()));
  out->reserve(out->size() + hlen + s.size() + 2);
  out->append(buf, hlen);
  out->append(s.data(), s.size());
  out->append("\r\n", 2);
}

}  // namespace

size_t format_double(double d, char* buf, size_t cap) {
  std::string_view special;
  if (std::isnan(d)) {
    // printf("%.17g") may print "-nan" for a NaN with its sign bit set; Redis
    // never intends to send a signed NaN, so every NaN is written "nan".
    special = "nan";
  } else if (std::isinf(d)) {
    special = d > 0 ? "inf" : "-inf";
  }
  if (!special.empty()) {
    if (cap < special.size()) return 0;
    std::memcpy(buf, special.data(), special.size());
    return special.size();
  }
  // std::to_chars with general format and a precision is specified as printf
  // "%.17g" (C locale): 0.1 -> "0.10000000000000001", 1e308 -> "1e+308",
  // -0.0 -> "-0", 3 -> "3".
  auto r = std::to_chars(buf, buf + cap, d, std::chars_format::general, 17);
  if (r.ec != std::errc()) return 0;
  return static_cast<size_t>(r.ptr - buf);
}

void ReplyBuilder::simple(std::string_view s) { append_line_sanitized(out_, '+', s); }

void ReplyBuilder::error(std::string_view msg) { append_line_sanitized(out_, '-', msg); }

void ReplyBuilder::integer(int64_t v) { append_header(out_, ':', v); }

void ReplyBuilder::bulk(std::string_view s) { append_bulk(out_, s); }

void ReplyBuilder::null_bulk() {
  if (resp_ >= 3)
    out_->append("_\r\n", 3);
  else
    out_->append("$-1\r\n", 5);
}

void ReplyBuilder::null_array() {
  if (resp_ >= 3)
    out_->append("_\r\n", 3);
  else
    out_->append("*-1\r\n", 5);
}

void ReplyBuilder::array(size_t n) { append_header(out_, '*', static_cast<uint64_t>(n)); }

void ReplyBuilder::map(size_t pairs) {
  if (resp_ >= 3)
    append_header(out_, '%', static_cast<uint64_t>(pairs));
  else
    append_header(out_, '*', static_cast<uint64_t>(pairs) * 2);
}

void ReplyBuilder::set(size_t n) {
  append_header(out_, resp_ >= 3 ? '~' : '*', static_cast<uint64_t>(n));
}

void ReplyBuilder::push(size_t n) {
  append_header(out_, resp_ >= 3 ? '>' : '*', static_cast<uint64_t>(n));
}

void ReplyBuilder::double_value(double d) {
  char buf[64];
  size_t len = format_double(d, buf, sizeof(buf));
  if (resp_ >= 3) {
    out_->push_back(',');
    out_->append(buf, len);
    out_->append("\r\n", 2);
  } else {
    append_bulk(out_, std::string_view(buf, len));
  }
}

void ReplyBuilder::boolean(bool b) {
  if (resp_ >= 3)
    out_->append(b ? "#t\r\n" : "#f\r\n", 4);
  else
    out_->append(b ? ":1\r\n" : ":0\r\n", 4);
}

void ReplyBuilder::verbatim(std::string_view text, std::string_view format) {
  if (resp_ < 3) {
    append_bulk(out_, text);
    return;
  }
  // The format is exactly three characters on the wire ("txt", "mkd").
  if (format.size() != 3) format = "txt";
  append_header(out_, '=', static_cast<uint64_t>(text.size()) + 4);
  out_->append(format.data(), 3);
  out_->push_back(':');
  out_->append(text.data(), text.size());
  out_->append("\r\n", 2);
}

void ReplyBuilder::big_number(std::string_view digits) {
  if (resp_ < 3) {
    append_bulk(out_, digits);
    return;
  }
  out_->push_back('(');
  out_->append(digits.data(), digits.size());
  out_->append("\r\n", 2);
}

size_t ReplyBuilder::begin_deferred() { return out_->size(); }

namespace {
inline void insert_header(std::string* out, size_t token, char prefix, uint64_t n) {
  char buf[kHeaderBuf];
  out->insert(token, buf, make_header(buf, prefix, n));
}
}  // namespace

void ReplyBuilder::end_deferred_array(size_t token, size_t n) {
  insert_header(out_, token, '*', static_cast<uint64_t>(n));
}

void ReplyBuilder::end_deferred_map(size_t token, size_t pairs) {
  if (resp_ >= 3)
    insert_header(out_, token, '%', static_cast<uint64_t>(pairs));
  else
    insert_header(out_, token, '*', static_cast<uint64_t>(pairs) * 2);
}

void ReplyBuilder::end_deferred_set(size_t token, size_t n) {
  insert_header(out_, token, resp_ >= 3 ? '~' : '*', static_cast<uint64_t>(n));
}

}  // namespace distcache::protocol
