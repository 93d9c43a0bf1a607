// RDB serialization (persistence/rdb_writer.h, rdb_reader.h), DUMP payloads
// (persistence/dump_payload.h) and the DUMP / RESTORE commands.
//
// Payload hex strings marked "redis-server 7.0.15" were captured from the
// real server (DUMP after the commands shown); the payloads of the older
// encodings (ziplist, zipmap, linked list, quicklist of ziplists, text
// scores, stream v1) are built here byte by byte following the RDB format.
// tests/data/rdb/all-types-7.0.15.rdb.bin is a file redis-server 7.0.15
// SAVEd (see make_all_types_fixture.py next to it), with the manifest of
// its content next to it.
//
// Two tests are driven by tests/integration/test_dump_restore.py through
// environment variables (without them they check themselves):
//   [rdb-file-writer]  DISTCACHE_RDB_OUT_DIR: writes written.rdb and
//                      written.manifest there (redis-check-rdb and
//                      redis-server then load the file);
//   [rdb-file-loader]  DISTCACHE_RDB_IN, DISTCACHE_RDB_MANIFEST_OUT: loads
//                      an RDB file and writes the manifest of its content.
// A manifest has one line per key: db, hex key, type, encoding, expire ms
// (-1: none) and the content (tab separated; see manifest_line()), plus
// "F <hex code>" per function library; lines are sorted.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/crc64.h"
#include "persistence/dump_payload.h"
#include "persistence/rdb_format.h"
#include "persistence/rdb_reader.h"
#include "persistence/rdb_writer.h"
#include "server/command_table.h"
#include "storage/hash_value.h"
#include "storage/list.h"
#include "storage/set_value.h"
#include "storage/stream_value.h"
#include "storage/zset_value.h"
#include "tests/unit/command_test_util.h"

namespace persistence = distcache::persistence;
namespace rdb = distcache::persistence::rdb;
namespace server = distcache::server;
namespace storage = distcache::storage;
using distcache::test::CommandRunner;
using storage::Value;
using storage::ValueType;

namespace {

// ---------------------------------------------------------------------------
// helpers

std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

std::string le(uint64_t v, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}
std::string be(uint64_t v, size_t n) {
  std::string s;
  for (size_t i = n; i-- > 0;) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

std::string fmt_score(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

// The content of a value in the manifest form shared with the integration test.
std::string manifest_content(const Value& v) {
  std::string out;
  auto join = [&](std::vector<std::string>& parts, bool sort, const char* sep = ",") {
    if (sort) std::sort(parts.begin(), parts.end());
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) out += sep;
      out += parts[i];
    }
  };
  std::vector<std::string> parts;
  switch (v.type()) {
    case ValueType::kString: return hex(v.str());
    case ValueType::kList: {
      const auto& l = v.as<storage::List>();
      char buf[storage::kInt64StrSize];
      if (!l.empty())
        for (auto c = l.cursor(0); c.valid(); c.next()) parts.push_back(hex(c.entry().view(buf)));
      join(parts, false);
      return out;
    }
    case ValueType::kSet:
      v.as<storage::SetValue>().for_each([&](std::string_view m) { parts.push_back(hex(m)); });
      join(parts, true);
      return out;
    case ValueType::kZSet:
      v.as<storage::ZSetValue>().walk(0, false, [&](std::string_view m, double s) {
        parts.push_back(hex(m) + ":" + fmt_score(s));
      });
      join(parts, false);
      return out;
    case ValueType::kHash:
      v.as<storage::HashValue>().for_each(
          [&](std::string_view f, std::string_view val) { parts.push_back(hex(f) + "=" + hex(val)); });
      join(parts, true);
      return out;
    case ValueType::kStream: {
      const auto& s = v.as<storage::StreamValue>();
      out = "len=" + std::to_string(s.length()) + ";last=" + s.last_id().to_string() +
            ";first=" + s.first_id().to_string() + ";maxdel=" + s.max_deleted_id().to_string() +
            ";added=" + std::to_string(s.entries_added()) + ";entries=";
      storage::StreamValue::Iterator it(s, storage::StreamID::min(), storage::StreamID::max(), false);
      storage::StreamID id;
      bool first = true;
      while (it.next(id)) {
        if (!first) out += ",";
        first = false;
        out += id.to_string() + ":";
        bool f1 = true;
        for (const auto& [f, val] : it.fields()) {
          if (!f1) out += "|";
          f1 = false;
          out += hex(f) + "=" + hex(val);
        }
      }
      out += ";groups=";
      if (s.groups()) {
        bool g1 = true;
        for (const auto& [name, g] : *s.groups()) {
          if (!g1) out += ",";
          g1 = false;
          out += hex(name) + ":" + g.last_id.to_string() + ":" + std::to_string(g.entries_read) + ":";
          bool p1 = true;
          for (const auto& [pid, nack] : g.pel) {
            if (!p1) out += "|";
            p1 = false;
            out += pid.to_string() + "/" + std::to_string(nack.delivery_time) + "/" +
                   std::to_string(nack.delivery_count) + "/" + hex(nack.consumer ? nack.consumer->name : "");
          }
          out += ":";
          bool c1 = true;
          for (const auto& [cname, c] : g.consumers) {
            if (!c1) out += "|";
            c1 = false;
            out += hex(cname) + "/" + std::to_string(c.seen_time) + "/" + std::to_string(c.pel.size());
          }
        }
      }
      return out;
    }
  }
  return out;
}

std::string manifest_line(uint64_t db, std::string_view key, const Value& v, int64_t expire_ms) {
  return std::to_string(db) + "\t" + hex(key) + "\t" + std::string(storage::type_name(v.type())) + "\t" +
         std::string(v.encoding_name()) + "\t" + std::to_string(expire_ms) + "\t" + manifest_content(v);
}

// Structural invariants of the value's representation ("" when fine).
std::string validate(const Value& v) {
  switch (v.type()) {
    case ValueType::kList: return v.as<storage::List>().validate();
    case ValueType::kSet: return v.as<storage::SetValue>().validate();
    case ValueType::kZSet: return v.as<storage::ZSetValue>().validate();
    case ValueType::kHash: return v.as<storage::HashValue>().validate();
    default: return "";
  }
}

std::vector<CommandRunner::Family> runner_families() {
  return {server::string_command_specs, server::key_command_specs,    server::list_command_specs,
          server::hash_command_specs,   server::set_command_specs,    server::zset_command_specs,
          server::stream_command_specs, server::hyperloglog_command_specs, server::dump_command_specs};
}

CommandRunner runner() { return CommandRunner(runner_families()); }

void run_all(CommandRunner& r, const std::vector<std::vector<std::string>>& cmds) {
  for (const auto& c : cmds) {
    const std::string reply = r.run(c);
    INFO("command: " << c[0] << " " << (c.size() > 1 ? c[1] : ""));
    REQUIRE(reply.substr(0, 1) != "-");
  }
}

std::vector<std::string> seq(const std::string& cmd, const std::string& key, int n,
                             const std::function<std::vector<std::string>(int)>& item) {
  std::vector<std::string> out{cmd, key};
  for (int i = 0; i < n; ++i)
    for (auto& s : item(i)) out.push_back(s);
  return out;
}

// Keys of every type and encoding, both sides of the default thresholds.
std::vector<std::vector<std::string>> dataset() {
  std::vector<std::vector<std::string>> c = {
      {"SET", "str:short", "hello"},
      {"SET", "str:int", "12345"},
      {"SET", "str:int8", "-100"},
      {"SET", "str:int32", "2147483647"},
      {"SET", "str:int33", "2147483648"},
      {"SET", "str:notint", "007"},
      {"SET", "str:empty", ""},
      {"SET", "str:raw", std::string(45, 'r')},
      {"SET", "str:lzf", std::string(3000, 'z')},
      {"SET", "str:lzf21", std::string(21, 'a')},
      {"SET", "str:binary", std::string("\0\1\2\xff\xfe", 5)},
      {"PFADD", "hll:sparse", "a", "b", "c"},
      {"RPUSH", "list:small", "a", "b", "1", "300", "-5000", "100000", "-100000000", "12345678901234",
       std::string(70, 'x')},
      {"RPUSH", "list:ints", "0", "127", "128", "-1", "4095", "-4096", "4096", "32767", "-32768", "32768", "8388607",
       "-8388608", "8388608", "2147483647", "-2147483648", "2147483648", "9223372036854775807",
       "-9223372036854775808"},
      {"RPUSH", "list:bigelem", "a", std::string(20000, 'y'), "b"},
      {"SADD", "set:int16", "1", "2", "-7"},
      {"SADD", "set:int32", "1", "70000"},
      {"SADD", "set:int64", "1", "1099511627776"},
      {"SADD", "set:strings", "apple", "banana", "cherry"},
      {"ZADD", "zset:lp", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e", "0.1", "f", "1e20", "g",
       "9007199254740992", "h", "1.5e-7", "j"},
      {"ZADD", "zset:member64", "1", std::string(64, 'm'), "2", "n"},
      {"ZADD", "zset:member65", "1", std::string(65, 'm'), "2", "n"},
      {"HSET", "hash:lp", "f", "v", "n", "5", "neg", "-300", "big", "10000000000", "e", ""},
      {"HSET", "hash:value64", "f", std::string(64, 'v')},
      {"HSET", "hash:value65", "f", std::string(65, 'v')},
      {"XADD", "stream:simple", "1-1", "a", "1", "b", "2"},
      {"XADD", "stream:simple", "1-2", "a", "3", "b", "4"},
      {"XADD", "stream:simple", "2-0", "c", "5"},
      {"XDEL", "stream:simple", "1-2"},
      {"XGROUP", "CREATE", "stream:onlygroup", "g", "$", "MKSTREAM"},
  };
  c.push_back(seq("RPUSH", "list:nodes", 3000, [](int i) { return std::vector<std::string>{"element-" + std::to_string(i)}; }));
  c.push_back(seq("LPUSH", "list:lpushed", 1000, [](int i) { return std::vector<std::string>{std::to_string(i)}; }));
  c.push_back(seq("SADD", "set:intset512", 512, [](int i) { return std::vector<std::string>{std::to_string(i * 3)}; }));
  c.push_back(seq("SADD", "set:ht513", 513, [](int i) { return std::vector<std::string>{std::to_string(i * 3)}; }));
  c.push_back(seq("ZADD", "zset:lp128", 128, [](int i) {
    return std::vector<std::string>{std::to_string(i), "m" + std::to_string(i)};
  }));
  c.push_back(seq("ZADD", "zset:sl129", 129, [](int i) {
    return std::vector<std::string>{std::to_string(i * 0.5), "m" + std::to_string(i)};
  }));
  c.push_back(seq("HSET", "hash:lp512", 512, [](int i) {
    return std::vector<std::string>{"f" + std::to_string(i), "v" + std::to_string(i)};
  }));
  c.push_back(seq("HSET", "hash:ht513", 513, [](int i) {
    return std::vector<std::string>{"f" + std::to_string(i), "v" + std::to_string(i)};
  }));
  c.push_back(seq("PFADD", "hll:dense", 3000, [](int i) { return std::vector<std::string>{"e" + std::to_string(i)}; }));
  for (int i = 1; i <= 300; ++i) {
    if (i % 25 == 0)
      c.push_back({"XADD", "stream:groups", std::to_string(i) + "-0", "other", "shape"});
    else
      c.push_back({"XADD", "stream:groups", std::to_string(i) + "-" + std::to_string(i % 3), "a", std::to_string(i), "b",
                   std::string(static_cast<size_t>(i % 7), 'v')});
  }
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"XDEL", "stream:groups", "5-2", "7-1", "150-0", "300-0"},
           {"XGROUP", "CREATE", "stream:groups", "readers", "0"},
           {"XGROUP", "CREATE", "stream:groups", "late", "$"},
           {"XGROUP", "CREATE", "stream:groups", "pinned", "100-0", "ENTRIESREAD", "90"},
           {"XREADGROUP", "GROUP", "readers", "alice", "COUNT", "5", "STREAMS", "stream:groups", ">"},
           {"XREADGROUP", "GROUP", "readers", "bob", "COUNT", "3", "STREAMS", "stream:groups", ">"},
           {"XGROUP", "CREATECONSUMER", "stream:groups", "readers", "dave"},
           {"XACK", "stream:groups", "readers", "1-1"},
           {"XTRIM", "stream:groups", "MAXLEN", "250"},
           {"XSETID", "stream:groups", "1000-5", "ENTRIESADDED", "400", "MAXDELETEDID", "999-0"}})
    c.push_back(cmd);
  return c;
}

// A runner holding the dataset (CommandRunner cannot be moved: build in place).
struct DatasetRunner : CommandRunner {
  DatasetRunner() : CommandRunner(runner_families()) { run_all(*this, dataset()); }
};

std::vector<std::string> keys_of(storage::Db& db, int64_t now) {
  std::vector<std::string> keys;
  db.for_each(now, [&](std::string_view k, const Value&) { keys.emplace_back(k); });
  std::sort(keys.begin(), keys.end());
  return keys;
}

bool is_hashtable(const Value& v) { return v.encoding_name() == "hashtable"; }

// Collects what a file load hands over, as sorted manifest lines.
struct ManifestLoader : persistence::RdbLoadHandler {
  std::vector<std::string> lines;
  std::map<std::string, std::string> aux;
  std::vector<std::pair<uint64_t, uint64_t>> resizes;
  std::vector<persistence::RdbKeyInfo> infos;
  std::string bad;
  void on_aux(std::string_view f, std::string_view v) override { aux[std::string(f)] = std::string(v); }
  void on_resize_db(uint64_t keys, uint64_t expires) override { resizes.emplace_back(keys, expires); }
  bool on_key(std::string&& key, Value&& v, const persistence::RdbKeyInfo& info, std::string*) override {
    const std::string problem = validate(v);
    if (!problem.empty()) bad += key + ": " + problem + "\n";
    lines.push_back(manifest_line(info.db, key, v, info.expire_ms));
    infos.push_back(info);
    return true;
  }
  bool on_function(std::string&& code, std::string*) override {
    lines.push_back("F\t" + hex(code));
    return true;
  }
  std::vector<std::string> sorted() const {
    auto l = lines;
    std::sort(l.begin(), l.end());
    return l;
  }
};

// Compares two sorted manifests, reporting the lines that differ (truncated).
void check_same_lines(const std::vector<std::string>& got, const std::vector<std::string>& expected) {
  std::vector<std::string> extra, missing;
  std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(extra));
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
  for (const auto& l : extra) FAIL_CHECK("unexpected line: " << l.substr(0, 400));
  for (const auto& l : missing) FAIL_CHECK("missing line:    " << l.substr(0, 400));
  CHECK(got.size() == expected.size());
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) out.push_back(line);
  std::sort(out.begin(), out.end());
  return out;
}

// The fixture manifest replaces contents longer than 200 characters by
// "crc64:<hex>:<length>" (see make_all_types_fixture.py).
std::string digest(const std::string& line) {
  const size_t tab = line.rfind('\t');
  if (tab == std::string::npos || line.size() - tab - 1 <= 200) return line;
  const std::string_view body = std::string_view(line).substr(tab + 1);
  char buf[64];
  std::snprintf(buf, sizeof buf, "crc64:%016llx:%zu",
                static_cast<unsigned long long>(persistence::crc64(0, body.data(), body.size())), body.size());
  return line.substr(0, tab + 1) + buf;
}

std::vector<std::string> digested(std::vector<std::string> lines) {
  for (auto& l : lines) l = digest(l);
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string data_dir() {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "data" / "rdb").string();
}

std::string make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "distcache-rdb-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

// A DUMP payload around `body` (type byte + value).
std::string make_payload(const std::string& body, uint16_t version = 10) {
  std::string p = body + le(version, 2);
  return p + le(persistence::crc64(0, p.data(), p.size()), 8);
}

// --- hand-built encodings of older Redis versions

std::string rlen(uint64_t n) {
  if (n < 64) return std::string(1, static_cast<char>(n));
  if (n < 16384) return std::string{static_cast<char>(0x40 | (n >> 8)), static_cast<char>(n & 0xff)};
  return "\x80" + be(n, 4);
}
std::string rstr(std::string_view s) { return rlen(s.size()) + std::string(s); }

struct ZlItem {
  bool is_int = false;
  int64_t v = 0;
  std::string s;
  ZlItem(int i) : is_int(true), v(i) {}      // NOLINT
  ZlItem(int64_t i) : is_int(true), v(i) {}  // NOLINT
  ZlItem(const char* c) : s(c) {}            // NOLINT
  ZlItem(std::string c) : s(std::move(c)) {}  // NOLINT
};

std::string ziplist(const std::vector<ZlItem>& items) {
  std::string body;
  size_t prev = 0, tail = 10;
  for (const ZlItem& it : items) {
    std::string e = prev < 254 ? std::string(1, static_cast<char>(prev)) : "\xfe" + le(prev, 4);
    if (it.is_int) {
      const int64_t v = it.v;
      if (v >= 0 && v <= 12) e += static_cast<char>(0xF1 + v);
      else if (v >= -128 && v <= 127) e += "\xfe" + le(static_cast<uint64_t>(v), 1);
      else if (v >= -32768 && v <= 32767) e += "\xc0" + le(static_cast<uint64_t>(v), 2);
      else if (v >= -(1 << 23) && v < (1 << 23)) e += "\xf0" + le(static_cast<uint64_t>(v), 3);
      else if (v >= INT32_MIN && v <= INT32_MAX) e += "\xd0" + le(static_cast<uint64_t>(v), 4);
      else e += "\xe0" + le(static_cast<uint64_t>(v), 8);
    } else {
      const size_t n = it.s.size();
      if (n < 64) e += static_cast<char>(n);
      else if (n < 16384) e += std::string{static_cast<char>(0x40 | (n >> 8)), static_cast<char>(n & 0xff)};
      else e += "\x80" + be(n, 4);
      e += it.s;
    }
    tail = 10 + body.size();
    body += e;
    prev = e.size();
  }
  return le(10 + body.size() + 1, 4) + le(tail, 4) + le(std::min<size_t>(items.size(), 65535), 2) + body + "\xff";
}

std::string zipmap(const std::vector<std::pair<std::string, std::string>>& pairs) {
  auto zl = [](size_t n) { return n < 254 ? std::string(1, static_cast<char>(n)) : "\xfe" + le(n, 4); };
  std::string out(1, static_cast<char>(std::min<size_t>(pairs.size(), 254)));
  for (const auto& [f, v] : pairs) out += zl(f.size()) + f + zl(v.size()) + std::string(1, '\0') + v;
  return out + "\xff";
}

std::string listpack(const std::vector<ZlItem>& items) {
  std::string body;
  for (const ZlItem& it : items) {
    std::string e;
    if (it.is_int) {
      const int64_t v = it.v;
      if (v >= 0 && v <= 127) e = std::string(1, static_cast<char>(v));
      else if (v >= -4096 && v <= 4095) {
        const uint64_t u = static_cast<uint64_t>(v) & 0x1fff;
        e = {static_cast<char>(0xC0 | (u >> 8)), static_cast<char>(u & 0xff)};
      } else if (v >= -32768 && v <= 32767) e = "\xf1" + le(static_cast<uint64_t>(v), 2);
      else if (v >= -(1 << 23) && v < (1 << 23)) e = "\xf2" + le(static_cast<uint64_t>(v), 3);
      else if (v >= INT32_MIN && v <= INT32_MAX) e = "\xf3" + le(static_cast<uint64_t>(v), 4);
      else e = "\xf4" + le(static_cast<uint64_t>(v), 8);
    } else {
      const size_t n = it.s.size();
      if (n < 64) e = std::string(1, static_cast<char>(0x80 | n));
      else if (n < 4096) e = {static_cast<char>(0xE0 | (n >> 8)), static_cast<char>(n & 0xff)};
      else e = "\xf0" + le(n, 4);
      e += it.s;
    }
    const size_t l = e.size();
    const size_t bl = rdb::listpack::backlen_size(l);
    for (size_t i = 0; i < bl; ++i)
      e += static_cast<char>(((l >> (7 * (bl - 1 - i))) & 127) | (i == 0 ? 0 : 128));
    body += e;
  }
  return le(6 + body.size() + 1, 4) + le(std::min<size_t>(items.size(), 65535), 2) + body + "\xff";
}

std::string stream_id_raw(uint64_t ms, uint64_t seq) { return be(ms, 8) + be(seq, 8); }

Value must_restore(const std::string& payload, const persistence::RdbValueLimits& limits = {}) {
  std::string err;
  auto v = persistence::restore_value(payload, &err, limits);
  INFO("restore error: " << err);
  REQUIRE(v.has_value());
  REQUIRE(validate(*v).empty());
  return std::move(*v);
}

std::string content_of(const Value& v) { return manifest_content(v); }

}  // namespace

// ---------------------------------------------------------------------------
// Primitives

TEST_CASE("RDB lengths and string encodings", "[rdb]") {
  std::string out;
  persistence::StringSink sink(out);
  persistence::RdbWriter w(sink);
  auto bytes = [&](auto&& fn) {
    out.clear();
    fn();
    w.flush();
    return hex(out);
  };
  CHECK(bytes([&] { w.write_len(0); }) == "00");
  CHECK(bytes([&] { w.write_len(63); }) == "3f");
  CHECK(bytes([&] { w.write_len(64); }) == "4040");
  CHECK(bytes([&] { w.write_len(16383); }) == "7fff");
  CHECK(bytes([&] { w.write_len(16384); }) == "8000004000");
  CHECK(bytes([&] { w.write_len(UINT32_MAX); }) == "80ffffffff");
  CHECK(bytes([&] { w.write_len(uint64_t{1} << 32); }) == "810000000100000000");
  CHECK(bytes([&] { w.write_string("12345"); }) == "c13930");
  CHECK(bytes([&] { w.write_string("-100"); }) == "c09c");
  CHECK(bytes([&] { w.write_string("2147483647"); }) == "c2ffffff7f");
  CHECK(bytes([&] { w.write_string("2147483648"); }) == "0a" + hex("2147483648"));
  CHECK(bytes([&] { w.write_string("007"); }) == "03303037");
  CHECK(bytes([&] { w.write_string(""); }) == "00");
  // "abcdefgh" * 8 as redis-server 7.0.15 writes it.
  CHECK(bytes([&] { w.write_string("abcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefgh"); }) ==
        "c310404008616263646566676861e02c07016768");
  // Not compressible enough: raw.
  CHECK(bytes([&] { w.write_string("abcdefghijklmnopqrstu"); }) == "15" + hex("abcdefghijklmnopqrstu"));

  // Without compression.
  std::string out2;
  persistence::StringSink sink2(out2);
  persistence::RdbWriter w2(sink2, {.compression = false});
  w2.write_string(std::string(100, 'a'));
  w2.flush();
  CHECK(hex(out2.substr(0, 2)) == "4064");

  // Each form reads back.
  for (std::string s : {std::string("12345"), std::string("-100"), std::string("2147483648"), std::string(""),
                        std::string(5000, 'q'), std::string("\0\1\2", 3)}) {
    out.clear();
    w.write_string(s);
    w.flush();
    Value v;
    REQUIRE(persistence::decode_rdb_object(rdb::kTypeString, out, {}, v) == persistence::RdbValueStatus::kOk);
    CHECK(v.str() == s);
  }
}

// ---------------------------------------------------------------------------
// Payloads of the real server

TEST_CASE("RDB: DUMP payloads of redis-server 7.0.15 restore, and ours are identical", "[rdb]") {
  struct Case {
    const char* name;
    const char* encoding;
    const char* hex;
  };
  // redis-server 7.0.15: DUMP k after the commands in the comments.
  const Case cases[] = {
      {"string", "embstr", "000568656c6c6f0a006372df766534200a"},  // SET k hello
      {"int", "int", "00c139300a009d94ea2793fc08b9"},              // SET k 12345
      {"int64", "int", "0013393232333337323033363835343737353830370a003a657e9481e85f22"},
      {"lzf", "raw", "00c310404008616263646566676861e02c070167680a000d57ec8682d61b8a"},  // SET k abcdefgh*8
      // RPUSH k a b 1 300 -5000 100000 -100000000 12345678901234 x*70
      {"list", "quicklist",
       "120102c33540741f7400000009008161028162020101c12c02f178ec03f2a0860104f3001f0afa0506f4f22fce733a0b202402e04678e"
       "03c000148ff0a0013f89a4bc3e31e6a"},
      {"intset16", "intset", "0b100200000004000000f9ff0100020003000a003bfa4a3923b1fa84"},  // SADD k 1 2 3 -7
      {"intset64", "intset", "0bc31218040800000002200300012003c000200b00000a00329e8b7bf1a33c7b"},  // SADD k 1 2^32
      {"set", "hashtable", "0203066368657272790662616e616e61056170706c650a003dedb605211292d9"},
      // ZADD k 1 a 2.5 b -3 c inf d -inf e 0.1 f 1e20 g
      {"zset_lp", "listpack",
       "11c34044404d1c4d0000000e00816502842d696e6605816302dffd0281660293302e3130e005001c3114816102010181620283322e3504"
       "8167028531652b32300681640283203c0104ff0a00522c0051a8ca40b4"},
      // ZADD k 1 m*70 2 b 3.5 c
      {"zset_sl", "skiplist",
       "050301630000000000000c4001620000000000000040c3094046016d6de03900016d6d000000000000f03f0a00b2baf55b6ad6dc81"},
      // HSET k f v n 5 neg -300 big 10000000000
      {"hash_lp", "listpack",
       "1029290000000800816602817602816e020501836e656704ded4028362696704f400e40b540200000009ff0a003cc1e88dfc11c418"},
      {"hash_ht", "hashtable", "04010166c3094046017676e039000176760a00f21bfa0a02f2749c"},  // HSET k f v*70
      // XADD k 1-1 a 1 b 2; XADD k 1-2 a 3 b 4; XADD k 2-0 c 5; XDEL k 1-2
      {"stream", "stream",
       "13011000000000000000010000000000000001c3383d123d000000190002010101020181610281620200200900002001401102050103"
       "600902030104200b401301dfff202b0781630205010601ff0202000101010203000a006b6afa8faf590be2"},
      // XADD k 5-1 f v; XADD k 5-2 f w; XADD k 6-0 f x; XGROUP CREATE k g1 0; XGROUP CREATE k g2 $ ENTRIESREAD 3
      {"stream_groups", "stream",
       "130110000000000000000500000000000000013434000000140003010001010181660200010201000100018176020401020100010101"
       "817702040102010101dfff028178020401ff030600050100000302026731000081ffffffffffffffff000002673206000300000a000e"
       "30c097f711acaa"},
      // A restored string's encoding follows its content ("raw" PFADD strings become "embstr").
      {"hll", "embstr",
       "002148594c4c0100000000000000000000805c7b8044768050b184498c80426d80425a0a00471edbd9f013d59b"},  // PFADD k a..e
  };
  for (const Case& c : cases) {
    INFO("case " << c.name);
    const std::string payload = unhex(c.hex);
    REQUIRE(persistence::verify_dump_payload(payload));
    Value v = must_restore(payload);
    CHECK(v.encoding_name() == c.encoding);
    if (std::string_view(c.encoding) != "hashtable") CHECK(hex(persistence::dump_value(v)) == c.hex);
  }

  // Contents.
  CHECK(must_restore(unhex(cases[0].hex)).str() == "hello");
  CHECK(must_restore(unhex(cases[2].hex)).str() == "9223372036854775807");
  CHECK(must_restore(unhex(cases[3].hex)).str() ==
        "abcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefgh");
  CHECK(content_of(must_restore(unhex(cases[4].hex))) ==
        hex("a") + "," + hex("b") + "," + hex("1") + "," + hex("300") + "," + hex("-5000") + "," + hex("100000") +
            "," + hex("-100000000") + "," + hex("12345678901234") + "," + hex(std::string(70, 'x')));
  CHECK(content_of(must_restore(unhex(cases[8].hex))) ==
        hex("e") + ":-inf," + hex("c") + ":-3," + hex("f") + ":0.10000000000000001," + hex("a") + ":1," + hex("b") +
            ":2.5," + hex("g") + ":1e+20," + hex("d") + ":inf");
  const Value groups = must_restore(unhex(cases[13].hex));
  const auto& s = groups.as<storage::StreamValue>();
  CHECK(s.length() == 3);
  CHECK(s.group_count() == 2);
  CHECK(s.groups()->at("g1").entries_read == -1);
  CHECK(s.groups()->at("g2").entries_read == 3);
  CHECK(s.groups()->at("g2").last_id == storage::StreamID{6, 0});
}

// ---------------------------------------------------------------------------
// Round trips

TEST_CASE("RDB: every type and encoding survives DUMP and RESTORE", "[rdb]") {
  DatasetRunner r;
  size_t n = 0;
  for (const std::string& key : keys_of(r.db(), r.now_ms)) {
    INFO("key " << key);
    const Value* v = r.db().find(key, r.now_ms);
    REQUIRE(v);
    const std::string payload = persistence::dump_value(*v);
    Value back = must_restore(payload);
    CHECK(back.type() == v->type());
    // Strings modified in place ("raw" whatever their length, as HLLs) are
    // re-encoded by their content when loaded, as Redis does.
    if (!v->raw_flag()) CHECK(back.encoding_name() == v->encoding_name());
    CHECK(content_of(back) == content_of(*v));
    if (!is_hashtable(*v)) CHECK(hex(persistence::dump_value(back)) == hex(payload));
    // Without compression too.
    Value plain = must_restore(persistence::dump_value(*v, false));
    CHECK(content_of(plain) == content_of(*v));
    ++n;
  }
  CHECK(n > 30);
  // The threshold pairs have the encodings Redis gives them.
  auto enc = [&](const char* key) { return std::string(r.db().find(key, r.now_ms)->encoding_name()); };
  CHECK(enc("set:intset512") == "intset");
  CHECK(enc("set:ht513") == "hashtable");
  CHECK(enc("zset:lp128") == "listpack");
  CHECK(enc("zset:sl129") == "skiplist");
  CHECK(enc("zset:member64") == "listpack");
  CHECK(enc("zset:member65") == "skiplist");
  CHECK(enc("hash:lp512") == "listpack");
  CHECK(enc("hash:ht513") == "hashtable");
  CHECK(enc("hash:value64") == "listpack");
  CHECK(enc("hash:value65") == "hashtable");
}

TEST_CASE("RDB: restored values follow the configured thresholds", "[rdb]") {
  DatasetRunner r;
  persistence::RdbValueLimits small;
  small.hash = {4, 8};
  small.zset = {5, 6};
  small.set_max_intset_entries = 10;
  small.list_fill = 5;
  auto restored_enc = [&](const char* key) {
    return std::string(must_restore(persistence::dump_value(*r.db().find(key, r.now_ms)), small).encoding_name());
  };
  // Listpack blobs convert on their entry count only.
  CHECK(restored_enc("hash:lp") == "hashtable");          // 5 entries > 4
  CHECK(restored_enc("hash:value64") == "listpack");      // 1 entry, a 64-byte value
  CHECK(restored_enc("zset:member64") == "listpack");
  CHECK(restored_enc("zset:lp") == "skiplist");            // 9 > 5
  CHECK(restored_enc("set:int16") == "intset");            // 3 <= 10
  CHECK(restored_enc("set:intset512") == "hashtable");
  // HASH / ZSET_2 / SET become compact when everything fits.
  CHECK(restored_enc("hash:value65") == "hashtable");      // 65 > 8
  CHECK(restored_enc("zset:member65") == "skiplist");
  CHECK(restored_enc("set:strings") == "hashtable");
  persistence::RdbValueLimits big;
  big.hash = {1000, 100};
  big.zset = {1000, 100};
  big.set_max_intset_entries = 1000;
  auto restored_big = [&](const char* key) {
    return std::string(must_restore(persistence::dump_value(*r.db().find(key, r.now_ms)), big).encoding_name());
  };
  CHECK(restored_big("hash:ht513") == "listpack");
  CHECK(restored_big("hash:value65") == "listpack");
  CHECK(restored_big("zset:sl129") == "listpack");
  CHECK(restored_big("zset:member65") == "listpack");
  CHECK(restored_big("set:ht513") == "intset");
  // A list keeps its elements whatever the node size.
  const Value* nodes = r.db().find("list:nodes", r.now_ms);
  Value l = must_restore(persistence::dump_value(*nodes), small);
  CHECK(l.as<storage::List>().node_count() == 600);
  CHECK(content_of(l) == content_of(*nodes));
}

TEST_CASE("RDB: encodings of older Redis versions", "[rdb]") {
  SECTION("linked list (LIST)") {
    Value v = must_restore(make_payload("\x01" + rlen(3) + rstr("a") + rstr("bb") + "\xc0\x05"));
    CHECK(content_of(v) == hex("a") + "," + hex("bb") + "," + hex("5"));
    CHECK(v.encoding_name() == "quicklist");
  }
  SECTION("ziplist list (LIST_ZIPLIST)") {
    const std::string big(20000, 'y');
    Value v = must_restore(make_payload(
        "\x0a" + rstr(ziplist({"a", 5, 1000, std::string(300, 'x'), -(int64_t{1} << 40), big, 12, -128, 127,
                                int64_t{1} << 20, INT32_MIN}))));
    CHECK(content_of(v) == hex("a") + "," + hex("5") + "," + hex("1000") + "," + hex(std::string(300, 'x')) + "," +
                               hex("-1099511627776") + "," + hex(big) + "," + hex("12") + "," + hex("-128") + "," +
                               hex("127") + "," + hex("1048576") + "," + hex("-2147483648"));
  }
  SECTION("quicklist of ziplists (LIST_QUICKLIST), an empty node skipped") {
    Value v = must_restore(
        make_payload("\x0e" + rlen(3) + rstr(ziplist({"a", "b"})) + rstr(ziplist({})) + rstr(ziplist({7}))));
    CHECK(content_of(v) == hex("a") + "," + hex("b") + "," + hex("7"));
  }
  SECTION("quicklist 2 with a plain node") {
    Value v = must_restore(
        make_payload("\x12" + rlen(2) + rlen(1) + rstr("plain element") + rlen(2) + rstr(listpack({"a", 1}))));
    CHECK(content_of(v) == hex("plain element") + "," + hex("a") + "," + hex("1"));
  }
  SECTION("zipmap hash (HASH_ZIPMAP)") {
    Value v = must_restore(make_payload("\x09" + rstr(zipmap({{"a", "1"}, {"b", "2"}, {"", ""}}))));
    CHECK(v.encoding_name() == "listpack");
    CHECK(content_of(v) == hex("a") + "=" + hex("1") + "," + hex("b") + "=" + hex("2") + ",=");
    // A long value converts (zipmaps check lengths too).
    Value big = must_restore(make_payload("\x09" + rstr(zipmap({{"a", "1"}, {"b", std::string(300, 'x')}}))));
    CHECK(big.encoding_name() == "hashtable");
  }
  SECTION("ziplist hash (HASH_ZIPLIST) stays compact with a long value") {
    Value v = must_restore(
        make_payload("\x0d" + rstr(ziplist({"f", 5, "g", -100000, "h", int64_t{1} << 40, "long", std::string(100, 'v')}))));
    CHECK(v.encoding_name() == "listpack");
    CHECK(v.as<storage::HashValue>().get("h") == "1099511627776");
    CHECK(v.as<storage::HashValue>().get("g") == "-100000");
  }
  SECTION("ziplist sorted set (ZSET_ZIPLIST)") {
    Value v = must_restore(make_payload("\x0c" + rstr(ziplist({"c", -7, "a", 1, "b", "2.5", "d", "inf"}))));
    CHECK(v.encoding_name() == "listpack");
    CHECK(content_of(v) == hex("c") + ":-7," + hex("a") + ":1," + hex("b") + ":2.5," + hex("d") + ":inf");
  }
  SECTION("sorted set with text scores (ZSET)") {
    Value v = must_restore(
        make_payload("\x03" + rlen(3) + rstr("a") + "\x03" "1.5" + rstr("b") + "\xfe" + rstr("c") + "\xff"));
    CHECK(content_of(v) == hex("c") + ":-inf," + hex("a") + ":1.5," + hex("b") + ":inf");
    std::string err;
    CHECK_FALSE(persistence::restore_value(make_payload("\x03" + rlen(1) + rstr("a") + "\xfd"), &err));  // NaN
  }
  SECTION("stream, version 1 format") {
    const std::string lp = listpack({2, 1, 1, "f", 0, 2, 0, 0, "v1", 4, 3, 0, 1, "v2", 4, 0, 1, 0, 2, "g", "x", "h",
                                     "y", 8});
    const std::string body = "\x0f" + rlen(1) + rstr(stream_id_raw(1, 1)) + rstr(lp) + rlen(2) + rlen(2) + rlen(1) +
                             rlen(1) + rstr("grp") + rlen(1) + rlen(1) + rlen(1) + stream_id_raw(1, 1) +
                             le(1700000000000, 8) + rlen(3) + rlen(1) + rstr("cons") + le(1700000000500, 8) + rlen(1) +
                             stream_id_raw(1, 1);
    Value v = must_restore(make_payload(body));
    const auto& s = v.as<storage::StreamValue>();
    CHECK(s.length() == 2);
    CHECK(s.entries_added() == 2);
    CHECK(s.first_id() == storage::StreamID{1, 1});
    CHECK(s.last_id() == storage::StreamID{2, 1});
    CHECK(content_of(v) == "len=2;last=2-1;first=1-1;maxdel=0-0;added=2;entries=1-1:" + hex("f") + "=" + hex("v1") +
                               ",2-1:" + hex("g") + "=" + hex("x") + "|" + hex("h") + "=" + hex("y") +
                               ";groups=" + hex("grp") + ":1-1:1:1-1/1700000000000/3/" + hex("cons") + ":" +
                               hex("cons") + "/1700000000500/1");
    // Written back in the current format and read again.
    Value again = must_restore(persistence::dump_value(v));
    CHECK(content_of(again) == content_of(v));
    CHECK(persistence::dump_value(v)[0] == static_cast<char>(rdb::kTypeStreamListpacks2));
  }
  SECTION("an intset wider than needed") {
    Value v = must_restore(make_payload("\x0b" + rstr(le(8, 4) + le(2, 4) + le(3, 8) + le(5, 8))));
    CHECK(v.encoding_name() == "intset");
    CHECK(content_of(v) == hex("3") + "," + hex("5"));
  }
}

// ---------------------------------------------------------------------------
// Robustness

TEST_CASE("RDB: invalid payloads are rejected", "[rdb]") {
  auto rejected = [](const std::string& body) {
    std::string err;
    persistence::RestoreError kind;
    const bool ok = persistence::restore_value(make_payload(body), &err, {}, &kind).has_value();
    INFO("error: " << err);
    return !ok && kind == persistence::RestoreError::kBadData;
  };
  CHECK(rejected(""));
  CHECK(rejected(std::string(1, '\0')));  // a string without its length
  CHECK(rejected(std::string("\x02\x00", 2)));  // empty set
  CHECK(rejected(std::string("\x12\x00", 2)));  // empty list
  CHECK(rejected(std::string("\x07\x00", 2)));  // module
  CHECK(rejected(std::string("\x08\x00", 2)));  // no such type
  CHECK(rejected(std::string("\x14\x00", 2)));  // Redis 7.2's SET_LISTPACK
  CHECK(rejected(std::string("\x00\xc3\x05\x10", 4) + "abcde"));  // bad LZF
  CHECK(rejected(std::string("\x00\xc3\x01\x7f\xff\xff\xff", 7)));  // LZF ratio impossible
  CHECK(rejected(std::string("\x00\x85", 2)));  // unknown length encoding
  {
    // A valid LZF stream whose declared length is wrong, either way.
    std::string out;
    persistence::StringSink sink(out);
    persistence::RdbWriter w(sink);
    w.write_string(std::string(200, 'k'));
    w.flush();
    REQUIRE(static_cast<uint8_t>(out[0]) == 0xC3);
    const std::string lzf = out.substr(4);  // c3, clen (1 byte), len (2 bytes: 0x40c8)
    CHECK(rejected(std::string("\x00\xc3", 2) + out.substr(1, 1) + rlen(199) + lzf));
    CHECK(rejected(std::string("\x00\xc3", 2) + out.substr(1, 1) + rlen(201) + lzf));
    CHECK(rejected(std::string("\x00\xc3", 2) + out.substr(1, 1) + rlen(17000) + lzf));
    CHECK_FALSE(rejected(std::string("\x00\xc3", 2) + out.substr(1, 1) + rlen(200) + lzf));
  }
  CHECK(rejected("\x02" + rlen(2) + rstr("a") + rstr("a")));  // duplicate set member
  CHECK(rejected("\x04" + rlen(2) + rstr("a") + rstr("1") + rstr("a") + rstr("2")));  // duplicate field
  CHECK(rejected("\x05" + rlen(1) + rstr("m") + le(0x7ff8000000000000ULL, 8)));        // NaN score
  CHECK(rejected("\x10" + rstr(listpack({"a", "b", "c"}))));                           // odd hash
  CHECK(rejected("\x11" + rstr(listpack({"a", 1, "a", 2}))));                          // duplicate member
  CHECK(rejected("\x11" + rstr(listpack({"a", "notanumber"}))));                       // bad score
  CHECK(rejected("\x0b" + rstr(le(2, 4) + le(0, 4))));                                 // empty intset
  CHECK(rejected("\x0b" + rstr(le(2, 4) + le(2, 4) + le(5, 2) + le(3, 2))));           // unsorted intset
  CHECK(rejected("\x0b" + rstr(le(3, 4) + le(1, 4) + "abc")));                         // bad width
  {
    std::string lp = listpack({"a", "b"});
    lp[4] = 7;  // wrong count
    CHECK(rejected("\x10" + rstr(lp)));
    lp = listpack({"a", "b"});
    lp[lp.size() - 2] = 9;  // wrong back-length
    CHECK(rejected("\x10" + rstr(lp)));
    lp = listpack({"a", "b"});
    lp[0] = static_cast<char>(lp[0] + 1);  // wrong total
    CHECK(rejected("\x10" + rstr(lp + "x")));
  }
  {
    std::string zl = ziplist({"a", "b"});
    zl[4] = 0;  // wrong tail
    CHECK(rejected("\x0a" + rstr(zl)));
    zl = ziplist({"a", "b"});
    zl[13] = 5;  // wrong prevlen of the second entry
    CHECK(rejected("\x0a" + rstr(zl)));
  }
  CHECK(rejected("\x09" + rstr("\x05" + zipmap({{"a", "1"}}).substr(1))));  // zipmap count
  // Streams: empty node, bad node key, entries out of order, length mismatch.
  CHECK(rejected("\x13" + rlen(1) + rstr(stream_id_raw(1, 1)) + rstr(listpack({})) + std::string(9, '\0')));
  CHECK(rejected("\x13" + rlen(1) + rstr("short") + rstr(listpack({1, 0, 1, "f", 0, 2, 0, 0, "v", 4})) +
                 std::string(9, '\0')));
  const std::string node = rstr(stream_id_raw(5, 0)) + rstr(listpack({2, 0, 1, "f", 0, 2, 0, 0, "v", 4, 2, 0, 0, "w", 4}));
  CHECK(rejected("\x13" + rlen(1) + node + rlen(2) + rlen(5) + rlen(0) + std::string(6, '\0')));  // duplicate ID
  const std::string node2 = rstr(stream_id_raw(5, 0)) + rstr(listpack({1, 0, 1, "f", 0, 2, 0, 0, "v", 4}));
  CHECK(rejected("\x13" + rlen(1) + node2 + rlen(3) + rlen(5) + rlen(0) + std::string(6, '\0')));  // length 3 != 1
  CHECK(rejected("\x13" + rlen(1) + node2 + rlen(1) + rlen(4) + rlen(0) + std::string(6, '\0')));  // last ID too low
  // A consumer owning an entry missing from the group PEL.
  CHECK(rejected("\x13" + rlen(1) + node2 + rlen(1) + rlen(5) + rlen(0) + std::string(5, '\0') + rlen(1) + rstr("g") +
                 rlen(5) + rlen(0) + rlen(1) + rlen(0) + rlen(1) + rstr("c") + le(0, 8) + rlen(1) +
                 stream_id_raw(5, 0)));
  // Wrong checksum / version: the other error.
  std::string good = persistence::dump_value(Value::string("x"));
  persistence::RestoreError kind;
  std::string bad = good;
  bad.back() ^= 1;
  CHECK_FALSE(persistence::restore_value(bad, nullptr, {}, &kind));
  CHECK(kind == persistence::RestoreError::kBadPayload);
  CHECK_FALSE(persistence::restore_value(make_payload(good.substr(0, good.size() - 10), 11), nullptr, {}, &kind));
  CHECK(kind == persistence::RestoreError::kBadPayload);
  CHECK(persistence::restore_value(make_payload(good.substr(0, good.size() - 10), 1)));
  CHECK_FALSE(persistence::restore_value("short", nullptr, {}, &kind));
  CHECK(kind == persistence::RestoreError::kBadPayload);
}

TEST_CASE("RDB: truncated and mutated payloads never crash", "[rdb]") {
  DatasetRunner r;
  std::vector<std::string> bodies;
  for (const std::string& key : keys_of(r.db(), r.now_ms)) {
    std::string p = persistence::dump_value(*r.db().find(key, r.now_ms), false);
    if (p.size() < 6000) bodies.push_back(p.substr(0, p.size() - 10));
  }
  bodies.push_back("\x0a" + rstr(ziplist({"a", 5, 1000, std::string(70, 'x'), -(int64_t{1} << 40)})));
  bodies.push_back("\x09" + rstr(zipmap({{"a", "1"}, {"bb", "22"}})));
  bodies.push_back("\x0e" + rlen(2) + rstr(ziplist({"a", "b"})) + rstr(ziplist({7, 8})));
  bodies.push_back("\x0c" + rstr(ziplist({"c", -7, "a", 1})));
  uint64_t rng = 12345;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  // DISTCACHE_RDB_FUZZ_ROUNDS raises the mutations per payload (e.g. under ASan).
  const char* rounds_env = std::getenv("DISTCACHE_RDB_FUZZ_ROUNDS");
  const int rounds = rounds_env ? std::atoi(rounds_env) : 150;
  size_t accepted = 0, rejected = 0;
  for (const std::string& body : bodies) {
    auto attempt = [&](const std::string& b) {
      auto v = persistence::restore_value(make_payload(b));
      if (!v) {
        ++rejected;
        return;
      }
      ++accepted;
      REQUIRE(validate(*v).empty());
      (void)persistence::dump_value(*v);  // whatever was accepted can be written again
    };
    for (size_t len = 0; len < body.size(); len += 1 + body.size() / 200) attempt(body.substr(0, len));
    for (int i = 0; i < rounds; ++i) {
      std::string m = body;
      const int flips = 1 + static_cast<int>(next() % 3);
      for (int f = 0; f < flips; ++f) m[next() % m.size()] = static_cast<char>(next());
      attempt(m);
    }
  }
  CHECK(rejected > 0);
  CHECK(accepted > 0);
}

// ---------------------------------------------------------------------------
// DUMP / RESTORE commands

TEST_CASE("DUMP and RESTORE commands", "[rdb]") {
  CommandRunner r = runner();
  CHECK(r.run("DUMP nokey") == "$-1\r\n");
  r.run("RPUSH src a b c");
  const std::string dump_reply = r.run("DUMP src");
  REQUIRE(dump_reply[0] == '$');
  const std::string payload = dump_reply.substr(dump_reply.find("\r\n") + 2, dump_reply.size() - dump_reply.find("\r\n") - 4);
  auto restore = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "RESTORE");
    return r.run(args);
  };
  // Errors, in Redis's order (captured from redis-server 7.0.15).
  CHECK(restore({"src", "0", payload}) == "-BUSYKEY Target key name already exists.\r\n");
  CHECK(restore({"src", "x", "bad", "foo"}) == "-ERR syntax error\r\n");
  CHECK(restore({"src", "x", "bad"}) == "-BUSYKEY Target key name already exists.\r\n");
  CHECK(restore({"n", "x", "bad"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(restore({"n", "-1", "bad"}) == "-ERR Invalid TTL value, must be >= 0\r\n");
  CHECK(restore({"n", "1", "bad"}) == "-ERR DUMP payload version or checksum are wrong\r\n");
  CHECK(restore({"n", "0", payload, "IDLETIME", "-1"}) == "-ERR Invalid IDLETIME value, must be >= 0\r\n");
  CHECK(restore({"n", "0", payload, "IDLETIME", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(restore({"n", "0", payload, "IDLETIME"}) == "-ERR syntax error\r\n");
  CHECK(restore({"n", "0", payload, "FREQ", "256"}) == "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n");
  CHECK(restore({"n", "0", payload, "FREQ", "1", "IDLETIME", "5"}) == "-ERR syntax error\r\n");
  CHECK(restore({"n", "0", payload, "IDLETIME", "1", "FREQ", "5"}) == "-ERR syntax error\r\n");
  CHECK(restore({"n", "0", make_payload(std::string("\x02\x00", 2))}) == "-ERR Bad data format\r\n");
  CHECK(restore({"n", "0", payload, "FREQ", "1", "FREQ", "5"}) == "+OK\r\n");
  CHECK(r.run("LRANGE n 0 -1") == "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
  // TTLs.
  CHECK(restore({"t1", "5000", payload}) == "+OK\r\n");
  CHECK(r.run("PTTL t1") == ":5000\r\n");
  CHECK(restore({"t2", std::to_string(r.now_ms + 9000), payload, "ABSTTL"}) == "+OK\r\n");
  CHECK(r.run("PTTL t2") == ":9000\r\n");
  CHECK(restore({"t3", std::to_string(r.now_ms), payload, "ABSTTL"}) == "+OK\r\n");
  CHECK(r.run("EXISTS t3") == ":0\r\n");
  CHECK(restore({"t1", "1", payload, "ABSTTL", "REPLACE"}) == "+OK\r\n");
  CHECK(r.run("EXISTS t1") == ":0\r\n");
  CHECK(restore({"t4", "9223372036854775807", payload}) == "+OK\r\n");
  CHECK(r.run("EXISTS t4") == ":0\r\n");
  // REPLACE over another type; RESTORE-ASKING is the same command.
  r.run("SET other x");
  CHECK(restore({"other", "0", payload, "REPLACE"}) == "+OK\r\n");
  CHECK(r.run("TYPE other") == "+list\r\n");
  CHECK(r.run(std::vector<std::string>{"RESTORE-ASKING", "asked", "0", payload}) == "+OK\r\n");
  CHECK(r.run("LLEN asked") == ":3\r\n");
}

TEST_CASE("RESTORE signals the restored key as ready", "[rdb]") {
  CommandRunner r = runner();
  r.run("RPUSH src a");
  r.run("SET str v");
  const Value* list = r.db().find("src", r.now_ms);
  const std::string lp = persistence::dump_value(*list);
  const std::string sp = persistence::dump_value(*r.db().find("str", r.now_ms));
  std::vector<std::string> ready;
  for (const auto& [key, payload] : {std::pair{std::string("l2"), lp}, std::pair{std::string("s2"), sp}}) {
    distcache::protocol::ArgList args;
    for (std::string_view a : {std::string_view("RESTORE"), std::string_view(key), std::string_view("0"),
                               std::string_view(payload)})
      args.add(a);
    std::string out;
    distcache::protocol::ReplyBuilder reply(&out, 2);
    server::CommandContext ctx{args, reply, r.dbs, 0, r.now_ms, r.config};
    ctx.ready_keys = &ready;
    r.find_top("restore")->keyed(ctx);
    CHECK(out == "+OK\r\n");
  }
  CHECK(ready == std::vector<std::string>{"l2"});
}

// ---------------------------------------------------------------------------
// Whole files

namespace {

// Writes the dataset (database 0), a few keys with TTLs in databases 3 and
// 15, and a function library; returns the manifest of the written keys.
std::vector<std::string> write_dataset_file(persistence::RdbSink& sink, persistence::RdbWriterOptions opts,
                                            int64_t now_ms) {
  DatasetRunner r;
  r.now_ms = now_ms;
  r.db_index = 3;
  run_all(r, {{"SET", "db3:ttl", "v", "PX", "3600000"}, {"RPUSH", "db3:list", "a", "b"}, {"SET", "db3:plain", "p"}});
  r.db_index = 15;
  run_all(r, {{"HSET", "db15:hash", "f", "v"}, {"PEXPIRE", "db15:hash", "7200000"}});
  r.db_index = 0;

  persistence::RdbWriter w(sink, opts);
  w.write_header();
  w.write_standard_aux({.ctime = now_ms / 1000, .used_mem = 1234567, .aof_base = false});
  const std::string lib = "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)";
  w.write_function(lib);
  std::vector<std::string> manifest{"F\t" + hex(lib)};
  for (uint64_t db = 0; db < 16; ++db) {
    const storage::Db* part = &r.dbs.db(db);
    w.write_db(db, std::span<const storage::Db* const>(&part, 1), now_ms);
    part->for_each(now_ms, [&](std::string_view key, const Value& v) {
      // A string modified in place is "raw" until reloaded (then by content).
      const Value as_loaded = v.is_string() ? Value::string(v.str()) : Value();
      manifest.push_back(manifest_line(db, key, v.is_string() ? as_loaded : v, part->expire_at(key)));
    });
  }
  REQUIRE(w.finish());
  std::sort(manifest.begin(), manifest.end());
  return manifest;
}

int64_t wall_ms() { return static_cast<int64_t>(std::time(nullptr)) * 1000; }

}  // namespace

TEST_CASE("RDB files: written and loaded back", "[rdb]") {
  const int64_t now = wall_ms();
  for (bool compression : {true, false}) {
    for (bool checksum : {true, false}) {
      INFO("compression " << compression << " checksum " << checksum);
      std::string file;
      persistence::StringSink sink(file);
      const auto manifest = write_dataset_file(sink, {.compression = compression, .checksum = checksum}, now);
      CHECK(file.substr(0, 9) == "REDIS0010");
      if (!checksum) CHECK(file.substr(file.size() - 8) == std::string(8, '\0'));

      ManifestLoader loader;
      persistence::MemorySource src(file);
      const persistence::RdbLoadResult res = persistence::load_rdb(src, loader);
      INFO(res.error);
      REQUIRE(res.ok);
      CHECK(res.version == 10);
      CHECK(res.checksum_checked == checksum);
      CHECK(res.functions == 1);
      CHECK(res.bytes == file.size());
      CHECK(loader.bad.empty());
      check_same_lines(loader.sorted(), manifest);
      CHECK(loader.aux["redis-ver"] == "7.0.15");
      CHECK(loader.aux["redis-bits"] == "64");
      CHECK(loader.aux["used-mem"] == "1234567");
      CHECK(loader.aux["aof-base"] == "0");
      REQUIRE(loader.resizes.size() == 3);
      CHECK(loader.resizes[1] == std::pair<uint64_t, uint64_t>{3, 1});

      // The same through a file and the buffered reader (small buffer: many refills).
      const std::string dir = make_temp_dir();
      const std::string path = dir + "/dump.rdb";
      {
        persistence::FileSink fs;
        REQUIRE(fs.open(path));
        persistence::RdbWriterOptions o{.compression = compression, .checksum = checksum, .buffer_bytes = 1000};
        const auto m2 = write_dataset_file(fs, o, now);
        REQUIRE(fs.sync_and_close());
        CHECK(m2 == manifest);
      }
      CHECK(read_file(path) == file);
      ManifestLoader l2;
      persistence::RdbLoadOptions lo;
      lo.buffer_bytes = 1;  // rounded up to the minimum
      const auto r2 = persistence::load_rdb_file(path, l2, lo);
      INFO(r2.error);
      REQUIRE(r2.ok);
      check_same_lines(l2.sorted(), manifest);
      std::filesystem::remove_all(dir);
    }
  }
}

TEST_CASE("RDB files: damage is reported, never a crash", "[rdb]") {
  std::string file;
  persistence::StringSink sink(file);
  write_dataset_file(sink, {}, wall_ms());

  auto load = [](const std::string& data, persistence::RdbLoadOptions opts = {}) {
    ManifestLoader l;
    persistence::MemorySource src(data);
    return persistence::load_rdb(src, l, opts);
  };
  // A flipped byte in a string's bytes: only the checksum notices.
  std::string flipped = file;
  const size_t at = flipped.find("hello");
  REQUIRE(at != std::string::npos);
  flipped[at] = 'j';
  auto res = load(flipped);
  CHECK_FALSE(res.ok);
  CHECK(res.error.find("RDB checksum mismatch") == 0);
  persistence::RdbLoadOptions no_crc;
  no_crc.verify_checksum = false;
  CHECK(load(flipped, no_crc).ok);

  // Every truncation fails cleanly.
  for (size_t len = 0; len < file.size(); len += 1 + (len < 100 ? 0 : 211)) {
    auto r = load(file.substr(0, len));
    INFO("length " << len);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.error.empty());
  }
  // Random damage.
  uint64_t rng = 99;
  for (int i = 0; i < 300; ++i) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    std::string d = file;
    d[(rng >> 20) % d.size()] = static_cast<char>(rng >> 8);
    auto r = load(d, no_crc);
    if (!r.ok) CHECK_FALSE(r.error.empty());
  }

  CHECK(load("REDIS0011" + file.substr(9)).error == "Can't handle RDB format version 11");
  CHECK(load("REDIX0010" + file.substr(9)).error.find("Bad file format: wrong signature") == 0);
  CHECK(load(std::string("REDIS0010\xfe\x14\xff", 12) + std::string(8, '\0')).error.find("database index 20") !=
        std::string::npos);
  CHECK(load(std::string("REDIS0010\xf7\x00", 11)).error.find("module") != std::string::npos);
  CHECK(load(std::string("REDIS0010\xf6\x00", 11)).error.find("function") != std::string::npos);
  CHECK(load(std::string("REDIS0010\x08", 10)).error.find("unknown object type 8") != std::string::npos);
  CHECK(load("").error.find("unexpected end of file") != std::string::npos);
  CHECK(persistence::load_rdb_file("/nonexistent/dir/x.rdb", *std::make_unique<ManifestLoader>()).error.find(
            "Can't open") == 0);

  // A handler can stop the load.
  struct Refuser : ManifestLoader {
    bool on_key(std::string&& key, Value&&, const persistence::RdbKeyInfo&, std::string* error) override {
      *error = "no room for " + key;
      return false;
    }
  } refuser;
  persistence::MemorySource src(file);
  auto r = persistence::load_rdb(src, refuser);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("no room for ") == 0);
}

TEST_CASE("RDB files: old versions, opcodes and encodings", "[rdb]") {
  // Version 6 (checksummed since version 5) with EXPIRETIME in seconds,
  // IDLE and FREQ before keys, and old encodings.
  std::string body = "REDIS0006";
  body += "\xfa" + rstr("redis-ver") + rstr("3.2.0");
  body += std::string("\xfe\x00", 2);
  body += "\xfd" + le(2000000000, 4) + std::string("\x00", 1) + rstr("exp") + rstr("v");
  body += "\xf8" + rlen(120) + "\x0a" + rstr("zl") + rstr(ziplist({"a", 1}));
  body += "\xf9\x05" "\x09" + rstr("zm") + rstr(zipmap({{"f", "v"}}));
  body += "\xfe" + rlen(2) + "\x0d" + rstr("hz") + rstr(ziplist({"f", "v"}));
  body += "\xff";
  const std::string file = body + le(persistence::crc64(0, body.data(), body.size()), 8);
  ManifestLoader l;
  persistence::MemorySource src(file);
  auto res = persistence::load_rdb(src, l);
  INFO(res.error);
  REQUIRE(res.ok);
  CHECK(res.version == 6);
  CHECK(res.checksum_checked);
  REQUIRE(l.infos.size() == 4);
  CHECK(l.infos[0].expire_ms == 2000000000000);
  CHECK(l.infos[1].lru_idle_s == 120);
  CHECK(l.infos[1].lfu_freq == -1);
  CHECK(l.infos[2].lfu_freq == 5);
  CHECK(l.infos[2].lru_idle_s == -1);
  CHECK(l.infos[3].db == 2);
  CHECK(l.aux["redis-ver"] == "3.2.0");

  // Version 4: no checksum after EOF at all.
  std::string v4 = "REDIS0004" + std::string("\x00", 1) + rstr("k") + rstr("v") + "\xff";
  ManifestLoader l4;
  persistence::MemorySource s4(v4);
  auto r4 = persistence::load_rdb(s4, l4);
  REQUIRE(r4.ok);
  CHECK_FALSE(r4.checksum_checked);
  CHECK(l4.lines.size() == 1);

  // Empty collections are skipped (and counted), as Redis does.
  std::string e = "REDIS0010\x02" + rstr("emptyset") + rlen(0) + std::string(1, '\0') + rstr("k") + rstr("v") + "\xff";
  e += le(persistence::crc64(0, e.data(), e.size()), 8);
  ManifestLoader le_;
  persistence::MemorySource se(e);
  auto re = persistence::load_rdb(se, le_);
  REQUIRE(re.ok);
  CHECK(re.empty_keys_skipped == 1);
  CHECK(re.keys == 1);
}

TEST_CASE("RDB fixture saved by redis-server 7.0.15", "[rdb]") {
  const std::string dir = data_dir();
  const std::string path = dir + "/all-types-7.0.15.rdb.bin";
  REQUIRE(std::filesystem::exists(path));
  ManifestLoader l;
  const auto res = persistence::load_rdb_file(path, l);
  INFO(res.error);
  REQUIRE(res.ok);
  CHECK(res.checksum_checked);
  CHECK(l.bad.empty());
  CHECK(l.aux["redis-ver"] == "7.0.15");
  const auto expected = read_lines(dir + "/all-types-7.0.15.manifest");
  const auto got = digested(l.sorted());
  check_same_lines(got, expected);

  // Our own writer's file of the same content loads to the same content.
  std::string file;
  {
    persistence::StringSink sink(file);
    persistence::RdbWriter w(sink);
    w.write_header();
    w.write_standard_aux({});
    struct Rewriter : persistence::RdbLoadHandler {
      persistence::RdbWriter& w;
      uint64_t db = UINT64_MAX;
      explicit Rewriter(persistence::RdbWriter& writer) : w(writer) {}
      bool on_key(std::string&& key, Value&& v, const persistence::RdbKeyInfo& info, std::string*) override {
        if (info.db != db) w.write_select_db(db = info.db, 0, 0);
        w.write_key(key, v, info.expire_ms);
        return true;
      }
      bool on_function(std::string&& code, std::string*) override {
        w.write_function(code);
        return true;
      }
    } rewriter(w);
    REQUIRE(persistence::load_rdb_file(path, rewriter).ok);
    REQUIRE(w.finish());
  }
  ManifestLoader again;
  persistence::MemorySource src(file);
  REQUIRE(persistence::load_rdb(src, again).ok);
  check_same_lines(digested(again.sorted()), expected);
}

TEST_CASE("RDB file for redis-check-rdb and redis-server", "[rdb][rdb-file-writer]") {
  const char* env = std::getenv("DISTCACHE_RDB_OUT_DIR");
  const std::string dir = env ? env : make_temp_dir();
  const std::string path = dir + "/written.rdb";
  persistence::FileSink sink;
  REQUIRE(sink.open(path));
  // TTLs in the future of the wall clock: redis-server drops expired keys.
  const auto manifest = write_dataset_file(sink, {}, wall_ms());
  REQUIRE(sink.sync_and_close());
  {
    std::ofstream m(dir + "/written.manifest");
    for (const auto& line : manifest) m << line << "\n";
  }
  ManifestLoader l;
  const auto res = persistence::load_rdb_file(path, l);
  REQUIRE(res.ok);
  check_same_lines(l.sorted(), manifest);
  if (!env) std::filesystem::remove_all(dir);
}

TEST_CASE("RDB file loader: manifest of any file", "[rdb][rdb-file-loader]") {
  const char* in = std::getenv("DISTCACHE_RDB_IN");
  const std::string path = in ? in : data_dir() + "/all-types-7.0.15.rdb.bin";
  ManifestLoader l;
  const auto res = persistence::load_rdb_file(path, l);
  INFO(res.error);
  REQUIRE(res.ok);
  CHECK(l.bad.empty());
  if (const char* out = std::getenv("DISTCACHE_RDB_MANIFEST_OUT")) {
    std::ofstream m(out);
    for (const auto& line : l.sorted()) m << line << "\n";
  }
}
