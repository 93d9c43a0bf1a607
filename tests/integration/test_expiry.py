"""Expiry: expired keys are never visible, and active expiry reclaims keys
that are never read again, so a workload that keeps writing short-TTL keys
holds bounded memory. Waiting is done by polling with a deadline, never by
sleeping a fixed time.
"""

import functools

import harness

BATCH = 20_000
ROUNDS = 3
DEADLINE_S = 60


wait_until = functools.partial(harness.wait_until, deadline=DEADLINE_S, interval=0.05)


class ExpiryTest(harness.ServerTestCase):
    DISTCACHE_ARGS = ("--threads", "2")

    def setUp(self):
        self.r = self.server.client()
        self.r.flushall()

    def write_short_ttl_keys(self, prefix, count, ttl_ms=100):
        pipe = self.r.pipeline(transaction=False)
        for i in range(count):
            pipe.set(f"{prefix}:{i}", "v" * 16, px=ttl_ms)
            if i % 10_000 == 9_999:
                pipe.execute()
        pipe.execute()

    def test_expired_keys_are_invisible(self):
        self.r.set("gone", "x", pxat=1)  # an absolute time long past
        self.assertIsNone(self.r.get("gone"))
        self.assertEqual(self.r.exists("gone"), 0)
        self.assertEqual(self.r.ttl("gone"), -2)
        self.r.set("soon", "x", px=1)
        wait_until(lambda: self.r.get("soon") is None, "a 1 ms key to read as absent")
        self.assertEqual(self.r.keys("soon"), [])

    def test_active_expiry_reclaims_unread_keys(self):
        self.write_short_ttl_keys("a", BATCH)
        self.assertGreater(self.r.dbsize(), 0)
        # Nobody reads these keys again: only active expiry can remove them.
        wait_until(lambda: self.r.dbsize() == 0, "active expiry to reclaim the keys")
        info = self.r.info("keyspace")
        self.assertNotIn("db0", info)

    def test_memory_stays_bounded_under_short_ttl_churn(self):
        used_after = []
        for round_ in range(ROUNDS):
            self.write_short_ttl_keys(f"r{round_}", BATCH)
            wait_until(lambda: self.r.dbsize() == 0, f"round {round_} to expire")
            used_after.append(self.r.info("memory")["used_memory"])
        # Every round writes the same amount; once expired, memory returns to
        # about the same level instead of growing round after round.
        self.assertLess(used_after[-1], used_after[0] * 1.5 + 8 * 1024 * 1024, used_after)


if __name__ == "__main__":
    harness.main()
