"""Introspection and limits of issue 6, side by side with a reference
redis-server 7.0: MONITOR inside MULTI/EXEC and scripts, commandstats of
connection commands run by EXEC, LATENCY HISTOGRAM's format, client eviction
(maxmemory-clients), lazyfree-* options, mem_not_counted_for_evict.

distcache runs with --threads 2 so that clients and keys live on several
threads.
"""

import functools
import os
import re
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RawConnection  # noqa: E402

import redis  # noqa: E402

DEADLINE = 10.0


wait_for = functools.partial(harness.wait_until, deadline=DEADLINE)


# Redis 7.0's LATENCY HISTOGRAM bounds (usec): HDR buckets of 1024 ns * 2^k,
# shown as the highest value each holds.
REDIS_HISTOGRAM_BOUNDS = [((1032 << k) - 1) // 1000 for k in range(21)]


class OpsLimitsTest(harness.SideBySideTestCase):
    EXTRA_ARGS = ("--enable-debug-command", "yes")

    def servers(self):
        return (self.ref, self.server)

    def client(self, server, **kwargs):
        return redis.Redis(host=harness.HOST, port=server.port, decode_responses=True, **kwargs)

    # ------------------------------------------------------------------ MONITOR

    def monitor_lines(self, server, commands, last_marker):
        """Runs `commands` on one connection while a MONITOR client watches;
        returns the monitor's lines without timestamps and client addresses."""
        lines = []
        with RawConnection(harness.HOST, server.port) as mon, RawConnection(harness.HOST, server.port) as c:
            self.assertEqual(mon.command("MONITOR"), "OK")
            for cmd in commands:
                c.command(*cmd)
            c.command("ECHO", last_marker)
            while True:
                line = mon.read_reply()
                line = line.decode() if isinstance(line, bytes) else line
                m = re.match(r'^\d+\.\d{6} \[(\d+) ([^\]]+)\] (.*)$', line)
                self.assertIsNotNone(m, line)
                db, who, rest = m.groups()
                lines.append(f"[{db} {'lua' if who == 'lua' else 'client'}] {rest}")
                if last_marker in rest:
                    return lines

    def test_monitor_shows_exec_and_script_commands(self):
        script = "redis.call('set', KEYS[1], 'v'); redis.call('select', '4'); return redis.call('get', 'other')"
        commands = [
            ("MULTI",), ("SET", "mk", "1"), ("PING",), ("ECHO", "hi"), ("SELECT", "2"), ("INCR", "mk"),
            ("CLIENT", "ID"), ("EXEC",),
            ("EVAL", script, "1", "sk"),
            ("SELECT", "3"),
            ("EVAL", "return redis.pcall('incr', 'x')", "0"),
            ("FUNCTION", "LOAD", "REPLACE", "#!lua name=opslib\nredis.register_function('opsf', "
             "function(keys, args) return redis.call('get', keys[1]) end)"),
            ("FCALL", "opsf", "1", "fk"),
            ("SELECT", "99"),
            ("multi",), ("get", "mk"), ("exec",),
            ("MULTI",), ("EVAL", "return redis.call('get', KEYS[1])", "1", "mk"), ("EXEC",),
            ("WATCH", "wk"),
        ]
        got = {}
        for server in self.servers():
            with RawConnection(harness.HOST, server.port) as other:
                lines = self.monitor_lines(server, commands, "end-1")
                other.command("SET", "wk", "changed")
                more = []
                with RawConnection(harness.HOST, server.port) as mon:
                    self.assertEqual(mon.command("MONITOR"), "OK")
                    with RawConnection(harness.HOST, server.port) as c:
                        c.command("WATCH", "wk")
                        other.command("SET", "wk", "again")
                        c.command("MULTI")
                        c.command("GET", "wk")
                        self.assertIsNone(c.command("EXEC"))  # the watched key changed: nothing runs
                        c.command("ECHO", "end-2")
                    while True:
                        line = mon.read_reply()
                        line = line.decode() if isinstance(line, bytes) else line
                        more.append(re.sub(r'^\d+\.\d{6} \[(\d+) [^\]]+\]', r'[\1]', line))
                        if "end-2" in line:
                            break
            got[server] = (lines, more)
        self.assertEqual(got[self.server], got[self.ref])
        lines = got[self.ref][0]
        self.assertIn('[2 client] "EXEC"', lines)
        self.assertLess(lines.index('[2 client] "CLIENT" "ID"'), lines.index('[2 client] "EXEC"'))
        self.assertIn('[2 lua] "set" "sk" "v"', lines)
        self.assertIn('[4 lua] "select" "4"', lines)

    def test_passwords_redacted_in_monitor_and_slowlog(self):
        commands = [("AUTH", "x"), ("AUTH", "u", "p"), ("HELLO", "2", "AUTH", "default", "x"),
                    ("HELLO", "3", "SETNAME", "n", "AUTH", "default", "x"), ("HELLO", "2", "AUTH", "default"),
                    ("MIGRATE", "127.0.0.1", "1", "k", "0", "10", "AUTH2", "u", "pw"),
                    ("MIGRATE", "127.0.0.1", "1", "k", "0", "10", "COPY", "AUTH", "pw", "KEYS", "a"),
                    ("CONFIG", "SET", "requirepass", ""), ("ACL", "SETUSER", "uu", ">secretpw", "on"),
                    ("ACL", "DELUSER", "uu")]
        seen = {}
        for server in self.servers():
            r = self.client(server)
            r.config_set("slowlog-log-slower-than", "0")
            r.slowlog_reset()
            lines = self.monitor_lines(server, commands, "end-r")
            with RawConnection(harness.HOST, server.port) as c:
                entries = [e[3] for e in c.command("SLOWLOG", "GET", "-1")]
            r.config_set("slowlog-log-slower-than", "10000")
            seen[server] = (lines, [[a for a in args] for args in entries if args[0] != b"SLOWLOG"])
        self.assertEqual(seen[self.server], seen[self.ref])
        text = repr(seen[self.server])
        for secret in ("secretpw", "pw'", "'x'", "'p'"):
            self.assertNotIn(secret, text)

    # ------------------------------------------------------------------ commandstats

    def test_commandstats_of_commands_run_by_exec(self):
        calls = {}
        for server in self.servers():
            r = self.client(server)
            r.config_resetstat()
            with RawConnection(harness.HOST, server.port) as c:
                for cmd in [("MULTI",), ("PING",), ("ECHO", "x"), ("SELECT", "1"), ("CLIENT", "ID"),
                            ("CLIENT", "SETNAME", "n1"), ("TIME",), ("SET", "a", "1"), ("INCR", "a"),
                            ("SELECT", "0"), ("EVAL", "return 1", "0"), ("EXEC",),
                            ("EVAL", "return redis.call('incr', KEYS[1])", "1", "a"),
                            ("MULTI",), ("SELECT", "x"), ("EXEC",)]:
                    c.command(*cmd)
            stats = r.info("commandstats")
            calls[server] = {name: (v["calls"], v["failed_calls"], v["rejected_calls"])
                             for name, v in stats.items()
                             if name not in ("cmdstat_config|resetstat", "cmdstat_info", "cmdstat_hello")}
        self.assertEqual(calls[self.server], calls[self.ref])

    # ------------------------------------------------------------------ LATENCY HISTOGRAM

    def check_histogram(self, reply, resp3):
        """Redis's layout; returns {command: (calls, [(bound, cumulative)...])}."""
        out = {}
        if resp3:
            self.assertIsInstance(reply, dict)
            items = list(reply.items())
        else:
            self.assertIsInstance(reply, list)
            items = [(reply[i], reply[i + 1]) for i in range(0, len(reply), 2)]
        for name, body in items:
            if resp3:
                self.assertEqual(list(body.keys()), [b"calls", b"histogram_usec"])
                calls, hist = body[b"calls"], list(body[b"histogram_usec"].items())
            else:
                self.assertEqual([body[0], body[2]], [b"calls", b"histogram_usec"])
                calls, flat = body[1], body[3]
                hist = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
            bounds = [b for b, _ in hist]
            counts = [c for _, c in hist]
            self.assertTrue(set(bounds) <= set(REDIS_HISTOGRAM_BOUNDS), bounds)
            self.assertEqual(bounds, sorted(bounds))
            self.assertTrue(all(a < b for a, b in zip(counts, counts[1:])), counts)  # only where it grows
            self.assertEqual(counts[-1], calls)
            out[name.decode()] = (calls, hist)
        return out

    def test_latency_histogram_format(self):
        for server in self.servers():
            for proto in (2, 3):
                with RawConnection(harness.HOST, server.port) as c:
                    if proto == 3:
                        c.command("HELLO", "3")
                    c.command("CONFIG", "RESETSTAT")
                    for i in range(5):
                        c.command("SET", f"h{i}", "v")
                        c.command("GET", f"h{i}")
                    c.command("DEBUG", "SLEEP", "0.003")
                    c.command("DEBUG", "SLEEP", "0.012")
                    all_commands = self.check_histogram(c.command("LATENCY", "HISTOGRAM"), proto == 3)
                    self.assertIn("set", all_commands)
                    some = self.check_histogram(c.command("LATENCY", "HISTOGRAM", "SET", "debug", "nosuch"),
                                                proto == 3)
                    self.assertEqual(sorted(some), ["debug", "set"], server.binary)
                    self.assertEqual(some["set"][0], 5)
                    debug_calls, debug_hist = some["debug"]
                    self.assertEqual(debug_calls, 2)
                    # At least 3 ms and 12 ms: the first bound holding a sleep is >= 2113 (not 2048).
                    self.assertGreaterEqual(debug_hist[0][0], 4227, debug_hist)
                    self.assertGreaterEqual(debug_hist[-1][0], 16908, debug_hist)
                    empty = c.command("LATENCY", "HISTOGRAM", "nosuch")
                    self.assertEqual(empty, {} if proto == 3 else [])

    # ------------------------------------------------------------------ options

    def test_options_as_redis(self):
        values = ["10%", "1mb", "0", "-1", "101%", "100%", "0%", "abc", "5.5%", "1gb%", "00%", "1k", "5%"]
        for option, vals in (("maxmemory-clients", values),
                             ("lazyfree-lazy-eviction", ["yes", "no", "maybe"]),
                             ("lazyfree-lazy-expire", ["yes", "no"]),
                             ("lazyfree-lazy-server-del", ["yes", "no"]),
                             ("lazyfree-lazy-user-del", ["yes", "no"]),
                             ("lazyfree-lazy-user-flush", ["yes", "no"]),
                             ("replica-lazy-flush", ["yes", "no"])):
            seen = {}
            for server in self.servers():
                replies = []
                with RawConnection(harness.HOST, server.port) as c:
                    replies.append(c.command("CONFIG", "GET", option))
                    for v in vals:
                        replies.append(c.command("CONFIG", "SET", option, v))
                        replies.append(c.command("CONFIG", "GET", option))
                    c.command("CONFIG", "SET", option, "0" if option == "maxmemory-clients" else "no")
                seen[server] = replies
            self.assertEqual(seen[self.server], seen[self.ref], option)

    def test_mem_not_counted_for_evict(self):
        for server in self.servers():
            mem = self.client(server).info("memory")
            self.assertIn("mem_not_counted_for_evict", mem)
            self.assertIn("mem_aof_buffer", mem)
            self.assertGreaterEqual(int(mem["mem_not_counted_for_evict"]), int(mem["mem_aof_buffer"]))


@unittest.skipIf(harness.SANITIZER_BUILD, harness.NO_MEMORY_ACCOUNTING)
class AofBufferTest(unittest.TestCase):
    """mem_not_counted_for_evict: the AOF buffer that could not be written
    (the server runs with a small file-size limit and SIGXFSZ ignored, so
    AOF writes fail with EFBIG) is reported and left out of eviction."""

    def test_unwritten_aof_buffer_not_counted_for_eviction(self):
        import tempfile
        workdir = tempfile.mkdtemp(prefix="distcache-ops-")
        wrapper = os.path.join(workdir, "limited-server")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\nulimit -f 200\ntrap '' XFSZ\nexec {harness.server_binary()} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        with harness.start_server(binary=wrapper, extra_args=["--appendonly", "yes"],
                                  distcache_args=["--threads", "2"]) as s:
            r = redis.Redis(host=harness.HOST, port=s.port, decode_responses=True)
            for i in range(50):
                r.set(f"small:{i}", "v")
            try:
                r.set("big", "x" * 300000)  # more than the 100 KB the file may hold
            except redis.ResponseError:
                pass
            wait_for(lambda: r.info("persistence")["aof_last_write_status"] == "err", "the AOF write error")
            mem = wait_for(lambda: (lambda m: m if int(m["mem_not_counted_for_evict"]) >= 300000 else None)(
                r.info("memory")), "the unwritten AOF buffer in INFO memory")
            self.assertEqual(mem["mem_aof_buffer"], mem["mem_not_counted_for_evict"])
            not_counted = int(mem["mem_not_counted_for_evict"])
            # Under maxmemory once the buffer is left out: nothing is evicted.
            r.config_set("maxmemory-policy", "allkeys-random")
            r.config_set("maxmemory", str(int(r.info("memory")["used_memory"]) - not_counted // 2))
            for i in range(50):  # commands on keys of the client's own shard evict at once when over the limit
                r.get(f"small:{i}")
            self.assertEqual(int(r.info("stats")["evicted_keys"]), 0)
            # Over it even without the buffer: keys go.
            r.config_set("maxmemory", str(int(r.info("memory")["used_memory"]) - not_counted - 50000))
            wait_for(lambda: int(r.info("stats")["evicted_keys"]) > 0, "evictions")
            r.config_set("maxmemory", "0")
            r.config_resetstat()
            self.assertEqual(int(r.info("stats")["evicted_keys"]), 0)  # as Redis's CONFIG RESETSTAT
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)


class ClientEvictionTest(unittest.TestCase):
    """maxmemory-clients: the same scenario against redis-server and distcache."""

    def run_scenario(self, server, check):
        r = redis.Redis(host=harness.HOST, port=server.port, decode_responses=True)
        r.set("big", "v" * 200000)
        r.config_set("maxmemory-clients", "2mb")
        self.assertEqual(r.config_get("maxmemory-clients"), {"maxmemory-clients": "2097152"})
        head = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n"
        protected = socket.create_connection((harness.HOST, server.port))
        protected.sendall(b"CLIENT NO-EVICT on\r\n")
        self.assertEqual(protected.recv(100), b"+OK\r\n")
        protected.sendall(head + b"x" * 600000)
        # Big pending query buffers (commands not finished yet).
        hoarders = []
        for _ in range(8):
            s = socket.create_connection((harness.HOST, server.port))
            s.sendall(head + b"y" * 600000)
            hoarders.append(s)
        wait_for(lambda: int(r.info("stats")["evicted_clients"]) >= 4, "query-buffer clients evicted")
        wait_for(lambda: sum(int(c["tot-mem"]) for c in r.client_list()) <= 2 * 1024 * 1024,
                 "the clients' memory back under maxmemory-clients")
        first = int(r.info("stats")["evicted_clients"])
        # Clients that do not read their replies (about 8 MB each).
        readers = []
        for _ in range(4):
            s = socket.create_connection((harness.HOST, server.port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET big\r\n" * 40)
            readers.append(s)
        wait_for(lambda: int(r.info("stats")["evicted_clients"]) >= first + 4, "the non-reading clients evicted")
        wait_for(lambda: sum(int(c["tot-mem"]) for c in r.client_list()) <= 2 * 1024 * 1024,
                 "the clients' memory back under maxmemory-clients")
        # The NO-EVICT client survived: its command completes.
        protected.sendall(b"x" * 400000 + b"\r\n")
        protected.settimeout(DEADLINE)
        check(protected.recv(100) == b"+OK\r\n", "the NO-EVICT client was served")
        # Others keep being served.
        check(r.ping(), "ping")
        check(r.strlen("k") == 1000000, "STRLEN k")  # (a 1 MB GET reply would itself be too much here)
        ids = [c for c in r.client_list() if "e" in c["flags"]]
        check(len(ids) == 1, f"the NO-EVICT client listed: {ids}")
        r.config_set("maxmemory-clients", "0")
        for s in hoarders + readers + [protected]:
            s.close()
        r.config_resetstat()
        check(int(r.info("stats")["evicted_clients"]) == 0, "CONFIG RESETSTAT clears evicted_clients")

    def test_client_eviction(self):
        def check(ok, what):
            self.assertTrue(ok, what)

        with harness.start_server(reference=True) as ref:
            self.run_scenario(ref, check)
        with harness.start_server(distcache_args=["--threads", "2"]) as ours:
            self.run_scenario(ours, check)
            # Percentages of maxmemory, as Redis: off while maxmemory is 0.
            r = redis.Redis(host=harness.HOST, port=ours.port, decode_responses=True)
            r.config_set("maxmemory-clients", "50%")
            before = int(r.info("stats")["evicted_clients"])
            socks = [socket.create_connection((harness.HOST, ours.port)) for _ in range(4)]
            for s in socks:
                s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n" + b"z" * 600000)
            wait_for(lambda: sum(int(c["qbuf"]) + int(c["argv-mem"]) for c in r.client_list()) > 2000000,
                     "the query buffers to fill")
            self.assertEqual(int(r.info("stats")["evicted_clients"]), before)
            r.config_set("maxmemory", "2mb")  # 50% = 1 MiB
            wait_for(lambda: int(r.info("stats")["evicted_clients"]) >= before + 3, "evictions at 50% of maxmemory")
            r.config_set("maxmemory", "0")
            r.config_set("maxmemory-clients", "0")
            for s in socks:
                s.close()


if __name__ == "__main__":
    unittest.main()
