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
  int64_t max_multibulk_len = 1024LL * 1024 * 1024;   // Redis's fixed bound on *<n>
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
  enum class State { kStart, kMultibulkCount, kBulkHeader, kBulkBody, kInline };
  State state_ = State::kStart;
  ParserLimits limits_;
  std::string error_;
  std::string line_;          // partial header/inline line carried across calls
  int64_t args_expected_ = 0; // from *<n>
  int64_t bulk_remaining_ = 0;// bytes (incl. trailing CRLF) left in the current bulk
  // Implementation may add private members.
  friend struct RespParserTestAccess;
};

}  // namespace distcache::protocol
