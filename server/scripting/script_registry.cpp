// Process-wide scripting state: the script cache, the function libraries
// (with FUNCTION DUMP / RESTORE's payload format), the registry of running
// scripts (SCRIPT KILL, FUNCTION STATS, BUSY), the rand48 generator behind
// math.random, and the shebang / library metadata parsers.
#include <atomic>
#include <liblzf/lzf.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "persistence/crc64.h"
#include "server/scripting/engine_internal.h"

namespace distcache::server::scripting {
namespace detail {
namespace {

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---------------------------------------------------------------------------
// Script cache

struct ScriptCache {
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const CachedScript>> scripts;
  std::atomic<uint64_t> generation{1};
};
ScriptCache& script_cache() {
  static ScriptCache* cache = new ScriptCache();  // never destroyed: threads may outlive static destruction
  return *cache;
}

// ---------------------------------------------------------------------------
// Function libraries

struct FunctionRegistry {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const Library>> libraries;  // by exact name
  struct Ref {
    std::shared_ptr<const Library> lib;
    size_t index;
  };
  std::unordered_map<std::string, Ref> functions;  // by lower-cased function name
  std::atomic<uint64_t> generation{1};

  void link(const std::shared_ptr<const Library>& lib) {
    libraries[lib->name] = lib;
    for (size_t i = 0; i < lib->functions.size(); ++i) functions[to_lower(lib->functions[i].name)] = Ref{lib, i};
  }
  void unlink(const std::string& name) {
    auto it = libraries.find(name);
    if (it == libraries.end()) return;
    for (const auto& f : it->second->functions) functions.erase(to_lower(f.name));
    libraries.erase(it);
  }
  void bump() { generation.fetch_add(1, std::memory_order_acq_rel); }
};
FunctionRegistry& registry() {
  static FunctionRegistry* r = new FunctionRegistry();
  return *r;
}

// ---------------------------------------------------------------------------
// Running scripts

struct RunningRegistry {
  std::mutex mutex;
  std::vector<RunningEntry*> entries;  // in start order
};
RunningRegistry& running() {
  static RunningRegistry* r = new RunningRegistry();
  return *r;
}

// ---------------------------------------------------------------------------
// sdssplitargs-style splitting of a shebang line: words separated by spaces,
// "double quoted" (with \n \r \t \b \a \xHH escapes) or 'single quoted'
// words. False for unbalanced quotes or a closing quote not followed by a space.
bool split_args(std::string_view line, std::vector<std::string>& out) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  size_t i = 0;
  while (true) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size()) return true;
    std::string word;
    bool in_dq = false, in_sq = false, done = false;
    while (!done) {
      if (in_dq) {
        if (i >= line.size()) return false;
        char c = line[i];
        if (c == '\\' && i + 3 < line.size() && line[i + 1] == 'x' && hex(line[i + 2]) >= 0 && hex(line[i + 3]) >= 0) {
          word.push_back(static_cast<char>(hex(line[i + 2]) * 16 + hex(line[i + 3])));
          i += 3;
        } else if (c == '\\' && i + 1 < line.size()) {
          ++i;
          switch (line[i]) {
            case 'n': word.push_back('\n'); break;
            case 'r': word.push_back('\r'); break;
            case 't': word.push_back('\t'); break;
            case 'b': word.push_back('\b'); break;
            case 'a': word.push_back('\a'); break;
            default: word.push_back(line[i]); break;
          }
        } else if (c == '"') {
          if (i + 1 < line.size() && !is_space(line[i + 1])) return false;
          done = true;
        } else {
          word.push_back(c);
        }
      } else if (in_sq) {
        if (i >= line.size()) return false;
        char c = line[i];
        if (c == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
          word.push_back('\'');
        } else if (c == '\'') {
          if (i + 1 < line.size() && !is_space(line[i + 1])) return false;
          done = true;
        } else {
          word.push_back(c);
        }
      } else {
        if (i >= line.size()) {
          done = true;
          break;
        }
        char c = line[i];
        if (is_space(c)) {
          done = true;
        } else if (c == '"') {
          in_dq = true;
        } else if (c == '\'') {
          in_sq = true;
        } else {
          word.push_back(c);
        }
      }
      if (i < line.size()) ++i;
    }
    out.push_back(std::move(word));
  }
}

// The first line of `text` up to '\n', looked for as a C string does (a NUL ends the search).
bool first_line(std::string_view text, size_t& len) {
  std::string_view c_prefix = text.substr(0, text.find('\0'));
  size_t nl = c_prefix.find('\n');
  if (nl == std::string_view::npos) return false;
  len = nl;
  return true;
}

// ---------------------------------------------------------------------------
// FUNCTION DUMP / RESTORE payload: per library the FUNCTION2 opcode and the
// code as an RDB string, then the RDB version (2 bytes LE) and a CRC64 (8
// bytes LE) of everything before it, as DUMP payloads are framed.

constexpr uint8_t kOpFunction2 = 245;
constexpr uint8_t kOpFunctionPreGa = 246;
constexpr int kRdbVersion = 10;

void write_rdb_length(std::string& out, uint64_t len) {
  if (len < (1u << 6)) {
    out.push_back(static_cast<char>(len));
  } else if (len < (1u << 14)) {
    out.push_back(static_cast<char>(0x40 | (len >> 8)));
    out.push_back(static_cast<char>(len & 0xff));
  } else if (len <= UINT32_MAX) {
    out.push_back(static_cast<char>(0x80));
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  } else {
    out.push_back(static_cast<char>(0x81));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  }
}

// An RDB string: LZF-compressed (as redis-server writes strings longer than
// 20 bytes when that saves at least 4 bytes), else plain.
void write_rdb_string(std::string& out, std::string_view s) {
  if (s.size() > 20) {
    std::string packed(s.size() - 4, '\0');
    unsigned n = lzf_compress(s.data(), static_cast<unsigned>(s.size()), packed.data(),
                              static_cast<unsigned>(packed.size()));
    if (n > 0) {
      out.push_back(static_cast<char>(0xC3));
      write_rdb_length(out, n);
      write_rdb_length(out, s.size());
      out.append(packed.data(), n);
      return;
    }
  }
  write_rdb_length(out, s.size());
  out.append(s);
}

struct PayloadReader {
  std::string_view in;
  size_t pos = 0;

  bool byte(uint8_t& b) {
    if (pos >= in.size()) return false;
    b = static_cast<uint8_t>(in[pos++]);
    return true;
  }
  // Length, or (encoded = true) the special string encoding in `len`.
  bool length(uint64_t& len, bool& encoded) {
    uint8_t b;
    if (!byte(b)) return false;
    encoded = false;
    switch (b >> 6) {
      case 0:
        len = b & 0x3f;
        return true;
      case 1: {
        uint8_t b2;
        if (!byte(b2)) return false;
        len = (uint64_t{b & 0x3fu} << 8) | b2;
        return true;
      }
      case 2: {
        int n = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
        if (n == 0 || in.size() - pos < static_cast<size_t>(n)) return false;
        len = 0;
        for (int i = 0; i < n; ++i) len = (len << 8) | static_cast<uint8_t>(in[pos++]);
        return true;
      }
      default:
        encoded = true;
        len = b & 0x3f;
        return true;
    }
  }
  bool string(std::string& out) {
    uint64_t len;
    bool encoded;
    if (!length(len, encoded)) return false;
    if (!encoded) {
      if (in.size() - pos < len) return false;
      out.assign(in.data() + pos, len);
      pos += len;
      return true;
    }
    if (len <= 2) {  // int8 / int16 / int32, little endian
      size_t n = size_t{1} << len;
      if (in.size() - pos < n) return false;
      uint64_t u = 0;
      for (size_t i = 0; i < n; ++i) u |= uint64_t{static_cast<uint8_t>(in[pos + i])} << (8 * i);
      pos += n;
      int64_t v = n == 1 ? static_cast<int8_t>(u) : n == 2 ? static_cast<int16_t>(u) : static_cast<int32_t>(u);
      out = std::to_string(v);
      return true;
    }
    if (len != 3) return false;
    uint64_t clen, ulen;
    bool e1, e2;
    if (!length(clen, e1) || e1 || !length(ulen, e2) || e2) return false;
    if (in.size() - pos < clen || ulen > (uint64_t{1} << 32) || (clen > 0 && ulen / clen > 1024)) return false;
    out.assign(ulen, '\0');
    if (ulen > 0 && lzf_decompress(in.data() + pos, static_cast<unsigned>(clen), out.data(),
                                   static_cast<unsigned>(ulen)) != ulen)
      return false;
    pos += clen;
    return true;
  }
};

}  // namespace

// ---- script cache

std::shared_ptr<const CachedScript> cache_find(std::string_view sha) {
  ScriptCache& c = script_cache();
  std::lock_guard lock(c.mutex);
  auto it = c.scripts.find(std::string(sha));
  return it == c.scripts.end() ? nullptr : it->second;
}

void cache_add(const std::string& sha, std::shared_ptr<const CachedScript> script) {
  ScriptCache& c = script_cache();
  std::lock_guard lock(c.mutex);
  c.scripts.emplace(sha, std::move(script));
}

uint64_t cache_generation() { return script_cache().generation.load(std::memory_order_acquire); }

// ---- functions

bool find_function(std::string_view name, std::shared_ptr<const Library>& lib, size_t& index) {
  FunctionRegistry& r = registry();
  std::string key = to_lower(name);
  std::lock_guard lock(r.mutex);
  auto it = r.functions.find(key);
  if (it == r.functions.end()) return false;
  lib = it->second.lib;
  index = it->second.index;
  return true;
}

std::vector<std::shared_ptr<const Library>> library_snapshot(uint64_t& generation) {
  FunctionRegistry& r = registry();
  std::lock_guard lock(r.mutex);
  generation = r.generation.load(std::memory_order_acquire);
  std::vector<std::shared_ptr<const Library>> out;
  out.reserve(r.libraries.size());
  for (const auto& [name, lib] : r.libraries) out.push_back(lib);
  return out;
}

uint64_t functions_generation() { return registry().generation.load(std::memory_order_acquire); }

// ---- running

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

namespace {
// Mirrors running().entries.size(): script_running() is asked by every
// command the dispatcher runs, without the mutex.
std::atomic<int64_t> running_count{0};
}  // namespace

void register_running(RunningEntry* entry) {
  RunningRegistry& r = running();
  std::lock_guard lock(r.mutex);
  r.entries.push_back(entry);
  running_count.store(static_cast<int64_t>(r.entries.size()), std::memory_order_release);
}

void unregister_running(RunningEntry* entry) {
  RunningRegistry& r = running();
  std::lock_guard lock(r.mutex);
  r.entries.erase(std::remove(r.entries.begin(), r.entries.end(), entry), r.entries.end());
  running_count.store(static_cast<int64_t>(r.entries.size()), std::memory_order_release);
}

// ---- rand48 (redis-server's math.random): X(n+1) = (a X(n) + c) mod 2^48,
// the result is the top 31 bits; the initial state is rand48's default.
namespace {
std::atomic<uint64_t> g_rand48_state{0x1234ABCD330EULL};
constexpr uint64_t kRandA = 0x5DEECE66DULL;
constexpr uint64_t kRandC = 0xB;
constexpr uint64_t kRandMask = (uint64_t{1} << 48) - 1;
}  // namespace

double random_fraction() {
  uint64_t x = g_rand48_state.load(std::memory_order_relaxed), next;
  do {
    next = (kRandA * x + kRandC) & kRandMask;
  } while (!g_rand48_state.compare_exchange_weak(x, next, std::memory_order_relaxed));
  const int32_t r = static_cast<int32_t>(next >> 17);
  constexpr int32_t kMax = INT32_MAX;
  return static_cast<double>(r % kMax) / static_cast<double>(kMax);
}

void random_seed(int32_t seed) {
  g_rand48_state.store((uint64_t{static_cast<uint32_t>(seed)} << 16) | 0x330E, std::memory_order_relaxed);
}

// ---- shebangs

bool parse_flag(std::string_view name, uint32_t& flag) {
  static constexpr std::pair<std::string_view, uint32_t> kFlags[] = {
      {"no-writes", kFlagNoWrites},   {"allow-oom", kFlagAllowOom},
      {"allow-stale", kFlagAllowStale}, {"no-cluster", kFlagNoCluster},
      {"allow-cross-slot-keys", kFlagAllowCrossSlotKeys},
  };
  for (const auto& [n, f] : kFlags) {
    if (n == name) {
      flag = f;
      return true;
    }
  }
  return false;
}

bool parse_eval_shebang(std::string_view body, CachedScript& out, std::string& error) {
  out.flags = 0;
  out.has_shebang = false;
  out.shebang_len = 0;
  if (body.substr(0, 2) != "#!") return true;
  size_t len;
  if (!first_line(body, len)) {
    error = "ERR Invalid script shebang";
    return false;
  }
  std::vector<std::string> parts;
  if (!split_args(body.substr(0, len), parts) || parts.empty()) {
    error = "ERR Invalid engine in script shebang";
    return false;
  }
  if (std::strcmp(parts[0].c_str(), "#!lua") != 0) {
    error = "ERR Unexpected engine in script shebang: " + std::string(parts[0].c_str());
    return false;
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view part(parts[i].c_str());
    if (part.substr(0, 6) != "flags=") {
      error = "ERR Unknown lua shebang option: " + std::string(part);
      return false;
    }
    std::string_view list = part.substr(6);
    if (list.empty()) continue;
    size_t start = 0;
    while (true) {
      size_t comma = list.find(',', start);
      std::string_view name = list.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                                 : comma - start);
      uint32_t f;
      if (!parse_flag(name, f)) {
        error = "ERR Unexpected flag in script shebang: " + std::string(name);
        return false;
      }
      out.flags |= f;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  out.has_shebang = true;
  out.shebang_len = len;
  return true;
}

bool valid_library_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

bool parse_library_metadata(std::string_view code, std::string& engine, std::string& name, size_t& code_offset,
                            std::string& error) {
  if (code.substr(0, 2) != "#!") {
    error = "ERR Missing library metadata";
    return false;
  }
  size_t len;
  if (!first_line(code, len)) {
    error = "ERR Invalid library metadata";
    return false;
  }
  std::vector<std::string> parts;
  if (!split_args(code.substr(0, len), parts) || parts.empty()) {
    error = "ERR Invalid library metadata";
    return false;
  }
  engine = std::string(std::string_view(parts[0].c_str()).substr(2));
  bool have_name = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view part(parts[i].c_str());
    if (part.size() >= 5 && to_lower(part.substr(0, 5)) == "name=") {
      if (have_name) {
        error = "ERR Invalid metadata value, name argument was given multiple times";
        return false;
      }
      name = std::string(part.substr(5));
      have_name = true;
      continue;
    }
    error = "ERR Invalid metadata value given: " + std::string(part);
    return false;
  }
  if (!have_name) {
    error = "ERR Library name was not given";
    return false;
  }
  code_offset = len;
  return true;
}

}  // namespace detail

using namespace detail;

std::vector<std::string_view> flag_names(uint32_t flags) {
  std::vector<std::string_view> out;
  if (flags & kFlagNoWrites) out.push_back("no-writes");
  if (flags & kFlagAllowOom) out.push_back("allow-oom");
  if (flags & kFlagAllowStale) out.push_back("allow-stale");
  if (flags & kFlagNoCluster) out.push_back("no-cluster");
  if (flags & kFlagAllowCrossSlotKeys) out.push_back("allow-cross-slot-keys");
  return out;
}

// ---------------------------------------------------------------------------
// SCRIPT

bool script_exists(std::string_view sha) {
  if (sha.size() != 40) return false;
  return cache_find(to_lower(sha)) != nullptr;
}

void script_flush() {
  ScriptCache& c = script_cache();
  std::unordered_map<std::string, std::shared_ptr<const CachedScript>> old;
  {
    std::lock_guard lock(c.mutex);
    old.swap(c.scripts);
    c.generation.fetch_add(1, std::memory_order_acq_rel);
  }
}

size_t cached_script_count() {
  ScriptCache& c = script_cache();
  std::lock_guard lock(c.mutex);
  return c.scripts.size();
}

// ---------------------------------------------------------------------------
// FUNCTION

namespace {

// Parses and validates one library (no registry change). Errors as FUNCTION LOAD reports them.
bool prepare_library(std::string_view code, std::shared_ptr<Library>& out, std::string& error) {
  std::string engine, name;
  size_t offset;
  if (!parse_library_metadata(code, engine, name, offset, error)) return false;
  if (!valid_library_name(name)) {
    error =
        "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character "
        "long";
    return false;
  }
  if (to_lower(engine) != "lua") {
    error = "ERR Engine '" + engine + "' not found";
    return false;
  }
  auto lib = std::make_shared<Library>();
  lib->name = std::move(name);
  lib->code = std::string(code);
  out = std::move(lib);
  return true;
}

bool compile_prepared(Library& lib, std::string& error) {
  std::string engine, name;
  size_t offset;
  std::string meta_error;
  parse_library_metadata(lib.code, engine, name, offset, meta_error);
  if (!compile_library(lib.code, offset, lib.functions, error)) return false;
  if (lib.functions.empty()) {
    error = "ERR No functions registered";
    return false;
  }
  return true;
}

}  // namespace

bool function_load(std::string_view code, bool replace, std::string& name_or_error) {
  std::shared_ptr<Library> lib;
  if (!prepare_library(code, lib, name_or_error)) return false;
  FunctionRegistry& r = registry();
  auto exists_error = [&] { return "ERR Library '" + lib->name + "' already exists"; };
  {
    std::lock_guard lock(r.mutex);
    if (!replace && r.libraries.count(lib->name)) {
      name_or_error = exists_error();
      return false;
    }
  }
  if (!compile_prepared(*lib, name_or_error)) return false;
  std::lock_guard lock(r.mutex);
  if (!replace && r.libraries.count(lib->name)) {
    name_or_error = exists_error();
    return false;
  }
  for (const auto& f : lib->functions) {
    auto it = r.functions.find(to_lower(f.name));
    if (it != r.functions.end() && it->second.lib->name != lib->name) {
      name_or_error = "ERR Function " + f.name + " already exists";
      return false;
    }
  }
  r.unlink(lib->name);
  r.link(lib);
  r.bump();
  name_or_error = lib->name;
  return true;
}

bool function_delete(std::string_view library) {
  FunctionRegistry& r = registry();
  std::lock_guard lock(r.mutex);
  std::string name(library);
  if (!r.libraries.count(name)) return false;
  r.unlink(name);
  r.bump();
  return true;
}

void function_flush() {
  FunctionRegistry& r = registry();
  std::lock_guard lock(r.mutex);
  r.libraries.clear();
  r.functions.clear();
  r.bump();
}

std::vector<LibraryInfo> function_list() {
  uint64_t gen;
  std::vector<LibraryInfo> out;
  for (const auto& lib : library_snapshot(gen)) out.push_back(LibraryInfo{lib->name, lib->code, lib->functions});
  return out;
}

size_t function_library_count() {
  FunctionRegistry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.libraries.size();
}

size_t function_count() {
  FunctionRegistry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.functions.size();
}

std::vector<std::string> function_library_codes() {
  uint64_t gen;
  std::vector<std::string> out;
  for (const auto& lib : library_snapshot(gen)) out.push_back(lib->code);
  return out;
}

std::string function_dump() {
  uint64_t gen;
  std::string out;
  for (const auto& lib : library_snapshot(gen)) {
    out.push_back(static_cast<char>(kOpFunction2));
    write_rdb_string(out, lib->code);
  }
  out.push_back(static_cast<char>(kRdbVersion & 0xff));
  out.push_back(static_cast<char>((kRdbVersion >> 8) & 0xff));
  uint64_t crc = persistence::crc64(0, out.data(), out.size());
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

bool function_restore(std::string_view payload, RestorePolicy policy, std::string& error) {
  // Footer: RDB version (2 bytes LE), CRC64 (8 bytes LE).
  if (payload.size() < 10) {
    error = "ERR DUMP payload version or checksum are wrong";
    return false;
  }
  const size_t body_len = payload.size() - 10;
  int version = static_cast<uint8_t>(payload[body_len]) | (static_cast<uint8_t>(payload[body_len + 1]) << 8);
  uint64_t crc = 0;
  for (int i = 0; i < 8; ++i) crc |= uint64_t{static_cast<uint8_t>(payload[body_len + 2 + i])} << (8 * i);
  if (version > kRdbVersion || persistence::crc64(0, payload.data(), payload.size() - 8) != crc) {
    error = "ERR DUMP payload version or checksum are wrong";
    return false;
  }
  // Every library of the payload, validated before anything changes.
  std::vector<std::shared_ptr<Library>> libs;
  PayloadReader in{payload.substr(0, body_len)};
  while (in.pos < in.in.size()) {
    uint8_t type;
    in.byte(type);
    if (type != kOpFunction2 && type != kOpFunctionPreGa) {
      error = "ERR given type is not a function";
      return false;
    }
    std::string code;
    if (type == kOpFunctionPreGa) {
      // Redis 7.0 release candidates: name, engine, optional description, then
      // the code without its shebang, which is rebuilt.
      std::string name, engine, description;
      uint64_t has_description;
      bool encoded;
      if (!in.string(name)) {
        error = "ERR Failed loading library name";
        return false;
      }
      if (!in.string(engine)) {
        error = "ERR Failed loading engine name";
        return false;
      }
      if (!in.length(has_description, encoded) || encoded) {
        error = "ERR Failed loading library description indicator";
        return false;
      }
      if (has_description && !in.string(description)) {
        error = "ERR Failed loading library description";
        return false;
      }
      if (!in.string(code)) {
        error = "ERR Failed loading library payload";
        return false;
      }
      code = "#!" + engine + " name=" + name + "\n" + code;
    } else if (!in.string(code)) {
      error = "ERR Failed loading library payload";
      return false;
    }
    std::shared_ptr<Library> lib;
    if (!prepare_library(code, lib, error) || !compile_prepared(*lib, error)) return false;
    for (const auto& other : libs) {
      if (other->name == lib->name) {
        error = "ERR Library '" + lib->name + "' already exists";
        return false;
      }
      for (const auto& f : lib->functions)
        for (const auto& g : other->functions)
          if (to_lower(f.name) == to_lower(g.name)) {
            error = "ERR Function " + f.name + " already exists";
            return false;
          }
    }
    libs.push_back(std::move(lib));
  }
  FunctionRegistry& r = registry();
  std::lock_guard lock(r.mutex);
  if (policy == RestorePolicy::kFlush) {
    r.libraries.clear();
    r.functions.clear();
  } else {
    for (const auto& lib : libs) {
      if (r.libraries.count(lib->name) && policy == RestorePolicy::kAppend) {
        error = "ERR Library " + lib->name + " already exists";
        return false;
      }
    }
    for (const auto& lib : libs) {
      for (const auto& f : lib->functions) {
        auto it = r.functions.find(to_lower(f.name));
        if (it == r.functions.end()) continue;
        // A library the restore replaces does not count.
        bool replaced = policy == RestorePolicy::kReplace &&
                        std::any_of(libs.begin(), libs.end(),
                                    [&](const auto& l) { return l->name == it->second.lib->name; });
        if (!replaced) {
          error = "ERR Function " + f.name + " already exists";
          return false;
        }
      }
    }
    for (const auto& lib : libs) r.unlink(lib->name);
  }
  for (const auto& lib : libs) r.link(lib);
  r.bump();
  return true;
}

// ---------------------------------------------------------------------------
// Running scripts

bool script_running() { return running_count.load(std::memory_order_acquire) > 0; }

int64_t running_script_elapsed_ms() {
  RunningRegistry& r = running();
  std::lock_guard lock(r.mutex);
  if (r.entries.empty()) return 0;
  int64_t oldest = r.entries.front()->start_ms;
  for (const RunningEntry* e : r.entries) oldest = std::min(oldest, e->start_ms);
  return steady_ms() - oldest;
}

namespace {
constexpr std::string_view kBusyEval =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
constexpr std::string_view kBusyFunction =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
}  // namespace

std::string_view busy_error() {
  RunningRegistry& r = running();
  std::lock_guard lock(r.mutex);
  if (!r.entries.empty() && r.entries.front()->is_function) return kBusyFunction;
  return kBusyEval;
}

std::string kill_running_script(bool function_kill) {
  RunningRegistry& r = running();
  std::lock_guard lock(r.mutex);
  if (r.entries.empty()) return "NOTBUSY No scripts in execution right now.";
  RunningEntry* e = r.entries.front();
  if (e->wrote.load(std::memory_order_relaxed))
    return "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait "
           "the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
  if (!function_kill && e->is_function) return std::string(kBusyFunction);
  if (function_kill && !e->is_function) return std::string(kBusyEval);
  e->kill.store(true, std::memory_order_relaxed);
  return {};
}

bool running_function(std::vector<RunningFunction>& out) {
  RunningRegistry& r = running();
  std::lock_guard lock(r.mutex);
  out.clear();
  if (r.entries.empty()) return true;
  const RunningEntry* e = r.entries.front();
  if (!e->is_function) return false;
  RunningFunction f;
  f.name = std::string(e->name);
  if (e->args)
    for (size_t i = 0; i < e->args->size(); ++i) f.command.emplace_back((*e->args)[i]);
  f.duration_ms = steady_ms() - e->start_ms;
  out.push_back(std::move(f));
  return true;
}

}  // namespace distcache::server::scripting
