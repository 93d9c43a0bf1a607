"""INFO's keyspace_hits / keyspace_misses count the key lookups of read
commands exactly as redis-server 7.0 counts them (writes count nothing)."""

import unittest

import harness

STEPS = [
    ("SET", "a", "1"), ("GET", "a"), ("GET", "b"), ("EXISTS", "a", "b"), ("MGET", "a", "b", "c"),
    ("INCR", "a"), ("TYPE", "a"), ("STRLEN", "a"), ("HGET", "h", "f"), ("LRANGE", "l", "0", "-1"),
    ("RPUSH", "{x}l", "v"), ("LRANGE", "{x}l", "0", "-1"), ("SUNION", "{x}s1", "{x}s2"),
    ("SET", "{y}k", "v", "PX", "1"), ("DEL", "a"), ("GET", "a"), ("TTL", "a"),
]


class KeyspaceStatsTest(unittest.TestCase):
    def counts(self, server):
        c = server.client()
        out = []
        for step in STEPS:
            c.execute_command(*step)
            info = c.info("stats")
            out.append((step[0], info["keyspace_hits"], info["keyspace_misses"]))
        c.config_resetstat()
        info = c.info("stats")
        out.append(("RESETSTAT", info["keyspace_hits"], info["keyspace_misses"]))
        return out

    def test_same_counts_as_redis(self):
        with harness.start_server(reference=True) as ref:
            expected = self.counts(ref)
        with harness.start_server(distcache_args=["--threads", "2"]) as server:
            self.assertEqual(self.counts(server), expected)


if __name__ == "__main__":
    harness.main()
