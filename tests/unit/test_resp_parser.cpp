// RespParser: the request side of the protocol, checked against what
// redis-server 7.0.15 does with the same bytes (the expected values below were
// observed on a real server with raw sockets).
#include <catch2/catch.hpp>

#include <malloc.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/arg_list.h"
#include "protocol/resp_parser.h"

namespace distcache::protocol {
// Declared a friend by RespParser: lets tests look at buffer capacities.
struct RespParserTestAccess {
  static const std::string& line(const RespParser& p) { return p.line_; }
};
}  // namespace distcache::protocol

using distcache::protocol::ArgList;
using distcache::protocol::ParserLimits;
using distcache::protocol::RespParser;
using distcache::protocol::RespParserTestAccess;
using Status = RespParser::Status;
using Cmd = std::vector<std::string>;

namespace {

using namespace std::string_literals;

// What a parser made of a byte stream.
struct Outcome {
  std::vector<Cmd> cmds;
  bool errored = false;
  std::string error;
  bool in_progress = false;  // after the last byte
  bool operator==(const Outcome& o) const {
    return cmds == o.cmds && errored == o.errored && error == o.error && in_progress == o.in_progress;
  }
};

std::string describe(const Outcome& o) {
  std::string s = "{";
  for (auto& c : o.cmds) {
    s += "[";
    for (auto& a : c) s += "'" + a + "' ";
    s += "] ";
  }
  if (o.errored) s += "ERROR(" + o.error + ")";
  if (o.in_progress) s += " in-progress";
  return s + "}";
}

Cmd to_cmd(const ArgList& args) {
  Cmd c;
  for (size_t i = 0; i < args.size(); ++i) c.emplace_back(args[i]);
  return c;
}

// Feeds one chunk, collecting every command, checking the consumed contract.
// Returns false once the parser reported an error.
bool feed(RespParser& p, ArgList& args, std::string_view chunk, Outcome& out) {
  size_t off = 0;
  for (;;) {
    size_t consumed = 12345;
    Status st = p.parse(chunk.substr(off), consumed, args);
    REQUIRE(consumed <= chunk.size() - off);
    off += consumed;
    if (st == Status::kCommand) {
      out.cmds.push_back(to_cmd(args));
      continue;
    }
    if (st == Status::kError) {
      out.errored = true;
      out.error = p.error();
      return false;
    }
    REQUIRE(off == chunk.size());  // kNeedMore consumes everything
    return true;
  }
}

// Parses `data` cut into chunks at the given boundaries.
Outcome run_cuts(std::string_view data, const std::vector<size_t>& cuts, ParserLimits limits = {}) {
  RespParser p;
  p.limits() = limits;
  ArgList args;
  Outcome out;
  size_t prev = 0;
  std::vector<size_t> all = cuts;
  all.push_back(data.size());
  for (size_t c : all) {
    if (!feed(p, args, data.substr(prev, c - prev), out)) return out;
    prev = c;
  }
  out.in_progress = p.in_progress();
  return out;
}

Outcome run(std::string_view data, ParserLimits limits = {}) { return run_cuts(data, {}, limits); }

Outcome run_chunked(std::string_view data, size_t chunk, ParserLimits limits = {}) {
  std::vector<size_t> cuts;
  for (size_t c = chunk; c < data.size(); c += chunk) cuts.push_back(c);
  return run_cuts(data, cuts, limits);
}

Outcome cmds(std::vector<Cmd> c, bool in_progress = false) {
  Outcome o;
  o.cmds = std::move(c);
  o.in_progress = in_progress;
  return o;
}

Outcome err(std::vector<Cmd> c, std::string e) {
  Outcome o;
  o.cmds = std::move(c);
  o.errored = true;
  o.error = std::move(e);
  return o;
}

// Same outcome whole, byte by byte, and cut once at every position.
void check_all_fragmentations(std::string_view data, const Outcome& expected, ParserLimits limits = {}) {
  INFO("input: " << std::string(data));
  Outcome whole = run(data, limits);
  INFO("whole: " << describe(whole));
  REQUIRE(whole == expected);
  Outcome bytes = run_chunked(data, 1, limits);
  INFO("byte by byte: " << describe(bytes));
  REQUIRE(bytes == expected);
  for (size_t i = 0; i <= data.size(); ++i) {
    Outcome split = run_cuts(data, {i}, limits);
    INFO("split at " << i << ": " << describe(split));
    REQUIRE(split == expected);
  }
}

std::string mbulk(const Cmd& c) {
  std::string s = "*" + std::to_string(c.size()) + "\r\n";
  for (auto& a : c) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

const std::string kInvalidMbulk = "ERR Protocol error: invalid multibulk length";
const std::string kInvalidBulk = "ERR Protocol error: invalid bulk length";
const std::string kUnbalanced = "ERR Protocol error: unbalanced quotes in request";
const std::string kTooBigInline = "ERR Protocol error: too big inline request";
const std::string kTooBigMbulk = "ERR Protocol error: too big mbulk count string";
const std::string kTooBigBulk = "ERR Protocol error: too big bulk count string";

size_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kHeapStatsWork = false;  // ASan's allocator does not feed mallinfo2
#else
constexpr bool kHeapStatsWork = true;
#endif

}  // namespace

TEST_CASE("multibulk: basic forms", "[resp_parser]") {
  check_all_fragmentations("*1\r\n$4\r\nPING\r\n", cmds({{"PING"}}));
  check_all_fragmentations("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n", cmds({{"SET", "k", "value"}}));
  // Empty bulk.
  check_all_fragmentations("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", cmds({{"ECHO", ""}}));
  // Binary safe: NUL, CR, LF, '$' and '*' inside bulks.
  std::string bin = "a\0b\r\n$3\r\n*1\r\n\xff"s;
  check_all_fragmentations(mbulk({"SET", "k\0k"s, bin}), cmds({{"SET", "k\0k"s, bin}}));
  // A bulk of only CRLF.
  check_all_fragmentations("*1\r\n$2\r\n\r\n\r\n", cmds({{"\r\n"}}));
}

TEST_CASE("multibulk: *0 and negative counts are empty commands", "[resp_parser]") {
  // Redis skips them without a reply (verified: "*0\r\nPING\r\n" -> +PONG only).
  for (std::string hdr : {"*0\r\n", "*-1\r\n", "*-5\r\n", "*-9223372036854775808\r\n"}) {
    RespParser p;
    ArgList args;
    args.add("stale");
    size_t consumed = 0;
    std::string in = hdr + "PING\r\n";
    REQUIRE(p.parse(in, consumed, args) == Status::kCommand);
    CHECK(consumed == hdr.size());
    CHECK(args.empty());
    CHECK_FALSE(p.in_progress());
    REQUIRE(p.parse(std::string_view(in).substr(consumed), consumed, args) == Status::kCommand);
    CHECK(to_cmd(args) == Cmd{"PING"});
  }
  check_all_fragmentations("*0\r\n*-1\r\n*1\r\n$1\r\nx\r\n", cmds({{}, {}, {"x"}}));
}

TEST_CASE("multibulk: bytes after CR and after bulk data are skipped unchecked", "[resp_parser]") {
  // redis-server answers +PONG to each of these.
  check_all_fragmentations("*1\rX$4\r\nPING\r\n", cmds({{"PING"}}));
  check_all_fragmentations("*1\r\n$4\rXPING\r\n", cmds({{"PING"}}));
  check_all_fragmentations("*1\r\n$4\r\nPINGxx", cmds({{"PING"}}));
  check_all_fragmentations("*1\r\n$4\r\nPINGxxPING\r\n", cmds({{"PING"}, {"PING"}}));
  check_all_fragmentations("*1\r\r$4\r\rPING\r\r", cmds({{"PING"}}));
}

TEST_CASE("multibulk: waits for the byte after CR before judging a header", "[resp_parser]") {
  RespParser p;
  ArgList args;
  size_t consumed = 0;
  REQUIRE(p.parse("*1\r", consumed, args) == Status::kNeedMore);
  CHECK(consumed == 3);
  CHECK(p.in_progress());
  REQUIRE(p.parse("\n$4\r", consumed, args) == Status::kNeedMore);
  REQUIRE(p.parse("\nPI", consumed, args) == Status::kNeedMore);
  CHECK(p.pending_bulk_bytes() == 4);
  REQUIRE(p.parse("NG\r", consumed, args) == Status::kNeedMore);
  CHECK(p.pending_bulk_bytes() == 1);
  REQUIRE(p.parse("\n", consumed, args) == Status::kCommand);
  CHECK(to_cmd(args) == Cmd{"PING"});
  CHECK_FALSE(p.in_progress());
  CHECK(p.pending_bulk_bytes() == 0);
  // Invalid header only reported once the byte after CR is there.
  RespParser q;
  REQUIRE(q.parse("*x\r", consumed, args) == Status::kNeedMore);
  REQUIRE(q.parse("\n", consumed, args) == Status::kError);
  CHECK(q.error() == kInvalidMbulk);
}

TEST_CASE("multibulk: invalid multibulk length", "[resp_parser]") {
  // All verified against redis-server 7.0.15.
  for (std::string in : {"*-0\r\n", "*01\r\n", "*\r\n", "*+1\r\n", "*1 \r\n", "* 1\r\n", "*1x\r\n",
                         "*99999999999999999999\r\n", "*-9223372036854775809\r\n", "*2147483648\r\n",
                         "*0x10\r\n", "*1.0\r\n", "*--1\r\n", "*-\r\n",
                         "*111111111111111111111111111111111111111111111111\r\n"}) {
    check_all_fragmentations(in, err({}, kInvalidMbulk));
  }
  // The limit is INT_MAX: this is accepted and waits for 2^31-1 arguments.
  check_all_fragmentations("*2147483647\r\n", cmds({}, true));
  check_all_fragmentations("*1073741825\r\n", cmds({}, true));
  // A lowered limit.
  ParserLimits lim;
  lim.max_multibulk_len = 3;
  CHECK(run("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", lim) == cmds({{"a", "b", "c"}}));
  CHECK(run("*4\r\n", lim) == err({}, kInvalidMbulk));
}

TEST_CASE("multibulk: expected '$'", "[resp_parser]") {
  check_all_fragmentations("*1\r\nPING\r\n", err({}, "ERR Protocol error: expected '$', got 'P'"));
  check_all_fragmentations("*2\r\n$1\r\na\r\n:1\r\n", err({}, "ERR Protocol error: expected '$', got ':'"));
  // An empty line: Redis prints the CR, then turns it into a space.
  check_all_fragmentations("*1\r\n\r\n", err({}, "ERR Protocol error: expected '$', got ' '"));
  check_all_fragmentations("*1\r\n\n\r\n", err({}, "ERR Protocol error: expected '$', got ' '"));
  check_all_fragmentations("*1\r\n*1\r\n", err({}, "ERR Protocol error: expected '$', got '*'"));
  check_all_fragmentations("*1\r\n\xfe\r\n", err({}, "ERR Protocol error: expected '$', got '\xfe'"));
  // A long non-'$' line (longer than what the parser keeps of a header).
  check_all_fragmentations("*1\r\n" + std::string(100, 'q') + "\r\n",
                           err({}, "ERR Protocol error: expected '$', got 'q'"));
  // Commands before the bad one are still delivered.
  check_all_fragmentations("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\nX\r\n",
                           err({{"PING"}, {"PING"}}, "ERR Protocol error: expected '$', got 'X'"));
  // No verdict before the CR arrives.
  check_all_fragmentations("*1\r\nPING", cmds({}, true));
}

TEST_CASE("multibulk: invalid bulk length", "[resp_parser]") {
  for (std::string hdr : {"$-1", "$x", "$", "$01", "$-0", "$+1", "$1 ", "$ 1", "$536870913",
                          "$9223372036854775807", "$99999999999999999999", "$-9223372036854775808",
                          "$1111111111111111111111111111111111111111"}) {
    check_all_fragmentations("*1\r\n" + hdr + "\r\n", err({}, kInvalidBulk));
  }
  // proto-max-bulk-len itself (512MB) is allowed.
  check_all_fragmentations("*1\r\n$536870912\r\n", cmds({}, true));
}

TEST_CASE("limits: proto_max_bulk_len", "[resp_parser]") {
  ParserLimits lim;
  lim.proto_max_bulk_len = 10;
  check_all_fragmentations("*1\r\n$10\r\n0123456789\r\n", cmds({{"0123456789"}}), lim);
  check_all_fragmentations("*1\r\n$11\r\n01234567890\r\n", err({}, kInvalidBulk), lim);
  check_all_fragmentations("*2\r\n$1\r\na\r\n$11\r\n", err({}, kInvalidBulk), lim);
}

TEST_CASE("limits: unauthenticated clients", "[resp_parser]") {
  ParserLimits lim;
  lim.unauthenticated = true;
  check_all_fragmentations("*11\r\n", err({}, "ERR Protocol error: unauthenticated multibulk length"), lim);
  check_all_fragmentations("*10\r\n", cmds({}, true), lim);
  check_all_fragmentations("*-5\r\n", cmds({{}}), lim);
  check_all_fragmentations("*1\r\n$16385\r\n", err({}, "ERR Protocol error: unauthenticated bulk length"), lim);
  check_all_fragmentations("*1\r\n$16384\r\n", cmds({}, true), lim);
  // Invalid lengths are still reported as invalid first.
  check_all_fragmentations("*2147483648\r\n", err({}, kInvalidMbulk), lim);
  check_all_fragmentations("*1\r\n$-1\r\n", err({}, kInvalidBulk), lim);

  // The server flips the limit once AUTH succeeds: the next command is free.
  RespParser p;
  p.limits().unauthenticated = true;
  ArgList args;
  size_t consumed = 0;
  std::string in = mbulk({"AUTH", "pw"}) + "*11\r\n";
  REQUIRE(p.parse(in, consumed, args) == Status::kCommand);
  p.limits().unauthenticated = false;
  REQUIRE(p.parse(std::string_view(in).substr(consumed), consumed, args) == Status::kNeedMore);
  CHECK(p.in_progress());
}

TEST_CASE("inline: basic forms", "[resp_parser]") {
  check_all_fragmentations("PING\r\n", cmds({{"PING"}}));
  check_all_fragmentations("PING\n", cmds({{"PING"}}));
  check_all_fragmentations("  PING   \n", cmds({{"PING"}}));
  check_all_fragmentations("set k v\r\n", cmds({{"set", "k", "v"}}));
  check_all_fragmentations("set\tk \t v\r\n", cmds({{"set", "k", "v"}}));
  // Only one CR before LF is dropped; a second one is a blank.
  check_all_fragmentations("PING\r\r\n", cmds({{"PING"}}));
  check_all_fragmentations("\rPING\r\n", cmds({{"PING"}}));
  // CR inside the line separates (redis: "ECHO a\rb" is 3 args).
  check_all_fragmentations("ECHO a\rb\n", cmds({{"ECHO", "a", "b"}}));
  // \v and \f are skipped between arguments but kept inside one (as redis does).
  check_all_fragmentations("\vPING\r\n", cmds({{"PING"}}));
  check_all_fragmentations("ECHO a\vb\r\n", cmds({{"ECHO", "a\vb"}}));
  check_all_fragmentations("ECHO a\fb\r\n", cmds({{"ECHO", "a\fb"}}));
  // A backslash outside quotes is literal.
  check_all_fragmentations("ECHO \\x41\r\n", cmds({{"ECHO", "\\x41"}}));
  // Non-ASCII bytes are ordinary.
  check_all_fragmentations("ECHO \xc3\xa9\xff\r\n", cmds({{"ECHO", "\xc3\xa9\xff"}}));
}

TEST_CASE("inline: empty lines are empty commands", "[resp_parser]") {
  check_all_fragmentations("\r\n", cmds({{}}));
  check_all_fragmentations("\n", cmds({{}}));
  check_all_fragmentations("   \r\n", cmds({{}}));
  check_all_fragmentations("\t \v\f\r\r\n", cmds({{}}));
  check_all_fragmentations("\n\nPING\n", cmds({{}, {}, {"PING"}}));
}

TEST_CASE("inline: quoting as sdssplitargs", "[resp_parser]") {
  check_all_fragmentations("ECHO \"a b\"\r\n", cmds({{"ECHO", "a b"}}));
  // \n, \xHH, \x with bad hex, unknown escape, escaped quote and backslash.
  check_all_fragmentations("ECHO \"a\\nb\\x41\\x4g\\q\\\"\\\\\"\r\n", cmds({{"ECHO", "a\nbAx4gq\"\\"}}));
  check_all_fragmentations("ECHO \"\\b\\a\\t\\r\"\r\n", cmds({{"ECHO", "\b\a\t\r"}}));
  check_all_fragmentations("ECHO \"\\xAb\\xfF\\x00\"\r\n", cmds({{"ECHO", "\xab\xff\0"s}}));
  check_all_fragmentations("ECHO \"\\x\"\r\n", cmds({{"ECHO", "x"}}));
  check_all_fragmentations("ECHO \"\\xzz\"\r\n", cmds({{"ECHO", "xzz"}}));
  check_all_fragmentations("ECHO \"\\x4\"\r\n", cmds({{"ECHO", "x4"}}));
  // Single quotes: only \' is an escape.
  check_all_fragmentations("ECHO 'a\\'b\\n'\r\n", cmds({{"ECHO", "a'b\\n"}}));
  check_all_fragmentations("ECHO 'a\\\\b'\r\n", cmds({{"ECHO", "a\\\\b"}}));
  check_all_fragmentations("ECHO 'say \"hi\"'\r\n", cmds({{"ECHO", "say \"hi\""}}));
  check_all_fragmentations("ECHO \"it's\"\r\n", cmds({{"ECHO", "it's"}}));
  // Empty quoted arguments are arguments.
  check_all_fragmentations("ECHO \"\"\r\n", cmds({{"ECHO", ""}}));
  check_all_fragmentations("ECHO ''\r\n", cmds({{"ECHO", ""}}));
  check_all_fragmentations("SET \"\" ''\r\n", cmds({{"SET", "", ""}}));
  // A quote may open in the middle of an argument.
  check_all_fragmentations("ECHO a\"b c\"\r\n", cmds({{"ECHO", "ab c"}}));
  check_all_fragmentations("ECHO a'b c'\r\n", cmds({{"ECHO", "ab c"}}));
  // A closing quote followed by any blank is fine (redis: 3 args).
  check_all_fragmentations("ECHO \"a\"\tx\r\n", cmds({{"ECHO", "a", "x"}}));
  check_all_fragmentations("ECHO \"a\"\vx\r\n", cmds({{"ECHO", "a", "x"}}));
  check_all_fragmentations("ECHO \"a\"\r\n", cmds({{"ECHO", "a"}}));
  // Quoted CR LF bytes survive.
  check_all_fragmentations("SET k \"line1\\r\\nline2\"\n", cmds({{"SET", "k", "line1\r\nline2"}}));
}

TEST_CASE("inline: unbalanced quotes", "[resp_parser]") {
  for (std::string in : {"ECHO \"abc\r\n", "ECHO 'abc\r\n", "ECHO \"a\"b\r\n", "ECHO 'a'b\r\n",
                         "ECHO a\"b c\"d\r\n", "ECHO \"abc\\\"\r\n", "ECHO \"\r\n", "ECHO '\n",
                         "ECHO \"\\\r\n", "ECHO 'a\\'\n", "\"a\"\"b\"\n"}) {
    check_all_fragmentations(in, err({}, kUnbalanced));
  }
  check_all_fragmentations("PING\r\nECHO \"x\r\nPING\r\n", err({{"PING"}}, kUnbalanced));
}

TEST_CASE("NUL before a line terminator: the line never completes (as redis strchr)", "[resp_parser]") {
  const std::string filler(64 * 1024, 'x');
  // Redis keeps waiting, then closes with "too big ..." once > 64KB are buffered.
  check_all_fragmentations("PING\0\r\nPING\r\n"s, cmds({}, true));
  CHECK(run_cuts("PING\0\r\n"s + filler, {7}) == err({}, kTooBigInline));
  CHECK(run_cuts("*1\0\r\n$4\r\nPING\r\n"s + filler, {15}) == err({}, kTooBigMbulk));
  CHECK(run_cuts("*1\r\n$4\0\r\nPING\r\n"s + filler, {15}) == err({}, kTooBigBulk));
  CHECK(run_cuts("*1\r\n\0\r\n"s + filler, {7}) == err({}, kTooBigBulk));
  CHECK(run_cuts("*1\r\nx\0\r\n"s + filler, {8}) == err({}, kTooBigBulk));
  // NUL inside bulk data is just data.
  CHECK(run("*1\r\n$1\r\n\0\r\nPING\r\n"s) == cmds({{"\0"s}, {"PING"}}));
  // Exactly at the limit: still waiting.
  std::string at_limit = "P\0"s + std::string(64 * 1024 - 2, 'y');
  CHECK(run_chunked(at_limit, 1000) == cmds({}, true));
  CHECK(run_chunked(at_limit + "\n", 1000) == err({}, kTooBigInline));
  // A NUL-stuck line does not store what it counts.
  RespParser p;
  ArgList args;
  size_t consumed = 0;
  REQUIRE(p.parse("PI\0NG\r\n"s, consumed, args) == Status::kNeedMore);
  for (int i = 0; i < 60; ++i) REQUIRE(p.parse(std::string(1000, 'z'), consumed, args) == Status::kNeedMore);
  CHECK(RespParserTestAccess::line(p).capacity() < 100);
}

TEST_CASE("too big lines: limits checked only on unterminated buffered bytes", "[resp_parser]") {
  const size_t K = 64 * 1024;
  // Inline: 65536 buffered bytes without LF wait, 65537 fail (as redis).
  CHECK(run(std::string(K, 'x')) == cmds({}, true));
  CHECK(run(std::string(K + 1, 'x')) == err({}, kTooBigInline));
  CHECK(run_cuts(std::string(K + 1, 'x'), {K}) == err({}, kTooBigInline));
  CHECK(run_chunked(std::string(K + 1, 'x'), 16 * 1024) == err({}, kTooBigInline));
  // A line that arrives with its LF is accepted whatever its length: redis
  // accepts "PING <65546 x>\n" sent at once and replies with the bulk.
  std::string big(K + 10, 'x');
  CHECK(run("PING " + big + "\n") == cmds({{"PING", big}}));
  CHECK(run_cuts(std::string(K - 10, 'x') + "\n", {K - 10}) == cmds({{std::string(K - 10, 'x')}}));
  CHECK(run_cuts(std::string(K, 'x') + "\n", {K}) == cmds({{std::string(K, 'x')}}));

  // Multibulk count line.
  CHECK(run("*" + std::string(K - 1, '1')) == cmds({}, true));
  CHECK(run("*" + std::string(K, '1')) == err({}, kTooBigMbulk));
  CHECK(run_chunked("*" + std::string(K + 5, '1'), 4096) == err({}, kTooBigMbulk));
  // With its CR it is judged as a number when the next byte comes (redis:
  // waits, then "invalid multibulk length").
  CHECK(run("*" + std::string(K + 5, '1') + "\r") == cmds({}, true));
  CHECK(run_cuts("*" + std::string(K + 5, '1') + "\r\n", {K + 7}) == err({}, kInvalidMbulk));

  // Bulk count line: counted from the start of the header.
  CHECK(run("*1\r\n$" + std::string(K - 1, '1')) == cmds({}, true));
  CHECK(run("*1\r\n$" + std::string(K, '1')) == err({}, kTooBigBulk));
  CHECK(run("*1\r\n" + std::string(K + 1, 'x')) == err({}, kTooBigBulk));
  CHECK(run_chunked("*1\r\n$" + std::string(K + 1, '1'), 7000) == err({}, kTooBigBulk));
  CHECK(run("*1\r\n" + std::string(K + 5, '$') + "\r") == cmds({}, true));
  CHECK(run("*1\r\n" + std::string(K + 5, '$') + "\r\n") == err({}, kInvalidBulk));

  // A lowered max_inline_len applies to all three.
  ParserLimits lim;
  lim.max_inline_len = 8;
  CHECK(run("123456789", lim) == err({}, kTooBigInline));
  CHECK(run("12345678", lim) == cmds({}, true));
  CHECK(run("*12345678", lim) == err({}, kTooBigMbulk));
  CHECK(run("*1\r\n$1234567", lim) == cmds({}, true));
  CHECK(run("*1\r\n$12345678", lim) == err({}, kTooBigBulk));
  CHECK(run("SET key value\r\n", lim) == cmds({{"SET", "key", "value"}}));
}

TEST_CASE("fragmentation: mixed pipeline at every byte boundary", "[resp_parser]") {
  std::string bin = "\0\r\n$5\r\n*2\r\n\n\r"s;
  std::string data = mbulk({"SET", "key", bin}) + "GET key\r\n" + "*0\r\n" +
                     "set \"a b\" 'c\\'d' \"\\x00\\r\\n\"\n" + "\r\n" + mbulk({"ECHO", ""}) +
                     "*2\r\n$4\r\nECHO\r\n$3\r\n\r\n\r\r\n" + "  PING  \r\n" + mbulk({"X", std::string(300, 'z')});
  Outcome expected = cmds({{"SET", "key", bin},
                           {"GET", "key"},
                           {},
                           {"set", "a b", "c'd", "\0\r\n"s},
                           {},
                           {"ECHO", ""},
                           {"ECHO", "\r\n\r"},
                           {"PING"},
                           {"X", std::string(300, 'z')}});
  check_all_fragmentations(data, expected);
  // Every pair of cut points on a shorter mixed pipeline.
  std::string small = "*2\r\n$1\r\na\r\n$2\r\n\r\n\r\nPING\r\n*1\r\n$0\r\n\r\n";
  Outcome small_expected = cmds({{"a", "\r\n"}, {"PING"}, {""}});
  for (size_t i = 0; i <= small.size(); ++i)
    for (size_t j = i; j <= small.size(); ++j) {
      INFO("cuts " << i << "," << j);
      REQUIRE(run_cuts(small, {i, j}) == small_expected);
    }
  // Random chunkings.
  std::mt19937 rng(12345);
  for (int round = 0; round < 300; ++round) {
    std::vector<size_t> cuts;
    size_t pos = 0;
    while (true) {
      pos += 1 + rng() % 40;
      if (pos >= data.size()) break;
      cuts.push_back(pos);
    }
    REQUIRE(run_cuts(data, cuts) == expected);
  }
}

TEST_CASE("fragmentation: random commands and random garbage parse the same in any chunking",
          "[resp_parser]") {
  std::mt19937 rng(777);
  const std::string alphabet = "*$\r\n0123-\"'\\x ab\t";
  auto pick = [&](unsigned n) { return static_cast<int>(rng() % n); };
  for (int round = 0; round < 400; ++round) {
    std::string data;
    Outcome expected;
    bool valid = round % 2 == 0;
    if (valid) {
      // Valid pipelines of binary multibulk and inline commands.
      int ncmd = 1 + pick(6);
      for (int c = 0; c < ncmd; ++c) {
        Cmd cmd;
        int nargs = pick(4);
        if (pick(3) == 0) {
          data += "CMD";
          cmd.push_back("CMD");
          for (int a = 0; a < nargs; ++a) {
            data += " a" + std::to_string(a);
            cmd.push_back("a" + std::to_string(a));
          }
          data += pick(2) ? "\r\n" : "\n";
        } else {
          for (int a = 0; a < nargs; ++a) {
            std::string arg;
            int len = pick(12);
            for (int b = 0; b < len; ++b) arg.push_back(static_cast<char>(pick(256)));
            cmd.push_back(arg);
          }
          data += mbulk(cmd);
        }
        expected.cmds.push_back(cmd);
      }
    } else {
      // Garbage made of protocol-ish bytes.
      int len = 1 + pick(40);
      for (int b = 0; b < len; ++b) data.push_back(alphabet[rng() % alphabet.size()]);
    }
    Outcome whole = run(data);
    INFO("input: " << data);
    if (valid) REQUIRE(whole == expected);
    REQUIRE(run_chunked(data, 1) == whole);
    REQUIRE(run_chunked(data, 3) == whole);
    for (size_t i = 0; i <= data.size(); ++i) REQUIRE(run_cuts(data, {i}) == whole);
  }
}

TEST_CASE("pipelining: thousands of commands, one per call", "[resp_parser]") {
  std::string data;
  const int n = 30000;
  for (int i = 0; i < n; ++i) {
    if (i % 3 == 0)
      data += "INCR counter:" + std::to_string(i) + "\r\n";
    else
      data += mbulk({"SET", "key:" + std::to_string(i), std::string(i % 50, 'v')});
  }
  RespParser p;
  ArgList args;
  std::string_view rest = data;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    size_t consumed = 0;
    REQUIRE(p.parse(rest, consumed, args) == Status::kCommand);
    REQUIRE(consumed > 0);
    if (i % 3 == 0) {
      REQUIRE(args.size() == 2);
      REQUIRE(args[1] == "counter:" + std::to_string(i));
      REQUIRE(consumed == args[0].size() + args[1].size() + 3);
    } else {
      REQUIRE(args.size() == 3);
      REQUIRE(args[1] == "key:" + std::to_string(i));
      REQUIRE(args[2].size() == static_cast<size_t>(i % 50));
      REQUIRE(consumed == mbulk(to_cmd(args)).size());
    }
    rest.remove_prefix(consumed);
  }
  CHECK(rest.empty());
  size_t consumed = 1;
  CHECK(p.parse(rest, consumed, args) == Status::kNeedMore);
  CHECK(consumed == 0);
  CHECK_FALSE(p.in_progress());
  // Linear: far below a second even under sanitizers (quadratic would take minutes).
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("memory: a huge declared bulk costs only the bytes sent", "[resp_parser]") {
  RespParser p;
  ArgList args;
  size_t consumed = 0;
  size_t before = heap_in_use();
  std::string in = "*1000000000\r\n$500000000\r\n" + std::string(100, 'a');
  REQUIRE(p.parse(in, consumed, args) == Status::kNeedMore);
  CHECK(consumed == in.size());
  REQUIRE(args.size() == 1);
  CHECK(args[0].size() == 100);
  CHECK(args.mutable_at(0).capacity() <= 64 * 1024);
  CHECK(p.pending_bulk_bytes() == 500000002 - 100);
  size_t after = heap_in_use();
  if (kHeapStatsWork) CHECK(after - std::min(after, before) < 8 * 1024 * 1024);  // vs 500MB declared
  // More bytes grow the buffer with them, not to the declared size.
  std::string chunk(16 * 1024, 'b');
  for (int i = 0; i < 10; ++i) REQUIRE(p.parse(chunk, consumed, args) == Status::kNeedMore);
  CHECK(args[0].size() == 100 + 10 * chunk.size());
  CHECK(args.mutable_at(0).capacity() <= 2 * args[0].size() + 64 * 1024);
}

TEST_CASE("memory: a huge argument count does not reserve slots", "[resp_parser]") {
  RespParser p;
  ArgList args;
  size_t consumed = 0;
  size_t before = heap_in_use();
  REQUIRE(p.parse("*2147483647\r\n$1\r\na\r\n$1\r\nb\r\n", consumed, args) == Status::kNeedMore);
  CHECK(args.size() == 2);
  size_t after = heap_in_use();
  if (kHeapStatsWork) CHECK(after - std::min(after, before) < 8 * 1024 * 1024);  // vs 2^31 slots
}

TEST_CASE("memory: a 100MB bulk in 16KB chunks grows geometrically (linear time)", "[resp_parser]") {
  const size_t len = 100 * 1024 * 1024;
  RespParser p;
  ArgList args;
  size_t consumed = 0;
  REQUIRE(p.parse("*2\r\n$3\r\nSET\r\n$" + std::to_string(len) + "\r\n", consumed, args) == Status::kNeedMore);
  std::string chunk(16 * 1024, '\0');
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 7 + 3);
  size_t sent = 0, reallocations = 0, last_capacity = 0;
  auto start = std::chrono::steady_clock::now();
  while (sent < len) {
    REQUIRE(p.parse(chunk, consumed, args) == Status::kNeedMore);
    REQUIRE(consumed == chunk.size());
    sent += chunk.size();
    size_t cap = args.mutable_at(1).capacity();
    if (cap != last_capacity) ++reallocations;
    last_capacity = cap;
    REQUIRE(cap <= len + 64);  // never more than the declared length
  }
  CHECK(p.pending_bulk_bytes() == 2);
  REQUIRE(p.parse("\r\n", consumed, args) == Status::kCommand);
  REQUIRE(args.size() == 2);
  REQUIRE(args[1].size() == len);
  CHECK(args[1].substr(len - chunk.size()) == chunk);
  CHECK(args[1].substr(1234 * 16 * 1024, chunk.size()) == chunk);
  CHECK(reallocations <= 20);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

TEST_CASE("steady state: buffers are reused, no reallocation", "[resp_parser]") {
  RespParser p;
  ArgList args;
  std::string cmd = mbulk({"SET", "some-key", std::string(1000, 'v')});
  std::string inl = "SET \"some key\" value\r\n";
  size_t consumed = 0;
  REQUIRE(p.parse(cmd, consumed, args) == Status::kCommand);
  REQUIRE(p.parse(inl, consumed, args) == Status::kCommand);
  std::vector<const char*> ptrs;
  for (size_t i = 0; i < args.size(); ++i) ptrs.push_back(args[i].data());
  REQUIRE(p.parse(cmd, consumed, args) == Status::kCommand);
  const char* value_ptr = args[2].data();
  for (int round = 0; round < 100; ++round) {
    REQUIRE(p.parse(inl, consumed, args) == Status::kCommand);
    for (size_t i = 0; i < args.size(); ++i) REQUIRE(args[i].data() == ptrs[i]);
    // Byte by byte, which goes through the parser's line buffer.
    for (size_t i = 0; i < cmd.size(); ++i) {
      Status st = p.parse(std::string_view(cmd).substr(i, 1), consumed, args);
      REQUIRE(st == (i + 1 == cmd.size() ? Status::kCommand : Status::kNeedMore));
    }
    REQUIRE(args[2].data() == value_ptr);
  }
  CHECK(RespParserTestAccess::line(p).capacity() < 1024);
}

TEST_CASE("errors are sticky until reset()", "[resp_parser]") {
  RespParser p;
  ArgList args;
  size_t consumed = 99;
  REQUIRE(p.parse("*1\r\n$x\r\nPING\r\n", consumed, args) == Status::kError);
  CHECK(consumed <= 15);
  CHECK(p.error() == kInvalidBulk);
  CHECK_FALSE(p.in_progress());
  REQUIRE(p.parse("PING\r\n", consumed, args) == Status::kError);
  CHECK(consumed == 0);
  p.reset();
  CHECK(p.error().empty());
  REQUIRE(p.parse("PING\r\n", consumed, args) == Status::kCommand);
  CHECK(to_cmd(args) == Cmd{"PING"});
}

TEST_CASE("reset() abandons a command in progress", "[resp_parser]") {
  for (std::string partial : std::vector<std::string>{"*2\r\n$3\r\nGET\r\n$10\r\nabc", "*2\r\n$3\r\nG", "*2", "*2\r", "GET ke",
                              "PI\0NG"s, "*1\r\n$4"}) {
    RespParser p;
    ArgList args;
    size_t consumed = 0;
    REQUIRE(p.parse(partial, consumed, args) == Status::kNeedMore);
    CHECK(p.in_progress());
    p.reset();
    CHECK_FALSE(p.in_progress());
    CHECK(p.pending_bulk_bytes() == 0);
    REQUIRE(p.parse("*1\r\n$4\r\nPING\r\n", consumed, args) == Status::kCommand);
    CHECK(to_cmd(args) == Cmd{"PING"});
    CHECK(consumed == 14);
  }
}

TEST_CASE("consumed and state reporting", "[resp_parser]") {
  RespParser p;
  ArgList args;
  size_t consumed = 7;
  CHECK(p.parse("", consumed, args) == Status::kNeedMore);
  CHECK(consumed == 0);
  CHECK_FALSE(p.in_progress());
  std::string in = "*1\r\n$4\r\nPING\r\nGET k\r\n*1";
  REQUIRE(p.parse(in, consumed, args) == Status::kCommand);
  CHECK(consumed == 14);
  std::string_view rest = std::string_view(in).substr(consumed);
  REQUIRE(p.parse(rest, consumed, args) == Status::kCommand);
  CHECK(consumed == 7);
  CHECK(to_cmd(args) == Cmd{"GET", "k"});
  rest.remove_prefix(consumed);
  REQUIRE(p.parse(rest, consumed, args) == Status::kNeedMore);
  CHECK(consumed == 2);
  CHECK(p.in_progress());
  CHECK(p.pending_bulk_bytes() == 0);
  REQUIRE(p.parse("\r\n$3\r\n", consumed, args) == Status::kNeedMore);
  CHECK(p.pending_bulk_bytes() == 5);
  REQUIRE(p.parse("ab", consumed, args) == Status::kNeedMore);
  CHECK(p.pending_bulk_bytes() == 3);
  REQUIRE(p.parse("c\r\nrest", consumed, args) == Status::kCommand);
  CHECK(consumed == 3);
  CHECK(to_cmd(args) == Cmd{"abc"});
  // ArgList contents are replaced by the next command.
  REQUIRE(p.parse("A B C D\n", consumed, args) == Status::kCommand);
  REQUIRE(p.parse("E\n", consumed, args) == Status::kCommand);
  CHECK(to_cmd(args) == Cmd{"E"});
}
