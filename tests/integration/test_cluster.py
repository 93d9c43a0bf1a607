"""Cluster mode (issue 5): three distcache nodes (--threads 2) joined with
`redis-cli --cluster create`, then the standard tooling and clients against
them: redis-py RedisCluster, redis-cli -c, reshard under load, add-node +
rebalance + del-node, failure detection, and the cluster config file.
"""

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
import unittest

import harness

# redis-py logs every redirection it follows (MOVED/ASK) with a traceback; those are not errors here.
logging.getLogger("redis.cluster").setLevel(logging.CRITICAL)

NODE_TIMEOUT = 1500  # cluster-node-timeout (ms): short, so a killed node is flagged quickly


IOREDIS_SCRIPT = r"""
const Redis = require("ioredis");
const port = Number(process.env.PORT), n = Number(process.env.KEYS);
const cluster = new Redis.Cluster([{ host: "127.0.0.1", port }]);
(async () => {
  for (let i = 0; i < n; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 500); j++) batch.push(cluster.set(`io:${j}`, `v${j}`));
    await Promise.all(batch);
  }
  let correct = 0;
  for (let i = 0; i < n; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 500); j++) batch.push(cluster.get(`io:${j}`));
    const values = await Promise.all(batch);
    values.forEach((v, k) => { if (v === `v${i + k}`) correct++; });
  }
  console.log(JSON.stringify({ written: n, correct }));
  cluster.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
"""


def cluster_args(bus_port):
    return ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(NODE_TIMEOUT), "--cluster-port", str(bus_port)]


def start_node(stack):
    return stack.enter_context(harness.start_server(extra_args=cluster_args(harness.free_port()),
                                                    distcache_args=["--threads", "2"]))


def cli(*args, timeout=240, check=True):
    proc = harness.redis_cli(args[0], *args[1:], timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"redis-cli {args} failed: {proc.stdout}\n{proc.stderr}")
    return proc


def cluster_tool(*args, timeout=240):
    """redis-cli --cluster ... (the first argument after --cluster is the subcommand)."""
    import subprocess
    cmd = [harness.REDIS_CLI, "--cluster"] + [str(a) for a in args]
    proc = subprocess.run(cmd, input=b"", capture_output=True, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise AssertionError(f"{cmd} exited with {proc.returncode}:\n{out}")
    return out


def check_ok(address):
    """True once `redis-cli --cluster check` is clean. Polled with wait_until:
    right after add-node or a reshard the nodes may still disagree for a
    moment (the new configuration travels by gossip), and check exits 1 then."""
    try:
        out = cluster_tool("check", address)
    except AssertionError:
        return False
    return "[OK] All nodes agree about slots configuration." in out and "[OK] All 16384 slots covered." in out \
        and "[WARNING]" not in out and "[ERR]" not in out


def myid(server):
    return server.client().execute_command("CLUSTER", "MYID").decode()


class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        try:
            cls.nodes = [start_node(cls.stack) for _ in range(3)]
            cluster_tool("create", *[n.address for n in cls.nodes], "--cluster-yes")
            harness.wait_until(lambda: all(n.client().execute_command("CLUSTER", "INFO").decode().startswith(
                "cluster_state:ok") for n in cls.nodes), "cluster_state:ok on all nodes", 30, interval=0.05)
            harness.wait_until(lambda: check_ok(cls.nodes[0].address), "redis-cli --cluster check", 30, interval=0.05)
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def rc(self):
        from redis.cluster import RedisCluster
        return RedisCluster(host=harness.HOST, port=self.nodes[0].port, socket_timeout=30)

    def test_1_info_nodes_slots(self):
        for n in self.nodes:
            c = n.client()
            info = c.execute_command("CLUSTER", "INFO").decode()
            self.assertIn("cluster_state:ok", info)
            self.assertIn("cluster_slots_assigned:16384", info)
            self.assertIn("cluster_known_nodes:3", info)
            self.assertIn("cluster_size:3", info)
            self.assertEqual(c.info("cluster")["cluster_enabled"], 1)
            lines = c.execute_command("CLUSTER", "NODES").decode().strip().split("\n")
            self.assertEqual(len(lines), 3)
            me = [l for l in lines if "myself" in l]
            self.assertEqual(len(me), 1)
            self.assertEqual(me[0].split()[0], myid(n))
            self.assertTrue(me[0].split()[1].startswith(f"127.0.0.1:{n.port}@"))
            slots = c.execute_command("CLUSTER", "SLOTS")
            self.assertEqual(sum(int(r[1]) - int(r[0]) + 1 for r in slots), 16384)
            shards = c.execute_command("CLUSTER", "SHARDS")
            self.assertEqual(len(shards), 3)
        out = cluster_tool("info", self.nodes[0].address)
        self.assertIn("3 masters", out)

    def test_2_redis_py_10k_keys(self):
        rc = self.rc()
        for i in range(10000):
            rc.set(f"py:{i}", i)
        for i in range(10000):
            self.assertEqual(rc.get(f"py:{i}"), str(i).encode())
        total = sum(n.client().dbsize() for n in self.nodes)
        self.assertGreaterEqual(total, 10000)
        for n in self.nodes:  # every node holds a share
            self.assertGreater(n.client().dbsize(), 2000)

    def test_3_redirections(self):
        c0 = self.nodes[0].client()
        # A key whose slot is served by another node.
        key = next(f"k{i}" for i in range(1000)
                   if c0.execute_command("CLUSTER", "KEYSLOT", f"k{i}") > 5460)
        slot = c0.execute_command("CLUSTER", "KEYSLOT", key)
        out = cli(self.nodes[0].port, "set", key, "v1").stdout.strip()
        self.assertTrue(out.startswith(f"MOVED {slot} 127.0.0.1:"), out)
        self.assertEqual(cli(self.nodes[0].port, "-c", "set", key, "v1").stdout.strip(), "OK")
        self.assertEqual(cli(self.nodes[0].port, "-c", "get", key).stdout.strip(), "v1")
        self.assertIn("CROSSSLOT", cli(self.nodes[0].port, "mset", "a", "1", "b", "2").stdout)
        self.assertEqual(cli(self.nodes[0].port, "-c", "mset", "{t}a", "1", "{t}b", "2").stdout.strip(), "OK")
        self.assertEqual(cli(self.nodes[0].port, "-c", "mget", "{t}a", "{t}b").stdout.split(), ["1", "2"])

    def test_4_reshard_under_load(self):
        rc = self.rc()
        errors, written = [], {}
        stop = threading.Event()

        def load():
            client = self.rc()
            i = 0
            while not stop.is_set():
                key = f"load:{i % 3000}"
                try:
                    client.set(key, i)
                    written[key] = i
                    got = client.get(key)
                    if got != str(i).encode():
                        errors.append(f"{key}: read {got!r} after writing {i}")
                except Exception as e:  # noqa: BLE001 - every client-visible error counts
                    errors.append(f"{key}: {e!r}")
                i += 1

        worker = threading.Thread(target=load)
        worker.start()
        try:
            src, dst = myid(self.nodes[0]), myid(self.nodes[1])
            cluster_tool("reshard", self.nodes[0].address, "--cluster-from", src, "--cluster-to", dst,
                         "--cluster-slots", "1000", "--cluster-yes")
        finally:
            stop.set()
            worker.join()
        self.assertEqual(errors, [])
        self.assertGreater(len(written), 100)
        for key, value in written.items():
            self.assertEqual(rc.get(key), str(value).encode(), key)
        harness.wait_until(lambda: check_ok(self.nodes[0].address), "cluster check after reshard", 30, interval=0.05)

    def test_5_add_node_rebalance_del_node(self):
        rc = self.rc()
        for i in range(2000):
            rc.set(f"grow:{i}", i)
        with contextlib.ExitStack() as stack:
            extra = start_node(stack)
            cluster_tool("add-node", extra.address, self.nodes[0].address)
            harness.wait_until(
                lambda: all(len(n.client().execute_command("CLUSTER", "NODES").decode().strip().split("\n")) == 4
                            for n in self.nodes + [extra]),
                "4 nodes known everywhere", 30, interval=0.05)
            harness.wait_until(lambda: check_ok(self.nodes[0].address),
                               "cluster check after add-node", 30, interval=0.05)
            cluster_tool("rebalance", self.nodes[0].address, "--cluster-use-empty-masters")
            self.assertGreater(extra.client().dbsize(), 0)
            rc = self.rc()
            for i in range(2000):
                self.assertEqual(rc.get(f"grow:{i}"), str(i).encode())
            # Empty the new node, then remove it.
            extra_id = myid(extra)
            cluster_tool("reshard", self.nodes[0].address, "--cluster-from", extra_id,
                         "--cluster-to", myid(self.nodes[0]), "--cluster-slots", "16384", "--cluster-yes")
            self.assertEqual(extra.client().dbsize(), 0)
            cluster_tool("del-node", self.nodes[0].address, extra_id)
            for n in self.nodes:
                self.assertNotIn(extra_id, n.client().execute_command("CLUSTER", "NODES").decode())
            harness.wait_until(lambda: check_ok(self.nodes[0].address),
                               "cluster check after del-node", 30, interval=0.05)
            rc = self.rc()
            for i in range(2000):
                self.assertEqual(rc.get(f"grow:{i}"), str(i).encode())

    def test_6_migrate_and_ask(self):
        c0, c1 = self.nodes[0].client(), self.nodes[1].client()
        id0, id1 = myid(self.nodes[0]), myid(self.nodes[1])
        # A slot of node 0 with two keys in it.
        owned = [s for r in c0.execute_command("CLUSTER", "SLOTS") if r[2][2].decode() == id0
                 for s in range(int(r[0]), int(r[1]) + 1)]
        slot = next(s for s in owned if c0.execute_command("CLUSTER", "COUNTKEYSINSLOT", s) == 0)
        keys = [k for k in (f"m{i}" for i in range(200000))
                if c0.execute_command("CLUSTER", "KEYSLOT", k) == slot][:2]
        self.assertEqual(len(keys), 2)
        c0.set(keys[0], "a")
        c0.set(keys[1], "b")
        self.assertEqual(c0.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot), 2)
        c1.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", id0)
        c0.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", id1)
        self.assertEqual(c0.execute_command("MIGRATE", harness.HOST, self.nodes[1].port, keys[0], 0, 5000),
                         b"OK")
        # keys[0] moved: ASK; keys[1] still here.
        with self.assertRaisesRegex(Exception, f"ASK {slot} 127.0.0.1:{self.nodes[1].port}"):
            c0.get(keys[0])
        self.assertEqual(c0.get(keys[1]), b"b")
        with harness.RawConnection(harness.HOST, self.nodes[1].port) as raw:
            self.assertTrue(str(raw.command("GET", keys[0]).message).startswith(f"MOVED {slot} "))
            self.assertEqual(raw.command("ASKING"), "OK")
            self.assertEqual(raw.command("GET", keys[0]), b"a")
        self.assertEqual(c0.execute_command("MIGRATE", harness.HOST, self.nodes[1].port, "", 0, 5000,
                                            "KEYS", keys[1]), b"OK")
        self.assertEqual(c0.execute_command("MIGRATE", harness.HOST, self.nodes[1].port, keys[1], 0, 5000),
                         b"NOKEY")
        for c in (c1, c0, self.nodes[2].client()):
            c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", id1)
        self.assertEqual(self.rc().get(keys[0]), b"a")
        self.assertEqual(self.rc().get(keys[1]), b"b")
        harness.wait_until(lambda: check_ok(self.nodes[0].address),
                           "cluster check after manual migration", 30, interval=0.05)

    def test_7_ioredis_cluster(self):
        import subprocess
        import test_real_libraries  # installs ioredis (BullMQ's client) with npm, cached
        target = test_real_libraries.node_dir()
        script = os.path.join(target, "cluster_smoke.js")
        with open(script, "w") as f:
            f.write(IOREDIS_SCRIPT)
        env = dict(os.environ, PORT=str(self.nodes[0].port), KEYS="10000")
        out = subprocess.run(["node", "cluster_smoke.js"], cwd=target, env=env, capture_output=True, text=True,
                             timeout=300)
        self.assertEqual(out.returncode, 0, out.stderr[-3000:])
        self.assertEqual(out.stdout.strip().splitlines()[-1], '{"written":10000,"correct":10000}')

    def test_9_killed_node_is_reported_failed(self):
        victim = self.nodes[2]
        victim_id = myid(victim)
        victim.proc.kill()
        victim.proc.wait()
        victim.exit_expected = True

        def flagged_fail():
            for n in self.nodes[:2]:
                line = [l for l in n.client().execute_command("CLUSTER", "NODES").decode().split("\n")
                        if l.startswith(victim_id)]
                if not line or "fail" not in line[0].split()[2].split(",") or "disconnected" not in line[0]:
                    return False
            return True

        harness.wait_until(flagged_fail, "the killed node flagged fail", 30, interval=0.05)
        for n in self.nodes[:2]:
            self.assertIn("cluster_state:fail", n.client().execute_command("CLUSTER", "INFO").decode())


class ClusterSingleNodeTest(unittest.TestCase):
    """One node: the CLUSTER admin commands, their errors, and nodes.conf across a restart."""

    def test_commands_and_config_file(self):
        bus = harness.free_port()
        workdir = tempfile.mkdtemp(prefix="distcache-cluster-")
        try:
            port = harness.free_port()
            args = ["--save", ""] + cluster_args(bus) + ["--threads", "2"]
            node = harness._launch(harness.server_binary(), args, workdir, port)
            try:
                self.assertIsNone(harness._wait_for_ping(node.proc, port, time.monotonic() + 20))
                c = node.client()
                node_id = c.execute_command("CLUSTER", "MYID").decode()
                self.assertIn("cluster_state:fail", c.execute_command("CLUSTER", "INFO").decode())
                with self.assertRaisesRegex(Exception, "CLUSTERDOWN Hash slot not served"):
                    c.get("x")
                self.assertEqual(c.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383), b"OK")
                with self.assertRaisesRegex(Exception, "Slot 5 is already busy"):
                    c.execute_command("CLUSTER", "ADDSLOTS", 5)
                self.assertEqual(c.execute_command("CLUSTER", "DELSLOTS", 100), b"OK")
                with self.assertRaisesRegex(Exception, "Slot 100 is already unassigned"):
                    c.execute_command("CLUSTER", "DELSLOTS", 100)
                with self.assertRaisesRegex(Exception, "Invalid or out of range slot"):
                    c.execute_command("CLUSTER", "ADDSLOTS", 16384)
                self.assertEqual(c.execute_command("CLUSTER", "ADDSLOTS", 100), b"OK")
                self.assertEqual(c.execute_command("CLUSTER", "SET-CONFIG-EPOCH", 7), b"OK")
                self.assertEqual(c.execute_command("CLUSTER", "BUMPEPOCH"), b"STILL 7")
                self.assertEqual(c.execute_command("CLUSTER", "KEYSLOT", "{user1000}.following"), 3443)
                harness.wait_until(lambda: c.execute_command("CLUSTER", "INFO").decode().startswith("cluster_state:ok"),
                                   "cluster_state:ok", 10, interval=0.05)
                c.set("foo", "bar")
                c.set("{foo}2", "baz")
                self.assertEqual(c.execute_command("CLUSTER", "COUNTKEYSINSLOT", 12182), 2)
                self.assertEqual(sorted(c.execute_command("CLUSTER", "GETKEYSINSLOT", 12182, 10)),
                                 [b"foo", b"{foo}2"])
                with self.assertRaisesRegex(Exception, "CROSSSLOT"):
                    c.mget("foo", "x")
                self.assertEqual(c.execute_command("CLUSTER", "SAVECONFIG"), b"OK")
            finally:
                node.stop()
            with open(os.path.join(workdir, "nodes.conf")) as f:
                text = f.read()
            self.assertIn(f"{node_id} ", text)
            self.assertIn("myself,master", text)
            self.assertIn(" 7 connected 0-16383", text)
            self.assertIn("vars currentEpoch 7 lastVoteEpoch 0", text)
            # Restart: same id, slots and epoch.
            node = harness._launch(harness.server_binary(), args, workdir, port)
            try:
                self.assertIsNone(harness._wait_for_ping(node.proc, port, time.monotonic() + 20))
                c = node.client()
                self.assertEqual(c.execute_command("CLUSTER", "MYID").decode(), node_id)
                info = c.execute_command("CLUSTER", "INFO").decode()
                self.assertIn("cluster_slots_assigned:16384", info)
                self.assertIn("cluster_my_epoch:7", info)
            finally:
                node.stop()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
