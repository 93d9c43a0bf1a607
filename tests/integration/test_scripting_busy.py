"""Scripts and the rest of the server, compared with redis-server 7.0:

- BUSY: while a script runs past busy-reply-threshold, every other client
  (on the script's own thread too, and new clients) gets BUSY, MULTI/EXEC
  gets EXECABORT, SHUTDOWN without NOSAVE gets BUSY, and SCRIPT KILL works;
  afterwards every connection is served again.
- PUBLISH / SPUBLISH inside scripts reach subscribers on every thread.
- CLIENT TRACKING: keys declared by a script that read something are tracked
  for the calling client (Redis 7.0's rule), and invalidated.
- SCRIPT LOAD / FUNCTION LOAD / DELETE / FLUSH are visible on every thread as
  soon as they are answered, and FUNCTION LIST / DUMP agree everywhere.
- RESP3 conversions of script replies (redis.setresp(3) and HELLO 3).
distcache runs with --threads 2 and many connections, so that they land on
both threads.
"""

import binascii
import time
import unittest

import harness
from harness import RespError

THRESHOLD_MS = "100"
DEADLINE = 20.0
SHARDS = 2  # distcache runs with --threads 2


# Helpers shared with test_scripting_busy_shards.py and test_scripting_aof.py.

def wait_busy(conn):
    """PING until the reply is BUSY (the script passed the threshold)."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        reply = conn.command("PING")
        if isinstance(reply, RespError) and reply.message.startswith("BUSY"):
            return
    raise AssertionError("never BUSY")  # pragma: no cover


def shard_of(key):
    """distcache's shard of a key: CRC16 (XMODEM) of the key modulo 16384, modulo the shard count."""
    return (binascii.crc_hqx(key.encode(), 0) % 16384) % SHARDS


def key_on(shard, prefix):
    """The first key `prefix`N that lives on `shard`."""
    return next(f"{prefix}{i}" for i in range(1000) if shard_of(f"{prefix}{i}") == shard)


class ReferenceAndDistcache(harness.SideBySideTestCase):
    """redis-server (self.ref) and distcache with --threads 2 (self.test),
    both with busy-reply-threshold THRESHOLD_MS, for the whole class."""

    THRESHOLD_MS = THRESHOLD_MS
    DISTCACHE_ARGS = ("--threads", str(SHARDS))

    @classmethod
    def extra_args(cls):
        return ["--busy-reply-threshold", cls.THRESHOLD_MS]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.test = cls.server


class BusyAndThreads(ReferenceAndDistcache):

    def setUp(self):
        for server in (self.ref, self.test):
            server.client().flushall()

    def servers(self):
        return (self.ref, self.test)

    # ------------------------------------------------------------------ BUSY

    def busy_scenario(self, server, script_command, kill):
        conns = [server.raw(timeout=DEADLINE) for _ in range(8)]
        for c in conns:
            self.assertEqual(c.command("PING"), "PONG")
        runner = server.raw(timeout=DEADLINE)
        runner.send_command(*script_command)
        wait_busy(conns[0])
        out = []
        for c in conns:  # both threads, the script's own included
            out.append(c.command("GET", "x"))
        fresh = [server.raw(timeout=DEADLINE) for _ in range(4)]
        for c in fresh:  # new clients
            out.append(c.command("SET", "x", "1"))
        out.append(conns[1].command("EVAL", "return 1", "0"))
        out.append(conns[2].command("FUNCTION", "STATS") if kill[0] == "SCRIPT" else "skipped")
        out.append([conns[3].command("MULTI"), conns[3].command("INCR", "y"), conns[3].command("EXEC")])
        out.append(conns[4].command("SHUTDOWN"))
        out.append(conns[5].command("SHUTDOWN", "junk"))
        out.append(conns[6].command(*kill))
        out.append(runner.read_reply())
        for c in conns + fresh + [runner]:
            out.append(c.command("PING"))
            c.close()
        out.append(server.client().get("x"))
        return out

    def test_busy_everywhere_then_kill(self):
        scenarios = [
            (["EVAL", "while true do end", "0"], ["SCRIPT", "KILL"]),
            (["EVAL", "local t = {} while true do t[#t % 100 + 1] = 1 end", "0"], ["SCRIPT", "KILL"]),
            (["FCALL", "spin", "0"], ["FUNCTION", "KILL"]),
        ]
        results = {}
        for server in self.servers():
            server.client().function_load(
                "#!lua name=busy\nredis.register_function('spin', function() while true do end end)", replace=True)
            results[server] = [self.busy_scenario(server, cmd, kill) for cmd, kill in scenarios]
        self.assertEqual(results[self.test], results[self.ref])
        self.assertIsInstance(results[self.test][0][0], RespError)
        self.assertTrue(results[self.test][0][0].message.startswith("BUSY"))

    def test_commands_sent_right_after_the_script_get_busy(self):
        """Commands sent just after the script started (before the threshold)
        wait for it: distcache posts them to the script's thread, or queues
        them behind the locks of a script running as a global transaction.
        Once the threshold passes they are answered BUSY, as redis-server
        answers them, instead of running after the script (commands on other
        shards than the script's may also have run before it: distcache keeps
        serving them while a single-shard script runs)."""
        spin = ("if ARGV[1] == 'spin' then while true do end end "
                "return redis.call('get', KEYS[1])")
        results = {}
        for server in self.servers():
            out = []
            setup = server.raw(timeout=DEADLINE)
            for k in range(8):
                setup.command("SET", f"k{k}", str(k))
            for learn in range(3):  # distcache learns that the script keeps to its key
                out.append(setup.command("EVAL", spin, "1", "k0", "no"))
            for script_key in ("k0", "fresh{k0}"):  # a learned script, and a first run (global)
                conns = [server.raw(timeout=DEADLINE) for _ in range(8)]
                for c in conns:
                    c.command("PING")
                runner = server.raw(timeout=DEADLINE)
                runner.send_command("EVAL", spin if script_key == "k0" else spin + " ", "1", script_key, "spin")
                for i, c in enumerate(conns):
                    c.send_command("GET", f"k{i}")
                # Every command is answered while the script still runs (before
                # SCRIPT KILL): BUSY, or its value when it ran before the script
                # took its shard (distcache serves other shards meanwhile).
                for i, c in enumerate(conns):
                    reply = c.read_reply()
                    if reply != str(i).encode():
                        self.assertIsInstance(reply, RespError)
                        self.assertTrue(reply.message.startswith("BUSY"), reply)
                # (The script may start after the GETs ran: NOTBUSY, try again.)
                end = time.monotonic() + DEADLINE
                while True:
                    kill = conns[0].command("SCRIPT", "KILL")
                    if kill == "OK" or time.monotonic() > end:
                        break
                    self.assertTrue(kill.message.startswith("NOTBUSY"), kill)
                out.append(kill)
                out.append(runner.read_reply())
                out.append([c.command("GET", "k1") for c in conns])
                for c in conns + [runner]:
                    c.close()
            setup.close()
            results[server] = out
        self.assertEqual(results[self.test], results[self.ref])

    # ------------------------------------------------------------------ PUBLISH

    def test_publish_in_scripts(self):
        results = {}
        for server in self.servers():
            subs = []
            for i in range(4):  # spread over the threads
                s = server.raw(timeout=DEADLINE)
                s.command("SUBSCRIBE", "ch") if i % 2 == 0 else s.command("SSUBSCRIBE", "sch")
                subs.append(s)
            pub = server.raw(timeout=DEADLINE)
            out = [
                pub.command("EVAL", "return redis.call('publish', 'ch', ARGV[1])", "0", "hello"),
                pub.command("EVAL", "return redis.call('spublish', 'sch', 'shard')", "0"),
                pub.command("EVAL", "return redis.call('publish', 'nobody', 'x')", "0"),
                pub.command("EVAL", "return redis.pcall('publish', 'ch')", "0"),
                pub.command("FCALL", "pub", "0", "via-function") if server.client().function_load(
                    "#!lua name=publib\nredis.register_function('pub', function(k, a) "
                    "return redis.call('publish', 'ch', a[1]) end)", replace=True) else None,
            ]
            ro = pub.command("EVAL_RO", "return redis.call('publish', 'ch', 'x')", "0")
            out.append(ro.message.split(" script:")[0] if isinstance(ro, RespError) else ro)
            for s in subs:
                out.append(s.read_reply())
                if s is subs[0] or s is subs[2]:
                    out.append(s.read_reply())
                s.close()
            pub.close()
            results[server] = out
        self.assertEqual(results[self.test], results[self.ref])

    # ------------------------------------------------------------------ tracking

    def test_tracking_of_script_keys(self):
        keys = [f"key{i}" for i in range(8)] + ["mkey0", "mkey1"]  # on both shards
        results = {}
        for server in self.servers():
            sub = server.raw(timeout=DEADLINE)
            sub.command("SUBSCRIBE", "__redis__:invalidate")
            sub_id = server.client().execute_command("CLIENT", "LIST")
            sub_id = [line.split()[0][3:] for line in sub_id.decode().splitlines() if "cmd=subscribe" in line][0]
            c = server.raw(timeout=DEADLINE)
            out = [c.command("CLIENT", "TRACKING", "ON", "REDIRECT", sub_id)]
            for k in keys:
                c.command("SET", k, "1")
            out.append(c.command("EVAL", "redis.call('get', KEYS[1]) return redis.call('get', 'key7')", "1", "key0"))
            out.append(c.command("EVAL", "return redis.call('set', 'key6', '2')", "1", "key1"))
            out.append(c.command("EVAL", "return 1", "1", "key2"))
            out.append(c.command("EVAL_RO", "return redis.call('exists', KEYS[1], KEYS[2])", "2", "key3", "key4"))
            out.append(c.command("EVAL", "return redis.call('mget', KEYS[1])", "1", "key5"))
            # Queued in MULTI: tracked the same way when EXEC runs them.
            out.append(c.command("MULTI"))
            out.append(c.command("EVAL", "return redis.call('get', KEYS[1])", "1", "mkey0"))
            out.append(c.command("EVAL", "return 1", "1", "mkey1"))
            out.append(c.command("EXEC"))
            w = server.raw(timeout=DEADLINE)
            for k in keys:
                w.command("SET", k, "2")
            w.command("SET", "end", "1")
            c.command("GET", "end")  # tracked now: its invalidation marks the end
            w.command("SET", "end", "2")
            got = []
            end = time.monotonic() + DEADLINE
            while time.monotonic() < end:
                msg = sub.read_reply()
                got.extend(msg[2])
                if b"end" in msg[2]:
                    break
            out.append(sorted(got))
            for x in (sub, c, w):
                x.close()
            results[server] = out
        self.assertEqual(results[self.test], results[self.ref])
        self.assertEqual(results[self.test][-1], [b"end", b"key0", b"key3", b"key4", b"key5", b"mkey0"])

    def test_tracking_invalidated_by_script_writes(self):
        """Keys written by a script invalidate what clients cached, the
        script's caller included (its own invalidation comes after the reply,
        RESP3). Run several times: distcache's first run of a script is a
        global transaction, the next ones run on the keys' shard."""
        script = ("redis.call('get', KEYS[1]) redis.call('set', KEYS[1], ARGV[1]) "
                  "return redis.call('get', KEYS[2])")
        results = {}
        for server in self.servers():
            out = []
            for run in range(4):
                for mode in ("other", "self"):
                    a = server.raw(timeout=DEADLINE)
                    a.command("HELLO", "3")
                    a.command("CLIENT", "TRACKING", "ON")
                    a.command("SET", "x", "1")
                    a.command("SET", "y{x}", "1")
                    a.command("GET", "x")
                    w = a if mode == "self" else server.raw(timeout=DEADLINE)
                    w.send_command("EVAL", script, "2", "x", "y{x}", str(run))
                    got = [a.read_reply()]
                    if w is a:
                        got.append(a.read_reply())
                    else:
                        got.append(w.read_reply())
                        w.close()
                    a.command("CLIENT", "TRACKING", "OFF")
                    out.append((run, mode, got))
                    a.close()
            results[server] = out
        self.assertEqual(results[self.test], results[self.ref])

    # ------------------------------------------------------------------ visibility

    def test_loads_visible_on_every_thread_at_once(self):
        server = self.test
        conns = [server.raw(timeout=DEADLINE) for _ in range(8)]
        for i in range(40):
            a, b = conns[i % 8], conns[(i + 1) % 8]
            lib = f"#!lua name=lib{i}\nredis.register_function('f{i}', function() return {i} end)"
            self.assertEqual(a.command("FUNCTION", "LOAD", lib), f"lib{i}".encode())
            self.assertEqual(b.command("FCALL", f"f{i}", "0"), i)
            sha = a.command("SCRIPT", "LOAD", f"return {i}")
            self.assertEqual(b.command("EVALSHA", sha, "0"), i)
            if i % 3 == 0:
                self.assertEqual(a.command("FUNCTION", "DELETE", f"lib{i}"), "OK")
                err = b.command("FCALL", f"f{i}", "0")
                self.assertIsInstance(err, RespError)
        listings = {repr(c.command("FUNCTION", "LIST", "WITHCODE")) for c in conns}
        dumps = {c.command("FUNCTION", "DUMP") for c in conns}
        stats = {repr(c.command("FUNCTION", "STATS")) for c in conns}
        self.assertEqual((len(listings), len(dumps), len(stats)), (1, 1, 1))
        dump = dumps.pop()
        self.assertEqual(conns[0].command("FUNCTION", "FLUSH"), "OK")
        for c in conns:
            self.assertIsInstance(c.command("FCALL", "f1", "0"), RespError)
        self.assertEqual(conns[1].command("FUNCTION", "RESTORE", dump), "OK")
        for i, c in enumerate(conns):
            self.assertEqual(c.command("FCALL", "f1", "0"), 1)
        sha = conns[2].command("SCRIPT", "LOAD", "return 'x'")
        self.assertEqual(conns[3].command("SCRIPT", "FLUSH"), "OK")
        for c in conns:
            self.assertIsInstance(c.command("EVALSHA", sha, "0"), RespError)
            c.close()
        server.client().function_flush()

    # ------------------------------------------------------------------ RESP3

    def test_resp3_conversions(self):
        scripts = [
            "redis.setresp(3) return redis.call('hgetall', 'h')",
            "redis.setresp(3) return redis.call('smembers', 's')",
            "redis.setresp(3) return redis.call('zscore', 'z', 'a')",
            "redis.setresp(3) local r = redis.call('zscore', 'z', 'a') return {type(r), r.double}",
            "redis.setresp(3) local r = redis.call('hgetall', 'h') return {type(r), r.map.f}",
            "redis.setresp(3) local r = redis.call('smembers', 's') return {type(r), r.set.m}",
            "redis.setresp(3) return redis.call('get', 'missing') == nil",
            "redis.setresp(3) return redis.call('zrange', 'z', 0, -1, 'withscores')",
            "return {double = 3.5}",
            "return {map = {a = 1, b = {2, 3}}}",
            "return {set = {x = true, y = true}}",
            "return {big_number = '123456789012345678901234567890'}",
            "return {true, false}",
            "return redis.call('debug', 'protocol', 'verbatim')",
            "redis.setresp(3) return redis.call('debug', 'protocol', 'bignum')",
            "redis.setresp(3) local r = redis.call('debug', 'protocol', 'bignum') return type(r) == 'table' and r.big_number",
            "redis.setresp(3) return redis.call('debug', 'protocol', 'verbatim')",
            "redis.setresp(3) local r = redis.call('debug', 'protocol', 'verbatim') return {type(r), r.verbatim_string and r.verbatim_string.format}",
            "redis.setresp(3) return redis.call('debug', 'protocol', 'double')",
            "redis.setresp(3) return redis.call('debug', 'protocol', 'true')",
            "redis.setresp(3) return redis.call('debug', 'protocol', 'null')",
        ]
        results = {}
        for server in self.servers():
            out = []
            for resp in ("2", "3"):
                c = server.raw(timeout=DEADLINE)
                c.command("HELLO", resp)
                c.command("HSET", "h", "f", "v")
                c.command("SADD", "s", "m")
                c.command("ZADD", "z", "1.5", "a")
                for s in scripts:
                    r = c.command("EVAL", s, "0")
                    out.append((resp, s, r.message.split(" script:")[0] if isinstance(r, RespError) else r))
                c.close()
            results[server] = out
        for r, t in zip(results[self.ref], results[self.test]):
            self.assertEqual(t, r)


class BusyOneThread(unittest.TestCase):
    """With --threads 1 every client lives on the script's thread: new
    clients connecting while the script runs are served in busy mode too."""

    def test_new_clients_while_busy(self):
        results = {}
        with harness.start_server(reference=True, extra_args=["--busy-reply-threshold", THRESHOLD_MS]) as ref, \
                harness.start_server(extra_args=["--busy-reply-threshold", THRESHOLD_MS],
                                     distcache_args=["--threads", "1"]) as test:
            for server in (ref, test):
                out = []
                for _ in range(3):
                    first = server.raw(timeout=DEADLINE)
                    self.assertEqual(first.command("PING"), "PONG")
                    runner = server.raw(timeout=DEADLINE)
                    runner.send_command("EVAL", "while true do end", "0")
                    wait_busy(first)  # then new clients connect
                    fresh = [server.raw(timeout=DEADLINE) for _ in range(3)]
                    out.append([c.command("GET", "x") for c in fresh])
                    out.append(fresh[1].command("SCRIPT", "KILL"))
                    out.append(runner.read_reply())
                    out.append([c.command("PING") for c in fresh + [first, runner]])
                    for c in fresh + [first, runner]:
                        c.close()
                clients = server.client()
                end = time.monotonic() + DEADLINE  # closed connections are counted off asynchronously
                while clients.info("clients")["connected_clients"] != 1 and time.monotonic() < end:
                    pass
                out.append(clients.info("clients")["connected_clients"])
                results[server] = out
            self.assertEqual(results[test], results[ref])


class BusyInOneTurn(ReferenceAndDistcache):
    """One thread: a client whose command reaches the server in the same
    event-loop turn as the script's is still answered BUSY while the script
    runs, as redis-server answers it (the event loop reads a socket only when
    it handles it, server/event_loop.h, so busy mode finds the bytes there)."""

    DISTCACHE_ARGS = ("--threads", "1")

    @classmethod
    def extra_args(cls):
        return super().extra_args() + ["--enable-debug-command", "yes"]

    def script_and_ping_in_one_turn(self, ping_first):
        """On each server: while DEBUG SLEEP holds the thread, an endless EVAL
        and a PING arrive (in the order given), so the next turn finds them
        together. Returns {server: [sleep reply, PING reply read while the
        script runs, SCRIPT KILL, the EVAL's reply, a later PING]}."""
        results = {}
        for server in (self.ref, self.test):
            sleeper, runner, other, killer = [server.raw(timeout=DEADLINE) for _ in range(4)]
            for c in (sleeper, runner, other, killer):
                c.command("PING")
            sleeper.send_command("DEBUG", "SLEEP", "0.3")
            if ping_first:
                other.send_command("PING")
                runner.send_command("EVAL", "while true do end", "0")
            else:
                runner.send_command("EVAL", "while true do end", "0")
                other.send_command("PING")
            out = [sleeper.read_reply(), other.read_reply()]  # read while the script runs
            out.append(killer.command("SCRIPT", "KILL"))
            out.append(runner.read_reply())
            out.append(other.command("PING"))
            for c in (sleeper, runner, other, killer):
                c.close()
            results[server] = out
        return results

    def test_client_read_in_the_same_turn_as_the_script_gets_busy(self):
        results = self.script_and_ping_in_one_turn(ping_first=False)
        self.assertEqual(results[self.test], results[self.ref])
        self.assertTrue(results[self.test][1].message.startswith("BUSY"), results[self.test])

    def test_reply_made_before_the_script_in_its_turn_is_sent_while_it_runs(self):
        # The event loop sends a turn's replies at its end (server/event_loop.h,
        # at_turn_end); a script that turns busy in that turn sends the ones
        # made before it, as Redis's busy mode writes pending replies.
        results = self.script_and_ping_in_one_turn(ping_first=True)
        self.assertEqual(results[self.test], results[self.ref])
        self.assertEqual(results[self.test][1], "PONG", results[self.test])

if __name__ == "__main__":
    harness.main()
