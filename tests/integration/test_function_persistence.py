"""Function libraries (FUNCTION LOAD) are part of the dataset: they survive a
restart from dump.rdb, from the AOF (logged commands, and the base written by
a rewrite, with and without the RDB preamble), and redis-server 7.0 loads
them from distcache's dump.rdb and the reverse."""

import os
import shutil
import tempfile
import unittest

import harness

LIB = "#!lua name=mylib\nredis.register_function('answer', function(keys, args) return 42 end)"
LIB2 = "#!lua name=other\nredis.register_function{function_name='echo1', callback=function(k, a) return a[1] end, flags={'no-writes'}}"


def libraries(client):
    return sorted((lib[b"library_name"], lib[b"library_code"])
                  for lib in (dict(zip(entry[::2], entry[1::2]))
                              for entry in client.execute_command("FUNCTION", "LIST", "WITHCODE")))


class FunctionPersistenceTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="distcache-fn-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, reference=False, extra=()):
        return harness.start_server(reference=reference, extra_args=["--dir", self.dir] + list(extra),
                                    distcache_args=["--threads", "2"])

    def load_libraries(self, c):
        c.execute_command("FUNCTION", "LOAD", LIB)
        c.execute_command("FUNCTION", "LOAD", LIB2)
        c.set("k", "v")
        return libraries(c)

    def test_rdb_round_trip_and_with_redis(self):
        with self.start() as s:
            expected = self.load_libraries(s.client())
            s.client().save()
        with self.start() as s:
            c = s.client()
            self.assertEqual(libraries(c), expected)
            self.assertEqual(c.execute_command("FCALL", "answer", 0), 42)
        with self.start(reference=True) as s:  # redis-server reads distcache's file
            c = s.client()
            self.assertEqual(libraries(c), expected)
            c.execute_command("FUNCTION", "DELETE", "other")
            c.save()
        with self.start() as s:  # and distcache reads redis-server's
            self.assertEqual(libraries(s.client()), [e for e in expected if e[0] == b"mylib"])

    def test_aof_logged_commands_and_rewrites(self):
        for preamble in ("yes", "no"):
            with self.subTest(preamble=preamble):
                shutil.rmtree(self.dir)
                os.mkdir(self.dir)
                extra = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble]
                with self.start(extra=extra) as s:
                    c = s.client()
                    expected = self.load_libraries(c)
                with self.start(extra=extra) as s:  # replayed from the incremental file
                    c = s.client()
                    self.assertEqual(libraries(c), expected)
                    c.execute_command("BGREWRITEAOF")
                    wait_rewrite(c)
                with self.start(extra=extra) as s:  # from the rewritten base
                    self.assertEqual(libraries(s.client()), expected)


def wait_rewrite(c):
    import time
    end = time.monotonic() + 30
    while time.monotonic() < end:
        info = c.info("persistence")
        if info["aof_rewrite_in_progress"] == 0 and info["aof_rewrite_scheduled"] == 0:
            return
        time.sleep(0.01)  # polling with a deadline
    raise AssertionError("AOF rewrite did not finish")


if __name__ == "__main__":
    harness.main()
