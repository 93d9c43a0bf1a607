"""Faults (issue 7): the server is SIGKILLed during BGSAVE and during
BGREWRITEAOF (the files from before stay intact, a restart loads cleanly and
keeps every acknowledged write), and a save into a directory where nothing
can be written is reported as Redis does (rdb_last_bgsave_status:err, then
MISCONF refusals of writes with stop-writes-on-bgsave-error, compared with a
real redis-server; accepted again once a save succeeds).

Runs as root in CI, where file permissions do not stop writes: the
unwritable directory is /proc (protected configs are enabled for CONFIG SET
dir).
"""

import functools
import hashlib
import os
import shutil
import signal
import tempfile
import unittest

import harness
from harness import RespError

DEADLINE = 60.0


def info(conn, section):
    out = {}
    for line in conn.command("INFO", section).decode().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


wait_until = functools.partial(harness.wait_until, deadline=DEADLINE)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fill(conn, prefix, n, size=1000, start=0):
    """n keys of `size` random bytes, pipelined; returns when all are acknowledged."""
    batch = []
    for i in range(start, start + n):
        batch.append(harness.encode_command("SET", f"{prefix}:{i}", os.urandom(size // 2).hex()))
        if len(batch) == 1000:
            conn.send(b"".join(batch))
            for _ in batch:
                assert conn.read_reply() == "OK"
            batch = []
    if batch:
        conn.send(b"".join(batch))
        for _ in batch:
            assert conn.read_reply() == "OK"


class KillDuringBackgroundWork(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="distcache-faults-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *extra):
        return harness.start_server(extra_args=["--dir", self.dir] + list(extra), distcache_args=["--threads", "2"])

    def test_sigkill_during_bgsave(self):
        rdb = os.path.join(self.dir, "dump.rdb")
        with self.start() as server:
            c = server.raw(timeout=120)
            fill(c, "old", 20000)
            self.assertEqual(c.command("SAVE"), "OK")
            before = digest(rdb)
            fill(c, "new", 80000)
            self.assertEqual(c.command("BGSAVE"), "Background saving started")
            in_progress = info(c, "persistence").get("rdb_bgsave_in_progress") == "1"
            os.kill(server.pid, signal.SIGKILL)
            server.proc.wait()
            server.exit_expected = True
            c.close()
        after = digest(rdb)
        if in_progress:
            # Killed in the middle: the previous file is untouched.
            self.assertEqual(after, before, "dump.rdb changed by a save that was killed")
        with self.start() as server:
            c = server.raw(timeout=120)
            n = c.command("DBSIZE")
            self.assertIn(n, (20000, 100000) if not in_progress else (20000,))
            self.assertEqual(c.command("EXISTS", "old:0", "old:19999"), 2)
            # The server starts clean: it can save again.
            self.assertEqual(c.command("SAVE"), "OK")
            self.assertEqual(info(c, "persistence")["rdb_last_bgsave_status"], "ok")
            c.close()

    def test_sigkill_during_aof_rewrite(self):
        args = ("--appendonly", "yes", "--appendfsync", "always")
        with self.start(*args) as server:
            c = server.raw(timeout=120)
            fill(c, "k", 40000)
            self.assertEqual(c.command("BGREWRITEAOF"), "Background append only file rewriting started")
            # Writes acknowledged while the rewrite runs must survive too.
            fill(c, "during", 2000)
            in_progress = info(c, "persistence").get("aof_rewrite_in_progress") == "1"
            os.kill(server.pid, signal.SIGKILL)
            server.proc.wait()
            server.exit_expected = True
            c.close()
        self.assertTrue(os.path.isdir(os.path.join(self.dir, "appendonlydir")))
        with self.start(*args) as server:
            c = server.raw(timeout=120)
            self.assertEqual(c.command("DBSIZE"), 42000, f"killed during the rewrite: {in_progress}")
            self.assertEqual(c.command("EXISTS", "k:0", "k:39999", "during:0", "during:1999"), 4)
            # And it can rewrite again.
            self.assertEqual(c.command("BGREWRITEAOF"), "Background append only file rewriting started")
            wait_until(lambda: info(c, "persistence").get("aof_rewrite_in_progress") == "0"
                       and info(c, "persistence").get("aof_rewrite_scheduled") == "0", "the rewrite to finish")
            self.assertEqual(info(c, "persistence")["aof_last_bgrewrite_status"], "ok")
            c.close()


class UnwritableDirectory(unittest.TestCase):
    """BGSAVE into /proc fails; INFO says so and writes are refused (MISCONF)
    while save points are set, exactly as redis-server does."""

    ARGS = ["--save", "3600 1", "--enable-protected-configs", "yes"]

    def scenario(self, server):
        out = []
        with server.raw(timeout=30) as c:
            good_dir = c.command("CONFIG", "GET", "dir")[1]
            out.append(c.command("SET", "before", "1"))
            out.append(c.command("CONFIG", "SET", "dir", "/proc"))
            out.append(c.command("BGSAVE"))
            wait_until(lambda: info(c, "persistence")["rdb_bgsave_in_progress"] == "0", "the failed save to end")
            out.append(info(c, "persistence")["rdb_last_bgsave_status"])
            out.append(c.command("SET", "k", "v"))
            out.append(c.command("INCR", "n"))
            out.append(c.command("GET", "before"))
            out.append(c.command("PING"))
            out.append(c.command("EVAL", "return redis.call('set', 'x', 1)", "0"))
            out.append(c.command("CONFIG", "SET", "dir", good_dir))
            out.append(c.command("BGSAVE"))
            wait_until(lambda: info(c, "persistence")["rdb_bgsave_in_progress"] == "0", "the save to end")
            out.append(info(c, "persistence")["rdb_last_bgsave_status"])
            out.append(c.command("SET", "k", "v"))
            out.append(c.command("GET", "before"))
        return out

    def test_bgsave_error_and_misconf(self):
        with harness.start_server(reference=True, extra_args=self.ARGS) as ref:
            expected = self.scenario(ref)
        with harness.start_server(extra_args=self.ARGS, distcache_args=["--threads", "2"]) as server:
            got = self.scenario(server)
        self.assertEqual(expected[3], "err")
        self.assertTrue(isinstance(expected[4], RespError) and expected[4].message.startswith("MISCONF"))
        self.assertEqual(got, expected)


if __name__ == "__main__":
    harness.main()
