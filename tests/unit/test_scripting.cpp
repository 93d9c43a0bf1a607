// Scripting: EVAL / EVALSHA / FCALL, SCRIPT and FUNCTION, the Lua sandbox and
// the cjson / cmsgpack / bit / struct libraries. Expected bytes were captured
// from redis-server 7.0.15 (tests/integration/test_scripting.py compares a
// much larger corpus side by side with a live redis-server).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server/command_table.h"
#include "server/scripting/scripting.h"
#include "server/scripting/sha1.h"
#include "tests/unit/command_test_util.h"

using namespace std::string_literals;

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
namespace resp = distcache::test::resp;
namespace server = distcache::server;
namespace scripting = distcache::server::scripting;

namespace {

// The families of a scripting runner: scripting and the data families
// scripts call (redis.call itself goes through the global command table).
const std::vector<CommandRunner::Family> kFamilies = {
    server::scripting_command_specs, server::string_command_specs, server::key_command_specs,
    server::list_command_specs,      server::hash_command_specs,   server::set_command_specs,
    server::zset_command_specs};

// The process-wide script cache and function libraries start empty.
void reset_scripting(CommandRunner& r) {
  r.run("SCRIPT FLUSH");
  r.run("FUNCTION FLUSH");
}

std::string eval(CommandRunner& r, const std::string& script, std::vector<std::string> keys_and_args = {},
                 size_t numkeys = 0, const char* command = "EVAL") {
  std::vector<std::string> argv{command, script, std::to_string(numkeys)};
  argv.insert(argv.end(), keys_and_args.begin(), keys_and_args.end());
  return r.run(argv);
}

std::string fcall(CommandRunner& r, const std::string& name, std::vector<std::string> keys_and_args = {},
                  size_t numkeys = 0, const char* command = "FCALL") {
  std::vector<std::string> argv{command, name, std::to_string(numkeys)};
  argv.insert(argv.end(), keys_and_args.begin(), keys_and_args.end());
  return r.run(argv);
}

std::string function_load(CommandRunner& r, const std::string& code, bool replace = false) {
  if (replace) return r.run(std::vector<std::string>{"FUNCTION", "LOAD", "REPLACE", code});
  return r.run(std::vector<std::string>{"FUNCTION", "LOAD", code});
}

// The error suffix Redis adds to errors raised while a script runs.
std::string at(std::string_view sha_or_name, std::string_view source, int line) {
  return " script: " + std::string(sha_or_name) + ", on " + std::string(source) + ":" + std::to_string(line) +
         ".\r\n";
}

std::string sha(std::string_view body) { return scripting::sha1_hex(body); }

}  // namespace

TEST_CASE("SHA-1 digests as redis.sha1hex computes them", "[scripting]") {
  CHECK(scripting::sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(scripting::sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(scripting::sha1_hex("return 1") == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  CHECK(scripting::sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  std::string million(1000000, 'a');
  CHECK(scripting::sha1_hex(million) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_CASE("Lua values become RESP2 replies", "[scripting]") {
  CommandRunner r(kFamilies);
  reset_scripting(r);
  CHECK(eval(r, "return 3.99") == ":3\r\n");
  CHECK(eval(r, "return -3.99") == ":-3\r\n");
  CHECK(eval(r, "return 1e30") == ":-9223372036854775808\r\n");
  CHECK(eval(r, "return 0/0") == ":-9223372036854775808\r\n");
  CHECK(eval(r, "return 12345678901234567") == ":12345678901234568\r\n");
  CHECK(eval(r, "return {1,2,nil,4}") == "*2\r\n:1\r\n:2\r\n");
  CHECK(eval(r, "return {1,'a',{2,3},true,false}") == "*5\r\n:1\r\n$1\r\na\r\n*2\r\n:2\r\n:3\r\n:1\r\n$-1\r\n");
  CHECK(eval(r, "return true") == ":1\r\n");
  CHECK(eval(r, "return false") == "$-1\r\n");
  CHECK(eval(r, "return nil") == "$-1\r\n");
  CHECK(eval(r, "return") == "$-1\r\n");
  CHECK(eval(r, "return {}") == "*0\r\n");
  CHECK(eval(r, "return {a=1}") == "*0\r\n");
  CHECK(eval(r, "return 'a\\0b'") == "$3\r\na\0b\r\n"s);
  CHECK(eval(r, "return {err='My Error'}") == "-My Error\r\n");
  CHECK(eval(r, "return {err='a\\nb\\n'}") == "-a b\r\n");
  CHECK(eval(r, "return {err='-X y'}") == "--X y\r\n");
  CHECK(eval(r, "return {err=5}") == "*0\r\n");
  CHECK(eval(r, "return {ok='fine'}") == "+fine\r\n");
  CHECK(eval(r, "return {ok='a\\r\\nb'}") == "+a  b\r\n");
  CHECK(eval(r, "return {ok='x', err='y'}") == "-y\r\n");
  CHECK(eval(r, "return {1, {err='x'}, {ok='y'}}") == "*3\r\n:1\r\n-x\r\n+y\r\n");
  CHECK(eval(r, "return redis.error_reply('My Error')") == "-My Error\r\n");
  CHECK(eval(r, "return redis.error_reply('oops')") == "-ERR oops\r\n");
  CHECK(eval(r, "return redis.error_reply('-oops')") == "-ERR oops\r\n");
  CHECK(eval(r, "return redis.error_reply('- x')") == "- x\r\n");
  CHECK(eval(r, "return redis.error_reply(5)") == "-ERR wrong number or type of arguments\r\n");
  CHECK(eval(r, "return redis.status_reply('x')") == "+x\r\n");
  CHECK(eval(r, "return {double=3.5}") == "$3\r\n3.5\r\n");
  CHECK(eval(r, "return {double=0/0}") == "$4\r\n-nan\r\n");
  CHECK(eval(r, "return {big_number='1\\r\\n2'}") == "$4\r\n1  2\r\n");
  CHECK(eval(r, "return {map={a=1}}") == "*2\r\n$1\r\na\r\n:1\r\n");
  CHECK(eval(r, "return {set={a=true}}") == "*1\r\n$1\r\na\r\n");
  CHECK(eval(r, "return {verbatim_string={format='txt', string='hi'}}") == "$2\r\nhi\r\n");
  CHECK(eval(r, "local a = {} a[1] = a return a").find("-ERR reached lua stack limit\r\n") != std::string::npos);
}

TEST_CASE("Lua values become RESP3 replies for a RESP3 client", "[scripting]") {
  CommandRunner r(kFamilies);
  reset_scripting(r);
  r.resp_version = 3;
  CHECK(eval(r, "return {map={a=1}}") == "%1\r\n$1\r\na\r\n:1\r\n");
  CHECK(eval(r, "return {set={a=true}}") == "~1\r\n$1\r\na\r\n");
  CHECK(eval(r, "return {double=0.1}") == ",0.10000000000000001\r\n");
  CHECK(eval(r, "return {double=-1/0}") == ",-inf\r\n");
  CHECK(eval(r, "return {big_number='123'}") == "(123\r\n");
  CHECK(eval(r, "return {verbatim_string={format='mkd', string='**x**'}}") == "=9\r\nmkd:**x**\r\n");
  CHECK(eval(r, "return {verbatim_string={format='', string='ab'}}") == "=6\r\n   :ab\r\n");
  CHECK(eval(r, "return {1, false, true}") == "*3\r\n:1\r\n_\r\n:1\r\n");
  CHECK(eval(r, "redis.setresp(3) return {1, false, true}") == "*3\r\n:1\r\n#f\r\n#t\r\n");
  CHECK(eval(r, "redis.setresp(3) return nil") == "_\r\n");
  r.resp_version = 2;
  CHECK(eval(r, "redis.setresp(3) return false") == ":0\r\n");
}

TEST_CASE("redis.call arguments and replies", "[scripting]") {
  CommandRunner r(kFamilies);
  reset_scripting(r);
  CHECK(eval(r, "return redis.call('set', KEYS[1], 3.14)", {"k"}, 1) == "+OK\r\n");
  CHECK(r.run("GET k") == resp::bulk("3.1400000000000001"));
  CHECK(eval(r, "return redis.call('set', KEYS[1], 1e100)", {"k"}, 1) == "+OK\r\n");
  CHECK(r.run("GET k") == resp::bulk("1e+100"));
  CHECK(eval(r, "return redis.call('set', KEYS[1], -0.0)", {"k"}, 1) == "+OK\r\n");
  CHECK(r.run("GET k") == resp::bulk("-0"));
  CHECK(eval(r, "return {KEYS[1], ARGV[1], #KEYS, #ARGV}", {"a", "b", "c"}, 1) ==
        "*4\r\n$1\r\na\r\n$1\r\nb\r\n:1\r\n:2\r\n");
  CHECK(eval(r, "local x = redis.call('get', 'nokey') return tostring(x)") == resp::bulk("false"));
  CHECK(eval(r, "redis.setresp(3) local x = redis.call('get', 'nokey') return tostring(x)") == resp::bulk("nil"));
  CHECK(eval(r, "return redis.call('ping').ok") == resp::bulk("PONG"));
  CHECK(eval(r, "return redis.call('echo', 'x')") == resp::bulk("x"));
  CHECK(eval(r, "redis.call('rpush', 'l', 'a', 'b') return redis.call('lrange', 'l', 0, -1)") ==
        resp::bulk_array({"a", "b"}));
  CHECK(eval(r, "redis.call('hset', 'h', 'a', '1') redis.setresp(3) local x = redis.call('hgetall', 'h') "
                "return {type(x), x.map.a}") == resp::bulk_array({"table", "1"}));
  CHECK(eval(r, "redis.call('zadd', 'z', 1.5, 'a') redis.setresp(3) local x = redis.call('zscore', 'z', 'a') "
                "return tostring(x.double)") == resp::bulk("1.5"));
  CHECK(eval(r, "local r = redis.pcall('nosuch') local t = {} for k,v in pairs(r) do t[#t+1]=k..'='..tostring(v) "
                "end table.sort(t) return t") ==
        resp::bulk_array({"err=ERR Unknown Redis command called from script", "ignore_error_stats_update=true"}));
  CHECK(eval(r, "return redis.call('blmpop', 1, 1, 'nolist', 'left')") == "$-1\r\n");
  // SELECT inside a script changes the database for the script only.
  CHECK(eval(r, "redis.call('select', 1) return redis.call('set', 'k1', 'v1')") == "+OK\r\n");
  CHECK(r.run("GET k1") == resp::nil());
  r.db_index = 1;
  CHECK(r.run("GET k1") == resp::bulk("v1"));
  r.db_index = 0;
  CHECK(eval(r, "return redis.call('select', 99)") == "-ERR DB index is out of range" +
                                                             at(sha("return redis.call('select', 99)"),
                                                                "@user_script", 1));
}

TEST_CASE("Script errors carry Redis's texts and locations", "[scripting]") {
  CommandRunner r(kFamilies);
  reset_scripting(r);
  CHECK(eval(r, "return x") == "-ERR user_script:1: Script attempted to access nonexistent global variable 'x'" +
                                   at("03c387736bb5cc009ff35151572cee04677aa374", "@user_script", 1));
  CHECK(eval(r, "x = 1") == "-ERR user_script:1: Attempt to modify a readonly table" +
                                at("34bce5f775de97f557a34088509c8bfe1ea17e52", "@user_script", 1));
  CHECK(eval(r, "rawset(_G, 'x', 1)") ==
        "-ERR Attempt to modify a readonly table" + at("e2c706419da183d6229a1230c3be09cc32cdeee0", "@user_script", 1));
  CHECK(eval(r, "error({err='TAB x'})") == "-TAB x" + at("533b7147981d90cf1ead33d1e2d34411041066e0", "@user_script", 1));
  CHECK(eval(r, "error()") == "-ERR nil" + at("aca90d914519fdb9825352bdc0befb59f7c8510f", "@user_script", 1));
  CHECK(eval(r, "\n\nerror('x')") == "-ERR user_script:3: x" + at(sha("\n\nerror('x')"), "@user_script", 3));
  CHECK(eval(r, "return 1 +") == "-ERR Error compiling script (new function): user_script:1: unexpected symbol near "
                                  "'<eof>'\r\n");
  CHECK(eval(r, "\x1bLua") == "-ERR Error compiling script (new function): user_script:1: unexpected symbol near "
                                "'char(27)'\r\n");
  CHECK(eval(r, "return redis.call('nosuch')") ==
        "-ERR Unknown Redis command called from script" +
            at("206396248e12c6e742fd7296250433c8d7343b74", "@user_script", 1));
  CHECK(eval(r, "return redis.pcall('nosuch')") == "-ERR Unknown Redis command called from script\r\n");
  CHECK(eval(r, "return redis.call('get')") == "-ERR Wrong number of args calling Redis command from script" +
                                                  at("f187dee77f607f7cff00bbabc9df38507582c78d", "@user_script", 1));
  CHECK(eval(r, "return redis.call()") == "-ERR Please specify at least one argument for this redis lib call" +
                                              at("0a907e1429221a4d85516cab7fd219a82a9439d8", "@user_script", 1));
  CHECK(eval(r, "return redis.pcall('get', {})") ==
        "-ERR Lua redis lib command arguments must be strings or integers\r\n");
  CHECK(eval(r, "return redis.call('eval', 'return 1', 0)") ==
        "-ERR This Redis command is not allowed from script" +
            at("310efa61ec0f2edf6c2e5b4007966dd555e75546", "@user_script", 1));
  CHECK(eval(r, "return redis.call('blpop', 'l', 1)") ==
        "-ERR This Redis command is not allowed from script" +
            at("85ab230b4fef8eaf12e7c51a6b25f792e0d9db3f", "@user_script", 1));
  r.run("SET k v");
  CHECK(eval(r, "return redis.call('lpush', 'k', 'x')") ==
        "-WRONGTYPE Operation against a key holding the wrong kind of value" +
            at("bebe050f6763e9d4b51df27e34a338498e55d58a", "@user_script", 1));
  CHECK(eval(r, "return redis.call('set', 'k', 'v')", {}, 0, "EVAL_RO") ==
        "-ERR Write commands are not allowed from read-only scripts." +
            at("2d991be581da74a0c0c441c4beb92ae41c2e1eb9", "@user_script", 1));
  CHECK(eval(r, "local ok, e = pcall(redis.call, 'nosuch') return e") ==
        resp::bulk("ERR Unknown Redis command called from script"));
  CHECK(eval(r, "local ok, e = pcall(function() return x end) return e") ==
        resp::bulk("user_script:1: Script attempted to access nonexistent global variable 'x'"));
  expect_replies(r, {
                        {"EVAL \"return 1\" x", resp::error("ERR value is not an integer or out of range")},
                        {"EVAL \"return 1\" -1", resp::error("ERR Number of keys can't be negative")},
                        {"EVAL \"return 1\" 1", resp::error("ERR Number of keys can't be greater than number of args")},
                        {"EVALSHA nosuch 0", resp::error("NOSCRIPT No matching script. Please use EVAL.")},
                        {"EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0",
                         resp::error("NOSCRIPT No matching script. Please use EVAL.")},
                    });
}

TEST_CASE("Script flags in the shebang", "[scripting]") {
  CommandRunner r(kFamilies);
  reset_scripting(r);
  CHECK(eval(r, "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')") ==
        "-ERR Write commands are not allowed from read-only scripts." +
            at("b257fa457662db6b514d4f207000d9d67c45e83f", "@user_script", 2));
  CHECK(eval(r, "#!lua\nreturn redis.call('set', 'k', 'v')") == "+OK\r\n");
  CHECK(eval(r, "#!lua\nerror('x')") == "-ERR user_script:2: x" +
                                           at("f0363b84b71234131413165ce8dee0dbb5f9ce96", "@user_script", 2));
  CHECK(eval(r, "#!lua flags=bad\nreturn 1") == "-ERR Unexpected flag in script shebang: bad\r\n");
  CHECK(eval(r, "#!lua flags=no-writes,,allow-oom\nreturn 1") == "-ERR Unexpected flag in script shebang: \r\n");
  CHECK(eval(r, "#!lua name=x\nreturn 1") == "-ERR Unknown lua shebang option: name=x\r\n");
  CHECK(eval(r, "#!luax\nreturn 1") == "-ERR Unexpected engine in script shebang: #!luax\r\n");
  CHECK(eval(r, "#!lua") == "-ERR Invalid script shebang\r\n");
  CHECK(eval(r, "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1") ==
        ":1\r\n");
  CHECK(eval(r, "#!lua\nreturn 1", {}, 0, "EVAL_RO") ==
        "-ERR Can not execute a script with write flag using *_ro command.\r\n");
  CHECK(eval(r, "#!lua flags=no-writes\nreturn 1", {}, 0, "EVAL_RO") == ":1\r\n");
}

TEST_CASE("The sandbox: globals, read-only tables, removed functions", "[scripting]") {
  CommandRunner r(kFamilies);
  reset_scripting(r);
  CHECK(eval(r, "local t = {} for k,v in pairs(_G) do t[#t+1]=k end table.sort(t) return table.concat(t, ' ')") ==
        resp::bulk("ARGV KEYS _G _VERSION __redis__err__handler assert bit cjson cmsgpack collectgarbage coroutine "
                   "error gcinfo getmetatable ipairs load loadstring math next pairs pcall rawequal rawget rawset "
                   "redis select setmetatable string struct table tonumber tostring type unpack xpcall"));
  CHECK(eval(r, "local t = {} for k,v in pairs(redis) do t[#t+1]=k end table.sort(t) return table.concat(t, ' ')") ==
        resp::bulk("LOG_DEBUG LOG_NOTICE LOG_VERBOSE LOG_WARNING REDIS_VERSION REDIS_VERSION_NUM REPL_ALL REPL_AOF "
                   "REPL_NONE REPL_REPLICA REPL_SLAVE acl_check_cmd breakpoint call debug error_reply log pcall "
                   "replicate_commands set_repl setresp sha1hex status_reply"));
  CHECK(eval(r, "return redis.REDIS_VERSION") == resp::bulk("7.0.15"));
  CHECK(eval(r, "return redis.REDIS_VERSION_NUM") == ":458767\r\n");
  CHECK(eval(r, "return os").find("nonexistent global variable 'os'") != std::string::npos);
  CHECK(eval(r, "return print").find("nonexistent global variable 'print'") != std::string::npos);
  CHECK(eval(r, "string.foo = 1").find("user_script:1: Attempt to modify a readonly table") != std::string::npos);
  CHECK(eval(r, "setmetatable(_G, nil)").find("-ERR Attempt to modify a readonly table script") == 0);
  CHECK(eval(r, "getmetatable('').__index = {}").find("Attempt to modify a readonly table") != std::string::npos);
  CHECK(eval(r, "return getmetatable('').__index == string") == ":1\r\n");
  CHECK(eval(r, "return ('abc'):upper()") == resp::bulk("ABC"));
  CHECK(eval(r, "return rawget(_G, 'redis') == redis") == ":1\r\n");
  CHECK(eval(r, "KEYS[1] = 'x' return KEYS[1]", {"a"}, 1) == resp::bulk("x"));
  CHECK(eval(r, "local f, e = loadstring(string.dump(function() return 1 end)) return e") ==
        resp::bulk("[string \"\x1bLuaQ\"]:1: unexpected symbol near 'char(27)'"));
  CHECK(eval(r, "local f = loadstring('x = 5') f()").find("[string \"x = 5\"]:1: Attempt to modify a readonly table "
                                                          "script: ") != std::string::npos);
  // math.random is redis-server's rand48, shared by all scripts.
  CHECK(eval(r, "math.randomseed(1) return {math.random(100), math.random(100)}") == "*2\r\n:5\r\n:46\r\n");
  CHECK(eval(r, "math.randomseed(7) return math.random(1000000)") == ":266445\r\n");
}

TEST_CASE("cjson, cmsgpack, bit and struct", "[scripting]") {
  CommandRunner r(kFamilies);
  reset_scripting(r);
  CHECK(eval(r, "return cjson.encode({1,2,3})") == resp::bulk("[1,2,3]"));
  CHECK(eval(r, "return cjson.encode({[1]=1,[3]=3})") == resp::bulk("[1,null,3]"));
  CHECK(eval(r, "return cjson.decode('{\"a\":[1,{\"b\":2}]}').a[2].b") == ":2\r\n");
  CHECK(eval(r, "return cjson.decode('[1,2')").find("Expected comma or array end but found T_END at character 5") !=
        std::string::npos);
  CHECK(eval(r, "return cmsgpack.pack(127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296)") ==
        resp::bulk("\x7f\xcc\x80\xcc\xff\xcd\x01\x00\xcd\xff\xff\xce\x00\x01\x00\x00\xce\xff\xff\xff\xff\xcf"
                   "\x00\x00\x00\x01\x00\x00\x00\x00"s));
  CHECK(eval(r, "return cmsgpack.pack(-32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649)") ==
        resp::bulk("\xe0\xd0\xdf\xd0\x80\xd1\xff\x7f\xd1\x80\x00\xd2\xff\xff\x7f\xff\xd2\x80\x00\x00\x00\xd3\xff\xff"
                   "\xff\xff\x7f\xff\xff\xff"s));
  CHECK(eval(r, "return cmsgpack.pack(1.5, 0.1)") ==
        resp::bulk("\xca\x3f\xc0\x00\x00\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a"s));
  CHECK(eval(r, "return cmsgpack.pack({1,2,nil,4})") == resp::bulk("\x83\x01\x01\x02\x02\x04\x04"));
  CHECK(eval(r, "return cmsgpack.pack({name='job', data={x=1, y={1,2}}, opts={attempts=3, delay=0.5, lifo=false}})") ==
        resp::bulk("\x83\xa4""data\x82\xa1y\x92\x01\x02\xa1x\x01\xa4name\xa3job\xa4opts\x83\xa4lifo\xc2\xa5""delay"
                   "\xca\x3f\x00\x00\x00\xa8""attempts\x03"s));
  CHECK(eval(r, "local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)") ==
        resp::bulk(std::string(16, '\x91') + "\xc0"));
  CHECK(eval(r, "return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1,2}, true))}") ==
        "*4\r\n:1\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n:1\r\n");
  CHECK(eval(r, "local u = cmsgpack.unpack(cmsgpack.pack({a={b='c'}, n=-7, f=1.25})) "
                "return {u.a.b, u.n, tostring(u.f)}") == "*3\r\n$1\r\nc\r\n:-7\r\n$4\r\n1.25\r\n");
  CHECK(eval(r, "return {cmsgpack.unpack('\\147\\1\\2')}").find("Missing bytes in input.") != std::string::npos);
  CHECK(eval(r, "return {cmsgpack.unpack('\\193')}").find("Bad data format in input.") != std::string::npos);
  CHECK(eval(r, "return {cmsgpack.unpack_one('\\1\\2\\3', 2)}") == "*2\r\n:-1\r\n:3\r\n");
  CHECK(eval(r, "return {cmsgpack.unpack_limit('\\1\\2\\3', 2)}") == "*3\r\n:2\r\n:1\r\n:2\r\n");
  CHECK(eval(r, "return {cmsgpack.unpack_one('\\1\\2\\3', -1)}")
            .find("Invalid request to unpack with offset of -1 and limit of 3.") != std::string::npos);
  CHECK(eval(r, "return bit.tohex(-1, -8)") == resp::bulk("FFFFFFFF"));
  CHECK(eval(r, "return bit.bxor(5, 3)") == ":6\r\n");
  CHECK(eval(r, "return struct.pack('>b B h H l L', -1, 255, -2, 65535, -3, 7)") ==
        resp::bulk("\xff\xff\xff\xfe\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfd\x00\x00\x00\x00\x00\x00\x00\x07"s));
  CHECK(eval(r, "return struct.pack('!4 b i4', 1, 2)") == resp::bulk("\x01\x00\x00\x00\x02\x00\x00\x00"s));
  CHECK(eval(r, "return {struct.unpack('>i3', '\\255\\255\\254')}") == "*2\r\n:-2\r\n:4\r\n");
  CHECK(eval(r, "return {struct.unpack('b c0', '\\3abcdef')}") == "*2\r\n$3\r\nabc\r\n:5\r\n");
  CHECK(eval(r, "return struct.size('b h i l d f')") == ":27\r\n");
  CHECK(eval(r, "return struct.pack('z', 1)").find("bad argument #1 to 'pack' (invalid format option 'z')") !=
        std::string::npos);
  CHECK(eval(r, "return struct.pack('I33', 1)").find("integral size 33 is larger than limit of 32") !=
        std::string::npos);
}

TEST_CASE("SCRIPT LOAD, EXISTS, FLUSH and EVALSHA", "[scripting]") {
  CommandRunner r(kFamilies);
  reset_scripting(r);
  const std::string one = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
  expect_replies(r, {
                        {"SCRIPT LOAD \"return 1\"", resp::bulk(one)},
                        {"SCRIPT EXISTS " + one + " e0e1f9fabfc9d4800c877a703b823ac0578ff8dc",
                         "*2\r\n:1\r\n:0\r\n"},
                        {"EVALSHA E0E1F9FABFC9D4800C877A703B823AC0578FF8DB 0", ":1\r\n"},
                        {"EVALSHA_RO " + one + " 0", ":1\r\n"},
                        {"SCRIPT LOAD \"return 1 +\"",
                         resp::error("ERR Error compiling script (new function): user_script:1: unexpected symbol "
                                     "near '<eof>'")},
                        {"SCRIPT FLUSH bad", resp::error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")},
                        {"SCRIPT FLUSH ASYNC", "+OK\r\n"},
                        {"EVALSHA " + one + " 0", resp::error("NOSCRIPT No matching script. Please use EVAL.")},
                        {"SCRIPT KILL", resp::error("NOTBUSY No scripts in execution right now.")},
                        {"FUNCTION KILL", resp::error("NOTBUSY No scripts in execution right now.")},
                        {"SCRIPT DEBUG bad", resp::error("ERR Use SCRIPT DEBUG YES/SYNC/NO")},
                        {"SCRIPT DEBUG no", "+OK\r\n"},
                    });
  // EVAL caches what it ran.
  CHECK(eval(r, "return 2") == ":2\r\n");
  CHECK(r.run("SCRIPT EXISTS 7f923f79fe76194c868d7e1d0820de36700eb649") == "*1\r\n:1\r\n");
  // SCRIPT FLUSH recreates the interpreter: cjson settings are back to their defaults.
  CHECK(eval(r, "cjson.encode_max_depth(1) return cjson.encode({{1}})").find("excessive nesting") !=
        std::string::npos);
  r.run("SCRIPT FLUSH");
  CHECK(eval(r, "return cjson.encode({{1}})") == resp::bulk("[[1]]"));
}

TEST_CASE("FUNCTION LOAD, FCALL, LIST, DELETE, DUMP and RESTORE", "[scripting]") {
  CommandRunner r(kFamilies);
  reset_scripting(r);
  CHECK(function_load(r, "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return {keys, args} "
                         "end)") == resp::bulk("lib1"));
  CHECK(fcall(r, "f1", {"a", "b", "c", "d"}, 2) == "*2\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$1\r\nc\r\n$1\r\nd\r\n");
  CHECK(fcall(r, "F1") == "*2\r\n*0\r\n*0\r\n");
  CHECK(fcall(r, "f1", {}, 0, "FCALL_RO") == "-ERR Can not execute a script with write flag using *_ro command.\r\n");
  CHECK(function_load(r, "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)") ==
        resp::error("ERR Library 'lib1' already exists"));
  CHECK(function_load(r, "#!lua name=lib1\nredis.register_function('f1', function() return 2 end)", true) ==
        resp::bulk("lib1"));
  CHECK(fcall(r, "f1") == ":2\r\n");
  CHECK(function_load(r, "#!lua name=lib2\nredis.register_function('f1', function() return 1 end)") ==
        resp::error("ERR Function f1 already exists"));
  CHECK(function_load(r, "#!lua name=lib3\nreturn 1") == resp::error("ERR No functions registered"));
  CHECK(function_load(r, "redis.register_function('f1', function() return 1 end)") ==
        resp::error("ERR Missing library metadata"));
  CHECK(function_load(r, "#!lua\nredis.register_function('f1', function() return 1 end)") ==
        resp::error("ERR Library name was not given"));
  CHECK(function_load(r, "#!js name=ab\nredis.register_function('f1', function() return 1 end)") ==
        resp::error("ERR Engine 'js' not found"));
  CHECK(function_load(r, "#!lua name=m1\nsyntax error here") ==
        resp::error("ERR Error compiling function: user_function:2: '=' expected near 'error'"));
  CHECK(function_load(r, "#!lua name=m1\nredis.call('set', 'x', 1)") ==
        resp::error("ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent "
                    "global variable 'call'"));
  CHECK(function_load(r, "#!lua name=m1\nredis.register_function{function_name='g2', callback=function() end, "
                         "flags={'bad'}}") ==
        resp::error("ERR Error registering functions: ERR unknown flag given"));
  CHECK(function_load(r, "#!lua name=m1\nredis.register_function('g3', function() end) "
                         "redis.register_function('g3', function() end)") ==
        resp::error("ERR Error registering functions: ERR Function already exists in the library"));
  CHECK(function_load(r, "#!lua name=l4\nredis.register_function{function_name='g1', callback=function() return 1 "
                         "end, flags={'no-writes'}, description='desc'}") == resp::bulk("l4"));
  CHECK(fcall(r, "g1", {}, 0, "FCALL_RO") == ":1\r\n");
  CHECK(r.run("FUNCTION LIST LIBRARYNAME l4 WITHCODE") ==
        "*1\r\n*8\r\n$12\r\nlibrary_name\r\n$2\r\nl4\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*1\r\n*6\r\n"
        "$4\r\nname\r\n$2\r\ng1\r\n$11\r\ndescription\r\n$4\r\ndesc\r\n$5\r\nflags\r\n*1\r\n+no-writes\r\n"
        "$12\r\nlibrary_code\r\n" +
            resp::bulk("#!lua name=l4\nredis.register_function{function_name='g1', callback=function() return 1 "
                       "end, flags={'no-writes'}, description='desc'}"));
  CHECK(function_load(r, "#!lua name=l9\nredis.register_function('g9', function(k, a) return x end)") ==
        resp::bulk("l9"));
  CHECK(fcall(r, "g9") == "-ERR user_function:2: Script attempted to access nonexistent global variable 'x'" +
                              at("g9", "@user_function", 2));
  CHECK(r.run("FUNCTION STATS") ==
        "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n"
        ":3\r\n$15\r\nfunctions_count\r\n:3\r\n");
  // DUMP / RESTORE round trip with each policy.
  std::string dump = r.run("FUNCTION DUMP");
  REQUIRE(dump[0] == '$');
  std::string payload = dump.substr(dump.find("\r\n") + 2);
  payload.resize(payload.size() - 2);
  auto restore = [&](const std::string& policy) {
    std::vector<std::string> argv{"FUNCTION", "RESTORE", payload};
    if (!policy.empty()) argv.push_back(policy);
    return r.run(argv);
  };
  CHECK(restore("") == resp::error("ERR Library l4 already exists"));
  CHECK(restore("REPLACE") == "+OK\r\n");
  CHECK(restore("bad") ==
        resp::error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."));
  CHECK(r.run("FUNCTION DELETE l9") == "+OK\r\n");
  CHECK(r.run("FUNCTION DELETE l9") == resp::error("ERR Library not found"));
  CHECK(fcall(r, "g9") == resp::error("ERR Function not found"));
  CHECK(restore("FLUSH") == "+OK\r\n");
  CHECK(fcall(r, "g9").find("nonexistent global variable 'x'") != std::string::npos);
  CHECK(r.run(std::vector<std::string>{"FUNCTION", "RESTORE", payload.substr(1)}) ==
        resp::error("ERR DUMP payload version or checksum are wrong"));
  CHECK(r.run("FUNCTION FLUSH") == "+OK\r\n");
  CHECK(r.run("FUNCTION LIST") == "*0\r\n");
  CHECK(fcall(r, "nosuch", {}, 0) == resp::error("ERR Function not found"));
  CHECK(r.run("FCALL nosuch x") == resp::error("ERR Function not found"));
}

TEST_CASE("The redis table inside functions and while a library loads", "[scripting]") {
  CommandRunner r(kFamilies);
  reset_scripting(r);
  CHECK(function_load(r, "#!lua name=env\n"
                         "redis.register_function('api', function() local t = {} for k in pairs(redis) do "
                         "t[#t+1] = k end table.sort(t) return table.concat(t, ' ') end)\n"
                         "redis.register_function('globals', function() local n = 0 for k in pairs(_G) do n = n + 1 "
                         "end return n end)\n"
                         "redis.register_function('reg', function() return redis.register_function('zz', "
                         "function() end) end)") == resp::bulk("env"));
  CHECK(fcall(r, "api") == resp::bulk("LOG_DEBUG LOG_NOTICE LOG_VERBOSE LOG_WARNING REDIS_VERSION REDIS_VERSION_NUM "
                                      "REPL_ALL REPL_AOF REPL_NONE REPL_REPLICA REPL_SLAVE acl_check_cmd call "
                                      "error_reply log pcall set_repl setresp sha1hex status_reply"));
  CHECK(fcall(r, "globals") == ":32\r\n");
  CHECK(fcall(r, "reg") == "-ERR user_function:4: attempt to call field 'register_function' (a nil value)" +
                               at("reg", "@user_function", 4));
  CHECK(function_load(r, "#!lua name=m1\nlocal x = string") ==
        resp::error("ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent "
                    "global variable 'string'"));
}

TEST_CASE("SCRIPT KILL stops a running read-only script, not one that wrote", "[scripting]") {
  // The script runs on its own thread (as it would on another shard thread).
  auto run_in_thread = [](std::string script, std::string& reply) {
    return std::thread([script, &reply] {
      CommandRunner r({server::scripting_command_specs, server::string_command_specs});
      reply = eval(r, script);
    });
  };
  auto wait_running = [] {
    for (int i = 0; i < 500 && !scripting::script_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    REQUIRE(scripting::script_running());
  };
  std::string reply;
  std::thread t = run_in_thread("local i = 0 while true do i = i + 1 end", reply);
  wait_running();
  CHECK(scripting::busy_error() ==
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
  CHECK(scripting::kill_running_script(/*function_kill=*/true) ==
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
  CHECK(scripting::kill_running_script(false).empty());
  t.join();
  CHECK(reply == "-ERR Script killed by user with SCRIPT KILL..." +
                     at(sha("local i = 0 while true do i = i + 1 end"), "@user_script", 1));
  CHECK_FALSE(scripting::script_running());

  // A script that wrote cannot be killed; it ends by itself (after ~300 ms).
  const std::string writer =
      "redis.call('set', 'x', '1') local t = redis.call('time') local stop = t[1] * 1000000 + t[2] + 300000 "
      "while true do local n = redis.call('time') if n[1] * 1000000 + n[2] > stop then break end end return 'done'";
  std::thread w = run_in_thread(writer, reply);
  wait_running();
  CHECK(scripting::kill_running_script(false).rfind("UNKILLABLE Sorry the script already executed write", 0) == 0);
  w.join();
  CHECK(reply == resp::bulk("done"));
  CHECK(scripting::kill_running_script(false) == "NOTBUSY No scripts in execution right now.");
}

TEST_CASE("EVAL and FCALL declare their keys through numkeys", "[scripting]") {
  const auto& table = server::CommandTable::instance();
  auto keys_of = [&](std::vector<std::string> argv) {
    distcache::protocol::ArgList args;
    for (auto& a : argv) args.add(a);
    std::vector<int> out;
    bool ok = server::extract_keys(*table.find(argv[0]), args, out);
    return std::make_pair(ok, out);
  };
  CHECK(keys_of({"EVAL", "return 1", "2", "a", "b", "c"}) == std::make_pair(true, std::vector<int>{3, 4}));
  CHECK(keys_of({"FCALL_RO", "f", "1", "a"}) == std::make_pair(true, std::vector<int>{3}));
  CHECK(keys_of({"EVALSHA", "x", "0", "a"}) == std::make_pair(true, std::vector<int>{}));
  CHECK(keys_of({"EVAL", "return 1", "3", "a"}).first == false);
  CHECK(keys_of({"EVAL", "return 1", "-1"}).first == false);
  CHECK(keys_of({"EVAL", "return 1", "x"}).first == false);
}
