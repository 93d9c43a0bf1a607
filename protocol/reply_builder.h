#pragma once
// Writes RESP2 or RESP3 replies into a caller-owned byte buffer. Types that
// RESP2 lacks degrade as redis-server degrades them: maps become flat arrays,
// sets and pushes arrays, doubles bulk strings, booleans integers, nulls $-1 / *-1.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace distcache::protocol {

class ReplyBuilder {
 public:
  explicit ReplyBuilder(std::string* out, int resp_version = 2) : out_(out), resp_(resp_version) {}

  int resp() const { return resp_; }
  void set_resp(int v) { resp_ = v; }
  std::string* buffer() const { return out_; }
  void set_buffer(std::string* out) { out_ = out; }

  void ok() { out_->append("+OK\r\n"); }
  void simple(std::string_view s);             // +s (CR/LF in s become spaces, as Redis sends them)
  // `msg` is the whole error text without '-', e.g. "ERR syntax error" or
  // "WRONGTYPE Operation ...". Newlines in msg are replaced by spaces (as Redis).
  void error(std::string_view msg);
  void integer(int64_t v);
  void bulk(std::string_view s);
  void null_bulk();                            // RESP2 $-1, RESP3 _
  void null_array();                           // RESP2 *-1, RESP3 _
  void array(size_t n);                        // *n
  void map(size_t pairs);                      // RESP3 %n, RESP2 *2n
  void set(size_t n);                          // RESP3 ~n, RESP2 *n
  void push(size_t n);                         // RESP3 >n, RESP2 *n
  void double_value(double d);                 // RESP3 ,d  RESP2 bulk "%.17g" (inf/-inf/nan as Redis)
  void boolean(bool b);                        // RESP3 #t/#f, RESP2 :1/:0
  void verbatim(std::string_view text, std::string_view format = "txt");  // RESP3 =, RESP2 bulk
  void big_number(std::string_view digits);    // RESP3 (, RESP2 bulk
  void raw(std::string_view bytes) { out_->append(bytes); }
  void empty_array() { out_->append("*0\r\n"); }

  // Arrays whose length is known only after the elements are written.
  // begin_deferred() reserves the header; end_deferred(token, n) writes it.
  // The token is the buffer position; the header is inserted there, so end
  // deferred headers innermost first (reverse order of begin), as nesting does.
  size_t begin_deferred();
  void end_deferred_array(size_t token, size_t n);
  void end_deferred_map(size_t token, size_t pairs);
  void end_deferred_set(size_t token, size_t n);

 private:
  std::string* out_;
  int resp_;
};

// "%.17g" as Redis 7.0 formats doubles in replies ("inf", "-inf", "nan").
// Writes no terminator; returns the length, or 0 if cap is too small (at most
// 24 characters are needed: pass a buffer of 32 or more).
size_t format_double(double d, char* buf, size_t cap);

}  // namespace distcache::protocol
