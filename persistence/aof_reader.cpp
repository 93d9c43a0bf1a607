#include "persistence/aof_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace distcache::persistence {
namespace {

constexpr size_t kLineMax = 1024;  // Redis reads the "*<argc>" / "$<len>" lines with fgets into 1024 bytes

// A read(2) loop with fgets / fread semantics and exact offsets.
class BufferedFile {
 public:
  BufferedFile(int fd, uint64_t start, size_t buffer_bytes)
      : fd_(fd), buf_(std::max<size_t>(buffer_bytes, 64 * 1024)), offset_(start) {}

  uint64_t offset() const { return offset_; }
  bool eof() const { return eof_ && begin_ == end_; }
  int error() const { return errno_; }

  // fgets(buf, kLineMax): up to and including '\n', or kLineMax - 1 bytes, or
  // what is left at the end. False when nothing could be read.
  bool read_line(std::string& line) {
    line.clear();
    while (line.size() < kLineMax - 1) {
      if (begin_ == end_ && !fill()) break;
      size_t want = std::min(end_ - begin_, kLineMax - 1 - line.size());
      const char* start = buf_.data() + begin_;
      const void* nl = std::memchr(start, '\n', want);
      size_t take = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) + 1 : want;
      line.append(start, take);
      consume(take);
      if (nl) break;
    }
    return !line.empty();
  }

  // fread(n bytes): false unless all n bytes were read.
  bool read_exact(std::string& out, size_t n) {
    out.clear();
    if (n == 0) return true;
    out.reserve(n);
    while (out.size() < n) {
      if (begin_ == end_) {
        if (n - out.size() >= buf_.size()) {  // big argument: read straight into it
          size_t have = out.size();
          out.resize(n);
          while (have < n) {
            ssize_t r = ::read(fd_, out.data() + have, n - have);
            if (r < 0) {
              if (errno == EINTR) continue;
              errno_ = errno;
              break;
            }
            if (r == 0) {
              eof_ = true;
              break;
            }
            have += static_cast<size_t>(r);
            offset_ += static_cast<uint64_t>(r);
          }
          out.resize(have);
          return have == n;
        }
        if (!fill()) return false;
      }
      size_t take = std::min(end_ - begin_, n - out.size());
      out.append(buf_.data() + begin_, take);
      consume(take);
    }
    return true;
  }

  bool skip(size_t n) {
    std::string sink;
    return read_exact(sink, n);
  }

 private:
  void consume(size_t n) {
    begin_ += n;
    offset_ += n;
  }
  bool fill() {
    if (eof_ || errno_) return false;
    begin_ = end_ = 0;
    for (;;) {
      ssize_t r = ::read(fd_, buf_.data(), buf_.size());
      if (r < 0) {
        if (errno == EINTR) continue;
        errno_ = errno;
        return false;
      }
      if (r == 0) {
        eof_ = true;
        return false;
      }
      end_ = static_cast<size_t>(r);
      return true;
    }
  }

  int fd_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  uint64_t offset_;
  bool eof_ = false;
  int errno_ = 0;
};

// strtol(s, NULL, 10) on a line: white space, sign, digits (0 if none).
int64_t parse_c_long(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  int64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (v > (INT64_MAX - 9) / 10) return negative ? INT64_MIN : INT64_MAX;
    v = v * 10 + (s[i] - '0');
  }
  return negative ? -v : v;
}

bool is_command(const protocol::ArgList& args, std::string_view name) {
  if (args.empty() || args[0].size() != name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(args[0][i])) != name[i]) return false;
  return true;
}

// Owns the file descriptor.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void append_resp_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_resp_command_range(out, args);
}

AofReadResult read_aof_file(const std::string& path, std::string_view display_name, RdbLoadHandler* rdb,
                            AofCommandHandler& handler, const AofReadOptions& options) {
  AofReadResult result;
  const std::string name(display_name);
  auto log = [&options](bool warning, const std::string& text) {
    if (options.log) options.log(warning, text);
  };
  auto fail = [&](std::string message) {
    log(true, message);
    result.error = std::move(message);
    result.status = AofReadStatus::kFailed;
    return result;
  };

  Fd file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) {
    if (errno == ENOENT) {
      result.status = AofReadStatus::kNotExist;
      return result;
    }
    result.status = AofReadStatus::kOpenError;
    result.error = "Fatal error: can't open the append log file " + name + " for reading: " + std::strerror(errno);
    log(true, result.error);
    return result;
  }
  struct stat st {};
  if (::fstat(file.fd, &st) == 0 && st.st_size == 0) {
    result.status = AofReadStatus::kEmpty;
    return result;
  }

  // An RDB part first?
  uint64_t start = 0;
  char sig[5];
  ssize_t got = ::pread(file.fd, sig, sizeof sig, 0);
  if (got == static_cast<ssize_t>(sizeof sig) && std::memcmp(sig, "REDIS", 5) == 0) {
    result.rdb_preamble = true;
    log(false, "Reading RDB base file on AOF loading...");
    RdbLoadResult r;
    if (rdb == nullptr) {
      r.ok = false;
      r.error = "no handler for an RDB part";
    } else {
      r = load_rdb_file(path, *rdb, options.rdb);
    }
    if (!r.ok) {
      log(true, "RDB error: " + r.error);
      return fail(options.old_style ? "Error reading the RDB preamble of the AOF file " + name + ", AOF loading aborted"
                                    : "Error reading the RDB base file " + name + ", AOF loading aborted");
    }
    result.rdb_keys = r.keys;
    start = r.bytes;
    if (::lseek(file.fd, static_cast<off_t>(start), SEEK_SET) < 0)
      return fail("Unrecoverable error reading the append only file " + name + ": " + std::strerror(errno));
    if (options.old_style) log(false, "Reading the remaining AOF tail...");
  }

  BufferedFile in(file.fd, start, options.buffer_bytes);
  uint64_t valid_up_to = start;
  uint64_t valid_before_multi = start;
  bool in_multi = false;
  std::vector<protocol::ArgList> queued;
  protocol::ArgList args;
  std::string line;
  std::string error;
  uint64_t command_start = start;

  enum class End { kClean, kShortRead, kFormat, kIoError, kHandler };
  End end = End::kClean;

  for (;;) {
    command_start = in.offset();
    if (!in.read_line(line)) {
      end = in.error() ? End::kIoError : End::kClean;
      break;
    }
    if (line[0] == '#') continue;  // annotations
    if (line[0] != '*') {
      end = End::kFormat;
      break;
    }
    if (line.size() == 1) {  // "*" and nothing else: a cut line
      end = in.error() ? End::kIoError : End::kShortRead;
      break;
    }
    const int64_t argc = parse_c_long(std::string_view(line).substr(1));
    if (argc < 1) {
      end = End::kFormat;
      break;
    }
    args.clear();
    bool complete = true;
    for (int64_t j = 0; j < argc; ++j) {
      if (!in.read_line(line)) {
        complete = false;
        end = in.error() ? End::kIoError : End::kShortRead;
        break;
      }
      if (line[0] != '$') {
        complete = false;
        end = End::kFormat;
        break;
      }
      const int64_t len = parse_c_long(std::string_view(line).substr(1));
      if (len < 0) {
        complete = false;
        end = End::kFormat;
        break;
      }
      // A length beyond the end of the file can only be a cut write.
      if (static_cast<uint64_t>(len) > static_cast<uint64_t>(st.st_size) - std::min<uint64_t>(in.offset(), st.st_size)) {
        complete = false;
        end = End::kShortRead;
        break;
      }
      if (!in.read_exact(args.add(), static_cast<size_t>(len)) || !in.skip(2)) {
        complete = false;
        end = in.error() ? End::kIoError : End::kShortRead;
        break;
      }
    }
    if (!complete) break;

    if (!handler.check(args, &error)) {
      end = End::kHandler;
      break;
    }
    if (is_command(args, "multi")) valid_before_multi = valid_up_to;
    if (in_multi && !is_command(args, "exec")) {
      protocol::ArgList& q = queued.emplace_back();
      q.reserve(args.size());
      for (size_t i = 0; i < args.size(); ++i) q.add(args[i]);
    } else if (is_command(args, "multi")) {
      in_multi = true;
      queued.clear();
      queued.emplace_back().add(args[0]);
    } else {
      bool ok = true;
      if (in_multi) {  // EXEC: the whole block now
        for (auto& q : queued) {
          ok = handler.execute(q, &error);
          ++result.commands;
          if (!ok) break;
        }
        queued.clear();
        in_multi = false;
      }
      if (ok) {
        ok = handler.execute(args, &error);
        ++result.commands;
      }
      if (!ok) {
        end = End::kHandler;
        break;
      }
    }
    valid_up_to = in.offset();
  }

  if (end == End::kClean && in_multi) {
    log(true, "Revert incomplete MULTI/EXEC transaction in AOF file " + name);
    valid_up_to = valid_before_multi;
    end = End::kShortRead;
  }
  result.valid_up_to = valid_up_to;

  switch (end) {
    case End::kClean:
      result.size = in.offset();
      result.status = AofReadStatus::kOk;
      return result;
    case End::kIoError:
      return fail("Unrecoverable error reading the append only file " + name + ": " + std::strerror(in.error()));
    case End::kHandler:
      return fail(error);
    case End::kFormat:
      result.error_offset = command_start;
      log(true, "Bad file format reading the append only file " + name +
                    ": make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>");
      result.error = "Bad file format reading the append only file " + name + " (the command at offset " +
                     std::to_string(command_start) + " is not valid)";
      log(true, result.error);
      result.status = AofReadStatus::kFailed;
      return result;
    case End::kShortRead:
      break;
  }

  if (options.load_truncated) {
    log(true, "!!! Warning: short read while loading the AOF file " + name + "!!!");
    log(true, "!!! Truncating the AOF " + name + " at offset " + std::to_string(valid_up_to) + " !!!");
    if (::truncate(path.c_str(), static_cast<off_t>(valid_up_to)) != 0) {
      log(true, "Error truncating the AOF file " + name + ": " + std::strerror(errno));
    } else {
      log(true, "AOF " + name + " loaded anyway because aof-load-truncated is enabled");
      result.size = valid_up_to;
      result.status = AofReadStatus::kTruncated;
      return result;
    }
  }
  return fail("Unexpected end of file reading the append only file " + name +
              ". You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. "
              "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the "
              "server.");
}

}  // namespace distcache::persistence
