#pragma once
// Redis 7.0's multi-part AOF layout: a directory (`appenddirname`, inside
// `dir`) holding one base file, incremental files and a manifest naming them.
//
//   appendonlydir/appendonly.aof.3.base.rdb      base: a snapshot (RDB, or commands: .base.aof)
//   appendonlydir/appendonly.aof.5.incr.aof      commands written since that base
//   appendonlydir/appendonly.aof.manifest        which files, in which order
//
// The manifest has one line per file, `file <name> seq <n> type <b|h|i>`:
// the base first, then history files (type h: replaced by a rewrite, about to
// be deleted), then the incremental files in replay order. Names that need it
// are quoted as Redis's sdscatrepr does; lines are parsed with the rules of
// Redis's sdssplitargs. Everything here (texts of errors included) follows
// Redis 7.0's aof.c behaviour, checked against redis-server 7.0.15.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distcache::persistence {

enum class AofFileType : char { kBase = 'b', kHistory = 'h', kIncr = 'i' };

struct AofFileInfo {
  std::string name;
  int64_t seq = 0;
  AofFileType type = AofFileType::kIncr;
  friend bool operator==(const AofFileInfo&, const AofFileInfo&) = default;
};

struct AofManifest {
  std::optional<AofFileInfo> base;
  std::vector<AofFileInfo> history;  // newest first, as Redis keeps them
  std::vector<AofFileInfo> incrs;    // replay order
  int64_t curr_base_seq = 0;
  int64_t curr_incr_seq = 0;

  bool empty() const { return !base && incrs.empty(); }

  // The manifest file's text, as Redis writes it.
  std::string to_string() const;

  // A rewrite's new base: the current base (if any) becomes history. Returns
  // the new base's name, "<appendfilename>.<seq>.base.rdb" (or ".base.aof").
  const std::string& add_new_base(std::string_view appendfilename, bool rdb_format);
  // A new incremental file at the end of the list: "<appendfilename>.<seq>.incr.aof".
  const std::string& add_new_incr(std::string_view appendfilename);
  // After a rewrite: every incremental file becomes history, except the last
  // one when `keep_last` (the file being written, when the AOF is on).
  void mark_rewritten_incrs_as_history(bool keep_last);
  // The names of the history files, dropped from the manifest.
  std::vector<std::string> take_history();

  friend bool operator==(const AofManifest&, const AofManifest&) = default;
};

// Parses a manifest's text. On error returns false with *error set to Redis's
// message ("Invalid AOF manifest file format", "Found duplicate base file
// information", "Found a non-monotonic sequence number", ...).
bool parse_aof_manifest(std::string_view text, AofManifest& out, std::string* error);

enum class ManifestLoad { kOk, kNotFound, kError };
// Reads and parses `path`. kNotFound when the file does not exist.
ManifestLoad load_aof_manifest(const std::string& path, AofManifest& out, std::string* error);

// Replaces dir/<name> atomically: writes "temp-<name>" in `dir`, fsyncs it,
// renames it over the manifest and fsyncs the directory.
bool write_aof_manifest(const std::string& dir, std::string_view name, const AofManifest& manifest,
                        std::string* error);

// File names (Redis's).
std::string aof_manifest_name(std::string_view appendfilename);       // "<f>.manifest"
std::string aof_temp_manifest_name(std::string_view appendfilename);  // "temp-<f>.manifest"
std::string aof_temp_incr_name(std::string_view appendfilename);      // "temp-<f>.incr"
std::string aof_base_name(std::string_view appendfilename, int64_t seq, bool rdb_format);
std::string aof_incr_name(std::string_view appendfilename, int64_t seq);

// Redis's sdsneedsrepr / sdscatrepr (quoted, with \n \r \t \a \b \\ \" and
// \xHH escapes) and sdssplitargs (false on unbalanced quotes).
bool needs_repr(std::string_view s);  // the quoting itself: protocol::repr (protocol/repr.h)
bool split_args(std::string_view line, std::vector<std::string>& out);

// fsync(2) of a directory (after a rename inside it). Returns false on error.
bool fsync_directory(const std::string& dir, std::string* error = nullptr);

}  // namespace distcache::persistence
