"""Differential test: the same seeded random command stream is sent to
distcache ($DISTCACHE_SERVER) and to a reference redis-server
(/usr/bin/redis-server) by resp-diff ($RESP_DIFF); every reply and the whole
dataset must match (exit status 0).

Runs:
  * test_short_runs: seeds 1..5, 3000 ops each, always run.
  * test_long_runs:  20 seeds (1001..1020) x 5000 ops; skipped unless the
    environment variable DISTCACHE_LONG_TESTS=1 is set, e.g.
        DISTCACHE_LONG_TESTS=1 ctest --test-dir build -R resp_diff --output-on-failure

FAMILIES lists the resp-diff generator families the server implements so far.
Extend it as command groups land (e.g. "lists", "hashes", ...; "server" needs
INFO, OBJECT ENCODING, MEMORY USAGE, TIME and ECHO; see `resp-diff
--list-commands`).
"""

import subprocess
import sys

import harness

# Command families compared by resp-diff. Extend as the server grows.
FAMILIES = ("strings", "keys", "expire", "lists", "hashes", "sets", "zsets", "streams", "bitmaps", "hll", "multi")

SHORT_SEEDS = range(1, 6)
SHORT_OPS = 3000
LONG_SEEDS = range(1001, 1021)
LONG_OPS = 5000

# Extra resp-diff flags for every run. Shrinking is bounded so that a failing
# run still ends in reasonable time.
RESP_DIFF_FLAGS = ("--shrink-time", "60")
RUN_TIMEOUT = 600  # seconds per resp-diff run


class RespDiffTest(harness.ServerTestCase):
    # Two shard threads even on a one-core machine, so cross-shard paths run.
    DISTCACHE_ARGS = ("--threads", "2")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()   # the server under test: cls.server
        try:
            cls._ref_cm = harness.start_server(reference=True)
            cls.reference = cls._ref_cm.__enter__()
        except BaseException:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cm = cls.__dict__.get("_ref_cm")
            if cm is not None:
                cls._ref_cm = None
                cm.__exit__(None, None, None)
        finally:
            super().tearDownClass()

    def run_resp_diff(self, seed, ops):
        cmd = [sys.executable, harness.resp_diff_path(),
               "--ref", self.reference.address, "--test", self.server.address,
               "--seed", str(seed), "--ops", str(ops),
               "--families", ",".join(FAMILIES)] + list(RESP_DIFF_FLAGS)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=RUN_TIMEOUT)
        output = proc.stdout.decode("utf-8", "replace")
        if proc.returncode != 0:
            msg = (f"resp-diff exited with status {proc.returncode} (seed {seed}, {ops} ops, "
                   f"families {','.join(FAMILIES)})\ncommand: {' '.join(cmd)}\n"
                   f"--- resp-diff output ---\n{output}--- end of resp-diff output ---")
            if not self.server.alive():
                msg += (f"\nserver under test died with status {self.server.proc.returncode}:\n"
                        f"{self.server.output(tail_lines=100)}")
            self.fail(msg)
        last = output.strip().splitlines()[-1] if output.strip() else ""
        self.assertIn("0 divergences", last, output)

    def run_seeds(self, seeds, ops):
        for seed in seeds:
            with self.subTest(seed=seed, ops=ops):
                self.run_resp_diff(seed, ops)

    def test_short_runs(self):
        self.run_seeds(SHORT_SEEDS, SHORT_OPS)

    @harness.unittest.skipUnless(harness.long_tests_enabled(), "set DISTCACHE_LONG_TESTS=1 to run")
    def test_long_runs(self):
        self.run_seeds(LONG_SEEDS, LONG_OPS)


if __name__ == "__main__":
    harness.main()
