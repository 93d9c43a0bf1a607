#pragma once
// Reading one AOF file as Redis 7.0's loader does (loadSingleAppendOnlyFile):
// a base file, an incremental file, or an old-style (pre-7) single
// appendonly.aof.
//
// A file that starts with "REDIS" begins with an RDB snapshot (the base of a
// multi-part AOF, or an old-style file's RDB preamble): its keys go to an
// RdbLoadHandler (persistence/rdb_reader.h) and the commands that may follow
// are read after it. The rest is a stream of RESP multibulk commands
// ("*<argc>\r\n$<len>\r\n<bytes>\r\n..."), with '#' annotation lines skipped
// (aof-timestamp-enabled writes "#TS:<unix seconds>\r\n").
//
// Commands are handed to an AofCommandHandler in file order. A MULTI ...
// EXEC block is handed over only once its EXEC was read (MULTI, the queued
// commands, EXEC): a block that the file ends inside is never applied.
//
// The end of the file:
//   - a complete last command: kOk (kEmpty for an empty file);
//   - a truncated last command or an unterminated MULTI block (a crash during
//     a write): with load_truncated (`aof-load-truncated yes`) the file is
//     truncated to its last complete command and the result is kTruncated,
//     else kFailed ("Unexpected end of file ...");
//   - anything else that is not a command (garbage in the middle) is kFailed
//     with Redis's "Bad file format" message, plus a line naming the offset.
// Every message is passed to options.log with Redis's text.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "persistence/rdb_reader.h"
#include "protocol/arg_list.h"

namespace distcache::persistence {

class AofCommandHandler {
 public:
  virtual ~AofCommandHandler() = default;
  // Called when a command has been read (also inside MULTI, before it is
  // queued). Return false with *error set to reject the file (Redis's
  // "Unknown command '...' reading the append only file ...").
  virtual bool check(const protocol::ArgList& args, std::string* error) { return true; }
  // Runs a command. Return false with *error set to stop loading.
  virtual bool execute(const protocol::ArgList& args, std::string* error) = 0;
};

enum class AofReadStatus {
  kOk,
  kEmpty,      // a zero-length file
  kNotExist,
  kOpenError,
  kTruncated,  // loaded up to the last complete command; the file was truncated there
  kFailed,
};

struct AofReadOptions {
  bool load_truncated = true;  // aof-load-truncated
  bool old_style = false;      // an old-style single file (only changes messages)
  RdbLoadOptions rdb;
  // (warning?, text): Redis's log lines ("!!! Warning: short read ...").
  std::function<void(bool warning, const std::string& text)> log;
  size_t buffer_bytes = 1 << 20;
};

struct AofReadResult {
  AofReadStatus status = AofReadStatus::kOk;
  std::string error;            // the fatal message, when kFailed / kOpenError
  uint64_t commands = 0;        // commands executed (MULTI and EXEC included)
  uint64_t rdb_keys = 0;        // keys of an RDB part
  bool rdb_preamble = false;
  uint64_t size = 0;            // bytes of the file once loaded (after any truncation)
  uint64_t valid_up_to = 0;     // end of the last complete command
  uint64_t error_offset = 0;    // where the bad data starts (kFailed on a format error)
};

// `display_name` is the name used in messages (the file name inside the AOF
// directory). `rdb` receives the keys of an RDB part (may be null if the
// caller knows there is none: an RDB part is then an error).
AofReadResult read_aof_file(const std::string& path, std::string_view display_name, RdbLoadHandler* rdb,
                            AofCommandHandler& handler, const AofReadOptions& options = {});

// Serializes one command as a RESP multibulk ("*<n>\r\n$<len>\r\n<arg>\r\n...").
void append_resp_command(std::string& out, std::initializer_list<std::string_view> args);
template <typename Range>
void append_resp_command_range(std::string& out, const Range& args) {
  out += '*';
  out += std::to_string(std::size(args));
  out += "\r\n";
  for (const auto& a : args) {
    std::string_view v(a);
    out += '$';
    out += std::to_string(v.size());
    out += "\r\n";
    out.append(v.data(), v.size());
    out += "\r\n";
  }
}

}  // namespace distcache::persistence
