"""MIGRATE in the operation log: the keys it moved away are logged as DEL
(nothing for COPY or NOKEY), as Redis propagates it, so a restart from the
AOF neither moves them again nor brings them back."""

import glob
import os
import time
import unittest

import harness


class MigrateAofTest(unittest.TestCase):
    def test_migrated_keys_are_logged_as_deleted(self):
        with harness.start_server(distcache_args=["--threads", "2"]) as target, \
                harness.start_server(extra_args=["--appendonly", "yes"], distcache_args=["--threads", "2"]) as source:
            c = source.client()
            for k in ("k1", "k2", "k3"):
                c.set(k, k.upper())
            port = str(target.port)
            self.assertEqual(c.execute_command("MIGRATE", harness.HOST, port, "k1", 0, 5000), b"OK")
            self.assertEqual(c.execute_command("MIGRATE", harness.HOST, port, "", 0, 5000, "KEYS", "k2", "nokey"),
                             b"OK")
            self.assertEqual(c.execute_command("MIGRATE", harness.HOST, port, "k3", 0, 5000, "COPY"), b"OK")
            self.assertEqual(c.execute_command("MIGRATE", harness.HOST, port, "nokey", 0, 5000), b"NOKEY")
            self.assertEqual(sorted(target.client().keys("*")), [b"k1", b"k2", b"k3"])
            incr = glob.glob(os.path.join(source.dir, "appendonlydir", "*.incr.aof"))
            self.assertEqual(len(incr), 1)
            with open(incr[0], "rb") as f:
                logged = f.read()
            self.assertNotIn(b"MIGRATE", logged.upper())
            self.assertIn(b"$3\r\nDEL\r\n$2\r\nk1\r\n", logged)
            self.assertIn(b"$3\r\nDEL\r\n$2\r\nk2\r\n", logged)
            self.assertNotIn(b"nokey", logged)
            self.assertNotIn(b"DEL\r\n$2\r\nk3", logged)
            workdir = source.dir
            source.exit_expected = True
            source.stop()
            with harness.start_server(extra_args=["--appendonly", "yes", "--dir", workdir],
                                      distcache_args=["--threads", "2"]) as again:
                self.assertEqual(sorted(again.client().keys("*")), [b"k3"])

    def test_connection_is_cached_then_closed_when_idle(self):
        # As Redis: one connection per target host:port, reused by later
        # MIGRATEs (SELECT only when the database changes), closed after 10 s
        # unused. Runs against the reference redis-server as the source too.
        for reference in (False, True):
            with self.subTest(reference=reference), \
                    harness.start_server(distcache_args=["--threads", "2"]) as target, \
                    harness.start_server(reference=reference, distcache_args=["--threads", "1"]) as source:
                c, t = source.client(), target.client()
                before = t.info("stats")["total_connections_received"]
                for i in range(20):
                    c.set(f"k{i}", i)
                    self.assertEqual(c.execute_command("MIGRATE", harness.HOST, target.port, f"k{i}", i % 2, 5000),
                                     b"OK")
                self.assertEqual(t.info("stats")["total_connections_received"] - before, 1)
                self.assertEqual(t.dbsize(), 10)
                t.execute_command("SELECT", 1)
                self.assertEqual(len(t.keys("*")), 10)
                # A target that dropped the cached connection: the next MIGRATE reconnects.
                t.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
                c.set("again", 1)
                self.assertEqual(c.execute_command("MIGRATE", harness.HOST, target.port, "again", 0, 5000), b"OK")
                self.assertEqual(t.info("stats")["total_connections_received"] - before, 2)
                # Closed once idle for 10 s (the target sees only this client then).
                deadline = time.monotonic() + 60
                while t.info("clients")["connected_clients"] > 1 and time.monotonic() < deadline:
                    time.sleep(0.2)
                self.assertEqual(t.info("clients")["connected_clients"], 1)


if __name__ == "__main__":
    harness.main()
