#include "server/aof.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "persistence/aof_reader.h"
#include "persistence/rdb_reader.h"
#include "server/cluster/slot.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection_context.h"
#include "server/disk_errors.h"
#include "server/log.h"
#include "server/scripting/scripting.h"
#include "server/routing.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/snapshot.h"
#include "storage/geohash.h"
#include "storage/hash_value.h"
#include "storage/list.h"
#include "storage/numbers.h"
#include "storage/set_value.h"
#include "storage/stream_value.h"
#include "storage/zset_value.h"

namespace distcache::server {

namespace {

std::atomic<Aof*> g_aof{nullptr};
// True while commands are being logged (a file is open for appending).
std::atomic<bool> g_feeding{false};

struct Frame {
  AofEffects effects;
};
// The commands running on this thread (a script's commands nest in it).
thread_local std::vector<std::unique_ptr<Frame>> t_frames;
thread_local size_t t_depth = 0;
thread_local AofBatch* t_batch = nullptr;
thread_local bool t_replies_synced = false;  // running the replies an fsync released

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string i64(int64_t v) { return std::to_string(v); }

void append_bulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out.append(s.data(), s.size());
  out += "\r\n";
}

void append_array_header(std::string& out, size_t n) {
  out += '*';
  out += std::to_string(n);
  out += "\r\n";
}

const std::string& multi_bytes() {
  static const std::string s = "*1\r\n$5\r\nMULTI\r\n";
  return s;
}
const std::string& exec_bytes() {
  static const std::string s = "*1\r\n$4\r\nEXEC\r\n";
  return s;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

void aof_append_select(std::string& out, int db) {
  const std::string n = std::to_string(db);
  out += "*2\r\n$6\r\nSELECT\r\n";
  append_bulk(out, n);
}

// ---------------------------------------------------------------------------
// AofEffects

void AofEffects::add(int db, const protocol::ArgList& args) {
  commands.emplace_back(db, bytes.size());
  append_array_header(bytes, args.size());
  for (size_t i = 0; i < args.size(); ++i) append_bulk(bytes, args[i]);
}

void AofEffects::add(int db, std::initializer_list<std::string_view> args) {
  commands.emplace_back(db, bytes.size());
  append_array_header(bytes, args.size());
  for (auto a : args) append_bulk(bytes, a);
}

void AofEffects::add(int db, const std::vector<std::string>& args) {
  commands.emplace_back(db, bytes.size());
  append_array_header(bytes, args.size());
  for (const auto& a : args) append_bulk(bytes, a);
}

void AofEffects::append(const AofEffects& other) {
  const size_t base = bytes.size();
  bytes += other.bytes;
  for (const auto& [db, off] : other.commands) commands.emplace_back(db, base + off);
}

// ---------------------------------------------------------------------------
// A thread's pending commands, ready to be written (SELECTs in place; the
// first SELECT is decided when written).
struct Aof::Stream {
  std::string bytes;
  int first_db = -1;
  int last_db = -1;
  size_t commands = 0;

  void append(int db, std::string_view command) {
    if (commands == 0) {
      first_db = db;
    } else if (db != last_db) {
      aof_append_select(bytes, db);
    }
    bytes.append(command.data(), command.size());
    last_db = db;
    ++commands;
  }
  // One unit: MULTI ... EXEC around more than one command.
  void append_unit(const AofEffects& e) {
    if (e.empty()) return;
    if (e.size() == 1) {
      append(e.commands[0].first, e.command(0));
      return;
    }
    append(e.commands[0].first, multi_bytes());
    for (size_t i = 0; i < e.size(); ++i) append(e.commands[i].first, e.command(i));
    append(last_db, exec_bytes());
  }
  void clear() {
    if (bytes.capacity() > (4u << 20)) std::string().swap(bytes);
    bytes.clear();
    commands = 0;
    first_db = last_db = -1;
  }
  // appendfsync always: replies of this thread waiting for the next fsync.
  std::vector<std::function<void()>> waiting;
  bool sync_scheduled = false;
  char pad[64] = {};  // keeps threads' streams off each other's cache lines
};

// ---------------------------------------------------------------------------
// Replies, parsed just enough for the propagation rules (RESP2 and RESP3).
namespace {

struct RVal {
  char type = 0;
  std::string_view str;  // simple / bulk / error / double text
  int64_t num = 0;       // integers
  bool null = false;
  std::vector<RVal> items;  // arrays, sets, pushes; maps as key, value, key, value...

  bool is_error() const { return type == '-' || type == '!'; }
  bool is_array() const { return !null && (type == '*' || type == '%' || type == '~' || type == '>'); }
};

bool read_line(std::string_view& in, std::string_view& line) {
  size_t p = in.find("\r\n");
  if (p == std::string_view::npos) return false;
  line = in.substr(0, p);
  in.remove_prefix(p + 2);
  return true;
}

bool parse_reply(std::string_view& in, RVal& out, int depth = 0) {
  if (in.empty() || depth > 16) return false;
  out.type = in[0];
  in.remove_prefix(1);
  std::string_view line;
  if (!read_line(in, line)) return false;
  switch (out.type) {
    case '+':
    case '-':
    case ',':
    case '(':
      out.str = line;
      return true;
    case ':':
      return storage::parse_int64(line, out.num) || (out.num = std::strtoll(std::string(line).c_str(), nullptr, 10), true);
    case '#':
      out.num = line == "t" ? 1 : 0;
      return true;
    case '_':
      out.null = true;
      return true;
    case '$':
    case '=':
    case '!': {
      int64_t n = std::strtoll(std::string(line).c_str(), nullptr, 10);
      if (n < 0) {
        out.null = true;
        return true;
      }
      if (in.size() < static_cast<size_t>(n) + 2) return false;
      out.str = in.substr(0, static_cast<size_t>(n));
      if (out.type == '=' && out.str.size() >= 4) out.str.remove_prefix(4);  // "txt:"
      in.remove_prefix(static_cast<size_t>(n) + 2);
      return true;
    }
    case '*':
    case '~':
    case '>':
    case '%': {
      int64_t n = std::strtoll(std::string(line).c_str(), nullptr, 10);
      if (n < 0) {
        out.null = true;
        return true;
      }
      if (out.type == '%') n *= 2;
      out.items.resize(static_cast<size_t>(n));
      for (auto& item : out.items)
        if (!parse_reply(in, item, depth + 1)) return false;
      return true;
    }
    case '|': {  // an attribute, then the real reply
      int64_t n = std::strtoll(std::string(line).c_str(), nullptr, 10) * 2;
      for (int64_t i = 0; i < n; ++i) {
        RVal skip;
        if (!parse_reply(in, skip, depth + 1)) return false;
      }
      return parse_reply(in, out, depth);
    }
    default:
      return false;
  }
}

bool parse_stream_id(std::string_view s, storage::StreamID& id) {
  size_t dash = s.find('-');
  std::string ms(s.substr(0, dash));
  char* end = nullptr;
  errno = 0;
  id.ms = std::strtoull(ms.c_str(), &end, 10);
  if (ms.empty() || *end || errno) return false;
  id.seq = 0;
  if (dash != std::string_view::npos) {
    std::string seq(s.substr(dash + 1));
    id.seq = std::strtoull(seq.c_str(), &end, 10);
    if (seq.empty() || *end || errno) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Propagation: the commands a keyed command is logged as (Redis 7.0's rules).

struct Tx {
  const CommandSpec& spec;
  const protocol::ArgList& args;
  std::string_view reply;  // this command's reply bytes (empty when unknown)
  bool have_reply;
  const CommandContext* ctx;
  int db;
  int64_t now;
  AofEffects& out;
  int64_t before;  // state noted before the command (AofCommand), -1 if none

  RVal parsed;
  bool parsed_ok = false;
  bool parse_done = false;

  const RVal& r() {
    if (!parse_done) {
      parse_done = true;
      std::string_view in = reply;
      parsed_ok = parse_reply(in, parsed);
    }
    return parsed;
  }
  bool reply_null() {
    if (!have_reply) return false;
    const RVal& v = r();
    return parsed_ok && v.null;
  }
  bool reply_empty_or_null() {
    if (!have_reply) return false;
    const RVal& v = r();
    return parsed_ok && (v.null || (v.is_array() && v.items.empty()));
  }
  bool reply_int(int64_t& n) {
    if (!have_reply) return false;
    const RVal& v = r();
    if (!parsed_ok || v.type != ':') return false;
    n = v.num;
    return true;
  }
  bool reply_zero() {
    int64_t n;
    return reply_int(n) && n == 0;
  }
  storage::Db* dbp(int which = -1) {
    if (!ctx) return nullptr;
    int d = which < 0 ? db : which;
    if (d < 0 || static_cast<size_t>(d) >= ctx->dbs.size()) return nullptr;
    return &ctx->dbs.db(static_cast<size_t>(d));
  }
  const storage::Value* value(std::string_view key) {
    storage::Db* d = dbp();
    return d ? d->peek(key, now) : nullptr;
  }
  void as_is() { out.add(db, args); }
  std::vector<std::string> copy_args() {
    std::vector<std::string> v;
    v.reserve(args.size() + 1);
    for (size_t i = 0; i < args.size(); ++i) v.emplace_back(args[i]);
    return v;
  }
};

using Rule = void (*)(Tx&);

// A HyperLogLog ("HYLL" header) whose cached cardinality is marked invalid.
bool hll_cache_invalid(const storage::Value* v) {
  if (!v || !v->is_string()) return false;
  std::string_view s = v->str();
  return s.size() >= 16 && s.substr(0, 4) == "HYLL" && (static_cast<unsigned char>(s[15]) & 0x80) != 0;
}

void rule_zero_is_noop(Tx& t) {
  if (t.reply_zero()) return;
  t.as_is();
}

void rule_nil_is_noop(Tx& t) {
  if (t.reply_empty_or_null()) return;
  t.as_is();
}

void rule_nothing(Tx&) {}

// SET: with EX/PX/EXAT/PXAT "SET key value PXAT <ms>" (NX/XX/GET dropped);
// else without its GET arguments.
void rule_set(Tx& t) {
  bool nx = false, xx = false, get = false, expire = false;
  int64_t ms = 0;
  for (size_t i = 3; i < t.args.size(); ++i) {
    std::string_view a = t.args[i];
    if (iequals(a, "nx")) {
      nx = true;
    } else if (iequals(a, "xx")) {
      xx = true;
    } else if (iequals(a, "get")) {
      get = true;
    } else if ((iequals(a, "ex") || iequals(a, "px") || iequals(a, "exat") || iequals(a, "pxat")) &&
               i + 1 < t.args.size()) {
      int64_t n = 0;
      if (!storage::parse_int64(t.args[i + 1], n)) return;
      expire = true;
      if (iequals(a, "ex")) ms = t.now + n * 1000;
      else if (iequals(a, "px")) ms = t.now + n;
      else if (iequals(a, "exat")) ms = n * 1000;
      else ms = n;
      ++i;
    }
  }
  bool done;
  if (!t.have_reply) {
    done = true;
  } else if (!get) {
    done = !t.reply_null();
  } else {
    // GET: the old value comes back; whether the write happened follows from NX/XX.
    done = nx ? t.reply_null() : xx ? !t.reply_null() : true;
  }
  if (!done) return;
  if (expire) {
    t.out.add(t.db, {"SET", t.args[1], t.args[2], "PXAT", i64(ms)});
    return;
  }
  if (!get) {
    t.as_is();
    return;
  }
  std::vector<std::string> v;
  for (size_t i = 0; i < t.args.size(); ++i)
    if (i < 3 || !iequals(t.args[i], "get")) v.emplace_back(t.args[i]);
  t.out.add(t.db, v);
}

void rule_setex(Tx& t) {  // SETEX key seconds value / PSETEX key ms value
  int64_t n = 0;
  if (!storage::parse_int64(t.args[2], n)) return;
  const int64_t ms = iequals(t.spec.name, "setex") ? t.now + n * 1000 : t.now + n;
  t.out.add(t.db, {"SET", t.args[1], t.args[3], "PXAT", i64(ms)});
}

void rule_getset(Tx& t) { t.out.add(t.db, {"SET", t.args[1], t.args[2]}); }

void rule_getdel(Tx& t) {
  if (t.reply_null()) return;
  t.out.add(t.db, {"DEL", t.args[1]});
}

void rule_getex(Tx& t) {
  if (t.reply_null()) return;
  bool persist = false, expire = false;
  int64_t ms = 0;
  for (size_t i = 2; i < t.args.size(); ++i) {
    std::string_view a = t.args[i];
    if (iequals(a, "persist")) {
      persist = true;
    } else if (i + 1 < t.args.size() &&
               (iequals(a, "ex") || iequals(a, "px") || iequals(a, "exat") || iequals(a, "pxat"))) {
      int64_t n = 0;
      if (!storage::parse_int64(t.args[i + 1], n)) return;
      expire = true;
      if (iequals(a, "ex")) ms = t.now + n * 1000;
      else if (iequals(a, "px")) ms = t.now + n;
      else if (iequals(a, "exat")) ms = n * 1000;
      else ms = n;
      ++i;
    }
  }
  if (persist) {
    t.out.add(t.db, {"PERSIST", t.args[1]});
  } else if (expire) {
    if (t.ctx && t.value(t.args[1]) == nullptr)
      t.out.add(t.db, {"DEL", t.args[1]});
    else
      t.out.add(t.db, {"PEXPIREAT", t.args[1], i64(ms)});
  }
}

// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT]
void rule_expire(Tx& t) {
  if (t.have_reply && t.reply_zero()) return;
  storage::Db* d = t.dbp();
  if (d && d->peek(t.args[1], t.now) == nullptr) {  // the time was in the past: deleted
    t.out.add(t.db, {"DEL", t.args[1]});
    return;
  }
  if (iequals(t.spec.name, "pexpireat") || !d) {
    t.as_is();
    return;
  }
  std::vector<std::string> v = t.copy_args();
  v[0] = "PEXPIREAT";
  v[2] = i64(d->expire_at(t.args[1]));
  t.out.add(t.db, v);
}

void rule_incrbyfloat(Tx& t) {
  std::string value;
  if (t.have_reply && t.r().type == '$') {
    value = std::string(t.r().str);
  } else if (const storage::Value* v = t.value(t.args[1]); v && v->is_string()) {
    value = std::string(v->str());
  } else {
    t.as_is();
    return;
  }
  t.out.add(t.db, {"SET", t.args[1], value, "KEEPTTL"});
}

void rule_hincrbyfloat(Tx& t) {
  if (!t.have_reply || t.r().type != '$') {
    t.as_is();
    return;
  }
  t.out.add(t.db, {"HSET", t.args[1], t.args[2], t.r().str});
}

// SPOP key: SREM key member. SPOP key count: DEL when the set is gone, else one SREM per member.
void rule_spop(Tx& t) {
  if (!t.have_reply) {
    t.as_is();
    return;
  }
  const RVal& v = t.r();
  if (!t.parsed_ok || v.null) return;
  if (t.args.size() == 2) {
    t.out.add(t.db, {"SREM", t.args[1], v.str});
    return;
  }
  if (!v.is_array() || v.items.empty()) return;
  if (t.ctx && t.value(t.args[1]) == nullptr) {
    t.out.add(t.db, {"DEL", t.args[1]});
    return;
  }
  for (const auto& m : v.items) t.out.add(t.db, {"SREM", t.args[1], m.str});
}

// BLPOP / BRPOP keys... timeout: LPOP / RPOP of the key served.
void rule_bpop(Tx& t) {
  if (!t.have_reply) return;
  const RVal& v = t.r();
  if (!t.parsed_ok || !v.is_array() || v.items.empty()) return;
  t.out.add(t.db, {iequals(t.spec.name, "blpop") ? "LPOP" : "RPOP", v.items[0].str});
}

void rule_blmove(Tx& t) {  // BLMOVE src dst from to timeout
  if (t.reply_null() || !t.have_reply) return;
  t.out.add(t.db, {"LMOVE", t.args[1], t.args[2], t.args[3], t.args[4]});
}

void rule_brpoplpush(Tx& t) {
  if (t.reply_null() || !t.have_reply) return;
  t.out.add(t.db, {"RPOPLPUSH", t.args[1], t.args[2]});
}

// LMPOP / BLMPOP / ZMPOP / BZMPOP: [key, [elements]] -> LPOP key n, ZPOPMIN key n, ...
void rule_mpop(Tx& t) {
  if (!t.have_reply) return;
  const RVal& v = t.r();
  if (!t.parsed_ok || !v.is_array() || v.items.size() != 2 || !v.items[1].is_array()) return;
  const bool blocking = t.spec.name[0] == 'b';
  const size_t numkeys_at = blocking ? 2 : 1;
  int64_t numkeys = 0;
  if (!storage::parse_int64(t.args[numkeys_at], numkeys) || numkeys < 1) return;
  const size_t where_at = numkeys_at + 1 + static_cast<size_t>(numkeys);
  if (where_at >= t.args.size()) return;
  std::string_view where = t.args[where_at];
  const bool list = t.spec.name.find("lmpop") != std::string_view::npos;
  const char* cmd = list ? (iequals(where, "left") ? "LPOP" : "RPOP") : (iequals(where, "min") ? "ZPOPMIN" : "ZPOPMAX");
  t.out.add(t.db, {cmd, v.items[0].str, i64(static_cast<int64_t>(v.items[1].items.size()))});
}

void rule_bzpop(Tx& t) {  // BZPOPMIN / BZPOPMAX keys... timeout
  if (!t.have_reply) return;
  const RVal& v = t.r();
  if (!t.parsed_ok || !v.is_array() || v.items.empty()) return;
  t.out.add(t.db, {iequals(t.spec.name, "bzpopmin") ? "ZPOPMIN" : "ZPOPMAX", v.items[0].str});
}

// GEOADD key [NX|XX] [CH] lon lat member ... -> zadd key [options] score member ...
void rule_geoadd(Tx& t) {
  size_t first = 2;
  bool nx = false, ch = false;
  while (first < t.args.size()) {
    std::string_view a = t.args[first];
    if (iequals(a, "nx")) nx = true;
    else if (iequals(a, "ch")) ch = true;
    else if (!iequals(a, "xx")) break;
    ++first;
  }
  if (nx && !ch && t.reply_zero()) return;
  std::vector<std::string> v;
  v.emplace_back("zadd");
  for (size_t i = 1; i < first; ++i) v.emplace_back(t.args[i]);
  for (size_t i = first; i + 2 < t.args.size(); i += 3) {
    double lon = 0, lat = 0;
    if (!storage::parse_double(t.args[i], lon) || !storage::parse_double(t.args[i + 1], lat)) {
      t.as_is();
      return;
    }
    v.emplace_back(i64(static_cast<int64_t>(storage::geo::score_of(lon, lat))));
    v.emplace_back(t.args[i + 2]);
  }
  t.out.add(t.db, v);
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]
void rule_restore(Tx& t) {
  int64_t ttl = 0;
  if (!storage::parse_int64(t.args[2], ttl) || ttl == 0) {
    t.as_is();
    return;
  }
  bool absttl = false;
  for (size_t i = 4; i < t.args.size(); ++i)
    if (iequals(t.args[i], "absttl")) absttl = true;
  if (t.ctx && t.value(t.args[1]) == nullptr) {  // already expired: not created
    t.out.add(t.db, {"DEL", t.args[1]});
    return;
  }
  if (absttl) {
    t.as_is();
    return;
  }
  std::vector<std::string> v = t.copy_args();
  v[2] = i64(t.now + ttl);
  v.emplace_back("ABSTTL");
  t.out.add(t.db, v);
}

// The first entry of a stream, tombstones included (Redis's streamGetEdgeID
// without skipping tombstones); the maximum ID when there is none.
std::string stream_first_raw_id(const storage::StreamValue& s) {
  for (size_t b = 0; b < s.block_count(); ++b) {
    bool found = false;
    storage::StreamID first;
    s.for_each_block_entry(b, [&](const storage::StreamValue::RawEntry& e) {
      if (!found) {
        found = true;
        first = e.id;
      }
    });
    if (found) return first.to_string();
  }
  return storage::StreamID::max().to_string();
}

// XADD / XTRIM: an approximate trim ("~") becomes exact ("=") with the
// threshold the trim reached; LIMIT is dropped with it (it is only valid with
// "~": Redis 7.0 keeps it, and then cannot replay its own command). XADD's
// ID becomes the one created.
void rule_xadd_xtrim(Tx& t) {
  const bool xadd = iequals(t.spec.name, "xadd");
  if (xadd ? t.reply_null() : t.reply_zero()) return;
  size_t i = 2;
  bool maxlen = false;
  size_t approx_at = 0, threshold_at = 0, limit_at = 0;
  while (i < t.args.size()) {
    std::string_view a = t.args[i];
    if (xadd && iequals(a, "nomkstream")) {
      ++i;
    } else if ((iequals(a, "maxlen") || iequals(a, "minid")) && i + 1 < t.args.size()) {
      maxlen = iequals(a, "maxlen");
      ++i;
      if (t.args[i] == "~" || t.args[i] == "=") {
        if (t.args[i] == "~") approx_at = i;
        ++i;
      }
      threshold_at = i++;
    } else if (iequals(a, "limit") && i + 1 < t.args.size()) {
      limit_at = i;
      i += 2;
    } else {
      break;
    }
  }
  const size_t id_at = i;
  std::vector<std::string> v = t.copy_args();
  bool changed = false;
  if (xadd && id_at < v.size() && v[id_at].find('*') != std::string::npos && t.have_reply && t.r().type == '$') {
    v[id_at] = std::string(t.r().str);
    changed = true;
  }
  if (approx_at && t.ctx) {
    const storage::Value* val = t.value(t.args[1]);
    if (val && val->type() == storage::ValueType::kStream) {
      const auto& s = val->as<storage::StreamValue>();
      v[approx_at] = "=";
      v[threshold_at] = maxlen ? i64(static_cast<int64_t>(s.length())) : stream_first_raw_id(s);
      if (limit_at) v.erase(v.begin() + static_cast<ptrdiff_t>(limit_at), v.begin() + static_cast<ptrdiff_t>(limit_at) + 2);
      changed = true;
    }
  }
  if (!changed) {
    t.as_is();
    return;
  }
  t.out.add(t.db, v);
}

const storage::StreamGroup* find_group(const storage::Value* v, std::string_view name) {
  if (!v || v->type() != storage::ValueType::kStream) return nullptr;
  const auto* groups = v->as<storage::StreamValue>().groups();
  if (!groups) return nullptr;
  auto it = groups->find(std::string(name));
  return it == groups->end() ? nullptr : &it->second;
}

// XCLAIM key group consumer 0 id TIME <ms> RETRYCOUNT <n> FORCE JUSTID LASTID <id>
void add_xclaim(Tx& t, std::string_view key, std::string_view group, std::string_view consumer,
                const std::string& id, int64_t time, uint64_t count, const std::string& last_id) {
  t.out.add(t.db, {"XCLAIM", key, group, consumer, "0", id, "TIME", i64(time), "RETRYCOUNT",
                   i64(static_cast<int64_t>(count)), "FORCE", "JUSTID", "LASTID", last_id});
}

bool claim_from_pel(Tx& t, const storage::StreamGroup& g, std::string_view key, std::string_view group,
                    std::string_view consumer, std::string_view id_text, const std::string& last_id) {
  storage::StreamID id;
  if (!parse_stream_id(id_text, id)) return false;
  auto it = g.pel.find(id);
  if (it == g.pel.end()) return false;
  add_xclaim(t, key, group, consumer, id.to_string(), it->second.delivery_time, it->second.delivery_count, last_id);
  return true;
}

// XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS keys... ids...
void rule_xreadgroup(Tx& t) {
  if (!t.have_reply || !t.ctx) return;
  const RVal& v = t.r();
  if (!t.parsed_ok || !v.is_array()) return;
  if (t.args.size() < 4) return;
  std::string_view group = t.args[2], consumer = t.args[3];
  bool noack = false;
  size_t streams_at = 0;
  for (size_t i = 4; i < t.args.size(); ++i) {
    if (iequals(t.args[i], "noack")) {
      noack = true;
    } else if (iequals(t.args[i], "streams")) {
      streams_at = i;
      break;
    } else if (iequals(t.args[i], "count") || iequals(t.args[i], "block")) {
      ++i;
    }
  }
  if (!streams_at) return;
  const size_t nkeys = (t.args.size() - streams_at - 1) / 2;
  // RESP2: [[key, entries], ...]; RESP3: a map key -> entries.
  std::vector<std::pair<std::string_view, const RVal*>> per_key;
  if (v.type == '%') {
    for (size_t i = 0; i + 1 < v.items.size(); i += 2) per_key.emplace_back(v.items[i].str, &v.items[i + 1]);
  } else {
    for (const auto& kv : v.items)
      if (kv.is_array() && kv.items.size() == 2) per_key.emplace_back(kv.items[0].str, &kv.items[1]);
  }
  for (const auto& [key, entries] : per_key) {
    if (!entries->is_array() || entries->items.empty()) continue;
    std::string_view id_arg;
    for (size_t k = 0; k < nkeys; ++k)
      if (t.args[streams_at + 1 + k] == key) id_arg = t.args[streams_at + 1 + nkeys + k];
    if (id_arg != ">") continue;  // history: not propagated (as Redis 7.0)
    const storage::StreamGroup* g = find_group(t.value(key), group);
    if (!g) continue;
    if (noack) {
      // A consumer this command created is logged too (Redis 7.0 does so with NOACK).
      if (t.before == 0) t.out.add(t.db, {"XGROUP", "CREATECONSUMER", key, group, consumer});
      t.out.add(t.db, {"XGROUP", "SETID", key, group, g->last_id.to_string(), "ENTRIESREAD", i64(g->entries_read)});
      continue;
    }
    for (const auto& e : entries->items) {
      std::string_view id = e.is_array() && !e.items.empty() ? e.items[0].str : e.str;
      storage::StreamID sid;
      if (!parse_stream_id(id, sid)) continue;
      claim_from_pel(t, *g, key, group, consumer, id, sid.to_string());
    }
  }
}

// XCLAIM key group consumer min-idle ids... [options]
void rule_xclaim(Tx& t) {
  if (!t.have_reply || !t.ctx) {
    t.as_is();
    return;
  }
  const RVal& v = t.r();
  if (!t.parsed_ok || !v.is_array()) return;
  std::string_view key = t.args[1], group = t.args[2], consumer = t.args[3];
  const storage::Value* val = t.value(key);
  const storage::StreamGroup* g = find_group(val, group);
  if (!g) return;
  const std::string last = g->last_id.to_string();
  std::vector<storage::StreamID> claimed;
  for (const auto& e : v.items) {
    std::string_view id = e.is_array() && !e.items.empty() ? e.items[0].str : e.str;
    storage::StreamID sid;
    if (parse_stream_id(id, sid)) claimed.push_back(sid);
  }
  bool lastid_option = false;
  size_t i = 5;
  // IDs that no longer exist in the stream were dropped from the PEL: an
  // XCLAIM of a missing entry does the same on replay.
  const auto& stream = val->as<storage::StreamValue>();
  for (; i < t.args.size(); ++i) {
    storage::StreamID sid;
    if (!parse_stream_id(t.args[i], sid)) break;
    if (std::find(claimed.begin(), claimed.end(), sid) != claimed.end()) {
      claim_from_pel(t, *g, key, group, consumer, t.args[i], last);
    } else if (!stream.find(sid)) {
      add_xclaim(t, key, group, consumer, sid.to_string(), t.now, 0, last);
    }
  }
  for (; i < t.args.size(); ++i)
    if (iequals(t.args[i], "lastid")) lastid_option = true;
  if (lastid_option)
    t.out.add(t.db, {"XGROUP", "SETID", key, group, last, "ENTRIESREAD", i64(g->entries_read)});
}

// XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID]
void rule_xautoclaim(Tx& t) {
  if (!t.have_reply || !t.ctx) {
    t.as_is();
    return;
  }
  const RVal& v = t.r();
  if (!t.parsed_ok || !v.is_array() || v.items.size() < 2) return;
  std::string_view key = t.args[1], group = t.args[2], consumer = t.args[3];
  const storage::StreamGroup* g = find_group(t.value(key), group);
  if (!g) return;
  const std::string last = g->last_id.to_string();
  std::vector<std::pair<storage::StreamID, bool>> ids;  // (id, deleted)
  for (const auto& e : v.items[1].items) {
    std::string_view id = e.is_array() && !e.items.empty() ? e.items[0].str : e.str;
    storage::StreamID sid;
    if (parse_stream_id(id, sid)) ids.emplace_back(sid, false);
  }
  if (v.items.size() > 2 && v.items[2].is_array())
    for (const auto& e : v.items[2].items) {
      storage::StreamID sid;
      if (parse_stream_id(e.str, sid)) ids.emplace_back(sid, true);
    }
  std::sort(ids.begin(), ids.end());
  for (const auto& [sid, deleted] : ids) {
    if (deleted)
      add_xclaim(t, key, group, consumer, sid.to_string(), t.now, 0, last);
    else
      claim_from_pel(t, *g, key, group, consumer, sid.to_string(), last);
  }
}

// SETBIT: a change when the bit flipped, or the string was created or grew.
void rule_setbit(Tx& t) {
  int64_t old = 0;
  if (t.before >= 0 && t.reply_int(old) && t.args.size() > 3 && t.args[3] == i64(old)) {
    const storage::Value* v = t.value(t.args[1]);
    if (v && v->is_string() && static_cast<int64_t>(v->str().size()) == t.before) return;
  }
  t.as_is();
}

void rule_setrange(Tx& t) {
  if (t.args.size() > 3 && t.args[3].empty()) return;
  t.as_is();
}

// BITFIELD: only when it has SET or INCRBY operations.
void rule_bitfield(Tx& t) {
  for (size_t i = 2; i < t.args.size();) {
    std::string_view a = t.args[i];
    if (iequals(a, "set") || iequals(a, "incrby")) {
      t.as_is();
      return;
    }
    if (iequals(a, "get")) i += 3;
    else if (iequals(a, "overflow")) i += 2;
    else break;
  }
}

void rule_store(Tx& t);

// SORT / GEORADIUS[BYMEMBER]: only with STORE.
void rule_store_option(Tx& t) {
  for (size_t i = 2; i < t.args.size(); ++i)
    if (iequals(t.args[i], "store") || iequals(t.args[i], "storedist")) {
      rule_store(t);
      return;
    }
}

void rule_rename(Tx& t) {
  if (t.args[1] == t.args[2]) return;  // same key: nothing changes
  t.as_is();
}

void rule_linsert(Tx& t) {
  int64_t n = 0;
  if (t.reply_int(n) && n <= 0) return;
  t.as_is();
}

// LTRIM: only when it removed something (AofCommand noted the length).
void rule_ltrim(Tx& t) {
  if (t.before >= 0 && t.ctx) {
    const storage::Value* v = t.value(t.args[1]);
    const int64_t after = v && v->type() == storage::ValueType::kList ? static_cast<int64_t>(v->as<storage::List>().size()) : 0;
    if (after == t.before) return;
  }
  t.as_is();
}

// ...STORE commands: an empty result deletes the destination; nothing
// changed when it did not exist.
void rule_store(Tx& t) {
  if (t.before == 0 && t.reply_zero()) return;
  t.as_is();
}

// PFCOUNT of one key writes the cardinality it cached into the value: Redis
// logs it when the cache was not valid before.
void rule_pfcount(Tx& t) {
  if (t.before == 1 && !hll_cache_invalid(t.value(t.args[1]))) t.as_is();
}

void rule_zadd(Tx& t) {
  if (t.reply_null()) return;  // INCR with NX / XX / GT / LT that did nothing
  t.as_is();
}

// MIGRATE's keys (the KEYS form's or the single one); none with COPY, which
// moves nothing away.
std::vector<std::string_view> migrated_keys(const protocol::ArgList& args) {
  std::vector<std::string_view> keys;
  size_t keys_at = 0;
  for (size_t i = 6; i < args.size(); ++i) {
    if (iequals(args[i], "copy")) return keys;
    if (iequals(args[i], "auth")) {
      ++i;
    } else if (iequals(args[i], "auth2")) {
      i += 2;
    } else if (iequals(args[i], "keys")) {
      keys_at = i + 1;
      break;
    }
  }
  if (keys_at == 0) {
    if (args.size() > 3) keys.push_back(args[3]);
  } else {
    for (size_t i = keys_at; i < args.size(); ++i) keys.push_back(args[i]);
  }
  return keys;
}

// Bit i of MIGRATE's noted state: its key i existed before (first 62 keys).
constexpr size_t kMigrateNotedKeys = 62;

// MIGRATE: the keys it moved away are logged as deleted, as Redis does;
// replaying the command itself would move them again.
void rule_migrate(Tx& t) {
  if (t.have_reply && (t.reply.starts_with("-") || t.reply.starts_with("+NOKEY"))) return;
  const std::vector<std::string_view> keys = migrated_keys(t.args);
  for (size_t i = 0; i < keys.size(); ++i) {
    const bool existed = i >= kMigrateNotedKeys || t.before < 0 || (t.before >> i) & 1;
    if (existed && !t.value(keys[i])) t.out.add(t.db, {"DEL", keys[i]});
  }
}

const std::unordered_map<std::string_view, Rule>& rules() {
  static const std::unordered_map<std::string_view, Rule> table = {
      {"set", rule_set},
      {"setex", rule_setex},
      {"psetex", rule_setex},
      {"getset", rule_getset},
      {"getdel", rule_getdel},
      {"getex", rule_getex},
      {"expire", rule_expire},
      {"pexpire", rule_expire},
      {"expireat", rule_expire},
      {"pexpireat", rule_expire},
      {"incrbyfloat", rule_incrbyfloat},
      {"hincrbyfloat", rule_hincrbyfloat},
      {"spop", rule_spop},
      {"blpop", rule_bpop},
      {"brpop", rule_bpop},
      {"blmove", rule_blmove},
      {"brpoplpush", rule_brpoplpush},
      {"lmpop", rule_mpop},
      {"blmpop", rule_mpop},
      {"zmpop", rule_mpop},
      {"bzmpop", rule_mpop},
      {"bzpopmin", rule_bzpop},
      {"bzpopmax", rule_bzpop},
      {"geoadd", rule_geoadd},
      {"restore", rule_restore},
      {"restore-asking", rule_restore},
      {"migrate", rule_migrate},
      {"xadd", rule_xadd_xtrim},
      {"xtrim", rule_xadd_xtrim},
      {"xreadgroup", rule_xreadgroup},
      {"xclaim", rule_xclaim},
      {"xautoclaim", rule_xautoclaim},
      {"setbit", rule_setbit},
      {"setrange", rule_setrange},
      {"bitfield", rule_bitfield},
      {"sort", rule_store_option},
      {"georadius", rule_store_option},
      {"georadiusbymember", rule_store_option},
      {"rename", rule_rename},
      {"linsert", rule_linsert},
      {"ltrim", rule_ltrim},
      {"sinterstore", rule_store},
      {"sunionstore", rule_store},
      {"sdiffstore", rule_store},
      {"zunionstore", rule_store},
      {"zinterstore", rule_store},
      {"zdiffstore", rule_store},
      {"zrangestore", rule_store},
      {"geosearchstore", rule_store},
      {"zadd", rule_zadd},
      {"pfcount", rule_pfcount},
      // Nothing changed when they answer 0.
      {"del", rule_zero_is_noop},
      {"unlink", rule_zero_is_noop},
      {"persist", rule_zero_is_noop},
      {"setnx", rule_zero_is_noop},
      {"msetnx", rule_zero_is_noop},
      {"hsetnx", rule_zero_is_noop},
      {"hdel", rule_zero_is_noop},
      {"sadd", rule_zero_is_noop},
      {"srem", rule_zero_is_noop},
      {"smove", rule_zero_is_noop},
      {"zrem", rule_zero_is_noop},
      {"zremrangebyscore", rule_zero_is_noop},
      {"zremrangebyrank", rule_zero_is_noop},
      {"zremrangebylex", rule_zero_is_noop},
      {"lrem", rule_zero_is_noop},
      {"lpushx", rule_zero_is_noop},
      {"rpushx", rule_zero_is_noop},
      {"renamenx", rule_zero_is_noop},
      {"move", rule_zero_is_noop},
      {"copy", rule_zero_is_noop},
      {"pfadd", rule_zero_is_noop},
      {"xack", rule_zero_is_noop},
      {"xdel", rule_zero_is_noop},
      {"xgroup|destroy", rule_zero_is_noop},
      {"xgroup|createconsumer", rule_zero_is_noop},
      // Nothing changed when they answer nil or an empty array.
      {"lpop", rule_nil_is_noop},
      {"rpop", rule_nil_is_noop},
      {"lmove", rule_nil_is_noop},
      {"rpoplpush", rule_nil_is_noop},
      {"zpopmin", rule_nil_is_noop},
      {"zpopmax", rule_nil_is_noop},
      // Logged as the commands they ran.
      {"eval", rule_nothing},
      {"evalsha", rule_nothing},
      {"eval_ro", rule_nothing},
      {"evalsha_ro", rule_nothing},
      {"fcall", rule_nothing},
      {"fcall_ro", rule_nothing},
  };
  return table;
}

void propagate(const CommandSpec& spec, const protocol::ArgList& args, std::string_view reply, bool have_reply,
               const CommandContext* ctx, int db, AofEffects& out, int64_t before = -1) {
  if ((!(spec.flags & kCmdWrite) && spec.name != "pfcount") || args.empty()) return;
  if (have_reply && !reply.empty() && (reply[0] == '-' || reply[0] == '!')) return;  // an error changed nothing
  Tx t{spec, args, reply, have_reply, ctx, db, ctx ? ctx->now_ms : now_ms(), out, before, {}, false, false};
  const auto& table = rules();
  auto it = table.find(spec.name);
  if (it != table.end())
    it->second(t);
  else
    t.as_is();
}

// Hands a finished command's effects on: to the command it runs in (a
// script), to the batch of this thread, or to the thread's stream.
void deliver(AofEffects& effects) {
  if (effects.empty()) return;
  if (t_depth > 0) {
    t_frames[t_depth - 1]->effects.append(effects);
    return;
  }
  if (t_batch) {
    t_batch->effects().append(effects);
    return;
  }
  Aof* aof = g_aof.load(std::memory_order_acquire);
  ShardThread* thread = ShardThread::current();
  if (!aof || !thread) return;
  aof->thread_stream(thread->index()).append_unit(effects);
}

}  // namespace

// ---------------------------------------------------------------------------
// Hooks

namespace {

// The state a command is logged from that it changes itself (see AofCommand).
int64_t note_before(const CommandSpec& spec, const protocol::ArgList& args, storage::Keyspace& keyspace, int db) {
  if (args.size() < 2 || db < 0 || static_cast<size_t>(db) >= keyspace.size()) return -1;
  const std::string_view name = spec.name;
  const int64_t now = now_ms();
  const storage::Db& d = keyspace.db(static_cast<size_t>(db));
  if (name == "pfcount") return args.size() == 2 && hll_cache_invalid(d.peek(args[1], now)) ? 1 : 0;
  if (!(spec.flags & kCmdWrite)) return -1;
  if (name == "migrate") {  // which keys exist (rule_migrate logs those it moved away)
    const std::vector<std::string_view> keys = migrated_keys(args);
    int64_t existed = 0;
    for (size_t i = 0; i < keys.size() && i < kMigrateNotedKeys; ++i)
      if (d.peek(keys[i], now)) existed |= int64_t{1} << i;
    return existed;
  }
  if (name == "setbit") {  // the length (-2: no such key)
    const storage::Value* v = d.peek(args[1], now);
    return v && v->is_string() ? static_cast<int64_t>(v->str().size()) : -2;
  }
  if (name == "ltrim") {
    const storage::Value* v = d.peek(args[1], now);
    return v && v->type() == storage::ValueType::kList ? static_cast<int64_t>(v->as<storage::List>().size()) : 0;
  }
  if (name == "sinterstore" || name == "sunionstore" || name == "sdiffstore" || name == "zunionstore" ||
      name == "zinterstore" || name == "zdiffstore" || name == "zrangestore" || name == "geosearchstore")
    return d.peek(args[1], now) ? 1 : 0;
  if (name == "georadius" || name == "georadiusbymember" || name == "sort") {
    for (size_t i = 2; i + 1 < args.size(); ++i)
      if (iequals(args[i], "store") || iequals(args[i], "storedist")) return d.peek(args[i + 1], now) ? 1 : 0;
    return -1;
  }
  if (name == "xreadgroup" && args.size() > 3) {
    // Whether the consumer exists in the group of the first stream (the usual single-stream form).
    for (size_t i = 4; i + 1 < args.size(); ++i) {
      if (!iequals(args[i], "streams")) continue;
      const storage::Value* v = d.peek(args[i + 1], now);
      if (!v || v->type() != storage::ValueType::kStream) return -1;
      const auto* groups = v->as<storage::StreamValue>().groups();
      if (!groups) return -1;
      auto g = groups->find(std::string(args[2]));
      if (g == groups->end()) return -1;
      return g->second.consumers.count(std::string(args[3])) ? 1 : 0;
    }
  }
  return -1;
}

}  // namespace

AofCommand::AofCommand(const CommandSpec& spec, const protocol::ArgList& args, storage::Keyspace& keyspace, int db,
                       const protocol::ReplyBuilder& reply)
    : spec_(spec), args_(args), db_(db), reply_buffer_(reply.buffer()), reply_mark_(0), active_(false) {
  if (!g_feeding.load(std::memory_order_relaxed) || ShardThread::current() == nullptr) return;
  active_ = true;
  before_ = note_before(spec, args, keyspace, db);
  reply_mark_ = reply_buffer_ ? reply_buffer_->size() : 0;
  if (t_frames.size() <= t_depth) t_frames.push_back(std::make_unique<Frame>());
  t_frames[t_depth++]->effects.clear();
}

AofCommand::~AofCommand() {
  if (!active_) return;
  // Not finished (an exception): keep what it recorded, such as expiries.
  Frame& f = *t_frames[--t_depth];
  deliver(f.effects);
}

void AofCommand::done(const CommandContext& ctx) {
  if (!active_) return;
  active_ = false;
  Frame& f = *t_frames[t_depth - 1];
  if (!ctx.blocked) {
    std::string_view reply;
    if (reply_buffer_ && reply_buffer_->size() >= reply_mark_)
      reply = std::string_view(*reply_buffer_).substr(reply_mark_);
    propagate(spec_, args_, reply, reply_buffer_ != nullptr, &ctx, db_, f.effects, before_);
  }
  --t_depth;
  deliver(f.effects);
}

void AofBatch::add_command(int db, const protocol::ArgList& args) {
  if (g_feeding.load(std::memory_order_relaxed)) effects_.add(db, args);
}

void AofBatch::write() {
  if (discarded_) effects_.clear();
  if (effects_.empty()) return;
  Aof* aof = g_aof.load(std::memory_order_acquire);
  if (aof && g_feeding.load(std::memory_order_relaxed)) {
    if (ShardThread* t = ShardThread::current()) aof_flush_thread(*t);
    aof->write_effects(effects_);
  }
  effects_.clear();
}

AofBatch* aof_current_batch() { return t_batch; }

void aof_drop_running_command_effects() {
  if (t_depth > 0) t_frames[t_depth - 1]->effects.clear();
}

AofBatchScope::AofBatchScope(AofBatch& batch) : previous_(t_batch) { t_batch = &batch; }
AofBatchScope::~AofBatchScope() { t_batch = previous_; }

void aof_feed(ShardThread& thread, int db, const CommandSpec& spec, const protocol::ArgList& args,
              const CommandContext* ctx) {
  if (!g_feeding.load(std::memory_order_relaxed)) return;
  AofEffects effects;
  propagate(spec, args, {}, false, ctx, db, effects);
  if (t_depth > 0 || t_batch) {
    deliver(effects);
    return;
  }
  if (Aof* aof = g_aof.load(std::memory_order_acquire)) aof->thread_stream(thread.index()).append_unit(effects);
}

void aof_flush_thread(ShardThread& thread) {
  Aof* aof = g_aof.load(std::memory_order_acquire);
  if (!aof) return;
  Aof::Stream& s = aof->thread_stream(thread.index());
  if (s.commands) aof->write_stream(s);
}

void aof_before_reply(ShardThread& thread) {
  Aof* aof = g_aof.load(std::memory_order_acquire);
  if (!aof) return;
  Aof::Stream& s = aof->thread_stream(thread.index());
  if (s.commands) aof->write_stream(s);
  aof->sync_all_written();
}

bool aof_reply_ready(ShardThread& thread, std::function<void()> retry) {
  Aof* aof = g_aof.load(std::memory_order_acquire);
  if (!aof) return true;
  return aof->reply_ready(thread, retry);
}

void aof_key_expired(const storage::Db& db, std::string_view key) {
  if (!g_feeding.load(std::memory_order_relaxed)) return;
  ShardThread* t = ShardThread::current();
  Aof* aof = g_aof.load(std::memory_order_acquire);
  if (!t || !aof) return;
  storage::Keyspace& ks = t->keyspace();
  for (size_t i = 0; i < ks.size(); ++i) {
    if (&ks.db(i) != &db) continue;
    const int index = static_cast<int>(i);
    if (t_depth > 0) {
      t_frames[t_depth - 1]->effects.add(index, {"DEL", key});
    } else if (t_batch) {
      t_batch->effects().add(index, {"DEL", key});
    } else {
      AofEffects e;
      e.add(index, {"DEL", key});
      aof->thread_stream(t->index()).append_unit(e);
    }
    return;
  }
}

void aof_log_replaced_key(int db, std::string_view key, const storage::Value* value, int64_t expire_ms) {
  if (!g_feeding.load(std::memory_order_relaxed)) return;
  AofEffects e;
  e.add(db, {"DEL", key});
  if (value) {
    std::string cmds;
    aof_rewrite_key(cmds, key, *value, expire_ms);
    // Split the rewrite form into commands (one effect each).
    std::string_view rest = cmds;
    while (!rest.empty()) {
      const size_t start = cmds.size() - rest.size();
      std::string_view line;
      std::string_view scan = rest;
      if (!read_line(scan, line) || line.empty() || line[0] != '*') break;
      int64_t n = std::strtoll(std::string(line.substr(1)).c_str(), nullptr, 10);
      for (int64_t i = 0; i < n; ++i) {
        std::string_view len_line;
        if (!read_line(scan, len_line)) break;
        const auto len = static_cast<size_t>(std::strtoll(std::string(len_line.substr(1)).c_str(), nullptr, 10));
        scan.remove_prefix(std::min(scan.size(), len + 2));
      }
      const size_t length = rest.size() - scan.size();
      e.commands.emplace_back(db, e.bytes.size());
      e.bytes.append(cmds, start, length);
      rest = scan;
    }
  }
  deliver(e);
}

void aof_log_keyspace_command(int db, const protocol::ArgList& args) {
  if (!g_feeding.load(std::memory_order_relaxed)) return;
  Aof* aof = g_aof.load(std::memory_order_acquire);
  if (!aof) return;
  AofEffects e;
  e.add(db, args);
  if (ShardThread* t = ShardThread::current()) aof_flush_thread(*t);
  aof->write_effects(e);
}

// ---------------------------------------------------------------------------
// Keys in command form (aof-use-rdb-preamble no), as Redis's rewrite writes them.

namespace {

constexpr size_t kItemsPerCommand = 64;  // Redis's AOF_REWRITE_ITEMS_PER_CMD

std::string format_score(double d) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%.17g", d);
  return std::string(buf, static_cast<size_t>(n));
}

// Writes `total` items in commands "<name> <key> item..." of at most 64 items;
// `emit(out)` appends the next item's bulk strings and returns how many bulks it wrote.
template <typename Next>
void batched(std::string& out, std::string_view name, std::string_view key, size_t total, size_t bulks_per_item,
             Next&& next) {
  size_t done = 0;
  while (done < total) {
    const size_t n = std::min(kItemsPerCommand, total - done);
    append_array_header(out, 2 + n * bulks_per_item);
    append_bulk(out, name);
    append_bulk(out, key);
    for (size_t i = 0; i < n; ++i) next(out);
    done += n;
  }
}

}  // namespace

void aof_rewrite_key(std::string& out, std::string_view key, const storage::Value& value, int64_t expire_ms) {
  using storage::ValueType;
  switch (value.type()) {
    case ValueType::kString:
      persistence::append_resp_command(out, {"SET", key, value.str()});
      break;
    case ValueType::kList: {
      const auto& l = value.as<storage::List>();
      if (l.empty()) break;
      storage::List::Cursor c = l.cursor(0);
      batched(out, "RPUSH", key, l.size(), 1, [&c](std::string& o) {
        char buf[storage::kInt64StrSize];
        append_bulk(o, c.entry().view(buf));
        c.next();
      });
      break;
    }
    case ValueType::kSet: {
      const auto& set = value.as<storage::SetValue>();
      std::vector<std::string> members;
      members.reserve(set.size());
      set.for_each([&members](std::string_view m) { members.emplace_back(m); });
      size_t i = 0;
      batched(out, "SADD", key, members.size(), 1, [&](std::string& o) { append_bulk(o, members[i++]); });
      break;
    }
    case ValueType::kZSet: {
      const auto& z = value.as<storage::ZSetValue>();
      std::vector<std::pair<std::string, double>> items;
      items.reserve(z.size());
      z.walk(0, false, [&items](std::string_view m, double score) { items.emplace_back(std::string(m), score); });
      size_t i = 0;
      batched(out, "ZADD", key, items.size(), 2, [&](std::string& o) {
        append_bulk(o, format_score(items[i].second));
        append_bulk(o, items[i].first);
        ++i;
      });
      break;
    }
    case ValueType::kHash: {
      const auto& h = value.as<storage::HashValue>();
      std::vector<std::pair<std::string, std::string>> items;
      h.for_each([&items](std::string_view f, std::string_view v) { items.emplace_back(std::string(f), std::string(v)); });
      size_t i = 0;
      batched(out, "HMSET", key, items.size(), 2, [&](std::string& o) {
        append_bulk(o, items[i].first);
        append_bulk(o, items[i].second);
        ++i;
      });
      break;
    }
    case ValueType::kStream: {
      const auto& st = value.as<storage::StreamValue>();
      if (st.length() > 0) {
        for (size_t b = 0; b < st.block_count(); ++b) {
          st.for_each_block_entry(b, [&](const storage::StreamValue::RawEntry& e) {
            if (e.deleted) return;
            append_array_header(out, 3 + e.fields->size() * 2);
            append_bulk(out, "XADD");
            append_bulk(out, key);
            append_bulk(out, e.id.to_string());
            for (const auto& [f, v] : *e.fields) {
              append_bulk(out, f);
              append_bulk(out, v);
            }
          });
        }
      } else {
        // An empty stream: the XADD MAXLEN 0 trick creates it.
        persistence::append_resp_command(out, {"XADD", key, "MAXLEN", "0", "0-1", "x", "y"});
      }
      persistence::append_resp_command(out, {"XSETID", key, st.last_id().to_string(), "ENTRIESADDED",
                                             i64(static_cast<int64_t>(st.entries_added())), "MAXDELETEDID",
                                             st.max_deleted_id().to_string()});
      if (const auto* groups = st.groups()) {
        for (const auto& [name, g] : *groups) {
          persistence::append_resp_command(
              out, {"XGROUP", "CREATE", key, name, g.last_id.to_string(), "ENTRIESREAD", i64(g.entries_read)});
          for (const auto& [cname, c] : g.consumers) {
            if (c.pel.empty()) {
              persistence::append_resp_command(out, {"XGROUP", "CREATECONSUMER", key, name, cname});
              continue;
            }
            for (const storage::StreamID& id : c.pel) {
              auto it = g.pel.find(id);
              if (it == g.pel.end()) continue;
              persistence::append_resp_command(
                  out, {"XCLAIM", key, name, cname, "0", id.to_string(), "TIME", i64(it->second.delivery_time),
                        "RETRYCOUNT", i64(static_cast<int64_t>(it->second.delivery_count)), "JUSTID", "FORCE"});
            }
          }
        }
      }
      break;
    }
  }
  if (expire_ms != storage::kNoExpiry) persistence::append_resp_command(out, {"PEXPIREAT", key, i64(expire_ms)});
}

// ---------------------------------------------------------------------------
// Loading at start-up.

namespace {

// While loading, nothing may expire (Redis's rule): every expiry time set
// while loading is stored shifted far into the future, and shifted back
// once everything is loaded. Relative expiries are made absolute first, with
// the real clock, as Redis computes them while loading.
constexpr int64_t kLoadShift = int64_t{1} << 52;
constexpr int64_t kLoadShiftMax = INT64_MAX - 2 * kLoadShift;

int64_t shift_expiry(int64_t t) { return std::clamp(t, -kLoadShift / 4, kLoadShiftMax) + kLoadShift; }

bool mul_overflows(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r);
}
bool add_overflows(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r);
}

// The command to run while loading, with its expiry made absolute and shifted.
// Returns false (run `in` as it is) when it sets no expiry or its arguments
// are invalid (the command then fails as it did when it was logged).
bool convert_for_load(const CommandSpec& spec, const protocol::ArgList& in, protocol::ArgList& out, int64_t now) {
  const std::string_view name = spec.name;
  auto copy = [&] {
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) out.add(in[i]);
  };
  auto absolute = [now](std::string_view unit, int64_t n, int64_t& ms) {
    const bool seconds = iequals(unit, "ex") || iequals(unit, "exat");
    const bool relative = iequals(unit, "ex") || iequals(unit, "px");
    if (seconds && mul_overflows(n, 1000)) return false;
    ms = seconds ? n * 1000 : n;
    if (relative && add_overflows(ms, now)) return false;
    if (relative) ms += now;
    return true;
  };
  if (name == "set" || name == "getex") {
    for (size_t i = name == "set" ? 3 : 2; i + 1 < in.size(); ++i) {
      std::string_view a = in[i];
      if (iequals(a, "ex") || iequals(a, "px") || iequals(a, "exat") || iequals(a, "pxat")) {
        int64_t n = 0, ms = 0;
        if (!storage::parse_int64(in[i + 1], n) || n <= 0 || !absolute(a, n, ms)) return false;
        copy();
        out.mutable_at(i) = "PXAT";
        out.mutable_at(i + 1) = i64(shift_expiry(ms));
        return true;
      }
    }
    return false;
  }
  if (name == "setex" || name == "psetex") {
    int64_t n = 0, ms = 0;
    if (in.size() != 4 || !storage::parse_int64(in[2], n) || n <= 0 || !absolute(name == "setex" ? "ex" : "px", n, ms))
      return false;
    out.clear();
    out.add("SET");
    out.add(in[1]);
    out.add(in[3]);
    out.add("PXAT");
    out.add(i64(shift_expiry(ms)));
    return true;
  }
  if (name == "expire" || name == "pexpire" || name == "expireat" || name == "pexpireat") {
    int64_t n = 0, ms = 0;
    if (in.size() < 3 || !storage::parse_int64(in[2], n)) return false;
    const std::string_view unit = name == "expire" ? "ex" : name == "pexpire" ? "px" : name == "expireat" ? "exat" : "pxat";
    if (!absolute(unit, n, ms)) return false;
    copy();
    out.mutable_at(0) = "PEXPIREAT";
    out.mutable_at(2) = i64(shift_expiry(ms));
    return true;
  }
  if (name == "restore" || name == "restore-asking") {
    int64_t ttl = 0;
    if (in.size() < 4 || !storage::parse_int64(in[2], ttl) || ttl <= 0) return false;
    bool absttl = false;
    for (size_t i = 4; i < in.size(); ++i)
      if (iequals(in[i], "absttl")) absttl = true;
    if (!absttl && add_overflows(ttl, now)) return false;
    copy();
    out.mutable_at(2) = i64(shift_expiry(absttl ? ttl : ttl + now));
    if (!absttl) out.add("ABSTTL");
    return true;
  }
  return false;
}

std::string c_string(std::string_view s) { return std::string(s.substr(0, std::min(s.find('\0'), s.size()))); }

// Replays AOF files into the shards (no shard thread runs yet).
class Replayer final : public persistence::AofCommandHandler, public persistence::RdbLoadHandler {
 public:
  explicit Replayer(Server& server) : server_(server), databases_(server.shard(0).keyspace().size()) {}

  std::string file_name;
  uint64_t keys_loaded = 0;

  bool check(const protocol::ArgList& args, std::string* error) override {
    if (CommandTable::instance().find(args[0]) == nullptr) {
      *error = "Unknown command '" + c_string(args[0]) + "' reading the append only file " + file_name;
      return false;
    }
    return true;
  }

  bool execute(const protocol::ArgList& args, std::string* error) override {
    const CommandSpec* spec = CommandTable::instance().find(args[0]);
    if (!spec) return true;
    if (!spec->subcommands.empty() && args.size() >= 2) {
      const CommandSpec* sub = CommandTable::find_subcommand(*spec, args[1]);
      if (!sub) return true;  // Redis runs it, it fails, the error is ignored
      spec = sub;
    }
    if (!arity_ok(*spec, args.size())) return true;
    const int64_t now = unix_time_ms();
    if (spec->connection) {
      run_connection_command(*spec, args);
      return true;
    }
    const protocol::ArgList& run_args = convert_for_load(*spec, args, converted_, now) ? converted_ : args;
    run_keyed_command(*spec, run_args, now);
    return true;
  }

  bool on_key(std::string&& key, storage::Value&& value, const persistence::RdbKeyInfo& info,
              std::string* error) override {
    ShardThread& shard = server_.shard(shard_of_key(key, server_.shard_count()));
    storage::Db& db = shard.keyspace().db(info.db);
    if (db.peek(key, INT64_MIN) != nullptr) {
      *error = fmt::format("Duplicate key '{}' found in RDB file", key);
      return false;
    }
    db.set(key, std::move(value)).restore_access(info.lru_idle_s, info.lfu_freq);
    if (info.expire_ms != storage::kNoExpiry) db.set_expire(key, shift_expiry(info.expire_ms));
    ++keys_loaded;
    return true;
  }

  // The function libraries of an RDB preamble.
  bool on_function(std::string&& code, std::string* error) override {
    std::string name_or_error;
    if (scripting::function_load(code, false, name_or_error)) return true;
    *error = fmt::format("Failed loading library: {}", name_or_error);
    return false;
  }

  // Every expiry set while loading goes back to its real time.
  void unshift_expiries() {
    const int64_t now = unix_time_ms();
    std::vector<std::string> keys;
    for (unsigned s = 0; s < server_.shard_count(); ++s) {
      storage::Keyspace& ks = server_.shard(s).keyspace();
      for (size_t d = 0; d < ks.size(); ++d) {
        storage::Db& db = ks.db(d);
        if (db.expires_size() == 0) continue;
        // The keys first: a lookup inside for_each could move the table's rehashing on under the walk.
        keys.clear();
        db.for_each(now, [&](std::string_view key, const storage::Value&) { keys.emplace_back(key); });
        for (const std::string& key : keys) {
          const int64_t when = db.expire_at(key);
          if (when != storage::kNoExpiry && when >= kLoadShift / 2) db.set_expire(key, when - kLoadShift);
        }
      }
    }
  }

 private:
  void run_connection_command(const CommandSpec& spec, const protocol::ArgList& args) {
    const std::string_view name = spec.name;
    int64_t a = 0, b = 0;
    if (name == "select") {
      if (storage::parse_int64(args[1], a) && a >= 0 && static_cast<size_t>(a) < databases_) db_ = static_cast<int>(a);
    } else if (name == "flushall") {
      for (unsigned s = 0; s < server_.shard_count(); ++s) server_.shard(s).keyspace().clear();
    } else if (name == "flushdb") {
      for (unsigned s = 0; s < server_.shard_count(); ++s) server_.shard(s).keyspace().db(db_).clear();
    } else if (name == "swapdb") {
      if (storage::parse_int64(args[1], a) && storage::parse_int64(args[2], b) && a >= 0 && b >= 0 &&
          static_cast<size_t>(a) < databases_ && static_cast<size_t>(b) < databases_)
        for (unsigned s = 0; s < server_.shard_count(); ++s)
          server_.shard(s).keyspace().swap_dbs(static_cast<size_t>(a), static_cast<size_t>(b));
    } else if (name != "multi" && name != "exec") {
      if (skipped_.insert(std::string(name)).second)
        log(LogLevel::kWarning, "Command '{}' in the append only file {} is not replayed", name, file_name);
    }
  }

  void run_on(const CommandSpec& spec, const protocol::ArgList& args, storage::Keyspace& ks, int64_t now) {
    reply_.clear();
    protocol::ReplyBuilder reply(&reply_, 2);
    CommandContext ctx{args, reply, ks, db_, now, server_.config()};
    ctx.may_block = false;
    ctx.notify_flags = 0;
    spec.keyed(ctx);
  }

  void run_keyed_command(const CommandSpec& spec, const protocol::ArgList& args, int64_t now) {
    const unsigned shards = server_.shard_count();
    std::vector<KeyRef> keys = route_keys(spec, args, shards);
    const unsigned first = keys.empty() ? 0 : keys.front().shard;
    if (std::all_of(keys.begin(), keys.end(), [first](const KeyRef& k) { return k.shard == first; })) {
      run_on(spec, args, server_.shard(first).keyspace(), now);
      return;
    }
    // Keys on several shards: run over copies, then store the results back.
    std::vector<std::vector<GatheredKey>> parts(shards);
    for (const auto& k : keys) {
      int kdb = key_database(spec, args, k.index, db_);
      if (kdb < 0 || static_cast<size_t>(kdb) >= databases_) kdb = db_;
      auto& part = parts[k.shard];
      std::string name(args[k.index]);
      if (std::none_of(part.begin(), part.end(), [&](const GatheredKey& g) { return g.db == kdb && g.name == name; }))
        part.push_back(GatheredKey{kdb, std::move(name), false, {}, storage::kNoExpiry});
    }
    storage::Keyspace scratch(databases_);
    for (unsigned s = 0; s < shards; ++s) {
      gather_keys(server_.shard(s).keyspace(), parts[s], now);
      load_gathered(scratch, parts[s]);
    }
    run_on(spec, args, scratch, now);
    for (unsigned s = 0; s < shards; ++s) {
      collect_gathered(scratch, parts[s], now);
      for (auto& g : parts[s]) {
        storage::Db& db = server_.shard(s).keyspace().db(g.db);
        if (g.present) {
          db.set(g.name, std::move(g.value));
          if (g.expire_at != storage::kNoExpiry) db.set_expire(g.name, g.expire_at);
        } else {
          db.erase(g.name, now);
        }
      }
    }
  }

  Server& server_;
  size_t databases_;
  int db_ = 0;
  protocol::ArgList converted_;
  std::string reply_;
  std::set<std::string> skipped_;
};

int fsync_policy_of(std::string_view s) { return iequals(s, "always") ? 1 : iequals(s, "no") ? 2 : 0; }

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool dir_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

// ---------------------------------------------------------------------------
// Aof

Aof::Aof(Server& server) : server_(server) {
  for (unsigned i = 0; i < server.shard_count(); ++i) streams_.push_back(std::make_unique<Stream>());
  const Config& c = server.config();
  {
    std::lock_guard lock(c.string_mutex);
    appendfilename_ = c.appendfilename;
    appenddirname_ = c.appenddirname;
    fsync_policy_.store(fsync_policy_of(c.appendfsync));
    timestamps_.store(c.aof_timestamp_enabled);
  }
  g_aof.store(this, std::memory_order_release);
}

Aof::~Aof() {
  {
    std::lock_guard lock(bg_mu_);
    stopping_ = true;
  }
  bg_cv_.notify_all();
  if (background_.joinable()) background_.join();
  g_feeding.store(false);
  Aof* self = this;
  g_aof.compare_exchange_strong(self, nullptr);
  if (fd_ >= 0) ::close(fd_);
}

Aof::Stream& Aof::thread_stream(unsigned shard) { return *streams_[shard]; }

std::string Aof::dir_path() const {
  std::string dir = server_.config().get_string(server_.config().dir);
  if (dir.empty()) dir = ".";
  return dir + "/" + appenddirname_;
}

std::string Aof::file_path(std::string_view name) const { return dir_path() + "/" + std::string(name); }

bool Aof::persist_manifest_locked(std::string* error) {
  std::string err;
  if (!dir_exists(dir_path()) && ::mkdir(dir_path().c_str(), 0755) != 0 && errno != EEXIST) {
    err = fmt::format("Can't open or create append-only dir {}: {}", appenddirname_, std::strerror(errno));
  } else if (persistence::write_aof_manifest(dir_path(), persistence::aof_manifest_name(appendfilename_), manifest_,
                                             &err)) {
    return true;
  }
  log(LogLevel::kWarning, "{}", err);
  if (error) *error = err;
  return false;
}

void Aof::delete_history_locked() {
  if (manifest_.history.empty()) return;
  for (const std::string& name : manifest_.take_history()) {
    log(LogLevel::kNotice, "Removing the history file {} in the background", name);
    ::unlink(file_path(name).c_str());
  }
  persist_manifest_locked(nullptr);
}

bool Aof::load_manifest() {
  std::lock_guard lock(mu_);
  const std::string dir = dir_path();
  if (!dir_exists(dir)) return true;
  std::string error;
  switch (persistence::load_aof_manifest(file_path(persistence::aof_manifest_name(appendfilename_)), manifest_, &error)) {
    case persistence::ManifestLoad::kNotFound:
      return true;
    case persistence::ManifestLoad::kError:
      log(LogLevel::kWarning, "{}", error);
      return false;
    case persistence::ManifestLoad::kOk:
      break;
  }
  return true;
}

bool Aof::load_dataset(bool* found) {
  std::unique_lock lock(mu_);
  if (found) *found = false;
  const std::string dir = dir_path();
  std::string root = server_.config().get_string(server_.config().dir);
  if (root.empty()) root = ".";
  const std::string old_style = root + "/" + appendfilename_;

  // An old-style appendonly.aof: becomes the base of a new AOF directory, as Redis 7.0 does.
  if (file_exists(old_style) &&
      (!dir_exists(dir) || manifest_.empty() ||
       (manifest_.base && manifest_.incrs.empty() && manifest_.base->name == appendfilename_ &&
        !file_exists(file_path(appendfilename_))))) {
    if (!dir_exists(dir) && ::mkdir(dir.c_str(), 0755) != 0) {
      log(LogLevel::kWarning, "Can't open or create append-only dir {}: {}", appenddirname_, std::strerror(errno));
      return false;
    }
    manifest_ = persistence::AofManifest{};
    manifest_.base = persistence::AofFileInfo{appendfilename_, 1, persistence::AofFileType::kBase};
    manifest_.curr_base_seq = 1;
    if (!persist_manifest_locked(nullptr)) return false;
    if (std::rename(old_style.c_str(), file_path(appendfilename_).c_str()) != 0) {
      log(LogLevel::kWarning, "Error trying to rename the existing AOF to old AOF: {}", std::strerror(errno));
      return false;
    }
    persistence::fsync_directory(dir);
    log(LogLevel::kNotice, "Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).",
        appendfilename_, appenddirname_);
  }
  if (manifest_.empty()) return true;

  // Every file the manifest names must be there.
  std::vector<const persistence::AofFileInfo*> files;
  if (manifest_.base) files.push_back(&*manifest_.base);
  for (const auto& f : manifest_.incrs) files.push_back(&f);
  for (const auto* f : files) {
    struct stat st {};
    if (::stat(file_path(f->name).c_str(), &st) != 0) {
      log(LogLevel::kWarning, "Unable to obtain the AOF file {} length. stat: {}", f->name, std::strerror(errno));
      return false;
    }
  }
  if (found) *found = true;
  const int64_t start = unix_time_ms();
  Replayer replayer(server_);
  persistence::AofReadOptions options;
  {
    const Config& c = server_.config();
    std::lock_guard cl(c.string_mutex);
    options.load_truncated = c.aof_load_truncated;
  }
  const Config& config = server_.config();
  options.rdb.databases = server_.shard(0).keyspace().size();
  options.rdb.limits.list_fill = config.list_max_listpack_size.load(std::memory_order_relaxed);
  options.rdb.limits.set_max_intset_entries = config.set_max_intset_entries.load(std::memory_order_relaxed);
  options.rdb.limits.hash.max_listpack_entries = config.hash_max_listpack_entries.load(std::memory_order_relaxed);
  options.rdb.limits.hash.max_listpack_value = config.hash_max_listpack_value.load(std::memory_order_relaxed);
  options.rdb.limits.zset.max_listpack_entries = config.zset_max_listpack_entries.load(std::memory_order_relaxed);
  options.rdb.limits.zset.max_listpack_value = config.zset_max_listpack_value.load(std::memory_order_relaxed);
  options.log = [](bool warning, const std::string& text) {
    log(warning ? LogLevel::kWarning : LogLevel::kNotice, "{}", text);
  };
  uint64_t sizes = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto* f = files[i];
    const bool last = i + 1 == files.size();
    const bool is_base = f->type == persistence::AofFileType::kBase;
    replayer.file_name = f->name;
    options.old_style = is_base && f->name == appendfilename_;
    const int64_t t0 = unix_time_ms();
    auto r = persistence::read_aof_file(file_path(f->name), f->name, &replayer, replayer, options);
    if (r.status == persistence::AofReadStatus::kTruncated && !last) {
      log(LogLevel::kWarning, "Fatal error: the truncated file is not the last file");
      return false;
    }
    if (r.status == persistence::AofReadStatus::kFailed || r.status == persistence::AofReadStatus::kOpenError ||
        r.status == persistence::AofReadStatus::kNotExist)
      return false;
    if (r.status == persistence::AofReadStatus::kOk || r.status == persistence::AofReadStatus::kTruncated)
      log(LogLevel::kNotice, "DB loaded from {} file {}: {:.3f} seconds", is_base ? "base" : "incr", f->name,
          (unix_time_ms() - t0) / 1000.0);
    struct stat st {};
    const uint64_t size = ::stat(file_path(f->name).c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    sizes += size;
    if (is_base) base_size_.store(size);
  }
  replayer.unshift_expiries();
  current_size_.store(sizes);
  log(LogLevel::kNotice, "DB loaded from append only file: {:.3f} seconds", (unix_time_ms() - start) / 1000.0);
  return true;
}

bool Aof::open_on_start() {
  std::lock_guard lock(mu_);
  const std::string dir = dir_path();
  if (!dir_exists(dir) && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    log(LogLevel::kWarning, "Can't open or create append-only dir {}: {}", appenddirname_, std::strerror(errno));
    return false;
  }
  bool rdb;
  {
    const Config& c = server_.config();
    std::lock_guard cl(c.string_mutex);
    rdb = c.aof_use_rdb_preamble;
  }
  // Starting with no AOF at all: a base file with the dataset (empty unless loaded).
  if (manifest_.empty()) {
    const std::string name = manifest_.add_new_base(appendfilename_, rdb);
    SnapshotTarget target;
    target.path = file_path(name);
    target.temp_path = dir + "/temp-rewriteaof-" + std::to_string(::getpid()) + ".aof";
    target.aof_base = true;
    target.commands = !rdb;
    target.rdb_bookkeeping = false;
    SnapshotResult r = save_snapshot_stopped(server_, target);
    if (!r.ok) {
      log(LogLevel::kWarning, "Can't create the AOF base file {}: {}", name, r.error);
      return false;
    }
    base_size_.store(r.bytes);
    current_size_.store(r.bytes);
    log(LogLevel::kNotice, "Creating AOF base file {} on server start", name);
  }
  const bool create = manifest_.incrs.empty();
  const std::string incr = create ? manifest_.add_new_incr(appendfilename_) : manifest_.incrs.back().name;
  const int fd = ::open(file_path(incr).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    log(LogLevel::kWarning, "Can't open the append-only file {}: {}", incr, std::strerror(errno));
    return false;
  }
  if (!persist_manifest_locked(nullptr)) {
    ::close(fd);
    return false;
  }
  log(LogLevel::kNotice, "{} AOF incr file {} on server start", create ? "Creating" : "Opening", incr);
  struct stat st {};
  const uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  state_.store(kOn);
  switch_file(fd, size);
  delete_history_locked();
  g_feeding.store(true);
  return true;
}

void Aof::start() {
  // History files left by a crash after a rewrite (also when the AOF is off).
  {
    std::lock_guard lock(mu_);
    delete_history_locked();
  }
  last_fsync_ms_.store(unix_time_ms());
  background_ = std::thread([this] { background_loop(); });
}

void Aof::shutdown() {
  {
    std::lock_guard lock(bg_mu_);
    stopping_ = true;
  }
  bg_cv_.notify_all();
  if (background_.joinable()) background_.join();
  for (auto& s : streams_)
    if (s->commands) write_stream(*s);
  std::lock_guard sync(sync_mu_);
  std::lock_guard lock(write_mu_);
  if (fd_ >= 0) {
    if (!failed_bytes_.empty()) {
      std::string pending;
      pending.swap(failed_bytes_);
      write_all(pending.data(), pending.size(), nullptr);
    }
    log(LogLevel::kNotice, "Calling fsync() on the AOF file.");
    ::fdatasync(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  g_feeding.store(false);
}

// ---- writing

bool Aof::write_all(const char* data, size_t n, std::string* error) {  // write_mu_ held
  const off_t before = static_cast<off_t>(incr_size_.load(std::memory_order_relaxed));
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd_, data + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (error) *error = std::strerror(errno);
      note_aof_write_result(errno);
      // Take back a partial write so that the file ends with a whole command.
      if (done > 0 && ::ftruncate(fd_, before) != 0) {
        log(LogLevel::kWarning, "Could not remove short write from the append-only file. ftruncate: {}",
            std::strerror(errno));
      }
      return false;
    }
    done += static_cast<size_t>(w);
  }
  incr_size_.fetch_add(n, std::memory_order_relaxed);
  current_size_.fetch_add(n, std::memory_order_relaxed);
  written_total_.fetch_add(n, std::memory_order_release);
  return true;
}

void Aof::write_stream(Stream& s) {
  if (s.commands == 0) return;
  {
    std::lock_guard lock(write_mu_);
    if (fd_ >= 0) {
      std::string prefix;
      if (timestamps_.load(std::memory_order_relaxed)) {
        const int64_t now_s = unix_time_ms() / 1000;
        if (now_s > last_timestamp_s_) {
          prefix += "#TS:" + std::to_string(now_s) + "\r\n";
          last_timestamp_s_ = now_s;
        }
      }
      if (file_db_ != s.first_db) aof_append_select(prefix, s.first_db);
      std::string error;
      bool ok = true;
      if (!failed_bytes_.empty()) {
        ok = write_all(failed_bytes_.data(), failed_bytes_.size(), &error);
        if (ok) failed_bytes_.clear();
      }
      if (ok) {
        if (!prefix.empty()) s.bytes.insert(0, prefix);
        ok = write_all(s.bytes.data(), s.bytes.size(), &error);
        if (!ok) failed_bytes_ += s.bytes;
      } else {
        failed_bytes_ += prefix;
        failed_bytes_ += s.bytes;
      }
      file_db_ = s.last_db;
      if (!ok) {
        if (last_write_ok_.exchange(false) || fsync_policy_.load() == 1)
          log(LogLevel::kWarning, "Error writing to the AOF file: {}", error);
        if (fsync_policy_.load() == 1) {
          log(LogLevel::kWarning,
              "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
          std::_Exit(1);
        }
      } else if (!last_write_ok_.exchange(true)) {
        note_aof_write_result(0);
        log(LogLevel::kWarning, "AOF write error looks solved, Redis can write again.");
      }
    }
  }
  s.clear();
}

void Aof::write_effects(const AofEffects& effects) {
  if (effects.empty()) return;
  Stream s;
  s.append_unit(effects);
  write_stream(s);
}

void Aof::fsync_now(uint64_t target) {
  // Group commit: a caller whose bytes an fsync that ran meanwhile covered is done.
  if (synced_total_.load(std::memory_order_acquire) >= target) return;
  std::lock_guard sync(sync_mu_);
  if (synced_total_.load(std::memory_order_acquire) >= target) return;
  int fd;
  uint64_t upto;
  {
    std::lock_guard lock(write_mu_);
    fd = fd_;
    upto = written_total_.load(std::memory_order_acquire);
  }
  if (fd < 0 || synced_total_.load(std::memory_order_acquire) >= upto) return;
  fsync_in_progress_.store(true);
  if (::fdatasync(fd) != 0)
    log(LogLevel::kWarning, "Can't persist the AOF file: fdatasync: {}", std::strerror(errno));
  fsync_in_progress_.store(false);
  synced_total_.store(upto, std::memory_order_release);
  last_fsync_ms_.store(unix_time_ms());
}

bool Aof::reply_ready(ShardThread& thread, std::function<void()>& retry) {
  Stream& s = thread_stream(thread.index());
  if (s.commands) write_stream(s);
  if (t_replies_synced || fsync_policy_.load(std::memory_order_relaxed) != 1 ||
      !g_feeding.load(std::memory_order_relaxed) ||
      synced_total_.load(std::memory_order_acquire) >= written_total_.load(std::memory_order_acquire))
    return true;
  s.waiting.push_back(std::move(retry));
  if (!s.sync_scheduled) {
    s.sync_scheduled = true;
    // Runs after what is already queued on the thread: the commands read
    // meanwhile are covered by the same fsync.
    ShardThread* t = &thread;
    thread.post([this, t] {
      Stream& st = thread_stream(t->index());
      st.sync_scheduled = false;
      if (st.commands) write_stream(st);
      fsync_now(written_total_.load(std::memory_order_acquire));
      std::vector<std::function<void()>> released;
      released.swap(st.waiting);
      t_replies_synced = true;
      for (auto& f : released) f();
      t_replies_synced = false;
    });
  }
  return false;
}

void Aof::sync_all_written() {
  if (fsync_policy_.load(std::memory_order_relaxed) != 1 || !g_feeding.load(std::memory_order_relaxed)) return;
  fsync_now(written_total_.load(std::memory_order_acquire));
}

void Aof::switch_file(int fd, uint64_t size) {
  std::lock_guard sync(sync_mu_);
  std::lock_guard lock(write_mu_);
  if (fd_ >= 0) {
    if (!failed_bytes_.empty()) {  // commands before the switch belong to the old file
      std::string pending;
      pending.swap(failed_bytes_);
      write_all(pending.data(), pending.size(), nullptr);
    }
    if (fsync_policy_.load() != 2) ::fdatasync(fd_);
    ::close(fd_);
  }
  failed_bytes_.clear();
  fd_ = fd;
  file_db_ = -1;
  last_timestamp_s_ = 0;
  incr_size_.store(size);
  synced_total_.store(written_total_.load());
}

void Aof::close_file() {
  g_feeding.store(false);
  std::lock_guard sync(sync_mu_);
  std::lock_guard lock(write_mu_);
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  failed_bytes_.clear();
  synced_total_.store(written_total_.load());
}

// ---- rewrites

Aof::RewriteStart Aof::request_rewrite(ShardThread& home, std::function<void()> started, std::string* error) {
  if (rewrite_in_progress_.load()) return RewriteStart::kInProgress;
  if (server_.persistence().snapshot_running.load()) {
    rewrite_scheduled_.store(true);
    rewrite_failures_.store(0);
    return RewriteStart::kScheduled;
  }
  if (!start_rewrite(home, std::move(started), error)) {
    if (server_.persistence().snapshot_running.load() && !rewrite_in_progress_.load()) {
      rewrite_scheduled_.store(true);
      return RewriteStart::kScheduled;
    }
    return RewriteStart::kError;
  }
  return RewriteStart::kStarted;
}

Aof::RewriteStart Aof::schedule_rewrite() {
  if (rewrite_in_progress_.load()) return RewriteStart::kInProgress;
  rewrite_scheduled_.store(true);
  rewrite_failures_.store(0);
  return RewriteStart::kScheduled;
}

bool Aof::start_rewrite(ShardThread& home, std::function<void()> started, std::string* error) {
  bool expected = false;
  if (!rewrite_in_progress_.compare_exchange_strong(expected, true)) {
    if (error) *error = "Background append only file rewriting already in progress";
    return false;
  }
  const Config& config = server_.config();
  bool rdb;
  std::string root;
  {
    std::lock_guard cl(config.string_mutex);
    rdb = config.aof_use_rdb_preamble;
    root = config.dir.empty() ? "." : config.dir;
  }
  std::string base_name;
  {
    std::lock_guard lock(mu_);
    base_name = persistence::aof_base_name(appendfilename_, manifest_.curr_base_seq + 1, rdb);
  }
  const std::string dir = dir_path();
  if (!dir_exists(dir) && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::string e = fmt::format("Can't open or create append-only dir {}: {}", appenddirname_, std::strerror(errno));
    log(LogLevel::kWarning, "{}", e);
    if (error) *error = e;
    rewrite_in_progress_.store(false);
    return false;
  }
  const std::string temp_base = "temp-rewriteaof-bg-" + std::to_string(::getpid()) + ".aof";
  SnapshotTarget target;
  target.path = dir + "/" + base_name;
  target.temp_path = root + "/" + temp_base;
  target.aof_base = true;
  target.commands = !rdb;
  target.rdb_bookkeeping = false;
  struct Shared {
    std::string temp_incr;  // set at the instant when the AOF is being enabled
    bool instant_failed = false;
  };
  auto shared = std::make_shared<Shared>();
  ShardThread* h = &home;
  target.at_instant = [this, h, shared] {
    // The commands pending on this thread were executed before the instant.
    aof_flush_thread(*h);
    const int st = state_.load();
    if (st == kOn) {
      std::lock_guard lock(mu_);
      const std::string name = manifest_.add_new_incr(appendfilename_);
      const int fd = ::open(file_path(name).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) {
        log(LogLevel::kWarning, "Can't open the append-only file {}: {}", name, std::strerror(errno));
        manifest_.incrs.pop_back();
        --manifest_.curr_incr_seq;
        shared->instant_failed = true;
        return;
      }
      persist_manifest_locked(nullptr);
      switch_file(fd, 0);
      log(LogLevel::kNotice, "Creating AOF incr file {} on background rewrite", name);
    } else if (st == kWaitRewrite) {
      const std::string name = persistence::aof_temp_incr_name(appendfilename_);
      const int fd = ::open(file_path(name).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) {
        log(LogLevel::kWarning, "Can't open the append-only file {}: {}", name, std::strerror(errno));
        shared->instant_failed = true;
        return;
      }
      switch_file(fd, 0);
      shared->temp_incr = name;
      g_feeding.store(true);
      log(LogLevel::kNotice, "Creating AOF incr file {} on background rewrite", name);
    }
  };
  const int started_state = state_.load();
  const int64_t started_ms = unix_time_ms();
  rewrite_started_ms_.store(started_ms);
  rewrites_.fetch_add(1);
  auto done = [this, base_name, shared, started_state, started_ms](const SnapshotResult& r) {
    const bool ok = r.ok && !shared->instant_failed;
    const std::string err = r.ok ? "can't open the new incremental file" : r.error;
    rewrite_done(ok, err, base_name, started_state == kWaitRewrite, shared->temp_incr, started_ms, r.bytes);
  };
  log(LogLevel::kNotice, "Background append only file rewriting started");
  if (!start_snapshot(server_, home, std::move(target), started ? std::move(started) : [] {}, std::move(done))) {
    rewrite_in_progress_.store(false);
    rewrites_.fetch_sub(1);
    if (error) *error = "Another background operation is in progress";
    return false;
  }
  return true;
}

void Aof::rewrite_done(bool ok, const std::string& error, const std::string& base_name, bool was_wait_rewrite,
                       const std::string& temp_incr, int64_t started_ms, uint64_t base_bytes) {
  const int st = state_.load();
  last_rewrite_time_s_.store((unix_time_ms() - started_ms) / 1000);
  // Turned off meanwhile: Redis kills the rewrite; its files are dropped.
  const bool discarded = st == kOff && (was_wait_rewrite || !temp_incr.empty());
  if (!ok || discarded) {
    if (!ok) {
      log(LogLevel::kWarning, "Background AOF rewrite terminated with error: {}", error);
      last_rewrite_ok_.store(false);
      rewrite_failures_.fetch_add(1);
      last_failed_rewrite_ms_.store(unix_time_ms());
    }
    if (ok) ::unlink(file_path(base_name).c_str());
    if (!temp_incr.empty() && st == kOff) ::unlink(file_path(temp_incr).c_str());
    if (st == kWaitRewrite) rewrite_scheduled_.store(true);  // try again (cron waits a little)
    rewrite_in_progress_.store(false);
    return;
  }
  {
    std::lock_guard lock(mu_);
    const bool rdb = base_name.size() > 4 && base_name.compare(base_name.size() - 4, 4, ".rdb") == 0;
    const std::string& name = manifest_.add_new_base(appendfilename_, rdb);
    if (name != base_name) log(LogLevel::kWarning, "AOF base file name mismatch: {} / {}", name, base_name);
    log(LogLevel::kNotice, "Background AOF rewrite terminated with success");
    log(LogLevel::kNotice, "Successfully renamed the temporary AOF base file temp-rewriteaof-bg-{}.aof into {}",
        ::getpid(), base_name);
    if (!temp_incr.empty() && st == kWaitRewrite) {
      const std::string incr = manifest_.add_new_incr(appendfilename_);
      if (std::rename(file_path(temp_incr).c_str(), file_path(incr).c_str()) != 0) {
        log(LogLevel::kWarning, "Error trying to rename the temporary AOF incr file {} into {}: {}", temp_incr, incr,
            std::strerror(errno));
        manifest_.incrs.pop_back();
        --manifest_.curr_incr_seq;
      } else {
        log(LogLevel::kNotice, "Successfully renamed the temporary AOF incr file {} into {}", temp_incr, incr);
        state_.store(kOn);
      }
    }
    manifest_.mark_rewritten_incrs_as_history(state_.load() == kOn);
    persist_manifest_locked(nullptr);
    delete_history_locked();
  }
  base_size_.store(base_bytes);
  current_size_.store(base_bytes + (state_.load() == kOn ? incr_size_.load() : 0));
  last_rewrite_ok_.store(true);
  rewrite_failures_.store(0);
  rewrite_in_progress_.store(false);
  log(LogLevel::kNotice, "Background AOF rewrite finished successfully");
}

void Aof::cron() {
  if (rewrite_in_progress_.load() || server_.persistence().snapshot_running.load()) return;
  const int st = state_.load();
  const int64_t now = unix_time_ms();
  const bool retry_wait = now - last_failed_rewrite_ms_.load() >= 5000;
  if (rewrite_scheduled_.load() && (retry_wait || st != kWaitRewrite)) {
    rewrite_scheduled_.store(false);
    std::string error;
    if (st == kWaitRewrite || st == kOn || st == kOff) start_rewrite(server_.shard(0), nullptr, &error);
    return;
  }
  if (st != kOn || !retry_wait) return;
  const Config& c = server_.config();
  const int64_t perc = c.auto_aof_rewrite_percentage.load(std::memory_order_relaxed);
  const int64_t min_size = c.auto_aof_rewrite_min_size.load(std::memory_order_relaxed);
  const int64_t current = static_cast<int64_t>(current_size_.load());
  if (perc <= 0 || current <= min_size) return;
  const int64_t base = std::max<int64_t>(1, static_cast<int64_t>(base_size_.load()));
  const int64_t growth = current * 100 / base - 100;
  if (growth < perc) return;
  log(LogLevel::kNotice, "Starting automatic rewriting of AOF on {}% growth", growth);
  std::string error;
  start_rewrite(server_.shard(0), nullptr, &error);
}

void Aof::background_loop() {
  std::unique_lock lock(bg_mu_);
  int64_t last_cron = 0;
  while (!stopping_) {
    bg_cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (stopping_) break;
    lock.unlock();
    const int64_t now = unix_time_ms();
    const int st = state_.load();
    // appendfsync everysec: at most a second of writes is not on disk.
    if (st != kOff && fsync_policy_.load() == 0 &&
        synced_total_.load(std::memory_order_acquire) < written_total_.load(std::memory_order_acquire) &&
        now - last_fsync_ms_.load() >= 1000)
      fsync_now(written_total_.load(std::memory_order_acquire));
    // A write that failed is retried once a second.
    {
      std::lock_guard w(write_mu_);
      if (!failed_bytes_.empty() && fd_ >= 0 && now - last_cron >= 1000) {
        std::string error;
        if (write_all(failed_bytes_.data(), failed_bytes_.size(), &error)) {
          failed_bytes_.clear();
          if (!last_write_ok_.exchange(true)) {
            note_aof_write_result(0);
            log(LogLevel::kWarning, "AOF write error looks solved, Redis can write again.");
          }
        }
      }
    }
    // Rewrites to start (scheduled ones, the automatic one): on shard 0's thread.
    if (now - last_cron >= 100 && !server_.shutting_down()) {
      last_cron = now;
      bool wanted = rewrite_scheduled_.load();
      if (!wanted && st == kOn) {
        const Config& c = server_.config();
        const int64_t perc = c.auto_aof_rewrite_percentage.load(std::memory_order_relaxed);
        const int64_t current = static_cast<int64_t>(current_size_.load());
        wanted = perc > 0 && current > c.auto_aof_rewrite_min_size.load(std::memory_order_relaxed) &&
                 current * 100 / std::max<int64_t>(1, static_cast<int64_t>(base_size_.load())) - 100 >= perc;
      }
      if (wanted && !rewrite_in_progress_.load() && !server_.persistence().snapshot_running.load())
        server_.shard(0).post([this] { cron(); });
    }
    lock.lock();
  }
}

void Aof::on_config_set(std::string_view name) {
  const Config& c = server_.config();  // its string mutex is held by CONFIG SET
  if (name == "appendfsync") {
    fsync_policy_.store(fsync_policy_of(c.appendfsync));
  } else if (name == "aof-timestamp-enabled") {
    timestamps_.store(c.aof_timestamp_enabled);
  } else if (name == "appendonly") {
    if (c.appendonly && state_.load() == kOff) {
      state_.store(kWaitRewrite);
      ShardThread* current = ShardThread::current();
      ShardThread& home = current ? *current : server_.shard(0);
      home.post([this, &home] {
        if (state_.load() != kWaitRewrite || rewrite_in_progress_.load()) {
          if (state_.load() == kWaitRewrite) rewrite_scheduled_.store(true);
          return;
        }
        if (server_.persistence().snapshot_running.load()) {
          rewrite_scheduled_.store(true);
          log(LogLevel::kWarning,
              "AOF was enabled but there is already another background operation. An AOF background was "
              "scheduled to start when possible.");
          return;
        }
        std::string error;
        if (!start_rewrite(home, nullptr, &error)) {
          state_.store(kOff);
          log(LogLevel::kWarning,
              "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above "
              "logs for more info about the error.");
        }
      });
    } else if (!c.appendonly && state_.load() != kOff) {
      state_.store(kOff);
      note_aof_write_result(0);  // no log, nothing to refuse writes for
      rewrite_scheduled_.store(false);
      close_file();
    }
  }
}

uint64_t Aof::buffered_bytes() {
  std::lock_guard lock(write_mu_);
  return failed_bytes_.empty() ? 0 : failed_bytes_.capacity();
}

void Aof::info(std::string& out) const {
  const int st = state_.load();
  const bool rewriting = rewrite_in_progress_.load();
  fmt::format_to(std::back_inserter(out),
                 "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\n"
                 "aof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\n"
                 "aof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\n"
                 "aof_last_write_status:{}\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\n"
                 "module_fork_last_cow_size:0\r\n",
                 st != kOff ? 1 : 0, rewriting ? 1 : 0, rewrite_scheduled_.load() ? 1 : 0,
                 last_rewrite_time_s_.load(),
                 rewriting ? (unix_time_ms() - rewrite_started_ms_.load()) / 1000 : -1,
                 last_rewrite_ok_.load() ? "ok" : "err", rewrites_.load(), rewrite_failures_.load(),
                 last_write_ok_.load() ? "ok" : "err");
  if (st != kOff)
    fmt::format_to(std::back_inserter(out),
                   "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:0\r\n"
                   "aof_pending_bio_fsync:{}\r\naof_delayed_fsync:0\r\n",
                   current_size_.load(), base_size_.load(), rewrite_scheduled_.load() ? 1 : 0,
                   fsync_in_progress_.load() ? 1 : 0);
}

}  // namespace distcache::server
