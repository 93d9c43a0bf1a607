"""Debian's prometheus-redis-exporter scrapes distcache: the test starts
distcache and the exporter on free loopback ports and checks that /metrics
reports redis_up 1, the key counts and the memory metrics.
"""

import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

import redis  # noqa: E402

EXPORTER = shutil.which("prometheus-redis-exporter") or "/usr/bin/prometheus-redis-exporter"
DEADLINE = 20.0


def metric(text, name, labels=None):
    """The value of one sample of `name` (with exactly `labels` when given), or None."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        if labels is not None and (m.group(2) or "") != labels:
            continue
        return float(m.group(3))
    return None


@unittest.skipUnless(os.path.exists(EXPORTER), "prometheus-redis-exporter is not installed")
class ExporterTest(unittest.TestCase):
    def test_exporter_scrapes_distcache(self):
        with harness.start_server(distcache_args=["--threads", "2"]) as server:
            r = redis.Redis(host=harness.HOST, port=server.port)
            for i in range(100):
                r.set(f"key:{i}", "x" * 100)
            for i in range(10):
                r.set(f"ttl:{i}", "v", ex=3600)
            r.select(3)
            r.set("in-db3", "v")
            port = harness.free_port()
            proc = subprocess.Popen(
                [EXPORTER, f"--redis.addr=redis://{harness.HOST}:{server.port}",
                 f"--web.listen-address={harness.HOST}:{port}"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True)
            try:
                text, end = None, time.monotonic() + DEADLINE
                while time.monotonic() < end:
                    try:
                        with urllib.request.urlopen(f"http://{harness.HOST}:{port}/metrics", timeout=5) as resp:
                            text = resp.read().decode()
                        if metric(text, "redis_up") is not None:
                            break
                    except OSError:
                        pass
                    time.sleep(0.05)
                self.assertIsNotNone(text, "the exporter never answered")
                self.assertEqual(metric(text, "redis_up"), 1.0)
                self.assertEqual(metric(text, "redis_db_keys", '{db="db0"}'), 110.0)
                self.assertEqual(metric(text, "redis_db_keys_expiring", '{db="db0"}'), 10.0)
                self.assertEqual(metric(text, "redis_db_keys", '{db="db3"}'), 1.0)
                used = metric(text, "redis_memory_used_bytes")
                self.assertIsNotNone(used)
                if not harness.SANITIZER_BUILD:  # (harness.NO_MEMORY_ACCOUNTING)
                    self.assertGreater(used, 0)
                self.assertGreater(metric(text, "redis_memory_used_rss_bytes"), 0)
                self.assertIsNotNone(metric(text, "redis_memory_max_bytes"))
                self.assertGreaterEqual(metric(text, "redis_connected_clients"), 1)
                self.assertGreaterEqual(metric(text, "redis_commands_processed_total"), 111)
                self.assertIsNotNone(metric(text, "redis_commands_total", '{cmd="set"}'))
                self.assertGreater(metric(text, "redis_uptime_in_seconds"), -1)
                self.assertEqual(metric(text, "redis_exporter_last_scrape_error"), 0.0)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


if __name__ == "__main__":
    unittest.main()
