"""MIGRATE in the operation log: the keys it moved away are logged as DEL
(nothing for COPY or NOKEY), as Redis propagates it, so a restart from the
AOF neither moves them again nor brings them back."""

import glob
import os
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
            logged = open(incr[0], "rb").read()
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


if __name__ == "__main__":
    harness.main()
