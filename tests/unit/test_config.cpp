// Configuration loading (redis.conf files and redis-server's argv syntax),
// CONFIG GET / CONFIG SET, memory units, and the log line format. Expected
// texts were taken from redis-server 7.0.15.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/config.h"
#include "server/log.h"

using namespace distcache::server;
namespace fs = std::filesystem;

namespace {

// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "distcache-config-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    fs::path p = path / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
};

LoadResult load(Config& config, std::vector<std::string> args) {
  args.insert(args.begin(), "distcache-server");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return load_config(config, static_cast<int>(argv.size()), argv.data());
}

// Loads and requires success.
void load_ok(Config& config, std::vector<std::string> args) {
  auto r = load(config, std::move(args));
  INFO(r.error);
  REQUIRE(r.ok);
  REQUIRE_FALSE(r.exit_now);
}

std::string get(const Config& config, const std::string& name) {
  auto v = config_get(config, name);
  REQUIRE(v.size() == 1);
  return v[0].second;
}

std::string fatal(int line, const std::string& text, const std::string& message, const std::string& where) {
  return "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line " +
         std::to_string(line) + "\n>>> '" + text + "'\n" + message + "\n" + where;
}

const std::string kCmdLine = "in the command line options";

std::optional<std::string> set1(Config& c, const std::string& name, const std::string& value) {
  return config_set(c, {{name, value}});
}

std::string set_error(const std::string& name, const std::string& why) {
  return "ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + why;
}

// Splits "pid:M dd Mon yyyy hh:mm:ss.mmm X message" into its parts; false if
// the line does not have exactly that shape.
bool parse_log_line(const std::string& line, std::string& pid, char& mark, std::string& message) {
  auto digits = [&](size_t pos, size_t n) {
    if (pos + n > line.size()) return false;
    for (size_t i = pos; i < pos + n; ++i)
      if (!std::isdigit(static_cast<unsigned char>(line[i]))) return false;
    return true;
  };
  size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0 || !digits(0, colon)) return false;
  pid = line.substr(0, colon);
  size_t p = colon + 1;
  if (line.compare(p, 2, "M ") != 0) return false;
  p += 2;
  if (!digits(p, 2) || line[p + 2] != ' ') return false;
  p += 3;
  static const std::string kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::string month = line.substr(p, 3);
  if (month.size() != 3 || kMonths.find(month) == std::string::npos || kMonths.find(month) % 3 != 0) return false;
  p += 3;
  if (line[p] != ' ' || !digits(p + 1, 4) || line[p + 5] != ' ') return false;
  p += 6;  // hh:mm:ss.mmm
  if (!digits(p, 2) || line[p + 2] != ':' || !digits(p + 3, 2) || line[p + 5] != ':' || !digits(p + 6, 2) ||
      line[p + 8] != '.' || !digits(p + 9, 3) || line[p + 12] != ' ')
    return false;
  p += 13;
  if (p + 2 > line.size() || line[p + 1] != ' ') return false;
  mark = line[p];
  message = line.substr(p + 2);
  return true;
}

// Captures std::cout while alive.
struct CaptureStdout {
  std::ostringstream out;
  std::streambuf* old;
  CaptureStdout() : old(std::cout.rdbuf(out.rdbuf())) {}
  ~CaptureStdout() { std::cout.rdbuf(old); }
};

}  // namespace

TEST_CASE("config: defaults", "[config]") {
  Config c;
  load_ok(c, {});
  CHECK(c.bind == std::vector<std::string>{"127.0.0.1"});
  CHECK(c.port == 6379);
  CHECK(c.protected_mode);
  CHECK(c.threads == 0);
  CHECK(c.loglevel.load() == 2);  // notice, as Redis
  CHECK(c.databases == 16);
  CHECK(c.save == "3600 1 300 100 60 10000");
  CHECK(c.proto_max_bulk_len.load() == 512LL * 1024 * 1024);
  CHECK(c.client_query_buffer_limit.load() == 1024LL * 1024 * 1024);
  CHECK(c.config_file.empty());
  CHECK(c.appendfsync == "everysec");
  // Encoding thresholds: Redis 7.0.15's defaults.
  CHECK(c.hash_max_listpack_entries.load() == 512);
  CHECK(c.hash_max_listpack_value.load() == 64);
  CHECK(c.set_max_intset_entries.load() == 512);
  CHECK(c.zset_max_listpack_entries.load() == 128);
  CHECK(c.zset_max_listpack_value.load() == 64);
  CHECK(c.list_max_listpack_size.load() == -2);
  CHECK(c.list_compress_depth.load() == 0);
  CHECK(c.stream_node_max_bytes.load() == 4096);
  CHECK(c.stream_node_max_entries.load() == 100);
}

TEST_CASE("config: CONFIG GET renders every option as redis-server 7.0.15 does", "[config]") {
  Config c;
  load_ok(c, {});
  // Redis's own defaults (CONFIG GET on a fresh redis-server), except bind,
  // port and save, whose defaults here are those of the issue / redis.conf,
  // and threads, which Redis does not have.
  std::map<std::string, std::string> expected = {
      {"bind", "127.0.0.1"},
      {"port", "6379"},
      {"threads", "0"},
      {"save", "3600 1 300 100 60 10000"},
      {"dir", fs::weakly_canonical(fs::current_path()).string()},
      {"protected-mode", "yes"},
      {"tcp-backlog", "511"},
      {"timeout", "0"},
      {"tcp-keepalive", "300"},
      {"daemonize", "no"},
      {"pidfile", ""},
      {"logfile", ""},
      {"loglevel", "notice"},
      {"databases", "16"},
      {"hz", "10"},
      {"enable-protected-configs", "no"},
      {"maxclients", "10000"},
      {"maxmemory", "0"},
      {"proto-max-bulk-len", "536870912"},
      {"client-query-buffer-limit", "1073741824"},
      {"dbfilename", "dump.rdb"},
      {"appendonly", "no"},
      {"appendfilename", "appendonly.aof"},
      {"appenddirname", "appendonlydir"},
      {"appendfsync", "everysec"},
      {"requirepass", ""},
      {"cluster-enabled", "no"},
      {"cluster-config-file", "nodes.conf"},
      {"cluster-node-timeout", "15000"},
      {"always-show-logo", "no"},
      {"set-proc-title", "yes"},
      {"proc-title-template", "{title} {listen-addr} {server-mode}"},
      {"supervised", "no"},
      {"disable-thp", "yes"},
      {"jemalloc-bg-thread", "yes"},
      {"dynamic-hz", "yes"},
      {"activerehashing", "yes"},
      {"active-expire-effort", "1"},
      {"oom-score-adj", "no"},
      {"oom-score-adj-values", "0 200 800"},
      {"maxmemory-policy", "noeviction"},
      {"maxmemory-samples", "5"},
      {"maxmemory-eviction-tenacity", "10"},
      {"maxmemory-clients", "0"},
      {"lfu-log-factor", "10"},
      {"lfu-decay-time", "1"},
      {"lazyfree-lazy-eviction", "no"},
      {"lazyfree-lazy-expire", "no"},
      {"lazyfree-lazy-server-del", "no"},
      {"lazyfree-lazy-user-del", "no"},
      {"lazyfree-lazy-user-flush", "no"},
      {"client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
      {"notify-keyspace-events", ""},
      {"slowlog-log-slower-than", "10000"},
      {"slowlog-max-len", "128"},
      {"latency-monitor-threshold", "0"},
      {"acllog-max-len", "128"},
      {"busy-reply-threshold", "5000"},
      {"lua-time-limit", "5000"},
      {"hash-max-listpack-entries", "512"},
      {"hash-max-ziplist-entries", "512"},
      {"hash-max-listpack-value", "64"},
      {"hash-max-ziplist-value", "64"},
      {"list-max-listpack-size", "-2"},
      {"list-max-ziplist-size", "-2"},
      {"list-compress-depth", "0"},
      {"set-max-intset-entries", "512"},
      {"zset-max-listpack-entries", "128"},
      {"zset-max-ziplist-entries", "128"},
      {"zset-max-listpack-value", "64"},
      {"zset-max-ziplist-value", "64"},
      {"hll-sparse-max-bytes", "3000"},
      {"stream-node-max-bytes", "4096"},
      {"stream-node-max-entries", "100"},
      {"stop-writes-on-bgsave-error", "yes"},
      {"rdbcompression", "yes"},
      {"rdbchecksum", "yes"},
      {"rdb-del-sync-files", "no"},
      {"rdb-save-incremental-fsync", "yes"},
      {"no-appendfsync-on-rewrite", "no"},
      {"auto-aof-rewrite-percentage", "100"},
      {"auto-aof-rewrite-min-size", "67108864"},
      {"aof-load-truncated", "yes"},
      {"aof-use-rdb-preamble", "yes"},
      {"aof-timestamp-enabled", "no"},
      {"aof-rewrite-incremental-fsync", "yes"},
      {"replica-serve-stale-data", "yes"},
      {"slave-serve-stale-data", "yes"},
      {"replica-read-only", "yes"},
      {"slave-read-only", "yes"},
      {"replica-lazy-flush", "no"},
      {"slave-lazy-flush", "no"},
      {"replica-priority", "100"},
      {"slave-priority", "100"},
      {"repl-diskless-sync", "yes"},
      {"repl-diskless-sync-delay", "5"},
      {"repl-diskless-sync-max-replicas", "0"},
      {"repl-diskless-load", "disabled"},
      {"repl-disable-tcp-nodelay", "no"},
      // Added with issue 6 (ops): more of Redis 7.0's directives, and syslog / DEBUG switches.
      {"active-defrag-cycle-max", "25"},
      {"active-defrag-cycle-min", "1"},
      {"active-defrag-ignore-bytes", "104857600"},
      {"active-defrag-max-scan-fields", "1000"},
      {"active-defrag-threshold-lower", "10"},
      {"active-defrag-threshold-upper", "100"},
      {"activedefrag", "no"},
      {"aof-disable-auto-gc", "no"},
      {"aof_rewrite_cpulist", ""},
      {"bgsave_cpulist", ""},
      {"bind-source-addr", ""},
      {"bio_cpulist", ""},
      {"crash-log-enabled", "yes"},
      {"crash-memcheck-enabled", "yes"},
      {"enable-module-command", "no"},
      {"ignore-warnings", ""},
      {"io-threads", "1"},
      {"io-threads-do-reads", "no"},
      {"latency-tracking", "yes"},
      {"latency-tracking-info-percentiles", "50 99 99.9"},
      {"min-replicas-max-lag", "10"},
      {"min-slaves-max-lag", "10"},
      {"min-replicas-to-write", "0"},
      {"min-slaves-to-write", "0"},
      {"propagation-error-behavior", "ignore"},
      {"repl-backlog-size", "1048576"},
      {"repl-backlog-ttl", "3600"},
      {"repl-ping-replica-period", "10"},
      {"repl-ping-slave-period", "10"},
      {"repl-timeout", "60"},
      {"replica-announce-ip", ""},
      {"slave-announce-ip", ""},
      {"replica-announce-port", "0"},
      {"slave-announce-port", "0"},
      {"replica-announced", "yes"},
      {"replica-ignore-disk-write-errors", "no"},
      {"replica-ignore-maxmemory", "yes"},
      {"slave-ignore-maxmemory", "yes"},
      {"sanitize-dump-payload", "no"},
      {"server_cpulist", ""},
      {"shutdown-on-sigint", "default"},
      {"shutdown-on-sigterm", "default"},
      {"shutdown-timeout", "10"},
      {"socket-mark-id", "0"},
      {"tls-auth-clients", "yes"},
      {"tls-ca-cert-dir", ""},
      {"tls-ca-cert-file", ""},
      {"tls-cert-file", ""},
      {"tls-ciphers", ""},
      {"tls-ciphersuites", ""},
      {"tls-client-cert-file", ""},
      {"tls-client-key-file", ""},
      {"tls-client-key-file-pass", ""},
      {"tls-cluster", "no"},
      {"tls-dh-params-file", ""},
      {"tls-key-file", ""},
      {"tls-key-file-pass", ""},
      {"tls-port", "0"},
      {"tls-prefer-server-ciphers", "no"},
      {"tls-protocols", ""},
      {"tls-replication", "no"},
      {"tls-session-cache-size", "20480"},
      {"tls-session-cache-timeout", "300"},
      {"tls-session-caching", "yes"},
      {"tracking-table-max-keys", "1000000"},
      {"unixsocket", ""},
      {"unixsocketperm", "0"},
      {"syslog-enabled", "no"},
      {"syslog-ident", "redis"},
      {"syslog-facility", "local0"},
      {"enable-debug-command", "no"},
      {"aclfile", ""},
      {"acl-pubsub-default", "resetchannels"},
      {"cluster-allow-reads-when-down", "no"},
      {"cluster-announce-bus-port", "0"},
      {"cluster-announce-ip", ""},
      {"cluster-announce-port", "0"},
      {"cluster-port", "0"},
      {"cluster-require-full-coverage", "yes"},
  };
  auto all = config_get(c, "*");
  std::map<std::string, std::string> got(all.begin(), all.end());
  CHECK(got.size() == all.size());  // no name twice
  // Name by name, so that a failure says which option differs.
  std::vector<std::string> differences;
  for (const auto& [name, value] : expected) {
    auto it = got.find(name);
    if (it == got.end())
      differences.push_back("missing " + name);
    else if (it->second != value)
      differences.push_back(name + " = '" + it->second + "', expected '" + value + "'");
  }
  for (const auto& [name, value] : got)
    if (!expected.count(name)) differences.push_back("unexpected " + name + " = '" + value + "'");
  CHECK(differences == std::vector<std::string>{});
}

TEST_CASE("config: CONFIG GET patterns", "[config]") {
  Config c;
  load_ok(c, {});
  auto names = [&](const std::string& pattern) {
    std::vector<std::string> out;
    for (auto& kv : config_get(c, pattern)) out.push_back(kv.first);
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(names("maxmemory*") == std::vector<std::string>{"maxmemory", "maxmemory-clients", "maxmemory-eviction-tenacity",
                                                        "maxmemory-policy", "maxmemory-samples"});
  CHECK(names("MAXMEM*") == names("maxmem*"));  // case-insensitive
  CHECK(names("h[z]") == std::vector<std::string>{"hz"});
  CHECK(names("?z") == std::vector<std::string>{"hz"});
  CHECK(names("*ziplist-entries") ==
        std::vector<std::string>{"hash-max-ziplist-entries", "zset-max-ziplist-entries"});
  CHECK(names("nosuchoption*").empty());
  CHECK(names("nosuchoption").empty());
  CHECK(names("h\\z").empty());  // no glob characters: a plain (failing) lookup
  // A plain name is looked up directly and echoed as given, like Redis 7.0.
  auto exact = config_get(c, "HZ");
  REQUIRE(exact.size() == 1);
  CHECK(exact[0] == std::pair<std::string, std::string>{"HZ", "10"});
  CHECK(config_get(c, "Slave-Read-Only") ==
        std::vector<std::pair<std::string, std::string>>{{"Slave-Read-Only", "yes"}});
}

TEST_CASE("config: file syntax", "[config]") {
  TempDir dir;
  Config c;
  std::string file = dir.write("redis.conf",
                               "# a comment\n"
                               "\n"
                               "   port 7001   \n"
                               "\t# indented comment\n"
                               "PORT 7002\r\n"  // case-insensitive names, CRLF
                               "requirepass \"p a\\x41\\n\\\"ss\"\n"
                               "pidfile '/tmp/it\\'s.pid'\n"
                               "logfile \"\"\n"
                               "maxmemory 100MB\n"
                               "bind 127.0.0.1   -::1\n"
                               "appendfsync ALWAYS\n"
                               "loglevel WARNING\n"
                               "daemonize YES\n");
  load_ok(c, {file});
  CHECK(c.port == 7002);
  CHECK(c.requirepass == "p aA\n\"ss");
  CHECK(c.pidfile == "/tmp/it's.pid");
  CHECK(c.logfile.empty());
  CHECK(c.maxmemory.load() == 100LL * 1024 * 1024);
  CHECK(c.bind == std::vector<std::string>{"127.0.0.1", "-::1"});
  CHECK(get(c, "bind") == "127.0.0.1 -::1");
  CHECK(c.appendfsync == "always");
  CHECK(get(c, "appendfsync") == "always");
  CHECK(c.loglevel.load() == 3);
  CHECK(get(c, "loglevel") == "warning");
  CHECK(c.daemonize);
  CHECK(c.config_file == fs::absolute(file).lexically_normal().string());
}

TEST_CASE("config: save lines", "[config]") {
  TempDir dir;
  Config c;
  SECTION("several lines accumulate, replacing the default") {
    load_ok(c, {dir.write("a.conf", "save 900 1\nsave 300 10 60 10000\n")});
    CHECK(c.save == "900 1 300 10 60 10000");
  }
  SECTION("save \"\" disables; later lines start again") {
    load_ok(c, {dir.write("a.conf", "save 900 1\nsave \"\"\n")});
    CHECK(c.save.empty());
    CHECK(get(c, "save").empty());
    load_ok(c, {dir.write("b.conf", "save 900 1\nsave \"\"\nsave 200 2\n")});
    CHECK(c.save == "200 2");
  }
  SECTION("a bare save disables") {
    load_ok(c, {dir.write("a.conf", "save\n")});
    CHECK(c.save.empty());
  }
  SECTION("numbers are normalised and one quoted argument works") {
    load_ok(c, {dir.write("a.conf", "save \"0100 +1\"\n")});
    CHECK(c.save == "100 1");
  }
  SECTION("command-line save lines add to the file's") {
    load_ok(c, {dir.write("a.conf", "save 100 1\n"), "--save", "5", "5", "--save", "6", "6"});
    CHECK(c.save == "100 1 5 5 6 6");
  }
  SECTION("--save alone, last or before another option, means save \"\"") {
    load_ok(c, {dir.write("a.conf", "save 100 1\n"), "--save"});
    CHECK(c.save.empty());
    load_ok(c, {"--save", "--port", "7005"});
    CHECK(c.save.empty());
    CHECK(c.port == 7005);
    load_ok(c, {"--save", ""});
    CHECK(c.save.empty());
  }
  SECTION("invalid") {
    auto r = load(c, {dir.write("a.conf", "save 0 1\n")});
    CHECK(r.error == fatal(1, "save 0 1", "Invalid save parameters", "in file " + (dir.path / "a.conf").string()));
    CHECK_FALSE(load(c, {"--save", "10"}).ok);
    CHECK_FALSE(load(c, {"--save", "10", "-1"}).ok);
    CHECK_FALSE(load(c, {"--save", "", ""}).ok);
  }
}

TEST_CASE("config: include", "[config]") {
  TempDir dir;
  Config c;
  dir.write("inc-1.conf", "port 7100\nhz 20\n");
  dir.write("inc-2.conf", "port 7200\n");
  SECTION("plain and relative order") {
    std::string main = dir.write("main.conf", "port 1\ninclude " + (dir.path / "inc-1.conf").string() +
                                                  "\nmaxclients 5\n");
    load_ok(c, {main});
    CHECK(c.port == 7100);
    CHECK(c.hz.load() == 20);
    CHECK(c.maxclients.load() == 5);
  }
  SECTION("glob patterns, in name order; no match is fine") {
    std::string main = dir.write("main.conf", "INCLUDE " + (dir.path / "inc-*.conf").string() + "\ninclude " +
                                                  (dir.path / "none-*.conf").string() + "\n");
    load_ok(c, {main});
    CHECK(c.port == 7200);
    CHECK(c.hz.load() == 20);
  }
  SECTION("errors name the included file and its own line number") {
    std::string bad = dir.write("bad.conf", "hz 5\n\nhz x\n");
    std::string main = dir.write("main.conf", "port 1\ninclude " + bad + "\n");
    auto r = load(c, {main});
    CHECK_FALSE(r.ok);
    CHECK(r.error == fatal(3, "hz x", "argument couldn't be parsed into an integer", "in file " + bad));
  }
  SECTION("missing file") {
    auto r = load(c, {dir.write("main.conf", "include /nonexistent/x.conf\n")});
    CHECK(r.error == "Fatal error, can't open config file '/nonexistent/x.conf': No such file or directory");
  }
  SECTION("wrong number of arguments") {
    std::string main = dir.write("main.conf", "include a b\n");
    CHECK(load(c, {main}).error ==
          fatal(1, "include a b", "Bad directive or wrong number of arguments", "in file " + main));
  }
  SECTION("loops are cut off") {
    std::string self = (dir.path / "loop.conf").string();
    dir.write("loop.conf", "include " + self + "\n");
    auto r = load(c, {self});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Contains("include"));
  }
}

TEST_CASE("config: command line", "[config]") {
  TempDir dir;
  Config c;
  std::string file = dir.write("redis.conf", "port 7000\nmaxmemory 1mb\n");
  SECTION("options override the file") {
    load_ok(c, {file, "--port", "7001", "--threads", "4", "--maxmemory", "2gb"});
    CHECK(c.port == 7001);
    CHECK(c.threads == 4);
    CHECK(c.maxmemory.load() == 2LL * 1024 * 1024 * 1024);
  }
  SECTION("several values run until the next option") {
    load_ok(c, {"--bind", "127.0.0.1", "::1", "--port", "7002"});
    CHECK(c.bind == std::vector<std::string>{"127.0.0.1", "::1"});
    CHECK(c.port == 7002);
  }
  SECTION("a value starting with -- right after a bare option belongs to it") {
    load_ok(c, {"--requirepass", "--secret", "--port", "7003"});
    CHECK(c.requirepass == "--secret");
    CHECK(c.port == 7003);
  }
  SECTION("\"--name value\" as one argument") {
    load_ok(c, {"--port 6380"});
    CHECK(c.port == 6380);
  }
  SECTION("values keep spaces and quotes") {
    load_ok(c, {"--requirepass", "a b\"c'd"});
    CHECK(c.requirepass == "a b\"c'd");
  }
  SECTION("negative numbers are values") {
    load_ok(c, {"--list-max-listpack-size", "-5"});
    CHECK(get(c, "list-max-listpack-size") == "-5");
  }
  SECTION("errors, with the line number Redis reports") {
    // Without a file the options start at line 2.
    CHECK(load(c, {"--foo", "bar"}).error ==
          fatal(2, "foo \"bar\"", "Bad directive or wrong number of arguments", kCmdLine));
    CHECK(load(c, {"--hz"}).error == fatal(2, "hz", "wrong number of arguments", kCmdLine));
    CHECK(load(c, {"--hz", "1", "2"}).error == fatal(2, "hz \"1\" \"2\"", "wrong number of arguments", kCmdLine));
    CHECK(load(c, {"--port", "7392", "--hz", "-5"}).error ==
          fatal(3, "hz \"-5\"", "argument must be between 0 and 2147483647 inclusive", kCmdLine));
    CHECK(load(c, {"--port", "1", "--hz", "a\tb\x01\n\\"}).error ==
          fatal(3, "hz \"a\\tb\\x01\\n\\\\\"", "argument couldn't be parsed into an integer", kCmdLine));
    CHECK(load(c, {"--foo", "--hz", "5"}).error ==
          fatal(2, "foo \"--hz\" \"5\"", "Bad directive or wrong number of arguments", kCmdLine));
    CHECK(load(c, {"--port", "1", "--save", "--hz", "abc"}).error ==
          fatal(4, "hz \"abc\"", "argument couldn't be parsed into an integer", kCmdLine));
    // After a 2-line file ending in a newline: line 3 is empty, options from 4.
    CHECK(load(c, {file, "--hz", "5", "--maxmemory", "1 x"}).error ==
          fatal(5, "maxmemory \"1 x\"", "argument must be a memory value", kCmdLine));
    // A second positional argument is not an option.
    CHECK(load(c, {file, "extra", "--hz", "5"}).error ==
          fatal(4, "\"extra\"", "Bad directive or wrong number of arguments", kCmdLine));
    // The config file must come first.
    CHECK(load(c, {"--hz", "5", file}).error ==
          fatal(2, "hz \"5\" \"" + file + "\"", "wrong number of arguments", kCmdLine));
    CHECK(load(c, {"--threads", "9999"}).error ==
          fatal(2, "threads \"9999\"", "argument must be between 0 and 1024 inclusive", kCmdLine));
  }
  SECTION("missing config file") {
    auto r = load(c, {(dir.path / "missing.conf").string()});
    CHECK_FALSE(r.ok);
    CHECK(r.error == "Fatal error, can't open config file '" + (dir.path / "missing.conf").string() +
                         "': No such file or directory");
  }
  SECTION("a directory is not a config file") {
    auto r = load(c, {dir.path.string()});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Contains("Is a directory"));
  }
  SECTION("stdin is not supported") {
    CHECK_FALSE(load(c, {"-"}).ok);
    CHECK_FALSE(load(c, {"--port", "1", "-"}).ok);
  }
}

TEST_CASE("config: file errors match redis-server", "[config]") {
  TempDir dir;
  Config c;
  auto check = [&](const std::string& content, int line, const std::string& text, const std::string& message) {
    std::string file = dir.write("e.conf", content);
    auto r = load(c, {file});
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.exit_now);
    CHECK(r.error == fatal(line, text, message, "in file " + file));
  };
  check("port 7392\nfoo bar\n", 2, "foo bar", "Bad directive or wrong number of arguments");
  check("daemonize x\n", 1, "daemonize x", "argument must be 'yes' or 'no'");
  check("hz abc\n", 1, "hz abc", "argument couldn't be parsed into an integer");
  check("maxmemory 1x\n", 1, "maxmemory 1x", "argument must be a memory value");
  check("timeout -1\n", 1, "timeout -1", "argument must be between 0 and 2147483647 inclusive");
  check("port 70000\n", 1, "port 70000", "argument must be between 0 and 65535 inclusive");
  check("loglevel foo\n", 1, "loglevel foo",
        "argument(s) must be one of the following: debug, verbose, notice, warning");
  check("\n\n  maxmemory\n", 3, "maxmemory", "wrong number of arguments");
  check("daemonize yes no\n", 1, "daemonize yes no", "wrong number of arguments");
  check("save abc\n", 1, "save abc", "Invalid save parameters");
  check("requirepass \"unterminated\n", 1, "requirepass \"unterminated", "Unbalanced quotes in configuration line");
  check("requirepass \"a\"b\n", 1, "requirepass \"a\"b", "Unbalanced quotes in configuration line");
  check("requirepass 'a'b\n", 1, "requirepass 'a'b", "Unbalanced quotes in configuration line");
  check("dbfilename a/b\n", 1, "dbfilename a/b", "dbfilename can't be a path, just a filename");
  check("appendfilename \"\"\n", 1, "appendfilename \"\"", "appendfilename can't be empty");
  check("appenddirname a/b\n", 1, "appenddirname a/b", "appenddirname can't be a path, just a dirname");
  check("dir /nonexistent\n", 1, "dir /nonexistent", "No such file or directory");
  check("dir /etc/passwd\n", 1, "dir /etc/passwd", "Not a directory");
  check("supervised foo\n", 1, "supervised foo", "argument(s) must be one of the following: upstart, systemd, auto, no");
  check("enable-protected-configs foo\n", 1, "enable-protected-configs foo",
        "argument(s) must be one of the following: no, yes, local");
  check("rename-command NOSUCH x\n", 1, "rename-command NOSUCH x", "No such command in rename-command");
  check("rename-command GET\n", 1, "rename-command GET", "Bad directive or wrong number of arguments");
  std::string many = "bind";
  for (int i = 1; i <= 17; ++i) many += " 127.0.0." + std::to_string(i);
  check(many + "\n", 1, many, "Too many bind addresses specified.");
  check("proto-max-bulk-len 100\n", 1, "proto-max-bulk-len 100",
        "argument must be between 1048576 and 9223372036854775807 inclusive");
  check("maxclients 0\n", 1, "maxclients 0", "argument must be between 1 and 4294967295 inclusive");
}

TEST_CASE("config: the stock Debian redis.conf directives load", "[config]") {
  TempDir dir;
  Config c;
  std::string file = dir.write("redis.conf",
                               "bind 127.0.0.1 -::1\nprotected-mode yes\nport 6379\ntcp-backlog 511\ntimeout 0\n"
                               "tcp-keepalive 300\ndaemonize yes\npidfile /run/redis/redis-server.pid\n"
                               "loglevel notice\nlogfile /var/log/redis/redis-server.log\ndatabases 16\n"
                               "always-show-logo no\nset-proc-title yes\n"
                               "proc-title-template \"{title} {listen-addr} {server-mode}\"\n"
                               "stop-writes-on-bgsave-error yes\nrdbcompression yes\nrdbchecksum yes\n"
                               "dbfilename dump.rdb\nrdb-del-sync-files no\ndir " +
                                   dir.path.string() +
                                   "\nreplica-serve-stale-data yes\nreplica-read-only yes\nrepl-diskless-sync yes\n"
                                   "repl-diskless-sync-delay 5\nrepl-diskless-sync-max-replicas 0\n"
                                   "repl-diskless-load disabled\nrepl-disable-tcp-nodelay no\nreplica-priority 100\n"
                                   "acllog-max-len 128\nlazyfree-lazy-eviction no\nlazyfree-lazy-expire no\n"
                                   "lazyfree-lazy-server-del no\nreplica-lazy-flush no\nlazyfree-lazy-user-del no\n"
                                   "lazyfree-lazy-user-flush no\noom-score-adj no\noom-score-adj-values 0 200 800\n"
                                   "disable-thp yes\nappendonly no\nappendfilename \"appendonly.aof\"\n"
                                   "appenddirname \"appendonlydir\"\nappendfsync everysec\n"
                                   "no-appendfsync-on-rewrite no\nauto-aof-rewrite-percentage 100\n"
                                   "auto-aof-rewrite-min-size 64mb\naof-load-truncated yes\naof-use-rdb-preamble yes\n"
                                   "aof-timestamp-enabled no\nslowlog-log-slower-than 10000\nslowlog-max-len 128\n"
                                   "latency-monitor-threshold 0\nnotify-keyspace-events \"\"\n"
                                   "hash-max-listpack-entries 512\nhash-max-listpack-value 64\n"
                                   "list-max-listpack-size -2\nlist-compress-depth 0\nset-max-intset-entries 512\n"
                                   "zset-max-listpack-entries 128\nzset-max-listpack-value 64\n"
                                   "hll-sparse-max-bytes 3000\nstream-node-max-bytes 4096\n"
                                   "stream-node-max-entries 100\nactiverehashing yes\n"
                                   "client-output-buffer-limit normal 0 0 0\n"
                                   "client-output-buffer-limit replica 256mb 64mb 60\n"
                                   "client-output-buffer-limit pubsub 32mb 8mb 60\nhz 10\ndynamic-hz yes\n"
                                   "aof-rewrite-incremental-fsync yes\nrdb-save-incremental-fsync yes\n"
                                   "jemalloc-bg-thread yes\n");
  load_ok(c, {file});
  CHECK(c.daemonize);
  CHECK(c.bind == std::vector<std::string>{"127.0.0.1", "-::1"});
  CHECK(c.logfile == "/var/log/redis/redis-server.log");
  CHECK(c.dir == dir.path.string());
  CHECK(get(c, "client-output-buffer-limit") ==
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
}

TEST_CASE("config: --help and --version", "[config]") {
  Config c;
  {
    CaptureStdout capture;
    auto r = load(c, {"--version"});
    CHECK(r.exit_now);
    CHECK(r.exit_code == 0);
    CHECK(capture.out.str() == "distcache-server v=0.1.0\n");
  }
  {
    CaptureStdout capture;
    auto r = load(c, {"-v"});
    CHECK(r.exit_now);
  }
  {
    CaptureStdout capture;
    auto r = load(c, {"-h"});
    CHECK(r.exit_now);
    CHECK(r.exit_code == 0);
    CHECK(capture.out.str() == config_help());
  }
  {
    CaptureStdout capture;
    CHECK(load(c, {"--help"}).exit_now);
  }
}

TEST_CASE("config: help lists every option with its default", "[config]") {
  Config c;
  load_ok(c, {});
  std::string help = config_help();
  CHECK_THAT(help, Catch::StartsWith("Usage: ./distcache-server [/path/to/redis.conf] [options]\n"));
  for (auto& [name, value] : config_get(c, "*")) {
    INFO(name);
    bool listed = help.find("--" + name + " ") != std::string::npos ||
                  help.find("(alias --" + name + ")") != std::string::npos;
    CHECK(listed);
  }
  CHECK_THAT(help, Catch::Contains("--port <integer 0..65535>  default: 6379"));
  CHECK_THAT(help, Catch::Contains("--save <seconds changes [seconds changes ...] | \"\">  default: \"3600 1 300 100 60 10000\""));
  CHECK_THAT(help, Catch::Contains("--threads <integer 0..1024>  default: 0 [start-up only]"));
  CHECK_THAT(help, Catch::Contains("--proto-max-bulk-len <bytes >= 1048576 (units: k kb m mb g gb)>  default: 512mb"));
}

TEST_CASE("config: CONFIG SET", "[config]") {
  Config c;
  load_ok(c, {});
  SECTION("values are applied and rendered") {
    CHECK_FALSE(config_set(c, {{"maxmemory", "1gb"}, {"timeout", "30"}, {"loglevel", "DEBUG"}}));
    CHECK(c.maxmemory.load() == 1024LL * 1024 * 1024);
    CHECK(get(c, "maxmemory") == "1073741824");
    CHECK(c.timeout.load() == 30);
    CHECK(c.loglevel.load() == 0);
    CHECK(get(c, "loglevel") == "debug");
    CHECK_FALSE(set1(c, "maxmemory", ""));  // Redis takes an empty memory value as 0
    CHECK(get(c, "maxmemory") == "0");
    CHECK_FALSE(set1(c, "appendfsync", "ALWAYS"));
    CHECK(c.appendfsync == "always");
    CHECK_FALSE(set1(c, "requirepass", "a b"));
    CHECK(c.get_string(c.requirepass) == "a b");
    CHECK_FALSE(set1(c, "port", "7777"));
    CHECK(c.port == 7777);
    CHECK_FALSE(set1(c, "protected-mode", "NO"));
    CHECK_FALSE(c.protected_mode);
  }
  SECTION("encoding thresholds reach their Config fields") {
    CHECK_FALSE(config_set(c, {{"hash-max-listpack-value", "1kb"},
                               {"zset-max-ziplist-entries", "5"},
                               {"set-max-intset-entries", "6"},
                               {"list-max-ziplist-size", "-3"},
                               {"list-compress-depth", "1"},
                               {"stream-node-max-bytes", "1mb"},
                               {"stream-node-max-entries", "7"},
                               {"zset-max-listpack-value", "8"}}));
    CHECK(c.hash_max_listpack_value.load() == 1024);
    CHECK(c.zset_max_listpack_entries.load() == 5);
    CHECK(c.set_max_intset_entries.load() == 6);
    CHECK(c.list_max_listpack_size.load() == -3);
    CHECK(c.list_compress_depth.load() == 1);
    CHECK(c.stream_node_max_bytes.load() == 1024 * 1024);
    CHECK(c.stream_node_max_entries.load() == 7);
    CHECK(c.zset_max_listpack_value.load() == 8);
  }
  SECTION("hz is clamped to 1..500") {
    CHECK_FALSE(set1(c, "hz", "0"));
    CHECK(get(c, "hz") == "1");
    CHECK_FALSE(set1(c, "hz", "1000"));
    CHECK(get(c, "hz") == "500");
  }
  SECTION("save replaces; \"\" disables") {
    CHECK_FALSE(set1(c, "save", "100 1 200 2"));
    CHECK(c.save == "100 1 200 2");
    CHECK_FALSE(set1(c, "save", "01 +1"));
    CHECK(get(c, "save") == "1 1");
    CHECK_FALSE(set1(c, "save", "100 "));  // as Redis: a missing count is 0
    CHECK(get(c, "save") == "100 0");
    CHECK_FALSE(set1(c, "save", ""));
    CHECK(get(c, "save") == "");
    for (const char* bad : {"abc", "1 2 3", "100 1 ", "100  1", "0 0", "100 -1", "1 1x", " 100 1 1", "-0 1"}) {
      INFO(bad);
      CHECK(set1(c, "save", bad) == set_error("save", "Invalid save parameters"));
    }
  }
  SECTION("bind") {
    CHECK_FALSE(set1(c, "bind", "127.0.0.1 -::1"));
    CHECK(c.bind == std::vector<std::string>{"127.0.0.1", "-::1"});
    CHECK(set1(c, "bind", "127.0.0.1  ::1") == set_error("bind", "Failed to bind to specified addresses."));
    std::string many;
    for (int i = 1; i <= 17; ++i) many += (i > 1 ? " 127.0.0." : "127.0.0.") + std::to_string(i);
    CHECK(set1(c, "bind", many) == set_error("bind", "Too many bind addresses specified."));
    CHECK(get(c, "bind") == "127.0.0.1 -::1");
  }
  SECTION("aliases") {
    CHECK_FALSE(set1(c, "hash-max-ziplist-entries", "7"));
    CHECK(c.hash_max_listpack_entries.load() == 7);
    CHECK(get(c, "hash-max-listpack-entries") == "7");
    CHECK(get(c, "hash-max-ziplist-entries") == "7");
    // Redis 7.0 does not count a name and its alias as duplicates.
    CHECK_FALSE(config_set(c, {{"slave-read-only", "no"}, {"replica-read-only", "yes"}}));
    CHECK(get(c, "slave-read-only") == "yes");
  }
  SECTION("client-output-buffer-limit changes only the named classes") {
    CHECK_FALSE(set1(c, "client-output-buffer-limit", "normal 1 2 3 pubsub 4 5 6"));
    CHECK(get(c, "client-output-buffer-limit") == "normal 1 2 3 slave 268435456 67108864 60 pubsub 4 5 6");
    CHECK_FALSE(set1(c, "client-output-buffer-limit", "REPLICA 1k 2kb +3"));
    CHECK(get(c, "client-output-buffer-limit") == "normal 1 2 3 slave 1000 2048 3 pubsub 4 5 6");
    CHECK_FALSE(set1(c, "client-output-buffer-limit", ""));
    const std::string bad_values = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
    CHECK(set1(c, "client-output-buffer-limit", "normal -1 0 0") == set_error("client-output-buffer-limit", bad_values));
    CHECK(set1(c, "client-output-buffer-limit", "normal 1 2 1.5") ==
          set_error("client-output-buffer-limit", bad_values));
    CHECK(set1(c, "client-output-buffer-limit", "foo 1 2 3") ==
          set_error("client-output-buffer-limit", "Invalid client class specified in buffer limit configuration."));
    CHECK(set1(c, "client-output-buffer-limit", "normal 1 2") ==
          set_error("client-output-buffer-limit", "Wrong number of arguments in buffer limit configuration."));
    CHECK(get(c, "client-output-buffer-limit") == "normal 1 2 3 slave 1000 2048 3 pubsub 4 5 6");
  }
  SECTION("notify-keyspace-events renders canonically") {
    std::vector<std::pair<std::string, std::string>> cases = {
        {"g$lshzxetmdnKE", "AKEm"}, {"KEA", "AKE"}, {"AKEmn", "AKEm"}, {"Kg", "gK"}, {"dt", "td"},
        {"$lshzxetdK", "$lshzxetdK"}, {"", ""}, {"AA", "A"}, {"Km", "Km"}};
    for (auto& [in, out] : cases) {
      INFO(in);
      CHECK_FALSE(set1(c, "notify-keyspace-events", in));
      CHECK(get(c, "notify-keyspace-events") == out);
    }
    CHECK(set1(c, "notify-keyspace-events", "Z") ==
          set_error("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."));
  }
  SECTION("enum synonyms show as Redis shows them") {
    CHECK_FALSE(set1(c, "oom-score-adj", "RELATIVE"));
    CHECK(get(c, "oom-score-adj") == "yes");
    CHECK_FALSE(set1(c, "oom-score-adj", "absolute"));
    CHECK(get(c, "oom-score-adj") == "absolute");
  }
  SECTION("oom-score-adj-values") {
    CHECK_FALSE(set1(c, "oom-score-adj-values", "10 5 1"));
    CHECK(get(c, "oom-score-adj-values") == "10 5 1");
    CHECK(set1(c, "oom-score-adj-values", "1 2") == set_error("oom-score-adj-values", "wrong number of arguments"));
    CHECK(set1(c, "oom-score-adj-values", "-2001 0 0") ==
          set_error("oom-score-adj-values", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."));
  }
  SECTION("proc-title-template") {
    CHECK_FALSE(set1(c, "proc-title-template", "{title} {listen-addr}"));
    CHECK_FALSE(set1(c, "proc-title-template", "{{}}"));
    CHECK_FALSE(set1(c, "proc-title-template", "a}b"));
    for (const char* bad : {"{foo}", "{title}", "", " ", "a{b", "{}", "{server-mode}"}) {
      INFO(bad);
      CHECK(set1(c, "proc-title-template", bad) ==
            set_error("proc-title-template", "template format is invalid or contains unknown variables"));
    }
  }
  SECTION("error texts") {
    CHECK(set1(c, "foo", "bar") == "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    CHECK(set1(c, "FOO", "bar") == "ERR Unknown option or number of arguments for CONFIG SET - 'FOO'");
    CHECK(set1(c, "threads", "4") == set_error("threads", "can't set immutable config"));
    CHECK(set1(c, "maxmemory", "abc") == set_error("maxmemory", "argument must be a memory value"));
    CHECK(set1(c, "MAXMEMORY", "abc") == set_error("maxmemory", "argument must be a memory value"));
    CHECK(set1(c, "maxmemory", "-1") == set_error("maxmemory", "argument must be a memory value"));
    CHECK(set1(c, "maxmemory", "1.5gb") == set_error("maxmemory", "argument must be a memory value"));
    CHECK(set1(c, "maxmemory", " 1") == set_error("maxmemory", "argument must be a memory value"));
    CHECK(set1(c, "daemonize", "yes") == set_error("daemonize", "can't set immutable config"));
    CHECK(set1(c, "daemonize", "x") == set_error("daemonize", "can't set immutable config"));
    CHECK(set1(c, "DAEMONIZE", "yes") == set_error("DAEMONIZE", "can't set immutable config"));
    for (const char* name : {"databases", "logfile", "pidfile", "tcp-backlog", "cluster-enabled",
                             "cluster-config-file", "appendfilename", "appenddirname", "rdbchecksum",
                             "supervised", "enable-protected-configs"}) {
      INFO(name);
      CHECK(set1(c, name, "1") == set_error(name, "can't set immutable config"));
    }
    CHECK(set1(c, "dir", "/tmp") == set_error("dir", "can't set protected config"));
    CHECK(set1(c, "Dir", "/tmp") == set_error("Dir", "can't set protected config"));
    CHECK(set1(c, "dbfilename", "x.rdb") == set_error("dbfilename", "can't set protected config"));
    CHECK(set1(c, "port", "99999") == set_error("port", "argument must be between 0 and 65535 inclusive"));
    CHECK(set1(c, "port", "abc") == set_error("port", "argument couldn't be parsed into an integer"));
    for (const char* bad : {"1.5", " 5", "+5", "05", "-0", "1k", ""}) {
      INFO(bad);
      CHECK(set1(c, "hz", bad) == set_error("hz", "argument couldn't be parsed into an integer"));
    }
    CHECK(set1(c, "hz", "2147483648") == set_error("hz", "argument must be between 0 and 2147483647 inclusive"));
    CHECK(set1(c, "maxclients", "0") == set_error("maxclients", "argument must be between 1 and 4294967295 inclusive"));
    CHECK(set1(c, "cluster-node-timeout", "-1") ==
          set_error("cluster-node-timeout", "argument must be between 0 and 9223372036854775807 inclusive"));
    CHECK(set1(c, "proto-max-bulk-len", "1kb") ==
          set_error("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive"));
    CHECK(set1(c, "client-query-buffer-limit", "100") ==
          set_error("client-query-buffer-limit", "argument must be between 1048576 and 9223372036854775807 inclusive"));
    CHECK(set1(c, "protected-mode", "1") == set_error("protected-mode", "argument must be 'yes' or 'no'"));
    CHECK(set1(c, "loglevel", "foo") ==
          set_error("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning"));
    CHECK(set1(c, "appendfsync", "bad") ==
          set_error("appendfsync", "argument(s) must be one of the following: everysec, always, no"));
    CHECK(set1(c, "maxmemory-policy", "x") ==
          set_error("maxmemory-policy",
                    "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, "
                    "volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"));
    CHECK(set1(c, "slave-read-only", "abc") == set_error("slave-read-only", "argument must be 'yes' or 'no'"));
    CHECK(set1(c, "SLAVE-READ-ONLY", "abc") == set_error("slave-read-only", "argument must be 'yes' or 'no'"));
  }
  SECTION("several pairs: names are all checked before any value, in order") {
    CHECK(config_set(c, {{"port", "7391"}, {"port", "7391"}}) == set_error("port", "duplicate parameter"));
    CHECK(config_set(c, {{"hz", "5"}, {"HZ", "6"}}) == set_error("HZ", "duplicate parameter"));
    CHECK(config_set(c, {{"timeout", "1"}, {"hz", "2"}, {"timeout", "3"}}) ==
          set_error("timeout", "duplicate parameter"));
    CHECK(config_set(c, {{"timeout", "1"}, {"foo", "bar"}}) ==
          "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    CHECK(config_set(c, {{"maxmemory", "abc"}, {"foo", "bar"}}) ==
          "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    CHECK(config_set(c, {{"maxmemory", "abc"}, {"daemonize", "yes"}}) ==
          set_error("daemonize", "can't set immutable config"));
    CHECK(config_set(c, {{"daemonize", "yes"}, {"foo", "bar"}}) == set_error("daemonize", "can't set immutable config"));
    CHECK(config_set(c, {{"hz", "1"}, {"dir", "/tmp"}}) == set_error("dir", "can't set protected config"));
    CHECK(config_set(c, {{"timeout", "1"}, {"maxmemory", "abc"}}) ==
          set_error("maxmemory", "argument must be a memory value"));
  }
  SECTION("atomic: one bad value changes nothing") {
    CHECK(config_set(c, {{"timeout", "77"},
                         {"save", "1 1"},
                         {"bind", "0.0.0.0"},
                         {"slowlog-max-len", "5"},
                         {"requirepass", "pw"},
                         {"maxmemory", "bad"}}) == set_error("maxmemory", "argument must be a memory value"));
    CHECK(c.timeout.load() == 0);
    CHECK(c.save == "3600 1 300 100 60 10000");
    CHECK(c.bind == std::vector<std::string>{"127.0.0.1"});
    CHECK(get(c, "slowlog-max-len") == "128");
    CHECK(c.requirepass.empty());
    CHECK(config_set(c, {{"timeout", "77"}, {"slowlog-max-len", "5"}}) == std::nullopt);
    CHECK(c.timeout.load() == 77);
    CHECK(get(c, "slowlog-max-len") == "5");
  }
  SECTION("a fresh load resets values set earlier") {
    CHECK_FALSE(set1(c, "slowlog-max-len", "5"));
    load_ok(c, {});
    CHECK(get(c, "slowlog-max-len") == "128");
  }
}

TEST_CASE("config: protected options with enable-protected-configs yes", "[config]") {
  TempDir dir;
  Config c;
  load_ok(c, {"--enable-protected-configs", "yes"});
  CHECK_FALSE(set1(c, "dir", dir.path.string()));
  CHECK(c.dir == dir.path.string());
  CHECK(get(c, "dir") == fs::weakly_canonical(dir.path).string());
  CHECK(set1(c, "dir", "/nonexistent") == set_error("dir", "No such file or directory"));
  CHECK(set1(c, "dir", "/etc/passwd") == set_error("dir", "Not a directory"));
  CHECK_FALSE(set1(c, "dbfilename", "x.rdb"));
  CHECK(c.dbfilename == "x.rdb");
  CHECK(set1(c, "dbfilename", "a/b") == set_error("dbfilename", "dbfilename can't be a path, just a filename"));
  // "local" cannot be honoured without the client's address: treated as "no".
  load_ok(c, {"--enable-protected-configs", "local"});
  CHECK(set1(c, "dir", "/tmp") == set_error("dir", "can't set protected config"));
}

TEST_CASE("config: parse_memory", "[config]") {
  CHECK(parse_memory("0") == 0);
  CHECK(parse_memory("10") == 10);
  CHECK(parse_memory("01") == 1);
  CHECK(parse_memory("1b") == 1);
  CHECK(parse_memory("1k") == 1000);
  CHECK(parse_memory("1K") == 1000);
  CHECK(parse_memory("1kb") == 1024);
  CHECK(parse_memory("1KB") == 1024);
  CHECK(parse_memory("1kB") == 1024);
  CHECK(parse_memory("512k") == 512000);
  CHECK(parse_memory("1m") == 1000000);
  CHECK(parse_memory("100mb") == 100LL * 1024 * 1024);
  CHECK(parse_memory("1g") == 1000000000);
  CHECK(parse_memory("1gb") == 1024LL * 1024 * 1024);
  CHECK(parse_memory("1GB") == 1024LL * 1024 * 1024);
  CHECK(parse_memory("-1") == -1);  // memtoll accepts a sign; memory options reject it
  CHECK(parse_memory("-2kb") == -2048);
  CHECK(parse_memory("") == 0);  // as Redis: no digits is 0
  CHECK(parse_memory("kb") == 0);
  CHECK(parse_memory("9223372036854775807") == INT64_MAX);
  CHECK(parse_memory("8589934591gb") == 8589934591LL * 1024 * 1024 * 1024);
  CHECK_FALSE(parse_memory("9223372036854775808"));
  CHECK_FALSE(parse_memory("8589934592gb"));
  CHECK_FALSE(parse_memory("-"));
  CHECK_FALSE(parse_memory("+5"));
  CHECK_FALSE(parse_memory("1.5gb"));
  CHECK_FALSE(parse_memory("1x"));
  CHECK_FALSE(parse_memory("1t"));
  CHECK_FALSE(parse_memory("1 kb"));
  CHECK_FALSE(parse_memory(" 1"));
  CHECK_FALSE(parse_memory("1 "));
  CHECK_FALSE(parse_memory("0x10"));
  CHECK_FALSE(parse_memory("1kbb"));
  CHECK_FALSE(parse_memory("abc"));
}

TEST_CASE("config: concurrent CONFIG GET and CONFIG SET", "[config]") {
  Config c;
  load_ok(c, {});
  std::atomic<bool> stop{false};
  std::atomic<bool> reader_ok{true};
  std::thread reader([&] {
    while (!stop.load()) {
      auto all = config_get(c, "*");
      if (all.size() < 50) reader_ok = false;
    }
  });
  for (int i = 0; i < 300; ++i) {
    REQUIRE_FALSE(config_set(c, {{"requirepass", "pw" + std::to_string(i)},
                                 {"save", std::to_string(i + 1) + " 1"},
                                 {"slowlog-max-len", std::to_string(i)}}));
  }
  stop = true;
  reader.join();
  CHECK(reader_ok.load());
  CHECK(get(c, "slowlog-max-len") == "299");
}

TEST_CASE("log: line format and levels", "[log]") {
  TempDir dir;
  std::string file = (dir.path / "test.log").string();
  log_init(file, LogLevel::kVerbose);
  log(LogLevel::kDebug, "hidden {}", 1);
  log(LogLevel::kVerbose, "verbose {}", 2);
  log(LogLevel::kNotice, "notice {}", 3);
  log(LogLevel::kWarning, "warning {}", 4);
  CHECK_FALSE(log_enabled(LogLevel::kDebug));
  log_set_level(LogLevel::kDebug);
  CHECK(log_enabled(LogLevel::kDebug));
  log(LogLevel::kDebug, "debug {}", 5);
  log_set_level(LogLevel::kWarning);
  log(LogLevel::kNotice, "hidden {}", 6);

  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() == 4);
  const char marks[] = {'-', '*', '#', '.'};
  const char* texts[] = {"verbose 2", "notice 3", "warning 4", "debug 5"};
  for (size_t i = 0; i < 4; ++i) {
    INFO(lines[i]);
    std::string pid, message;
    char mark = 0;
    REQUIRE(parse_log_line(lines[i], pid, mark, message));
    CHECK(pid == std::to_string(::getpid()));
    CHECK(mark == marks[i]);
    CHECK(message == texts[i]);
  }
  log_init("", LogLevel::kNotice);
}

TEST_CASE("log: lines from many threads never interleave", "[log]") {
  TempDir dir;
  std::string file = (dir.path / "threads.log").string();
  log_init(file, LogLevel::kDebug);
  constexpr int kThreads = 4, kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t] {
      std::string payload(200, static_cast<char>('a' + t));
      for (int i = 0; i < kLines; ++i) log(LogLevel::kNotice, "t{} {} {}", t, i, payload);
    });
  for (auto& th : threads) th.join();
  log_init("", LogLevel::kNotice);

  std::ifstream in(file);
  int count = 0;
  std::map<int, int> next;
  for (std::string l; std::getline(in, l); ++count) {
    auto pos = l.find(" * t");
    REQUIRE(pos != std::string::npos);
    std::istringstream fields(l.substr(pos + 4));
    int t, i;
    std::string payload;
    fields >> t >> i >> payload;
    REQUIRE(payload == std::string(200, static_cast<char>('a' + t)));
    REQUIRE(i == next[t]++);  // each thread's lines in order
  }
  CHECK(count == kThreads * kLines);
}
