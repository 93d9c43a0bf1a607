"""LRU/LFU information in RDB files: under an LRU maxmemory-policy every key
is written with its idle time (IDLE), under an LFU one with its access
counter (FREQ), as Redis writes them; both are read back, here and by
redis-server 7.0, and the reverse."""

import shutil
import tempfile
import unittest

import harness


class RdbAccessInfoTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="distcache-access-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, policy, reference=False):
        return harness.start_server(reference=reference,
                                    extra_args=["--dir", self.dir, "--maxmemory-policy", policy],
                                    distcache_args=["--threads", "2"])

    def write(self, c, policy):
        c.flushall()
        c.set("seed", "v")
        payload = c.dump("seed")
        for i in range(20):
            if "lru" in policy:
                c.execute_command("RESTORE", f"k{i}", 0, payload, "IDLETIME", 1000 + i * 100)
            else:
                c.execute_command("RESTORE", f"k{i}", 0, payload, "FREQ", 10 + i * 10)
        c.delete("seed")
        c.save()

    def read(self, c, policy):
        if "lru" in policy:
            # seconds may tick between save and load: compare to the minute
            return [round(c.object("idletime", f"k{i}") / 60) for i in range(20)]
        return [c.object("freq", f"k{i}") for i in range(20)]

    def test_both_directions(self):
        for policy in ("allkeys-lru", "allkeys-lfu"):
            for writer_is_redis in (False, True):
                with self.subTest(policy=policy, written_by="redis" if writer_is_redis else "distcache"):
                    with self.start(policy, reference=writer_is_redis) as s:
                        c = s.client()
                        self.write(c, policy)
                        expected = self.read(c, policy)
                    with self.start(policy, reference=not writer_is_redis) as s:
                        self.assertEqual(self.read(s.client(), policy), expected)


if __name__ == "__main__":
    harness.main()
