"""Job-queue libraries and locks that users drop distcache under, unmodified:
BullMQ (npm; Lua scripts with cmsgpack and run-time key names, blocking
commands, streams), RQ (Debian python3-rq; a worker process running jobs),
redis-py's Lock (SET NX PX + Lua release), and scripts that touch undeclared
keys on every shard from many clients at once. distcache runs with
--threads 4, so keys, scripts and transactions span threads.

BullMQ is installed with npm into a cache directory (DISTCACHE_NODE_DIR,
default: <tmp>/distcache-node-modules) on first use, from the committed
package-lock.json.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

import harness
from test_concurrency import run_threads

NODE_SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")


def node_dir():
    """A directory with BullMQ installed (npm ci, cached between runs)."""
    target = os.environ.get("DISTCACHE_NODE_DIR") or os.path.join(tempfile.gettempdir(), "distcache-node-modules")
    os.makedirs(target, exist_ok=True)
    for name in ("package.json", "package-lock.json", "bullmq_smoke.js"):
        shutil.copy(os.path.join(NODE_SOURCES, name), target)
    marker = os.path.join(target, "node_modules", "bullmq", "package.json")
    if not os.path.exists(marker):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=target, check=True,
                       stdout=subprocess.DEVNULL, timeout=600)
    return target


class BullMQTest(harness.ServerTestCase):
    DISTCACHE_ARGS = ("--threads", "4")

    def test_queue_with_worker(self):
        target = node_dir()
        env = dict(os.environ, PORT=str(self.server.port), JOBS="300")
        out = subprocess.run(["node", "bullmq_smoke.js"], cwd=target, env=env, capture_output=True, text=True,
                             timeout=300)
        self.assertEqual(out.returncode, 0, out.stderr[-3000:])
        result = json.loads(out.stdout.strip().splitlines()[-1])
        self.assertEqual(result["completed"], 300)
        self.assertEqual(result["distinct"], 300)
        self.assertEqual(result["duplicates"], 0)
        self.assertEqual(result["failed"], 0)
        self.assertEqual(result["retried"], 18)   # jobs n % 17 == 0 fail once, then succeed
        for state in ("waiting", "active", "delayed"):
            self.assertEqual(result[state], 0, state)
        self.assertServerAlive()


def rq_job(x):
    return x * x


class RQTest(harness.ServerTestCase):
    DISTCACHE_ARGS = ("--threads", "4")

    def test_worker_runs_jobs(self):
        import redis
        from rq import Queue
        conn = redis.Redis(host=harness.HOST, port=self.server.port)
        queue = Queue("default", connection=conn)
        jobs = [queue.enqueue("test_real_libraries.rq_job", i) for i in range(40)]
        here = os.path.dirname(os.path.abspath(__file__))
        worker = subprocess.run(
            [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url",
             f"redis://{harness.HOST}:{self.server.port}", "default"],
            cwd=here, env=dict(os.environ, PYTHONPATH=here), capture_output=True, text=True, timeout=300)
        self.assertEqual(worker.returncode, 0, worker.stderr[-3000:])
        for i, job in enumerate(jobs):
            job.refresh()
            self.assertEqual(job.get_status(), "finished", f"job {i}")
            self.assertEqual(job.result, i * i)
        self.assertServerAlive()


class ScriptsAcrossShardsTest(harness.ServerTestCase):
    DISTCACHE_ARGS = ("--threads", "4")

    MOVE = """
local from = 'acct:' .. ARGV[1]
local to = 'acct:' .. ARGV[2]
local n = tonumber(redis.call('get', from) or '0')
if n < 1 then return 0 end
redis.call('decr', from)
redis.call('incr', to)
return 1
"""
    TOTAL = """
local sum = 0
for i = 0, tonumber(ARGV[1]) - 1 do sum = sum + tonumber(redis.call('get', 'acct:' .. i) or '0') end
return sum
"""

    def test_undeclared_keys_stay_atomic(self):
        """Clients move units between accounts named at run time (on every
        shard) with a script; readers sum all accounts with a script and with
        MGET and never see a partial move; the total is exact at the end."""
        accounts = 12
        c = self.server.client()
        c.flushall()
        c.mset({f"acct:{i}": 100 for i in range(accounts)})
        total = 100 * accounts
        move = c.register_script(self.MOVE)
        total_script = c.register_script(self.TOTAL)
        done = threading.Event()
        bad = []

        def mover(idx):
            def run():
                r = self.server.client()
                m = r.register_script(self.MOVE)
                for i in range(300):
                    m(args=[(idx * 7 + i) % accounts, (idx + 3 * i + 1) % accounts])
            return run

        def reader():
            r = self.server.client()
            t = r.register_script(self.TOTAL)
            while not done.is_set():
                if t(args=[accounts]) != total:
                    bad.append("script")
                if sum(int(v) for v in r.mget([f"acct:{i}" for i in range(accounts)])) != total:
                    bad.append("mget")

        readers = [threading.Thread(target=reader, daemon=True) for _ in range(2)]
        for t in readers:
            t.start()
        try:
            run_threads([mover(i) for i in range(6)])
        finally:
            done.set()
            for t in readers:
                t.join(timeout=60)
        self.assertEqual(bad, [])
        self.assertEqual(total_script(args=[accounts]), total)
        self.assertEqual(move(args=[0, 1]) in (0, 1), True)

    def test_declared_keys_on_one_shard(self):
        """A script keeping to declared keys with a hash tag: correct results,
        first run (global) and later runs (on the keys' shard) alike."""
        c = self.server.client()
        script = c.register_script("redis.call('incr', KEYS[1]) return redis.call('incrby', KEYS[2], ARGV[1])")
        for i in range(50):
            self.assertEqual(script(keys=["{tag}:a", "{tag}:b"], args=[2]), 2 * (i + 1))
        self.assertEqual(int(c.get("{tag}:a")), 50)

    def test_redis_py_lock(self):
        """redis-py's Lock guards a read-modify-write counter across clients."""
        counter = "locked:counter"

        def worker():
            c = self.server.client()
            for _ in range(40):
                with c.lock("resource-lock", timeout=10, blocking_timeout=60):
                    v = int(c.get(counter) or 0)
                    c.set(counter, v + 1)

        run_threads([worker for _ in range(4)])
        self.assertEqual(int(self.server.client().get(counter)), 160)


if __name__ == "__main__":
    harness.main()
