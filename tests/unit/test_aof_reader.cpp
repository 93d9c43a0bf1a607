// Reading AOF files (persistence/aof_reader.h): commands, annotations,
// MULTI blocks, truncated tails and garbage, RDB preambles. The log texts
// and truncation offsets are those redis-server 7.0.15 prints and uses for
// the same files.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "persistence/aof_reader.h"
#include "persistence/rdb_writer.h"

using namespace distcache;
using namespace distcache::persistence;

namespace {

struct Collect : AofCommandHandler {
  std::vector<std::string> lines;  // commands joined by spaces
  std::string unknown;             // a command name to reject
  bool check(const protocol::ArgList& args, std::string* error) override {
    if (!unknown.empty() && args[0] == unknown) {
      *error = "Unknown command '" + unknown + "' reading the append only file x";
      return false;
    }
    return true;
  }
  bool execute(const protocol::ArgList& args, std::string* error) override {
    std::string s;
    for (size_t i = 0; i < args.size(); ++i) {
      if (i) s += ' ';
      s += args[i];
    }
    lines.push_back(s);
    return true;
  }
};

struct Keys : RdbLoadHandler {
  std::vector<std::string> keys;
  bool on_key(std::string&& key, storage::Value&& value, const RdbKeyInfo& info, std::string* error) override {
    keys.push_back(key + "=" + std::string(value.str()));
    return true;
  }
};

struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& content) {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("distcache-aofr-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".aof");
    std::ofstream out(path, std::ios::binary);
    out << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
  uint64_t size() const { return std::filesystem::file_size(path); }
};

std::string cmd(std::initializer_list<std::string_view> args) {
  std::string out;
  append_resp_command(out, args);
  return out;
}

struct Run {
  AofReadResult result;
  Collect commands;
  std::vector<std::string> log;
};

Run read(const TempFile& f, bool load_truncated = true, RdbLoadHandler* rdb = nullptr) {
  Run r;
  AofReadOptions o;
  o.load_truncated = load_truncated;
  o.log = [&r](bool, const std::string& text) { r.log.push_back(text); };
  r.result = read_aof_file(f.path.string(), "appendonly.aof.1.incr.aof", rdb, r.commands, o);
  return r;
}

}  // namespace

TEST_CASE("AOF reader: commands and annotations", "[aof]") {
  TempFile f(cmd({"SELECT", "0"}) + "#TS:1700000000\r\n" + cmd({"set", "a", "1"}) + cmd({"set", "b", std::string(3 << 20, 'x')}));
  Run r = read(f);
  CHECK(r.result.status == AofReadStatus::kOk);
  REQUIRE(r.commands.lines.size() == 3);
  CHECK(r.commands.lines[0] == "SELECT 0");
  CHECK(r.commands.lines[1] == "set a 1");
  CHECK(r.commands.lines[2].size() == 6 + (3u << 20));
  CHECK(r.result.size == f.size());
}

TEST_CASE("AOF reader: empty and missing files", "[aof]") {
  TempFile empty("");
  CHECK(read(empty).result.status == AofReadStatus::kEmpty);
  Collect c;
  CHECK(read_aof_file("/nonexistent/dir/x.aof", "x.aof", nullptr, c).status == AofReadStatus::kNotExist);
}

TEST_CASE("AOF reader: a truncated last command is cut off as Redis does", "[aof]") {
  const std::string good = cmd({"set", "a", "1"});
  const std::string cut = "*3\r\n$3\r\nset\r\n$1\r\nb\r\n$1";
  {
    TempFile f(good + cut);
    Run r = read(f);
    CHECK(r.result.status == AofReadStatus::kTruncated);
    CHECK(r.commands.lines == std::vector<std::string>{"set a 1"});
    CHECK(f.size() == good.size());
    CHECK(r.log == std::vector<std::string>{
                       "!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!",
                       "!!! Truncating the AOF appendonly.aof.1.incr.aof at offset 27 !!!",
                       "AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled"});
  }
  {
    TempFile f(good + cut);
    Run r = read(f, /*load_truncated=*/false);
    CHECK(r.result.status == AofReadStatus::kFailed);
    CHECK(r.result.error.rfind("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof. You can: "
                               "1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>.",
                               0) == 0);
    CHECK(f.size() == good.size() + cut.size());  // untouched
  }
  // Cut in every possible place: always the complete commands before it.
  const std::string two = good + cmd({"set", "b", "22"});
  for (size_t len = good.size() + 1; len < two.size(); ++len) {
    TempFile f(two.substr(0, len));
    Run r = read(f);
    INFO("length " << len);
    CHECK(r.result.status == AofReadStatus::kTruncated);
    CHECK(r.commands.lines.size() == 1);
    CHECK(f.size() == good.size());
  }
}

TEST_CASE("AOF reader: a MULTI block the file ends in is reverted", "[aof]") {
  const std::string head = cmd({"set", "a", "1"});
  TempFile f(head + cmd({"multi"}) + cmd({"set", "b", "1"}));
  Run r = read(f);
  CHECK(r.result.status == AofReadStatus::kTruncated);
  CHECK(r.commands.lines == std::vector<std::string>{"set a 1"});
  CHECK(f.size() == head.size());
  CHECK(r.log.front() == "Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof");

  TempFile complete(cmd({"MULTI"}) + cmd({"set", "b", "1"}) + cmd({"incr", "b"}) + cmd({"EXEC"}));
  Run c = read(complete);
  CHECK(c.result.status == AofReadStatus::kOk);
  CHECK(c.commands.lines == std::vector<std::string>{"MULTI", "set b 1", "incr b", "EXEC"});
}

TEST_CASE("AOF reader: garbage in the middle is fatal", "[aof]") {
  const std::string good = cmd({"set", "a", "1"});
  TempFile f(good + "xx" + cmd({"set", "b", "1"}));
  Run r = read(f);
  CHECK(r.result.status == AofReadStatus::kFailed);
  CHECK(r.result.error_offset == good.size());
  CHECK(r.log.at(0) ==
        "Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup of your AOF file, "
        "then use ./redis-check-aof --fix <filename.manifest>");
  CHECK(f.size() == good.size() + 2 + good.size());  // never truncated
  TempFile bad_len(good + "*1\r\nx3\r\nfoo\r\n");
  CHECK(read(bad_len).result.status == AofReadStatus::kFailed);
  TempFile zero_args("*0\r\n");
  CHECK(read(zero_args).result.status == AofReadStatus::kFailed);
}

TEST_CASE("AOF reader: unknown commands stop the load", "[aof]") {
  TempFile f(cmd({"set", "a", "1"}) + cmd({"foo", "b"}));
  Run r;
  r.commands.unknown = "foo";
  AofReadOptions o;
  r.result = read_aof_file(f.path.string(), "x", nullptr, r.commands, o);
  CHECK(r.result.status == AofReadStatus::kFailed);
  CHECK(r.result.error == "Unknown command 'foo' reading the append only file x");
}

TEST_CASE("AOF reader: an RDB preamble, then commands", "[aof]") {
  std::string rdb;
  {
    StringSink sink(rdb);
    RdbWriter w(sink);
    w.write_header();
    w.write_standard_aux({.ctime = 1, .used_mem = 1, .aof_base = true});
    w.write_select_db(0, 1, 0);
    w.write_key("k", storage::Value::string("v"));
    REQUIRE(w.finish());
  }
  TempFile f(rdb + cmd({"set", "a", "1"}) + "*2\r\n$3\r\nset");
  Keys keys;
  Run r = read(f, true, &keys);
  CHECK(r.result.status == AofReadStatus::kTruncated);
  CHECK(r.result.rdb_preamble);
  CHECK(keys.keys == std::vector<std::string>{"k=v"});
  CHECK(r.commands.lines == std::vector<std::string>{"set a 1"});
  CHECK(f.size() == rdb.size() + cmd({"set", "a", "1"}).size());

  TempFile broken(rdb.substr(0, rdb.size() - 3));
  Keys k2;
  Run b = read(broken, true, &k2);
  CHECK(b.result.status == AofReadStatus::kFailed);
  CHECK(b.result.error == "Error reading the RDB base file appendonly.aof.1.incr.aof, AOF loading aborted");
}
