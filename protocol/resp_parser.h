#pragma once
// Incremental request parser: RESP multibulk ("*3\r\n$3\r\nSET\r\n...") and
// inline commands ("PING\r\n", "set k \"a b\"\n"), as redis-server accepts them.
//
// The parser keeps its own state between calls, so input may arrive split at
// any byte boundary; completed bytes are consumed and copied into the ArgList,
// so the caller may discard consumed input immediately.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/arg_list.h"

namespace distcache::protocol {

struct ParserLimits {
  int64_t proto_max_bulk_len = 512LL * 1024 * 1024;  // config proto-max-bulk-len
  // Redis 7.0's fixed bound on *<n> is INT_MAX (checked against redis-server 7.0.15:
  // *2147483647 is accepted and waits for arguments, *2147483648 is "invalid multibulk length").
  int64_t max_multibulk_len = 2147483647LL;
  size_t max_inline_len = 64 * 1024;                  // PROTO_INLINE_MAX_SIZE
  // Redis 7.0 limits clients that have not authenticated (when a password is set).
  bool unauthenticated = false;                       // then *<n> <= 10 and $<n> <= 16384
};

class RespParser {
 public:
  enum class Status {
    kNeedMore,  // consumed everything useful; call again with more input
    kCommand,   // one complete command is in `args` (may have 0 args: empty inline line -> skip it)
    kError,     // protocol error: error() holds Redis's message; close the connection after replying
  };

  // Parses from `input`. Sets `consumed` to the number of bytes of `input` used
  // (always <= input.size()). On kCommand, `args` holds the command (cleared first).
  // On kNeedMore, all of `input` that could be used has been consumed.
  //
  // Pass the same ArgList on every call until kCommand: a command split over
  // several calls is accumulated in it. At most one command is returned per
  // call; call again with input.substr(consumed) for pipelined commands.
  // kCommand with zero args means "skip, send no reply" (an empty inline line,
  // or *0 / *-1 / any *<n> with n <= 0, exactly as redis-server skips them).
  // Protocol limits are checked as redis-server checks them: a line (header or
  // inline) is "too big" only when more than max_inline_len bytes are buffered
  // without its terminator at the time of a call.
  // After kError every call returns kError (consumed 0) until reset().
  Status parse(std::string_view input, size_t& consumed, ArgList& args);

  // Message without the leading '-', e.g. "ERR Protocol error: invalid bulk length".
  const std::string& error() const { return error_; }

  ParserLimits& limits() { return limits_; }
  // True while in the middle of a command (some bytes of it consumed).
  bool in_progress() const;
  // Bytes the parser still expects for the current bulk (hint for read sizing), 0 if unknown.
  size_t pending_bulk_bytes() const;
  void reset();

 private:
  enum class State { kStart, kMultibulkCount, kBulkHeader, kBulkBody, kInline, kError };
  enum class LineResult { kNeedMore, kDone, kTooBig };
  // Feeds input[pos..] to the current header/inline line (see resp_parser.cpp).
  LineResult feed_line(std::string_view input, size_t& pos, bool header, std::string_view& line);
  bool parse_whole_command(std::string_view input, size_t& pos, ArgList& args) const;
  void start_line();
  Status fail(std::string msg, size_t pos, size_t& consumed);
  State state_ = State::kStart;
  ParserLimits limits_;
  std::string error_;
  std::string line_;          // partial header/inline line carried across calls
  int64_t args_expected_ = 0; // from *<n>
  int64_t bulk_remaining_ = 0;// bytes (incl. trailing CRLF) left in the current bulk
  int64_t bulk_len_ = 0;       // declared length of the current bulk
  size_t line_len_ = 0;        // bytes of the current line seen so far (line_ may hold fewer: headers are capped)
  bool line_cr_ = false;       // header line: its '\r' was seen, the byte after it is still to skip
  bool line_stuck_ = false;    // a NUL came before the terminator: Redis's strchr() never finds it
  friend struct RespParserTestAccess;
};

}  // namespace distcache::protocol
