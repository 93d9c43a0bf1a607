"""Side-by-side test of scripting (EVAL / EVALSHA / *_RO, SCRIPT, FUNCTION,
FCALL): the same commands go to a real redis-server and to distcache, and
every reply must be byte-for-byte identical (table addresses such as
"table: 0x55d0..." aside). Each scenario starts from FLUSHALL, SCRIPT FLUSH
and FUNCTION FLUSH on both servers.

The corpus covers the Lua <-> RESP conversion rules (RESP2 and RESP3, both
directions), redis.call / redis.pcall and their errors, redis.* helpers, the
sandbox (read-only globals and libraries, removed functions, bytecode
refusal), cjson, cmsgpack (the values BullMQ packs), bit, struct, script
flags (shebang), the SCRIPT and FUNCTION commands and their errors, EVALSHA
of a script loaded on another connection, FUNCTION DUMP / RESTORE across the
two servers, and SCRIPT KILL / FUNCTION KILL.

distcache runs with --threads 1 for the scenarios that touch undeclared keys;
the --threads 2 class only runs scripts whose keys are declared and share a
hash tag.
"""

import hashlib
import re
import socket
import threading
import time
import unittest

import harness

ADDR = re.compile(rb"0x[0-9a-f]+")


def normalize(reply):
    return ADDR.sub(b"0xADDR", reply)


class Side:
    """One connection to each server, replies compared as raw bytes."""

    def __init__(self, ref, test, resp3=False):
        self.r = ref.raw()
        self.t = test.raw()
        if resp3:
            self.r.command("HELLO", "3")
            self.t.command("HELLO", "3")

    def close(self):
        self.r.close()
        self.t.close()

    def both(self, *args):
        self.r.send_command(*args)
        self.t.send_command(*args)
        return read_raw_reply(self.r), read_raw_reply(self.t)


def read_raw_reply(conn):
    """The exact bytes of one reply (any RESP2/RESP3 type; simple types are
    taken as lines, so malformed numbers are compared rather than rejected)."""
    line = conn.read_line()
    out = line + b"\r\n"
    t = line[:1]
    if t in (b"$", b"=", b"!"):
        n = int(line[1:])
        if n >= 0:
            out += conn.read_exact(n + 2)
    elif t in (b"*", b"~", b">", b"%", b"|"):
        n = int(line[1:])
        if t in (b"%", b"|"):
            n *= 2
        for _ in range(max(n, 0)):
            out += read_raw_reply(conn)
        if t == b"|":
            out += read_raw_reply(conn)
    return out


def E(script, *rest):
    """EVAL with numkeys 0 unless given."""
    if rest and isinstance(rest[0], int):
        return ["EVAL", script, str(rest[0])] + list(rest[1:])
    return ["EVAL", script, "0"] + list(rest)


# ---------------------------------------------------------------------------
# The corpus: name -> list of commands (each a list of arguments).

CONVERSIONS = {
    "numbers truncate toward zero": [E("return 3.99"), E("return -3.99"), E("return -0.5"), E("return 0.5"),
                                     E("return 12345678901234567"), E("return 9007199254740993"),
                                     E("return 1e30"), E("return -1e30"), E("return 0/0"), E("return 1/0"),
                                     E("return -1/0"), E("return 2^63"), E("return -2^63")],
    "strings and binary": [E("return 'a\\0b'"), E("return ''"), E("return '12'"), E("return string.rep('x', 1000)"),
                           E("return '\\r\\n'"), E("return '\\255\\254'")],
    "booleans and nil": [E("return true"), E("return false"), E("return nil"), E("return"),
                         E("return function() end"), E("return coroutine.create(function() end)")],
    "arrays": [E("return {1,2,3}"), E("return {1,2,nil,4}"), E("return {nil, 1}"), E("return {}"),
               E("return {1,'a',{2,3},true,false}"), E("return {a=1}"), E("return {[1]=1, [3]=3}"),
               E("return {1, {2, {3, {4, {5}}}}}"), E("return {1.5, 2.7, -0.1}"), E("return {1, a=2, 3}"),
               E("local t = {} for i=1,1000 do t[i]=i end return t")],
    "status and error tables": [E("return {err='My Error'}"), E("return {err='bad'}"), E("return {err=''}"),
                                E("return {err='-X y'}"), E("return {err=5}"), E("return {ok='fine'}"),
                                E("return {ok='a\\r\\nb'}"), E("return {ok=5}"), E("return {ok='x', err='y'}"),
                                E("return {1, {err='x'}, {ok='y'}}"), E("return {err='a\\nb\\n'}"),
                                E("return {err='a\\0b'}"), E("return {ok='a\\0b'}"), E("return {err='\\n\\nx'}"),
                                E("return {err={}}"), E("return {err='-'}")],
    "error_reply and status_reply": [E("return redis.error_reply('My Error')"), E("return redis.error_reply('oops')"),
                                     E("return redis.error_reply('-oops')"),
                                     E("return redis.error_reply('-WRONG the thing')"),
                                     E("return redis.error_reply('')"), E("return redis.error_reply('-')"),
                                     E("return redis.error_reply('- x')"), E("return redis.error_reply(' x')"),
                                     E("return redis.error_reply('a\\r\\nb')"),
                                     E("return redis.error_reply('E a\\nb\\n')"),
                                     E("local t = redis.error_reply('E a\\nb\\n') return t.err"),
                                     E("return redis.error_reply('x\\0y')"), E("return redis.error_reply()"),
                                     E("return redis.error_reply(5)"), E("return redis.status_reply('x')"),
                                     E("return redis.status_reply('a\\nb')"), E("return redis.status_reply()"),
                                     E("return redis.status_reply(5)"), E("return type(redis.error_reply('x'))"),
                                     E("local t = redis.error_reply('x') return t.err"),
                                     E("local t = redis.status_reply('x') return t.ok")],
    "RESP3 types in RESP2": [E("return {double=3.5}"), E("return {double=0.1}"), E("return {double=1/0}"),
                             E("return {double=-1/0}"), E("return {double=0/0}"), E("return {double=1e300}"),
                             E("return {double='x'}"), E("return {big_number='123'}"),
                             E("return {big_number='1\\r\\n2'}"), E("return {map={a=1}}"), E("return {map={}}"),
                             E("return {map={a={1,2}, b={ok='x'}}}"), E("return {set={a=true}}"),
                             E("return {set={}}"), E("return {set={[1]=true, b=false}}"),
                             E("return {verbatim_string={format='txt', string='hi'}}"),
                             E("return {verbatim_string={format='txt'}}"),
                             E("return {verbatim_string={format='t\\nx', string='a\\nb'}}"),
                             E("return {map={['a\\nb']={ok='x\\ny'}}}")],
    "redis.call arguments": [E("return redis.call('set', KEYS[1], 3.14)", 1, "k"), ["GET", "k"],
                             E("return redis.call('set', KEYS[1], 10)", 1, "k"), ["GET", "k"],
                             E("return redis.call('set', KEYS[1], -0.0)", 1, "k"), ["GET", "k"],
                             E("return redis.call('set', KEYS[1], 1e100)", 1, "k"), ["GET", "k"],
                             E("return redis.call('set', KEYS[1], 1/0)", 1, "k"), ["GET", "k"],
                             E("return redis.call('set', KEYS[1], 0.1)", 1, "k"), ["GET", "k"],
                             E("return redis.call('set', KEYS[1], 123456789012)", 1, "k"), ["GET", "k"],
                             E("return redis.call('set', KEYS[1], 'a\\0b')", 1, "k"), ["GET", "k"],
                             E("return redis.call('GET', 'k')"), E("return redis.call('Get', 'k')")],
    "redis.call replies": [E("return redis.call('get', 'nokey')"),
                           E("local x = redis.call('get', 'nokey') return tostring(x)"),
                           E("return tostring(redis.call('ping'))"), E("return redis.call('ping').ok"),
                           E("return redis.call('ping', 'x')"), E("return redis.call('echo', 'a\\r\\nb')"),
                           E("return #redis.call('time')"),
                           E("redis.call('rpush', 'l', 'a', 'b', 'c') return redis.call('lrange', 'l', 0, -1)"),
                           E("return redis.call('lpop', 'nolist', 2)"),
                           E("return tostring(redis.call('lpop', 'nolist', 2))"),
                           E("redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')"),
                           E("redis.call('zadd', 'z', 1.5, 'a') return redis.call('zscore', 'z', 'a')"),
                           E("return redis.call('zrange', 'z', 0, -1, 'withscores')"),
                           E("return redis.call('incr', 'n')"), E("return redis.call('incrbyfloat', 'f', 0.1)"),
                           E("return redis.call('blmpop', 1, 1, 'nolist', 'left')"),
                           E("return redis.call('object', 'encoding', 'l')"),
                           E("return redis.call('object', 'help')"), E("return redis.call('exists', 'l', 'h')"),
                           E("return redis.call('del', 'l', 'h', 'z')")],
    "setresp 3": [E("return redis.setresp(3)"), E("redis.setresp(3) return redis.call('hgetall', 'nokey')"),
                  E("redis.call('hset', 'h', 'a', '1') redis.setresp(3) local x = redis.call('hgetall', 'h') "
                    "return {type(x), x.map and x.map.a}"),
                  E("redis.call('sadd', 's', 'a') redis.setresp(3) local x = redis.call('smembers', 's') "
                    "return {type(x), tostring(x.set and x.set.a)}"),
                  E("redis.call('zadd', 'z', 1.5, 'a') redis.setresp(3) local x = redis.call('zscore', 'z', 'a') "
                    "return {type(x), tostring(x.double)}"),
                  E("redis.setresp(3) return redis.call('zscore', 'z', 'a')"),
                  E("redis.setresp(3) return redis.call('hgetall', 'h')"),
                  E("redis.setresp(3) return redis.call('smembers', 's')"),
                  E("redis.setresp(3) return redis.call('get', 'nokey')"),
                  E("redis.setresp(3) return tostring(redis.call('get', 'nokey'))"),
                  E("redis.setresp(3) return {redis.call('get', 'nokey')}"),
                  E("redis.setresp(3) return redis.call('exists', 'h') == 1"),
                  E("redis.setresp(3) return true"), E("redis.setresp(3) return false"),
                  E("redis.setresp(3) return nil"), E("redis.setresp(3) return {1, false, true}"),
                  E("redis.setresp(3) return redis.call('zrange', 'z', 0, -1, 'withscores')"),
                  E("redis.setresp(3) return redis.pcall('incr', 'h')"),
                  E("redis.setresp(3) return tostring(redis.call('lpop', 'nolist', 2))"),
                  E("return redis.setresp(4)"), E("return redis.setresp()"), E("return redis.setresp('3')"),
                  E("return redis.setresp('x')"), E("return redis.setresp(2.5)"), E("return redis.setresp(2, 3)")],
}

ERRORS = {
    "runtime errors": [E("return x"), E("x = 1"), E("error('boom')"), E("return error('boom')"),
                       E("error({err='TAB x'})"), E("error(5)"), E("error()"), E("error(nil)"), E("error('boom', 0)"),
                       E("error('boom', 2)"), E("error(true)"),
                       E("error(setmetatable({}, {__index=function() return 'zz' end}))"),
                       E("local x = nil + 1"), E("return 'a' .. nil"), E("local t = {} t.x.y = 1"),
                       E("return #nil"), E("error('a\\nb')"), E("error('a\\r\\nb\\n')"), E("error('a\\0b')"),
                       E("error({err='E x', source='s', line=5})"), E("error({err='E x', line=5})"),
                       E("\n\nerror('x')"), E("local function f() error('deep') end local function g() f() end g()"),
                       E("local function f() return x end return f()")],
    "compile errors": [E("return 1 +"), E("#xx\nreturn 1"), E("return 'unfinished"), E("\x1bLua"),
                       E("end"), E("return {"), ["SCRIPT", "LOAD", "return 1 +"]],
    "redis.call errors": [E("return redis.call('get')"), E("return redis.call()"), E("return redis.pcall()"),
                          E("return redis.call('nosuch')"), E("return redis.pcall('nosuch')"),
                          E("return redis.call('nosuch', 'a', 'b')"), E("return redis.call('get', {})"),
                          E("return redis.pcall('get', {})"), E("return redis.call('get', true)"),
                          E("return redis.call('get', nil)"), E("return redis.call('eval', 'return 1', 0)"),
                          E("return redis.pcall('eval', 'return 1', 0)"), E("return redis.call('eval')"),
                          E("redis.call('set', 'k', 'v') return redis.call('lpush', 'k', 'x')"),
                          E("redis.call('set', 'k', 'v') return redis.pcall('lpush', 'k', 'x')"),
                          E("redis.call('set', 'k', 'v') local r = redis.pcall('incr', 'k') return r.err"),
                          E("local r = redis.pcall('nosuch') local t = {} for k,v in pairs(r) do "
                            "t[#t+1]=k..'='..tostring(v) end table.sort(t) return t"),
                          E("return redis.call('set', 'k', 'v', 'xx', 'nx')"),
                          E("return redis.call('SET', 'k', 'v', 'EX', 'abc')"),
                          E("return redis.call('object', 'nosuch')"), E("return redis.call('object')"),
                          E("return redis.call('object', 'encoding')"), E("return redis.call('memory', 'usage')"),
                          E("return redis.call('config', 'nosuch')"), E("return redis.call('script', 'nosuch')"),
                          E("return redis.call('get', 'k', 'z', 'y')"), E("return redis.pcall('set', 'k')"),
                          E("return redis.pcall('set', 'a\\0b')"), E("return redis.call('nosuch\\0x')"),
                          E("return pcall(redis.call, 'nosuch')"),
                          E("local ok, e = pcall(redis.call, 'nosuch') return e"),
                          E("local ok, e = pcall(redis.call, 'nosuch') return type(e)"),
                          E("local ok, e = pcall(error, 'x') return e"),
                          E("local ok, e = pcall(error, {err='X y'}) return e"),
                          E("local ok, e = pcall(function() local x = nil + 1 end) return e"),
                          E("local ok, e = pcall(function() return x end) return e"),
                          E("return xpcall(function() error('x') end, function(e) return 'handled: ' .. e end)"),
                          E("local ok, e = xpcall(function() error('x') end, function(e) return 'h: ' .. e end) "
                            "return e"),
                          E("local co = coroutine.create(function() redis.call('nosuch') end) "
                            "local ok, e = coroutine.resume(co) return e"),
                          E("local co = coroutine.create(function() return redis.call('ping') end) "
                            "local ok, e = coroutine.resume(co) return e")],
    "commands refused in scripts": [E("return redis.call('%s')" % c) for c in
                                    ["multi", "exec", "discard", "watch", "unwatch", "subscribe", "blpop",
                                     "brpop", "blmove", "brpoplpush", "bzpopmin", "bzpopmax", "hello",
                                     "auth", "quit", "reset", "wait", "client"]] + [
                                   E("return redis.call('blpop', 'l', 0)"), E("return redis.call('client', 'id')"),
                                   E("return redis.call('config', 'get', 'maxmemory')"),
                                   E("return redis.call('script', 'load', 'return 1')"),
                                   E("return redis.call('function', 'list')"),
                                   E("return redis.call('fcall', 'x', 0)"),
                                   E("return redis.call('eval_ro', 'return 1', 0)")],
    "read-only scripts": [["EVAL_RO", "return redis.call('set', 'k', 'v')", "0"],
                          ["EVAL_RO", "return redis.pcall('set', 'k', 'v')", "0"],
                          ["EVAL_RO", "return redis.call('get', 'k')", "0"],
                          ["EVAL_RO", "return redis.call('eval', 'x', 0)", "0"],
                          ["EVAL_RO", "return redis.call('nosuch')", "0"], ["EVAL_RO", "return redis.call('set')", "0"],
                          ["EVAL_RO", "return redis.call('del', 'k')", "0"],
                          ["EVAL_RO", "#!lua\nreturn 1", "0"], ["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"],
                          ["EVAL_RO", "return redis.call('pfcount', 'h')", "0"],
                          ["EVAL_RO", "return redis.call('publish', 'c', 'm')", "0"],
                          ["EVAL_RO", "return redis.call('pfadd', 'h', 'a')", "0"],
                          ["EVAL", "#!lua flags=no-writes\nreturn redis.call('pfcount', 'h')", "0"],
                          ["EVAL", "return redis.call('pfcount', 'h')", "0"],
                          ["SCRIPT", "LOAD", "return redis.call('incr', 'c')"],
                          ["EVALSHA_RO", hashlib.sha1(b"return redis.call('incr', 'c')").hexdigest(), "0"],
                          ["EVALSHA", hashlib.sha1(b"return redis.call('incr', 'c')").hexdigest(), "0"]],
    "numkeys": [["EVAL", "return 1", "x"], ["EVAL", "return 1", "-1"], ["EVAL", "return 1", "1"],
                ["EVAL", "return 1", "2", "a"], ["EVAL", "return 1", "99999999999999999999"],
                ["EVAL", "return {KEYS[1], ARGV[1]}", "1", "a", "b"], ["EVAL", "return {#KEYS, #ARGV}", "0", "a", "b"],
                ["EVAL", "return {KEYS, ARGV}", "2", "a", "b", "c", "d"], ["EVAL", "return 1"], ["EVAL"],
                ["EVAL", "KEYS[1] = 'x' return KEYS[1]", "1", "a"], ["EVAL", "ARGV = {} return 1", "0"],
                ["EVALSHA", "nosuch", "0"], ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "x"]],
    "shebang flags": [E("#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')"),
                      E("#!lua\nreturn redis.call('set', 'k', 'v')"), E("#!lua\nreturn redis.call('get', 'undeclared')"),
                      E("#!lua\nreturn x"), E("#!lua flags=\nreturn 1"), E("#!lua flags=bad\nreturn 1"),
                      E("#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1"),
                      E("#!lua flags=no-writes,,allow-oom\nreturn 1"), E("#!lua name=x\nreturn 1"),
                      E("#!lua  flags=no-writes\nreturn 1"), E("#!luax\nreturn 1"), E("#!js\nreturn 1"),
                      E("#!\nreturn 1"), E("#!lua"), E("#!lua flags=no-writes"), E("#!lua x"), E("#!lua x\nreturn 1"),
                      E("#!lua flags=no-writes flags=allow-oom\nreturn 1"), E("#!lua\nerror('x')"),
                      E("#!LUA\nreturn 1"), E("#!lua flags=NO-WRITES\nreturn 1"),
                      ["SCRIPT", "LOAD", "#!lua flags=bad\nreturn 1"],
                      ["SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 1"]],
}

SANDBOX = {
    "globals": [E("return os"), E("return io"), E("return type(debug)"), E("return type(print)"),
                E("return type(loadfile)"), E("return type(dofile)"), E("return type(require)"),
                E("return type(loadstring)"), E("return type(load)"), E("return type(setfenv)"),
                E("return type(getfenv)"), E("return type(newproxy)"), E("return type(gcinfo)"),
                E("return type(collectgarbage)"), E("return type(module)"), E("return type(package)"),
                E("return type(coroutine)"), E("return type(unpack)"), E("return type(_G)"), E("return _VERSION"),
                E("return type(__redis__err__handler)"),
                E("local t = {} for k,v in pairs(_G) do t[#t+1]=k end table.sort(t) return t"),
                E("local t = {} for k,v in pairs(redis) do t[#t+1]=k end table.sort(t) return t"),
                E("local t = {} for k in pairs(string) do t[#t+1]=k end table.sort(t) return t"),
                E("local t = {} for k in pairs(table) do t[#t+1]=k end table.sort(t) return t"),
                E("local t = {} for k in pairs(math) do t[#t+1]=k end table.sort(t) return t"),
                E("local t = {} for k in pairs(coroutine) do t[#t+1]=k end table.sort(t) return t"),
                E("local t = {} for k in pairs(bit) do t[#t+1]=k end table.sort(t) return t"),
                E("local t = {} for k in pairs(cjson) do t[#t+1]=k end table.sort(t) return t"),
                E("local t = {} for k in pairs(cmsgpack) do t[#t+1]=k end table.sort(t) return t"),
                E("local t = {} for k in pairs(struct) do t[#t+1]=k end table.sort(t) return t"),
                E("local n = 0 for k, v in next, _G do n = n + 1 end return n"),
                E("return rawget(_G, 'redis') == redis"), E("return rawget(_G, 'nosuch')"),
                E("return tostring(redis.nosuch)"), E("return tostring(string.nosuch)"),
                E("return tostring(cjson.nosuch)")],
    "read-only tables": [E("string.foo = 1"), E("rawset(_G, 'x', 1)"), E("redis.call = nil"), E("cjson.encode = nil"),
                         E("math.random = nil"), E("_G.x = 1"), E("_G['redis'] = 1"), E("redis = 1"),
                         E("setmetatable(_G, nil)"), E("return tostring(getmetatable(_G)) ~= nil"),
                         E("getmetatable(_G).__index = {}"), E("getmetatable('').__index = {}"),
                         E("return getmetatable('').__index == string"), E("return getmetatable(string)"),
                         E("rawset(string, 'x', 1)"), E("setmetatable(string, {})"),
                         E("local t = setmetatable({}, {__index=function() return 1 end}) return t.x"),
                         E("local t = setmetatable({}, {__metatable='locked'}) return getmetatable(t)"),
                         E("local t = setmetatable({}, {__metatable='locked'}) setmetatable(t, {})"),
                         E("return ('abc'):upper()"), E("local s = 'x' return s:rep(3)")],
    "loadstring and load": [E("local f = loadstring('return 1+1') return f()"), E("local f = loadstring('x = 5') f()"),
                            E("local f = loadstring('return x') return f()"),
                            E("local f, e = loadstring('return +') return e"),
                            E("local f, e = loadstring(string.dump(function() return 1 end)) return e"),
                            E("return loadstring(string.dump(function() return 1 end))"),
                            E("local f, e = loadstring('\\27Lua') return e"),
                            E("local f = load(function() return nil end) return type(f)"),
                            E("local n = 0 local f = load(function() n = n + 1 if n == 1 then return 'return 42' "
                              "end end) return f()"),
                            E("local n = 0 local f, e = load(function() n = n + 1 if n == 1 then return '\\27Lua' "
                              "end end) return e"),
                            E("local f, e = loadstring('return 1', 'chunky') return f()"),
                            E("local f, e = loadstring('error(1)', '=named') local ok, m = pcall(f) return m")],
    "misc libraries": [E("return coroutine.wrap(function() coroutine.yield(5) end)()"),
                       E("return collectgarbage('count') > 0"), E("return table.concat({'a','b'}, ',')"),
                       E("return string.format('%d', 3.7)"), E("return string.format('%.17g', 0.1)"),
                       E("return tostring(1e15)"), E("return tostring(2^63)"), E("return tostring(-0)"),
                       E("local t = {3,1,2} table.sort(t) return t"), E("return select('#', 1, 2, 3)"),
                       E("return {unpack({1,2,3})}"), E("return math.floor(-3.5)"), E("return math.huge"),
                       E("return tostring(math.pi)"), E("return string.byte('A')"), E("return tonumber('0x10')"),
                       E("return tonumber('  12  ')"), E("return tonumber('1e2')")],
    "redis helpers": [E("return redis.REDIS_VERSION"), E("return redis.REDIS_VERSION_NUM"),
                      E("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}"),
                      E("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, "
                        "redis.REPL_ALL}"),
                      E("return redis.replicate_commands()"), E("return redis.set_repl(redis.REPL_ALL)"),
                      E("return redis.set_repl(55)"), E("return redis.set_repl()"), E("return redis.breakpoint()"),
                      E("return redis.debug('x')"), E("return redis.sha1hex('')"), E("return redis.sha1hex('abc')"),
                      E("return redis.sha1hex(string.rep('a', 1000))"), E("return redis.sha1hex()"),
                      E("return redis.sha1hex(1, 2)"), E("return redis.sha1hex(12)"), E("return redis.sha1hex({})"),
                      E("return redis.log(redis.LOG_DEBUG, 'hello', 'world')"),
                      E("return redis.log(redis.LOG_DEBUG)"), E("return redis.log(99, 'x')"),
                      E("return redis.log('x', 'x')"), E("return redis.log(redis.LOG_DEBUG, {})"),
                      E("return redis.acl_check_cmd('get', 'x')"), E("return redis.acl_check_cmd('nosuch', 'x')"),
                      E("return redis.acl_check_cmd()"), E("return redis.acl_check_cmd('object', 'encoding')")],
    "math.random": [E("math.randomseed(1) return {math.random(100), math.random(100)}"),
                    E("math.randomseed(7) return {math.random(1000000), math.random(1000000), math.random(5, 10)}"),
                    E("math.randomseed(42) return tostring(math.random())"),
                    E("math.randomseed(-5) return math.random(1000)"), E("return math.random(0)"),
                    E("return math.random(5, 1)"), E("return math.random(1, 2, 3)"),
                    E("math.randomseed(3) return math.random(2^40)")],
}

CJSON = {
    "encode": [E("return cjson.encode({1,2,3})"), E("return cjson.encode({a=1})"), E("return cjson.encode({})"),
               E("return cjson.encode({1.5, 0.1, 1e100, -0})"), E("return cjson.encode('a\"b\\\\c\\n/')"),
               E("return cjson.encode({[1]=1,[3]=3})"), E("return cjson.encode({[1]=1,[2]=2,[4]=4})"),
               E("return cjson.encode({[1]=1,[20]=3})"), E("return cjson.encode(cjson.null)"),
               E("return cjson.encode(true)"), E("return cjson.encode(1/0)"), E("return cjson.encode(0/0)"),
               E("return cjson.encode(function() end)"), E("return cjson.encode({a={b={c={d={}}}}})"),
               E("return cjson.encode(12345678901234)"), E("return cjson.encode(0.1+0.2)"),
               E("return cjson.encode(-1.5e-10)"), E("return cjson.encode({['1']=1})"),
               E("return cjson.encode({[true]=1})"), E("return cjson.encode({'\\0'})"),
               E("return cjson.encode({'\\127', '\\31', '\\226\\130\\172'})"),
               E("local t = {} local c = t for i=1,1100 do c[1] = {} c = c[1] end return cjson.encode(t)"),
               E("return cjson.encode({name='job', opts={attempts=3, delay=0}, data={x=1}})"),
               E("return cjson.encode({1, 'two', {three=3}, false})")],
    "decode": [E("return cjson.decode('[1,2,3]')"), E("return cjson.decode('{\"a\":[1,{\"b\":2}]}').a[2].b"),
               E("return cjson.decode('[1,null,3]')"), E("return tostring(cjson.decode('null'))"),
               E("return cjson.decode('1.5')"), E("return cjson.decode('\"\\\\u00e9\"')"),
               E("return cjson.decode('\"\\\\ud83d\\\\ude00\"')"), E("return cjson.decode('[1,2')"),
               E("return cjson.decode('')"), E("return cjson.decode()"), E("return cjson.decode('{\"a\":1,}')"),
               E("return cjson.encode(cjson.decode('{\"a\":1e300}'))"),
               E("return cjson.decode(string.rep('[', 1100) .. string.rep(']', 1100))"),
               E("return cjson.decode('[\"a\\\\/b\"]')"), E("return cjson.decode('0x10')"),
               E("return cjson.decode('  [ 1 , 2 ]  ')"), E("return cjson.decode('[1] x')"),
               E("return cjson.decode('nan')"), E("return cjson.decode('infinity')"),
               E("return cjson.decode('-Infinity')"), E("return cjson.encode(cjson.decode('[1e2, 123, -0, 1.0]'))"),
               E("return tostring(cjson.decode('9007199254740993'))"),
               E("return cjson.decode('{\"a\":null}').a == cjson.null"),
               E("local t = cjson.decode('{\"b\":2,\"a\":1}') return {t.a, t.b}"),
               E("return cjson.decode('\"\\\\t\\\\n\\\\r\\\\b\\\\f\"')"), E("return cjson.decode('true')"),
               E("return cjson.decode('[true, false]')"), E("return cjson.decode('\"abc')"),
               E("return cjson.decode('{1:2}')")],
    "configuration": [E("return cjson.encode_max_depth(2)"),
                      E("cjson.encode_max_depth(2) return cjson.encode({{{1}}})"),
                      E("return cjson.encode_sparse_array(true) and cjson.encode({[1]=1,[20]=3})"),
                      E("cjson.encode_number_precision(3) return cjson.encode(3.14159)"),
                      E("return {cjson.encode_keep_buffer(false)}"), E("return cjson._NAME .. ' ' .. cjson._VERSION"),
                      E("return cjson.encode(cjson.decode('[1,2]'))")],
}

CMSGPACK = {
    "pack numbers": [E("return cmsgpack.pack(%s)" % v) for v in
                     ["1", "-1", "127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296",
                      "-32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649", "1.5", "0.1", "1e300",
                      "1/0", "-1/0", "-0.0", "2^53", "2^63", "-2^63", "2^64", "3.0", "-3.0", "4294967296.5",
                      "1e-300", "0.5, 0.25, 1/3"]],
    "pack other types": [E("return cmsgpack.pack(%s)" % v) for v in
                         ["true, false, nil", "''", "string.rep('a', 31)", "string.rep('a', 32)",
                          "string.rep('a', 255)", "string.rep('a', 256)", "string.rep('a', 65535)",
                          "string.rep('a', 65536)", "{}", "{1,2,3}", "{a=1}", "{1,2,nil,4}", "{[1]=1,[3]=3}",
                          "{[2]=1}", "{1, a=2}", "{[0]=1}", "{[1.5]=1}", "{[-1]=1}", "function() end",
                          "cjson.null", "{1,2,3, n=3}", "{[1]=1, [2]=2, [3.0]=3}", "'\\0\\255'"]] + [
                         E("return cmsgpack.pack()"),
                         E("local t = {} for i=1,16 do t[i]=i end return cmsgpack.pack(t)"),
                         E("local t = {} for i=1,70000 do t[i]=1 end return #cmsgpack.pack(t)"),
                         E("local t = {} for i=1,16 do t['k'..i]=i end return #cmsgpack.pack(t)"),
                         E("local t = {} t[1] = t return cmsgpack.pack(t)"),
                         E("local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)")],
    "BullMQ-like values": [E("return cmsgpack.pack({name='job', data={x=1, y={1,2}}, opts={attempts=3, delay=0.5, "
                             "lifo=false}})"),
                           E("local opts = {attempts=3, backoff={type='exponential', delay=1000}, removeOnComplete="
                             "true, jobId='abc', timestamp=1700000000000, priority=0, delay=0} "
                             "return cmsgpack.pack(opts)"),
                           E("local p = cmsgpack.pack({token='t1', lockDuration=30000, limiter={max=10, "
                             "duration=1000}, name='q'}) local u = cmsgpack.unpack(p) "
                             "return {u.token, u.lockDuration, u.limiter.max, u.limiter.duration, u.name}"),
                           E("local u = cmsgpack.unpack(cmsgpack.pack({a={b={c={d='deep'}}}, list={1,2,{3,4}}, "
                             "f=1.25, neg=-7, big=1700000000000, s=''})) "
                             "return {u.a.b.c.d, u.list[3][2], tostring(u.f), u.neg, u.big, u.s}"),
                           E("return cmsgpack.pack(cmsgpack.unpack(cmsgpack.pack({1,2,{a=1}})))"),
                           E("return cjson.encode(cmsgpack.unpack(cmsgpack.pack({x={1,2,3}, y='z', t=true})))")],
    "unpack": [E("return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1,2}, true))}"),
               E("return cmsgpack.unpack(cmsgpack.pack({a=1,b={c='d'}})).b.c"),
               E("return tostring(cmsgpack.unpack(cmsgpack.pack(1.5)))"),
               E("return tostring(cmsgpack.unpack(cmsgpack.pack(0.1)))"),
               E("return tostring(cmsgpack.unpack(cmsgpack.pack(2^53+1)))"),
               E("return tostring(cmsgpack.unpack(cmsgpack.pack(-2^63)))"),
               E("return tostring(cmsgpack.unpack(cmsgpack.pack(2^64)))")] + [
               E("return {cmsgpack.unpack('%s')}" % s) for s in
               ["\\207\\255\\255\\255\\255\\255\\255\\255\\255", "\\202\\63\\192\\0\\0", "\\147\\1\\2", "",
                "\\193", "\\196\\3abc", "\\217\\3abc", "\\199\\1\\5a", "\\212\\5a", "\\1\\2\\3", "\\146\\1",
                "\\165abc", "\\129\\192\\1", "\\129\\1\\192", "\\128", "\\144", "\\192", "\\192\\1", "\\194\\195",
                "\\220\\0\\2\\1\\2", "\\222\\0\\1\\161a\\5", "\\221\\0\\0\\0\\1\\7", "\\218\\0\\2hi",
                "\\219\\0\\0\\0\\2hi", "\\204\\255", "\\205\\255\\255", "\\206\\255\\255\\255\\255", "\\208\\128",
                "\\209\\128\\0", "\\210\\128\\0\\0\\0", "\\224", "\\221\\255\\255\\255\\255\\1"]] + [
               E("return cmsgpack.unpack()"), E("return cmsgpack.unpack(5)"), E("return cmsgpack.unpack({})"),
               E("return tostring(cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\0'))"),
               E("return #cmsgpack.unpack(string.rep('\\145', 30) .. '\\1')")],
    "unpack_one and unpack_limit": [E("return {cmsgpack.unpack_one('\\1\\2\\3'%s)}" % a) for a in
                                    ["", ", 1", ", 2", ", 3", ", -1", ", 10"]] + [
                                   E("return {cmsgpack.unpack_limit('\\1\\2\\3', %s)}" % a) for a in
                                   ["2", "0", "2, 1", "-1", "1, 3", "5"]] + [
                                   E("local s = cmsgpack.pack({1}, 'x', 3) local out, off = {}, 0 "
                                     "while off ~= -1 do local o, v = cmsgpack.unpack_one(s, off) off = o "
                                     "out[#out+1] = type(v) end return out")],
    "module": [E("return cmsgpack._NAME .. ' ' .. cmsgpack._VERSION .. ' ' .. cmsgpack._COPYRIGHT .. ' ' .. "
                 "cmsgpack._DESCRIPTION")],
}

BIT_STRUCT = {
    "bit": [E("return tostring(bit.band(0xffffffff, 0xff))"), E("return bit.tohex(255)"), E("return bit.bor(1, 2, 4)"),
            E("return bit.lshift(1, 31)"), E("return bit.bnot(0)"), E("return bit.bxor(5, 3)"),
            E("return bit.arshift(-256, 4)"), E("return bit.rshift(-256, 4)"), E("return bit.rol(1, 33)"),
            E("return bit.ror(1, 1)"), E("return bit.bswap(0x12345678)"), E("return bit.tobit(2^32 + 5)"),
            E("return bit.tohex(-1, -8)"), E("return bit.tohex(0x1234, 2)"), E("return bit.band()"),
            E("return bit.band('x')")],
    "struct pack": [E("return struct.pack(%s)" % a) for a in
                    ["'>I', 1", "'<I', 1", "'I', 1", "'>i2', -2", "'>b B h H l L', -1, 255, -2, 65535, -3, 7",
                     "'>i3', 70000", "'>I16', 1", "'>I17', 1", "'>I0', 1", "'>i8', -1", "'>f d', 1.5, 0.1",
                     "'s', 'abc'", "'c3', 'abcdef'", "'c0', 'abcdef'", "'c5', 'ab'", "'x'", "'!4 b i4', 1, 2",
                     "'!b i4', 1, 2", "'! b d', 1, 2", "'!3 b i4', 1, 2", "'z', 1", "'i', 'x'", "'i'",
                     "'s', 'a\\0b'", "'>I', 2^32", "'>I', -1", "'>i', 2^31", "'>i', 3.7", "'>i', -3.7", "'T', 5",
                     "'>h', 70000", "", "''", "5", "'I33', 1", "'I32', 1", "'c', 'abc'", "'c1', 'abc'",
                     "'i2i2', 1, 2", "'>i 2', 1", "'!', 1", "'!16 b d', 1, 2", "'!17 b d', 1, 2", "'!5 b d', 1, 2",
                     "'>i', '12'", "'s', 12", "'c2', 12", "'i99999999999', 1", "'>i', 0/0", "'>i', 1e100",
                     "'>I', -1.5", "'<d', -0.0", "'>I8', 2^64", "'>i8', -2^63"]],
    "struct unpack and size": [E("return {struct.unpack(%s)}" % a) for a in
                               ["'>I', '\\0\\0\\0\\1'", "'<i2', '\\254\\255'", "'>i3', '\\255\\255\\254'",
                                "'>I3', '\\255\\255\\254'", "'>b B', '\\255\\255'", "'s', 'abc\\0def'", "'s', 'abc'",
                                "'c3', 'abcdef'", "'c0', 'abcdef'", "'b c0', '\\3abcdef'", "'>I', '\\0\\0'",
                                "'>I', '\\0\\0\\0\\1', 2", "'>I', '\\0\\0\\0\\1\\2', 2", "'>I', '\\0\\0\\0\\1\\2', 0",
                                "'>I', '\\0\\0\\0\\1\\2', -1", "'x b', '\\1\\2'", "'>i16', string.rep('\\0', 16)",
                                "'>i16', string.rep('\\1', 16)", "'>i9', string.rep('\\0', 9)",
                                "'>i9', '\\1' .. string.rep('\\0', 8)", "'>i9', string.rep('\\173', 9)",
                                "'!4 b i', struct.pack('!4 b i', 1, 2)", "'>I', 5", "", "'>I'", "'c', 'abc'",
                                "'>d', '\\0\\0\\0\\0\\0\\0\\0'", "'c2', 'a'", "'c-1', 'a'", "'c99999999', 'abc'",
                                "'b', 'abc', 4", "'b', 'abc', 5", "'', 'abc', 5"]] + [
                              E("return {tostring(struct.unpack('>d', struct.pack('>d', 0.1)))}"),
                              E("return {tostring(struct.unpack('>f', struct.pack('>f', 0.1)))}"),
                              E("return {tostring(struct.unpack('>i8', struct.pack('>i8', -5)))}"),
                              E("return {tostring(struct.unpack('>I8', string.rep('\\255', 8)))}"),
                              E("return {tostring(struct.unpack('>i8', '\\127' .. string.rep('\\255', 7)))}")] + [
                              E("return struct.size(%s)" % a) for a in
                              ["'>I'", "'b h i l d f'", "'!8 b d'", "'s'", "'c0'", "'c10'", "'i16'", "'x'", "'y'",
                               "'!'"]],
}

SCRIPT_COMMANDS = {
    "load exists flush": [["SCRIPT", "LOAD", "return 1"], ["SCRIPT", "LOAD", "return 1"],
                          ["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
                           "e0e1f9fabfc9d4800c877a703b823ac0578ff8dc"],
                          ["SCRIPT", "EXISTS", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "short"],
                          ["EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"],
                          ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
                          ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8dc", "0"], ["EVALSHA", "short", "0"],
                          ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db0", "0"],
                          ["EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
                          E("return 2"), ["SCRIPT", "EXISTS", "7f923f79fe76194c868d7e1d0820de36700eb649"],
                          ["SCRIPT", "FLUSH", "ASYNC"], ["SCRIPT", "FLUSH", "sync"], ["SCRIPT", "FLUSH", "bad"],
                          ["SCRIPT", "FLUSH", "sync", "async"],
                          ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
                          ["SCRIPT", "EXISTS", "7f923f79fe76194c868d7e1d0820de36700eb649"], ["SCRIPT", "FLUSH"],
                          ["SCRIPT", "KILL"], ["FUNCTION", "KILL"], ["SCRIPT", "HELP"], ["SCRIPT", "DEBUG", "no"],
                          ["SCRIPT", "DEBUG", "bad"], ["SCRIPT"], ["SCRIPT", "LOAD"], ["SCRIPT", "EXISTS"],
                          ["SCRIPT", "NOSUCH"], ["SCRIPT", "LOAD", "a", "b"], ["SCRIPT", "KILL", "x"]],
    "inside MULTI": [["MULTI"], E("return redis.call('incr', KEYS[1])", 1, "c"), E("return x"),
                     ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"], ["EXEC"],
                     ["SCRIPT", "LOAD", "return 1"], ["MULTI"], ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
                     ["SCRIPT", "FLUSH"], ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"], ["EXEC"],
                     ["MULTI"], ["EVAL", "return 1"], ["EXEC"],
                     ["FUNCTION", "LOAD", "#!lua name=tx\nredis.register_function('txf', function(k) "
                                          "return redis.call('incr', k[1]) end)"],
                     ["MULTI"], ["FCALL", "txf", "1", "c"], ["FUNCTION", "DELETE", "tx"], ["FCALL", "txf", "1", "c"],
                     ["EXEC"], ["GET", "c"]],
    "select inside scripts": [E("redis.call('select', 1) return redis.call('set', 'k1', 'v1')"), ["GET", "k1"],
                              ["SELECT", "1"], ["GET", "k1"], E("return redis.call('get', 'k1')"),
                              E("redis.call('select', 0) return redis.call('get', 'k1')"), ["GET", "k1"],
                              ["SELECT", "0"], E("return redis.call('select', 'x')"),
                              E("return redis.call('select', 99)"), E("return redis.call('select', -1)")],
    "cached state": [E("cjson.encode_max_depth(1) return 1"), E("return cjson.encode({{1}})"),
                     ["SCRIPT", "FLUSH"], E("return cjson.encode({{1}})")],
}

FUNCTIONS = {
    "load and call": [
        ["FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f1', function(keys, args) "
                             "return {keys, args} end)"],
        ["FCALL", "f1", "2", "a", "b", "c", "d"], ["FCALL", "F1", "0"], ["FCALL_RO", "f1", "0"],
        ["FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 1 end)"],
        ["FUNCTION", "LOAD", "replace", "#!lua name=lib1\nredis.register_function('f1', function(keys, args) "
                                        "return 2 end)"],
        ["FCALL", "f1", "0"],
        ["FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f1', function(keys, args) return 1 end)"],
        ["FUNCTION", "LOAD", "#!lua name=lib3\nreturn 1"],
        ["FUNCTION", "LOAD", "#!lua name=l4\nredis.register_function{function_name='g1', callback=function() "
                             "return 1 end, flags={'no-writes'}, description='desc'}"],
        ["FCALL", "g1", "0"], ["FCALL_RO", "g1", "0"], ["FUNCTION", "LIST", "LIBRARYNAME", "l4"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "L4", "WITHCODE"],
        ["FUNCTION", "LOAD", "#!lua name=l8\nredis.register_function('g8', function(k, a) "
                             "return redis.call('set', k[1], a[1]) end)"],
        ["FCALL", "g8", "1", "kk", "vv"], ["GET", "kk"], ["FCALL_RO", "g8", "1", "kk", "vv"],
        ["FCALL", "nosuch", "0"], ["FCALL", "g8", "-1"], ["FCALL", "g8", "5", "a"], ["FCALL", "g8", "x"],
        ["FCALL", "nosuch", "x"], ["FCALL_RO", "nosuch", "x"], ["FCALL"], ["FCALL", "f"],
        ["FUNCTION", "LOAD", "#!lua name=l12\nlocal function helper() return 42 end\n"
                             "redis.register_function('g12', function(k, a) return helper() end)"],
        ["FCALL", "g12", "0"], ["FUNCTION", "DELETE", "l12"], ["FUNCTION", "DELETE", "l12"], ["FCALL", "g12", "0"],
        ["FUNCTION", "DELETE"], ["FUNCTION", "DELETE", "L4"], ["FUNCTION", "STATS"],
        ["FUNCTION", "FLUSH", "bad"], ["FUNCTION", "FLUSH", "a", "b"], ["FUNCTION", "FLUSH", "async"],
        ["FUNCTION", "LIST"], ["FUNCTION", "STATS"], ["FUNCTION", "STATS", "extra"], ["FUNCTION", "DUMP", "extra"],
        ["FUNCTION"], ["FUNCTION", "NOSUCH"], ["FUNCTION", "HELP"]],
    "runtime environment": [
        ["FUNCTION", "LOAD", "#!lua name=env\n"
                             "redis.register_function('globals', function(k, a) local t = {} for k in pairs(_G) do "
                             "t[#t+1] = k end table.sort(t) return t end)\n"
                             "redis.register_function('api', function(k, a) local t = {} for k in pairs(redis) do "
                             "t[#t+1] = k end table.sort(t) return t end)\n"
                             "redis.register_function('reg', function(k, a) return redis.register_function('zz', "
                             "function() end) end)\n"
                             "redis.register_function('glob', function() return x end)\n"
                             "redis.register_function('setg', function() x = 1 end)\n"
                             "redis.register_function('boom', function() error('boom') end)\n"
                             "redis.register_function('bad', function() return redis.call('nosuch') end)\n"
                             "redis.register_function('nosuchfield', function() return tostring(redis.nosuch) end)\n"
                             "redis.register_function('sha', function() return redis.sha1hex('a') end)\n"
                             "redis.register_function('resp3', function() redis.setresp(3) return "
                             "redis.call('hgetall', 'nohash') end)"],
        ["FCALL", "globals", "0"], ["FCALL", "api", "0"], ["FCALL", "reg", "0"], ["FCALL", "glob", "0"],
        ["FCALL", "setg", "0"], ["FCALL", "boom", "0"], ["FCALL", "bad", "0"], ["FCALL", "nosuchfield", "0"],
        ["FCALL", "sha", "0"], ["FCALL", "resp3", "0"]],
    "load errors": [["FUNCTION", "LOAD", code] for code in [
        "#!lua\nredis.register_function('f1', function(keys, args) return 1 end)",
        "#!lua name=\nredis.register_function('f1', function(keys, args) return 1 end)",
        "#!lua name=a-b\nredis.register_function('f1', function(keys, args) return 1 end)",
        "#!lua name=ab x=1\nredis.register_function('f1', function(keys, args) return 1 end)",
        "#!lua name=ab name=cd\nredis.register_function('fx', function(keys, args) return 1 end)",
        "#!js name=ab\nredis.register_function('f1', function(keys, args) return 1 end)",
        "redis.register_function('f1', function(keys, args) return 1 end)", "#!lua name=ab",
        "#!lua name=l4\nredis.register_function('f-1', function(keys, args) return 1 end)",
        "#!lua name=l4\nredis.register_function('f1')", "#!lua name=l4\nredis.register_function()",
        "#!lua name=l4\nredis.register_function(1, 2)", "#!lua name=l4\nredis.register_function('g1', 2)",
        "#!lua name=l5\nredis.register_function{function_name='g2', callback=function() return 1 end, "
        "flags={'bad'}}",
        "#!lua name=l5\nredis.register_function{function_name='g2', callback=function() return 1 end, "
        "flags='no-writes'}",
        "#!lua name=l5\nredis.register_function{function_name='g2', callback=function() return 1 end, foo=1}",
        "#!lua name=l5\nredis.register_function{function_name='g2'}",
        "#!lua name=l5\nredis.register_function{callback=function() return 1 end}",
        "#!lua name=n1\nredis.register_function{}",
        "#!lua name=n1\nredis.register_function{function_name={}, callback=function() end}",
        "#!lua name=n1\nredis.register_function{function_name='a', callback=5}",
        "#!lua name=n1\nredis.register_function{function_name='a', callback=function() end, description={}}",
        "#!lua name=n1\nredis.register_function{function_name='a', callback=function() end, flags={{}}}",
        "#!lua name=n1\nredis.register_function{[1]='a', callback=function() end}",
        "#!lua name=n1\nredis.register_function({}, function() end)",
        "#!lua name=n1\nredis.register_function('a', function() end, 3)",
        "#!lua name=n1\nredis.register_function('', function() end)",
        "#!lua name=m1\nredis.register_function('g3', function() return 1 end) "
        "redis.register_function('g3', function() return 1 end)",
        "#!lua name=m1\nredis.call('set', 'x', 1)", "#!lua name=m1\nreturn redis.call",
        "#!lua name=m1\nlocal x = y", "#!lua name=m1\nx = 1", "#!lua name=m1\nerror('boom')",
        "#!lua name=m1\nsyntax error here", "#!lua name=m1\nlocal x = string",
        "#!lua name=m1\nlocal x = redis.setresp", "#!lua name=m13\nredis.log(redis.LOG_DEBUG, 'x')",
        "#!lua name=m14\nlocal x = redis.REDIS_VERSION .. redis.LOG_WARNING",
        "#!lua name=m15\nlocal x = redis\nx.foo = 1", "#!lua name=m16\nlocal x = getmetatable(redis)",
        "#!lua name=m17\n\x1bLua"]] + [
        ["FUNCTION", "LOAD", "foo", "#!lua name=n6\nredis.register_function('f', function() end)"],
        ["FUNCTION", "LOAD", "replace"], ["FUNCTION", "LOAD"]],
    "load variants": [
        ["FUNCTION", "LOAD", "#!lua name=n1\nredis.register_function(5, function() end)"],
        ["FUNCTION", "LOAD", "#!lua NAME=n2\nredis.register_function('b', function() end)"],
        ["FUNCTION", "LOAD", "#!LUA name=n3\nredis.register_function('c', function() end)"],
        ["FUNCTION", "LOAD", "#!lua  name=n4\nredis.register_function('d', function() end)"],
        ["FUNCTION", "LOAD", "#!lua name=n5 \nredis.register_function('e', function() end)"],
        ["FUNCTION", "LOAD", "replace", "replace", "#!lua name=n6\nredis.register_function('f', function() end)"],
        ["FUNCTION", "LOAD", "#!lua name=m8\nredis.register_function{function_name='h2', callback=function() "
                             "return 1 end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', "
                             "'allow-cross-slot-keys'}}"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "m8"],
        ["FUNCTION", "LOAD", "#!lua name=m9\nredis.register_function{function_name='h3', callback=function() "
                             "return 1 end, flags={}, description=5}"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "m9", "WITHCODE"], ["FCALL", "5", "0"], ["FCALL", "e", "0"],
        ["FUNCTION", "LIST", "libraryname"], ["FUNCTION", "LIST", "bad"], ["FUNCTION", "LIST", "withcode", "withcode"],
        ["FUNCTION", "LIST", "withcode", "libraryname", "n1", "libraryname", "n5"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "nomatch"], ["FUNCTION", "STATS"]],
    "restore errors": [["FUNCTION", "RESTORE", "bad"], ["FUNCTION", "RESTORE", ""],
                       ["FUNCTION", "RESTORE", b"\n\x00" + b"\x00" * 8],
                       ["FUNCTION", "RESTORE", "x", "bad"], ["FUNCTION", "RESTORE", "x", "flush", "extra"]],
}

RESP3 = {
    "conversions": CONVERSIONS["RESP3 types in RESP2"] + CONVERSIONS["setresp 3"] + CONVERSIONS["booleans and nil"] +
    [E("return {verbatim_string={format='mkd', string='**x**'}}"),
     E("return {verbatim_string={format='toolong', string='x'}}"),
     E("return {verbatim_string={format='', string='ab'}}"), E("return {big_number='abc'}"),
     E("return {1, {map={a=1}}, {set={b=true}}, {double=2.5}}"), E("return redis.call('ping')"),
     E("redis.call('hset', 'h', 'a', '1') return redis.call('hgetall', 'h')"),
     ["SCRIPT", "EXISTS", "nosuch"], ["FUNCTION", "STATS"],
     ["FUNCTION", "LOAD", "#!lua name=r3\nredis.register_function{function_name='r3', callback=function() "
                          "return {map={x=1}} end, flags={'no-writes'}, description='d'}"],
     ["FCALL", "r3", "0"], ["FUNCTION", "LIST", "WITHCODE"]],
}

# Scripts whose keys are all declared and share a hash tag (run with --threads 2).
KEYED = {
    "declared keys": [E("return redis.call('set', KEYS[1], ARGV[1])", 1, "{t}a", "1"),
                      E("return redis.call('incrby', KEYS[1], ARGV[1])", 1, "{t}a", "5"),
                      E("redis.call('rpush', KEYS[1], 'x', 'y') redis.call('rpush', KEYS[2], 'z') "
                        "return {redis.call('lrange', KEYS[1], 0, -1), redis.call('llen', KEYS[2])}",
                        2, "{t}l1", "{t}l2"),
                      E("return redis.call('lmove', KEYS[1], KEYS[2], 'left', 'right')", 2, "{t}l1", "{t}l2"),
                      ["LRANGE", "{t}l2", "0", "-1"],
                      E("redis.call('hset', KEYS[1], 'f', cmsgpack.pack({1, 'a'})) "
                        "return cmsgpack.unpack(redis.call('hget', KEYS[1], 'f'))", 1, "{t}h"),
                      E("redis.call('zadd', KEYS[1], 1, 'a', 2, 'b') return redis.call('zrange', KEYS[1], 0, -1, "
                        "'withscores')", 1, "{t}z"),
                      E("return redis.call('del', KEYS[1], KEYS[2], KEYS[3])", 3, "{t}a", "{t}l1", "{t}nope"),
                      E("return redis.call('exists', KEYS[1], KEYS[2])", 2, "{t}l2", "{t}h"),
                      ["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "{t}a"],
                      ["EVAL_RO", "return redis.call('set', KEYS[1], 'x')", "1", "{t}a"],
                      E("return redis.call('type', KEYS[1])", 1, "{t}z")],
}


class ScriptingCompare(unittest.TestCase):
    """Scenarios against a reference redis-server and distcache --threads 1."""

    DISTCACHE_ARGS = ("--threads", "1")
    compared = 0

    @classmethod
    def setUpClass(cls):
        cls._ref_cm = harness.start_server(reference=True)
        cls.ref = cls._ref_cm.__enter__()
        cls._test_cm = harness.start_server(distcache_args=cls.DISTCACHE_ARGS)
        cls.test = cls._test_cm.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls._test_cm.__exit__(None, None, None)
        cls._ref_cm.__exit__(None, None, None)
        sys_count = ScriptingCompare.compared
        print(f"\n[test_scripting] {sys_count} commands compared side by side so far")

    def reset(self, side):
        for cmd in (["FLUSHALL"], ["SCRIPT", "FLUSH"], ["FUNCTION", "FLUSH"]):
            side.both(*cmd)

    def run_corpus(self, corpus, resp3=False, sorted_commands=()):
        mismatches = []
        side = Side(self.ref, self.test, resp3=resp3)
        try:
            for name, commands in corpus.items():
                self.reset(side)
                for cmd in commands:
                    r, t = side.both(*cmd)
                    ScriptingCompare.compared += 1
                    if normalize(r) != normalize(t):
                        mismatches.append(f"[{name}] {cmd!r}\n   ref : {r[:400]!r}\n   test: {t[:400]!r}")
        finally:
            side.close()
        self.assertEqual(mismatches, [], "\n".join(mismatches))

    def test_conversions(self):
        self.run_corpus(CONVERSIONS)

    def test_errors(self):
        self.run_corpus(ERRORS)

    def test_sandbox(self):
        self.run_corpus(SANDBOX)

    def test_cjson(self):
        self.run_corpus(CJSON)

    def test_cmsgpack(self):
        self.run_corpus(CMSGPACK)

    def test_bit_and_struct(self):
        self.run_corpus(BIT_STRUCT)

    def test_script_commands(self):
        self.run_corpus(SCRIPT_COMMANDS)

    def test_functions(self):
        self.run_corpus(FUNCTIONS)

    def test_resp3(self):
        self.run_corpus(RESP3, resp3=True)

    def test_keyed(self):
        self.run_corpus(KEYED)

    def test_function_list_order_independent(self):
        """FUNCTION LIST / DUMP order follows Redis's hash table: compare as sets."""
        r = self.ref.client()
        t = self.test.client()
        libs = ["#!lua name=la\nredis.register_function('fa', function() return 1 end)",
                "#!lua name=lb\nredis.register_function('fb', function() return 2 end)\n"
                "redis.register_function{function_name='fb2', callback=function() return 3 end, "
                "flags={'no-writes'}}",
                "#!lua name=lc\nredis.register_function('fc', function() return 3 end)",
                # long and repetitive: redis-server writes it LZF-compressed in its dump
                "#!lua name=ld\n" + "-- padding padding padding padding\n" * 40 +
                "redis.register_function('fd', function() return 4 end)"]
        for c in (r, t):
            c.function_flush()
            for code in libs:
                c.function_load(code)

        def canon(listing):
            out = []
            for lib in listing:
                d = dict(zip(lib[::2], lib[1::2]))
                funcs = sorted(repr(sorted(dict(zip(f[::2], f[1::2])).items())) for f in d[b"functions"])
                out.append((d[b"library_name"], d[b"engine"], funcs, d.get(b"library_code")))
            return sorted(out)

        self.assertEqual(canon(r.execute_command("FUNCTION", "LIST", "WITHCODE")),
                         canon(t.execute_command("FUNCTION", "LIST", "WITHCODE")))
        self.assertEqual(canon(r.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "l[ab]")),
                         canon(t.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "l[ab]")))
        # Each server restores the other's dump, with every policy.
        ref_dump = r.function_dump()
        test_dump = t.function_dump()
        for src, dst, payload in ((r, t, ref_dump), (t, r, test_dump)):
            with self.assertRaises(Exception) as e:
                dst.function_restore(payload)
            self.assertIn("already exists", str(e.exception))
            self.assertTrue(dst.function_restore(payload, "REPLACE"))
            dst.function_flush()
            self.assertTrue(dst.function_restore(payload))
            self.assertEqual(dst.fcall("fb", 0), 2)
            self.assertTrue(dst.function_restore(payload, "FLUSH"))
            self.assertEqual(canon(dst.execute_command("FUNCTION", "LIST", "WITHCODE")),
                             canon(src.execute_command("FUNCTION", "LIST", "WITHCODE")))
        # One library: the payloads are byte-identical (LZF included).
        for c in (r, t):
            c.function_flush()
            c.function_load(libs[3])
            c.function_load(libs[0])
            c.function_delete("la")
        self.assertEqual(r.function_dump(), t.function_dump())
        # A conflicting function in another library.
        for c in (r, t):
            c.function_flush()
            c.function_load("#!lua name=other\nredis.register_function('fa', function() return 9 end)")
        errs = []
        for c, payload in ((r, ref_dump), (t, ref_dump)):
            try:
                c.function_restore(payload, "REPLACE")
                errs.append("ok")
            except Exception as e:  # noqa: BLE001
                errs.append(str(e))
        self.assertEqual(errs[0], errs[1])
        ScriptingCompare.compared += 12

    def test_restore_payloads(self):
        """Hand-made FUNCTION RESTORE payloads (valid checksums): bad code,
        other RDB types, the 7.0 release-candidate format, truncation."""

        def crc64(data):  # Redis's CRC-64 (Jones), reflected
            crc = 0
            for b in data:
                crc ^= b
                for _ in range(8):
                    crc = (crc >> 1) ^ (0x95ac9329ac4bc9b5 if crc & 1 else 0)
            return crc

        def payload(body):
            body += b"\x0a\x00"
            return body + crc64(body).to_bytes(8, "little")

        def rdbstr(s):
            return bytes([len(s)]) + s

        lib = b"#!lua name=d\nredis.register_function('g', function() return 7 end)"
        cases = [
            b"\xf5" + rdbstr(b"#!lua name=z\nsyntax error"),
            b"\xf5" + rdbstr(b"#!lua name=z\nreturn 1"),
            b"\xf5" + rdbstr(b"return 1"),
            b"\x00" + rdbstr(b"k") + rdbstr(b"v"),
            b"\xf6" + rdbstr(b"x"),
            b"\xf6" + rdbstr(b"pre") + rdbstr(b"LUA") + b"\x00" +
            rdbstr(b"redis.register_function('pre', function() return 'rc' end)"),
            b"\xf6" + rdbstr(b"pre2") + rdbstr(b"LUA") + b"\x01" + rdbstr(b"desc") +
            rdbstr(b"redis.register_function('pre2', function() return 'rc2' end)"),
            b"\xf5\x3f",
            b"",
            b"\xf5" + rdbstr(lib) + b"\xf5" + rdbstr(b"#!lua name=d\nredis.register_function('h', function() end)"),
            b"\xf5" + rdbstr(lib) + b"\xf5" + rdbstr(b"#!lua name=e\nredis.register_function('g', function() end)"),
            b"\xf5" + rdbstr(lib),
        ]
        side = Side(self.ref, self.test)
        mismatches = []
        try:
            for body in cases:
                self.reset(side)
                for cmd in (["FUNCTION", "RESTORE", payload(body)], ["FUNCTION", "LIST", "WITHCODE"],
                            ["FCALL", "pre", "0"], ["FCALL", "pre2", "0"], ["FCALL", "g", "0"]):
                    r, t = side.both(*cmd)
                    ScriptingCompare.compared += 1
                    if r != t:
                        mismatches.append(f"{body!r} {cmd[:2]}\n   ref : {r!r}\n   test: {t!r}")
        finally:
            side.close()
        self.assertEqual(mismatches, [], "\n".join(mismatches))

    def test_evalsha_after_load_on_other_connection(self):
        r1, r2 = self.ref.client(), self.ref.client()
        t1, t2 = self.test.client(), self.test.client()
        for a, b in ((r1, r2), (t1, t2)):
            a.script_flush()
            sha = a.script_load("return {KEYS[1], ARGV[1], 'loaded elsewhere'}")
            self.assertEqual(b.evalsha(sha, 1, "k", "v"), [b"k", b"v", b"loaded elsewhere"])
            self.assertEqual(b.script_exists(sha), [True])
            b.script_flush()
            with self.assertRaises(Exception) as e:
                a.evalsha(sha, 0)
            self.assertEqual(type(e.exception).__name__, "NoScriptError")
        ScriptingCompare.compared += 4


class LuaGen:
    """Random Lua literals and scripts for the seeded fuzz scenario."""

    COMMANDS = [
        ("set", ["key", "val"]), ("get", ["key"]), ("incr", ["key"]), ("incrbyfloat", ["key", "num"]),
        ("append", ["key", "val"]), ("del", ["key", "key"]), ("exists", ["key"]), ("type", ["key"]),
        ("hset", ["key", "val", "val"]), ("hget", ["key", "val"]), ("hgetall", ["key"]), ("hincrby", ["key", "val", "int"]),
        ("rpush", ["key", "val", "val"]), ("lrange", ["key", "int", "int"]), ("lpop", ["key"]), ("llen", ["key"]),
        ("zadd", ["key", "num", "val"]), ("zrange", ["key", "int", "int", "WITHSCORES"]), ("zscore", ["key", "val"]),
        ("zincrby", ["key", "num", "val"]), ("sadd", ["key", "val"]), ("scard", ["key"]), ("sismember", ["key", "val"]),
        ("getrange", ["key", "int", "int"]), ("strlen", ["key"]), ("mget", ["key", "key"]), ("ping", []),
        ("echo", ["val"]), ("lpos", ["key", "val"]), ("zcard", ["key"]), ("hmget", ["key", "val", "val"]),
        ("nosuch", []), ("set", ["key"]), ("expire", ["key", "int"]), ("ttl", ["key"]), ("setrange", ["key", "int", "val"]),
    ]

    def __init__(self, seed):
        import random
        self.r = random.Random(seed)

    def lua_string(self):
        r = self.r
        choice = r.random()
        if choice < 0.3:
            s = r.choice(["", "a", "abc", "hello world", "1", "-1", "3.5", "0", "nan", "inf", "1e3", "007"])
        elif choice < 0.6:
            s = "".join(r.choice("abcxyz_") for _ in range(r.randint(1, 12)))
        else:
            s = bytes(r.randrange(256) for _ in range(r.randint(0, 8))).decode("latin1")
        return "'" + "".join(c if (c.isascii() and c.isalnum()) or c in " _-." else "\\%d" % ord(c) for c in s) + "'"

    def lua_number(self):
        r = self.r
        return r.choice([str(r.randint(-5, 5)), str(r.randint(-10 ** 12, 10 ** 12)), repr(r.uniform(-1000, 1000)),
                         "0.1", "-0.0", "1e300", "2^53", "2^63", "-2^63", "1/0", "-1/0", "0/0", "127", "128",
                         "65536", "-33", "4294967296", "1.5", "3.0"])

    def lua_value(self, depth=0):
        r = self.r
        c = r.random()
        if depth > 3 or c < 0.3:
            return self.lua_number()
        if c < 0.55:
            return self.lua_string()
        if c < 0.62:
            return r.choice(["true", "false", "nil"])
        if c < 0.8:
            return "{" + ", ".join(self.lua_value(depth + 1) for _ in range(r.randint(0, 5))) + "}"
        if c < 0.92:
            items = []
            for _ in range(r.randint(0, 4)):
                key = r.choice(["a", "b", "c", "name", "opts", "x1"])
                items.append("%s=%s" % (key, self.lua_value(depth + 1)))
            if r.random() < 0.3:
                items.append("[%d]=%s" % (r.randint(1, 4), self.lua_value(depth + 1)))
            return "{" + ", ".join(items) + "}"
        special = r.choice(["err", "ok", "double", "big_number", "map", "set"])
        if special in ("err", "ok", "big_number"):
            return "{%s=%s}" % (special, self.lua_string())
        if special == "double":
            return "{double=%s}" % self.lua_number()
        inner = ", ".join("%s=%s" % (k, self.lua_value(depth + 1)) for k in r.sample(["a", "b", "c"], 2))
        return "{%s={%s}}" % (special, inner)

    def arg(self, kind):
        r = self.r
        if kind == "key":
            return "'fz:%d'" % r.randint(0, 5)
        if kind == "val":
            return self.lua_string() if r.random() < 0.8 else self.lua_number()
        if kind == "int":
            return str(r.randint(-3, 5))
        if kind == "num":
            return self.lua_number() if r.random() < 0.3 else repr(round(r.uniform(-10, 10), 3))
        return "'%s'" % kind

    def call(self):
        name, kinds = self.r.choice(self.COMMANDS)
        fn = self.r.choice(["redis.call", "redis.pcall"])
        return "%s(%s)" % (fn, ", ".join(["'%s'" % name] + [self.arg(k) for k in kinds]))

    def script(self):
        r = self.r
        v = self.lua_value()
        templates = [
            "return %s" % v,
            "return cjson.encode(%s)" % v,
            "return cjson.decode(cjson.encode(%s))" % v,
            "return cmsgpack.pack(%s)" % v,
            "return cmsgpack.unpack(cmsgpack.pack(%s))" % v,
            "return {cmsgpack.unpack(cmsgpack.pack(%s, %s))}" % (v, self.lua_value()),
            "return %s" % self.call(),
            "local r = %s return {r, type(r)}" % self.call(),
            "redis.setresp(3) return %s" % self.call(),
            "redis.setresp(3) local r = %s return {type(r), cjson.encode(r)}" % self.call(),
            "%s return %s" % (self.call(), self.call()),
            "local ok, e = pcall(function() return %s end) return {tostring(ok), e}" % self.call(),
            "return tostring(%s)" % v,
            "return struct.unpack('>d', struct.pack('>d', %s))" % self.lua_number(),
        ]
        return r.choice(templates)


class ScriptingFuzz(unittest.TestCase):
    """Seeded random scripts: literal conversions, cjson / cmsgpack round
    trips and redis.call / pcall of data commands, compared byte for byte."""

    SEEDS = (1, 2, 3, 4, 5, 6, 7, 8)
    SCRIPTS_PER_SEED = 500

    def test_random_scripts(self):
        with harness.start_server(reference=True) as ref, \
                harness.start_server(distcache_args=["--threads", "1"]) as test:
            mismatches = []
            count = 0
            for seed in self.SEEDS:
                gen = LuaGen(seed)
                for resp3 in (False, True):
                    side = Side(ref, test, resp3=resp3)
                    side.both("FLUSHALL")
                    for _ in range(self.SCRIPTS_PER_SEED // 2):
                        script = gen.script()
                        r, t = side.both("EVAL", script, "0")
                        count += 1
                        if normalize(r) != normalize(t):
                            mismatches.append(f"seed {seed} resp3={resp3}: {script!r}\n   ref : {r[:300]!r}\n"
                                              f"   test: {t[:300]!r}")
                    side.close()
            ScriptingCompare.compared += count
            print(f"\n[test_scripting] fuzz: {count} random scripts compared")
            self.assertEqual(mismatches, [], "\n".join(mismatches[:20]))


class ScriptingCompareThreads(ScriptingCompare):
    """The keyed scenarios again with distcache --threads 2 (keys share a hash tag)."""

    DISTCACHE_ARGS = ("--threads", "2")

    # Only the scenarios whose keys are declared and co-located.
    test_conversions = test_errors = test_sandbox = test_cjson = test_cmsgpack = None
    test_bit_and_struct = test_script_commands = test_functions = test_resp3 = None
    test_function_list_order_independent = test_restore_payloads = None

    def test_evalsha_after_load_on_other_connection(self):
        # Many connections: they spread over both threads.
        conns = [self.test.client() for _ in range(6)]
        sha = conns[0].script_load("return redis.call('incr', KEYS[1])")
        for i, c in enumerate(conns):
            self.assertEqual(c.evalsha(sha, 1, "{t}counter"), i + 1)
        conns[3].script_flush()
        for c in conns:
            with self.assertRaises(Exception):
                c.evalsha(sha, 1, "{t}counter")
        ScriptingCompare.compared += 12


class ScriptKill(unittest.TestCase):
    """SCRIPT KILL / FUNCTION KILL on a running script, compared with redis-server
    (busy-reply-threshold lowered so that it answers while the script runs)."""

    @classmethod
    def setUpClass(cls):
        cls._ref_cm = harness.start_server(reference=True, extra_args=["--busy-reply-threshold", "100"])
        cls.ref = cls._ref_cm.__enter__()
        cls._test_cm = harness.start_server(distcache_args=["--threads", "2"])
        cls.test = cls._test_cm.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls._test_cm.__exit__(None, None, None)
        cls._ref_cm.__exit__(None, None, None)

    SPIN_LIB = ("#!lua name=busy\nredis.register_function('spin', function() while true do end end)\n"
                "redis.register_function('spinwrite', function() redis.call('set', 'x', '1') "
                "local t = redis.call('time') local stop = t[1] * 1000000 + t[2] + 2500000 "
                "while true do local n = redis.call('time') if n[1] * 1000000 + n[2] > stop then break end end "
                "return 'done' end)")

    def run_and_kill(self, server, command, kills):
        """Starts `command` on one connection, then sends the kill commands on a
        connection served by another thread; returns (kill replies, script reply)."""
        spare = [server.raw(timeout=20.0) for _ in range(8)]
        runner = server.raw(timeout=20.0)
        runner.send_command(*command)
        time.sleep(0.3)
        replies = []
        free = None
        for c in spare:
            c.sock.settimeout(0.2)
            c.send_command("PING")
            try:
                c.read_reply()  # PONG from another thread, or redis-server's BUSY
                free = c
                break
            except socket.timeout:
                continue  # distcache: a connection on the busy thread
        if free is None:
            raise AssertionError("no connection answered while the script ran")
        free.sock.settimeout(20.0)
        for k in kills:
            replies.append(free.command(*k))
        result = runner.read_reply()
        for c in spare + [runner]:
            c.close()
        return replies, result

    def test_kill(self):
        scenarios = [
            (["EVAL", "local i = 0 while true do i = i + 1 end", "0"],
             [["FUNCTION", "KILL"], ["FUNCTION", "STATS"], ["SCRIPT", "KILL"]]),
            (["FCALL", "spin", "0"], [["SCRIPT", "KILL"], ["FUNCTION", "KILL"]]),
            (["EVAL", "local ok, e = pcall(function() while true do end end) return {'caught', e}", "0"],
             [["SCRIPT", "KILL"]]),
            (["EVAL", "local ok, e = pcall(function() while true do end end)\nreturn {'caught', e}", "0"],
             [["SCRIPT", "KILL"]]),
            (["EVAL", "redis.call('set', 'x', '1') local t = redis.call('time') "
                      "local stop = t[1] * 1000000 + t[2] + 2500000 while true do local n = redis.call('time') "
                      "if n[1] * 1000000 + n[2] > stop then break end end return 'done'", "0"],
             [["SCRIPT", "KILL"]]),
            (["FCALL", "spinwrite", "0"], [["FUNCTION", "KILL"]]),
        ]
        results = {}
        for server in (self.ref, self.test):
            c = server.client()
            c.function_load(self.SPIN_LIB, replace=True)
            out = []
            for command, kills in scenarios:
                out.append(self.run_and_kill(server, command, kills))
            results[server] = out
        ref, test = results[self.ref], results[self.test]
        for i, ((rk, rr), (tk, tr)) in enumerate(zip(ref, test)):
            self.assertEqual(rk, tk, f"scenario {i}: kill replies")
            self.assertEqual(rr, tr, f"scenario {i}: script reply")
        for server in (self.ref, self.test):
            self.assertTrue(server.client().ping())


if __name__ == "__main__":
    harness.main()
