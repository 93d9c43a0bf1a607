#!/usr/bin/env bash
# Soak test (issue 7), outside the default test run: starts the server
# (--threads 2), drives it for a while with a mix of every command family
# from several client processes over a bounded key space, and prints the
# server's RSS and used_memory over time. After the warm-up (the first half
# of the run: the collections take minutes to reach their bounded sizes; with
# 20000 keys they still grew 8 minutes into the run, hence the default of
# 5000) RSS should stay flat; the summary gives the growth from the end
# of the warm-up to the end, and the script fails if it exceeds
# SOAK_MAX_GROWTH_PCT (default 10), if the server dies or if a client loses
# its connection. At the end FLUSHALL must bring used_memory (every byte
# malloc'd, counted exactly) back near its value before the load: what stays
# is a leak, whatever RSS says. Error replies are counted by message (some are expected
# from the random mix, e.g. RENAME of a missing key) and listed at the end.
#
#   scripts/soak.sh                       # 10 minutes, build/distcache-server
#   scripts/soak.sh --minutes 60 --server /tmp/build-robust/distcache-server
#   scripts/soak.sh --minutes 2 --clients 2      # a quick check
#   scripts/soak.sh --server /usr/bin/redis-server  # the same load on redis-server, for comparison
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MINUTES=10
CLIENTS=4
SERVER="$ROOT/build/distcache-server"
KEYS=5000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --server) SERVER="$2"; shift 2 ;;
    --keys) KEYS="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
exec /usr/bin/python3 - "$SERVER" "$MINUTES" "$CLIENTS" "$KEYS" "${SOAK_MAX_GROWTH_PCT:-10}" <<'PY'
import collections, multiprocessing, os, random, socket, subprocess, sys, tempfile, time
import redis

server_bin, minutes, clients, nkeys, max_growth = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
duration = minutes * 60


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


LUA = "local n = redis.call('incr', KEYS[1]) if n > 1000 then redis.call('set', KEYS[1], 0) end return n"


def worker(port, seed, stop_at, counter, error_queue):
    rng = random.Random(seed)
    errors = collections.Counter()
    r = redis.Redis(port=port, socket_timeout=60)
    ops = 0
    def k(prefix):
        return f"{prefix}:{rng.randrange(nkeys // 10)}"
    while time.time() < stop_at:
        p = r.pipeline(transaction=rng.random() < 0.1)
        for _ in range(50):
            f = rng.randrange(16)
            if f == 0:
                p.set(k("str"), "x" * rng.randrange(1, 300), ex=rng.choice([None, 1, 30]))
                p.get(k("str"))
            elif f == 1:
                p.append(k("app"), "y" * 20); p.incrby(k("cnt"), 3); p.getrange(k("app"), 0, 10)
                p.set(k("app"), "") if rng.random() < 0.1 else p.strlen(k("app"))
            elif f == 2:
                key = k("list"); p.rpush(key, *["e"] * rng.randrange(1, 20)); p.ltrim(key, -200, -1); p.lpop(key)
            elif f == 3:
                key = k("hash"); p.hset(key, mapping={f"f{rng.randrange(300)}": "v" * rng.randrange(1, 80)})
                p.hdel(key, f"f{rng.randrange(300)}"); p.hgetall(key) if rng.random() < 0.05 else p.hlen(key)
            elif f == 4:
                key = k("set"); p.sadd(key, *[rng.randrange(1000) for _ in range(5)]); p.srem(key, rng.randrange(1000))
                p.sinterstore(k("setdst"), key, k("set"))
            elif f == 5:
                key = k("zset"); p.zadd(key, {f"m{rng.randrange(500)}": rng.random() for _ in range(5)})
                p.zremrangebyrank(key, 0, -300); p.zrange(key, 0, 10, withscores=True)
            elif f == 6:
                key = k("stream"); p.xadd(key, {"a": "b"}, maxlen=100, approximate=False)
                p.xrange(key, count=5); p.xtrim(key, maxlen=50)
            elif f == 7:
                key = k("geo"); p.geoadd(key, (rng.uniform(-170, 170), rng.uniform(-80, 80), f"p{rng.randrange(200)}"))
                p.geosearch(key, longitude=0.5, latitude=0.5, radius=5000, unit="km", count=5)  # (redis-py drops 0 coordinates)
            elif f == 8:
                key = k("hll"); p.pfadd(key, *[rng.randrange(10**6) for _ in range(10)]); p.pfcount(key)
            elif f == 9:
                key = k("bits"); p.setbit(key, rng.randrange(20000), 1); p.bitcount(key)
            elif f == 10:
                p.expire(k("list"), rng.randrange(1, 20)); p.ttl(k("hash")); p.delete(k("set"))
            elif f == 11:
                p.eval(LUA, 1, k("lua"))
            elif f == 12:
                p.publish("soak:chan", "message")
            elif f == 13:
                p.rename(k("str"), k("str")) if rng.random() < 0.5 else p.copy(k("hash"), k("hashcopy"), replace=True)
            elif f == 14:
                key = k("str"); p.dump(key)
                p.unlink(k("hashcopy"))
            else:
                p.mset({k("m"): "v", k("m"): "w"}); p.mget(k("m"), k("m"), k("str"))
        try:
            replies = p.execute(raise_on_error=False)
        except redis.ResponseError as e:  # EXECABORT and the like: the whole transaction
            replies = [e]
        errors.update(str(e)[:60] for e in replies if isinstance(e, redis.ResponseError))
        ops += 50
        if ops % 5000 == 0:
            with counter.get_lock():
                counter.value += 5000
    r.close()
    error_queue.put(errors)


def subscriber(port, stop_at):
    r = redis.Redis(port=port, socket_timeout=60)
    ps = r.pubsub()
    ps.subscribe("soak:chan")
    while time.time() < stop_at:
        ps.get_message(timeout=1.0)
    ps.close()


def main():
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="distcache-soak-")
    args = [server_bin, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir]
    if not os.path.basename(server_bin).startswith("redis-server"):
        args += ["--threads", "2"]
    log = open(os.path.join(workdir, "server.log"), "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    r = redis.Redis(port=port, socket_timeout=30)
    deadline = time.time() + 20
    while True:
        try:
            r.ping(); break
        except redis.ConnectionError:
            if time.time() > deadline or proc.poll() is not None:
                print("soak: server did not start", file=sys.stderr); sys.exit(1)
            time.sleep(0.05)
    used_before = r.info("memory")["used_memory"]
    start = time.time()
    stop_at = start + duration
    counter = multiprocessing.Value("q", 0)
    error_queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=worker, args=(port, i, stop_at, counter, error_queue))
               for i in range(clients)]
    procs = list(workers)
    procs.append(multiprocessing.Process(target=subscriber, args=(port, stop_at)))
    for p in procs:
        p.start()
    samples = []
    interval = max(5.0, duration / 40)
    print(f"soak: {server_bin} pid {proc.pid}, {clients} clients, {minutes:g} min, keys ~{nkeys}")
    print(f"{'elapsed_s':>9} {'ops':>10} {'ops/s':>8} {'rss_mb':>8} {'used_mb':>8} {'keys':>7}")
    last_ops, last_t = 0, start
    failed = False
    while time.time() < stop_at:
        time.sleep(min(interval, max(0.0, stop_at - time.time())))  # sampling period
        if proc.poll() is not None:
            print(f"soak: SERVER DIED with status {proc.returncode}", file=sys.stderr); failed = True; break
        now = time.time()
        try:
            info = r.info("memory"); keys = r.dbsize()
        except redis.RedisError as e:
            print(f"soak: INFO failed: {e}", file=sys.stderr); failed = True; break
        ops = counter.value
        cur = rss(proc.pid)
        samples.append((now - start, cur))
        print(f"{now - start:9.0f} {ops:10d} {(ops - last_ops) / max(0.001, now - last_t):8.0f} "
              f"{cur / 2**20:8.1f} {info['used_memory'] / 2**20:8.1f} {keys:7d}", flush=True)
        last_ops, last_t = ops, now
    errors = collections.Counter()
    for w in workers:
        w.join(timeout=60)
        if w.exitcode != 0:
            print(f"soak: a client process failed (exit code {w.exitcode})", file=sys.stderr); failed = True
        else:
            errors.update(error_queue.get(timeout=10))
    for p in procs:
        p.join(timeout=60)
    print(f"soak: {counter.value} ops, {sum(errors.values())} error replies")
    for message, n in errors.most_common(10):
        print(f"  {n:8d}  {message}")
    if not failed and samples:
        warm = [s for s in samples if s[0] >= duration / 2]
        base = warm[0][1] if warm else samples[0][1]
        end = samples[-1][1]
        peak = max(s[1] for s in warm) if warm else end
        growth = 100.0 * (end - base) / base if base else 0.0
        print(f"soak: RSS after warm-up {base / 2**20:.1f} MB, at the end {end / 2**20:.1f} MB "
              f"(peak {peak / 2**20:.1f} MB), growth {growth:+.1f}% (limit {max_growth:g}%)")
        if growth > max_growth:
            print("soak: RSS kept growing", file=sys.stderr); failed = True
    if proc.poll() is None:
        r.flushall()
        used_after = r.info("memory")["used_memory"]
        print(f"soak: used_memory before the load {used_before / 2**20:.1f} MB, after FLUSHALL "
              f"{used_after / 2**20:.1f} MB (RSS {rss(proc.pid) / 2**20:.1f} MB)")
        if used_after > used_before + 8 * 2**20:
            print("soak: memory not given back after FLUSHALL (a leak?)", file=sys.stderr); failed = True
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill(); proc.wait()
    sys.exit(1 if failed else 0)


main()
PY
