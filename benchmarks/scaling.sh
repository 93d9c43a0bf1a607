#!/usr/bin/env bash
# Scaling experiment for machines with more cores: distcache --threads N
# against one redis-server and against a Redis Cluster of N redis-server
# processes on the same box, for N = 1, 2, 4, ... .
#
# Usage: benchmarks/scaling.sh [options]
#
#   --distcache PATH     server to measure (default: build/distcache-server)
#   --redis PATH         reference server (default: /usr/bin/redis-server)
#   --threads-list LIST  values of N (default 1,2,4,... up to half the CPUs)
#   --tests LIST         redis-benchmark tests (default set,get)
#   --pipelines LIST     pipeline depths (default 1,16)
#   -n N                 requests per run and server thread (default 1000000)
#   --clients N          redis-benchmark connections per server thread (default 50)
#   --only LIST          configurations: distcache,redis,cluster (default all)
#   --quick              -n 100000
#   --force              also run N whose 2N CPUs this machine does not have
#                        (servers and clients then share CPUs: only to try the
#                        script out, the figures mean little)
#
# For each N the servers get CPUs 0..N-1 and redis-benchmark gets its own
# CPUs N..2N-1 (--threads N, one client thread per client core, 50 N
# connections), so the client never competes with the server. The
# configurations, each measured with the same client:
#   distcache   one process, --threads N, pinned to CPUs 0..N-1
#   redis       one redis-server pinned to CPU 0 (it is single-threaded)
#   cluster     N redis-server processes with cluster-enabled yes, node i
#               pinned to CPU i, 16384/N slots each; redis-benchmark --cluster
#               (it binds each connection to one node and puts a hash tag of
#               that node's slots in its keys: no redirections)
# Server CPU per request sums the CPU time of all server processes. Needs
# 2N CPUs for N; larger N are skipped. For N = 1 the cluster column is empty
# (redis-benchmark refuses a one-node cluster; it would be the redis column).
# Not part of the test suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DISTCACHE="$REPO_ROOT/build/distcache-server"
REDIS=/usr/bin/redis-server
CPUS=$(nproc)
THREADS_LIST=""
TESTS=set,get
PIPELINES=1,16
REQUESTS=1000000
CLIENTS=50
CONFIGS="distcache redis cluster"
FORCE=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --distcache) DISTCACHE="$2"; shift 2 ;;
    --redis) REDIS="$2"; shift 2 ;;
    --threads-list) THREADS_LIST="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --pipelines) PIPELINES="$2"; shift 2 ;;
    -n) REQUESTS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --only) CONFIGS="${2//,/ }"; shift 2 ;;
    --quick) REQUESTS=100000; shift ;;
    --force) FORCE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "scaling.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ -z "$THREADS_LIST" ]]; then
  n=1
  while (( n <= CPUS / 2 )); do THREADS_LIST+="$n,"; n=$((n * 2)); done
  (( CPUS / 2 >= 1 && (CPUS / 2 & (CPUS / 2 - 1)) != 0 )) && THREADS_LIST+="$((CPUS / 2)),"
  THREADS_LIST=${THREADS_LIST%,}
fi
[[ -n "$THREADS_LIST" ]] || { echo "scaling.sh: needs at least 2 CPUs" >&2; exit 1; }

require_tools redis-benchmark redis-cli taskset
[[ -x "$DISTCACHE" ]] || die "distcache binary not found: $DISTCACHE"
[[ -x "$REDIS" ]] || die "redis-server not found: $REDIS"
bench_init scaling
RESULTS="$WORKDIR/scaling.tsv"
: >"$RESULTS"

cpu_range() {   # first last, clamped to this machine's CPUs
  local a=$(($1 % CPUS)) b=$2
  (( b < CPUS )) || b=$((CPUS - 1))
  if (( a >= b )); then echo "$a"; else echo "$a-$b"; fi
}

# Sets PIDS (all server processes) and PORT (the one redis-benchmark connects to).
PIDS=() PORT=""
start_config() {   # config n
  local config="$1" n="$2" i
  PIDS=()
  case "$config" in
    distcache)
      start_server sc "$(cpu_range 0 $((n - 1)))" "$DISTCACHE" --threads "$n"
      PIDS=("${SRV_PID[sc]}") PORT=${SRV_PORT[sc]} ;;
    redis)
      start_server sc 0 "$REDIS"
      PIDS=("${SRV_PID[sc]}") PORT=${SRV_PORT[sc]} ;;
    cluster)
      for ((i = 0; i < n; i++)); do
        start_server "node$i" $((i % CPUS)) "$REDIS" --cluster-enabled yes \
          --cluster-config-file "$WORKDIR/nodes-$i-$$.conf"
        PIDS+=("${SRV_PID[node$i]}")
        redis-cli -p "${SRV_PORT[node$i]}" CLUSTER ADDSLOTSRANGE $((16384 * i / n)) $((16384 * (i + 1) / n - 1)) >/dev/null
      done
      PORT=${SRV_PORT[node0]}
      for ((i = 1; i < n; i++)); do redis-cli -p "${SRV_PORT[node$i]}" CLUSTER MEET 127.0.0.1 "$PORT" >/dev/null; done
      local deadline=$((SECONDS + 60)) ok
      while :; do
        ok=1
        for ((i = 0; i < n; i++)); do
          local info; info=$(redis-cli -p "${SRV_PORT[node$i]}" CLUSTER INFO | tr -d '\r')
          grep -q '^cluster_state:ok' <<<"$info" && grep -q "^cluster_known_nodes:$n\$" <<<"$info" || ok=0
        done
        (( ok )) && break
        (( SECONDS < deadline )) || die "the cluster of $n nodes did not become ready"
        sleep 0.2
      done ;;
  esac
}

stop_config() {
  local label
  for label in "${!SRV_PID[@]}"; do stop_server "$label"; done
}

flush_config() {
  local label
  for label in "${!SRV_PORT[@]}"; do redis-cli -p "${SRV_PORT[$label]}" FLUSHALL >/dev/null; done
}

total_cpu_ns() { local pid s=0; for pid in "${PIDS[@]}"; do s=$((s + $(cpu_ns "$pid"))); done; echo "$s"; }

for n in ${THREADS_LIST//,/ }; do
  if (( 2 * n > CPUS )); then
    (( FORCE )) || { note "skipping N=$n: needs $((2 * n)) CPUs, this machine has $CPUS"; continue; }
    client_cpus=0-$((CPUS - 1))
  else
    client_cpus=$(cpu_range "$n" $((2 * n - 1)))
  fi
  for config in $CONFIGS; do
    if [[ $config == cluster ]] && (( n == 1 )); then
      note "== N=1 cluster: skipped (redis-benchmark --cluster needs 2 nodes; one node is the redis column)"
      continue
    fi
    note "== N=$n $config (client CPUs $client_cpus, redis-benchmark --threads $n -c $((CLIENTS * n)))"
    start_config "$config" "$n"
    extra=()
    [[ $config == cluster ]] && extra=(--cluster)
    for p in ${PIPELINES//,/ }; do
      for t in ${TESTS//,/ }; do
        flush_config
        total=$((REQUESTS * n))
        ns0=$(total_cpu_ns)
        run_benchmark "$PORT" "$client_cpus" "${extra[@]}" --threads "$n" -c $((CLIENTS * n)) -n "$total" \
          -r 100000 -d 16 -P "$p" -t "$t"
        ns1=$(total_cpu_ns)
        cpu_us=$(awk -v d=$((ns1 - ns0)) -v r="$total" 'BEGIN { printf "%.3f", d / 1000 / r }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$t" "$p" "$config" "$BENCH_RPS" "$cpu_us" "$BENCH_P99" >>"$RESULTS"
        note "   $t -P $p: $BENCH_RPS ops/s, $cpu_us us/req, p99 $BENCH_P99 ms"
      done
    done
    stop_config
  done
done

"$PYTHON" - "$RESULTS" "$CPUS" <<'EOF'
import sys
from collections import defaultdict
rows = defaultdict(dict)
tests = []
for line in open(sys.argv[1]):
    n, t, p, config, ops, cpu, p99 = line.rstrip("\n").split("\t")
    if t not in tests:
        tests.append(t)
    rows[(int(n), t, int(p))][config] = (float(ops), float(cpu), float(p99))
configs = [c for c in ("distcache", "redis", "cluster") if any(c in v for v in rows.values())]
headers = ["N", "P", "test"] + [f"{c} ops/s" for c in configs] + [f"{c} CPU µs/req" for c in configs]
if "distcache" in configs:
    headers += [f"distcache/{c} ops/s" for c in configs if c != "distcache"]
table = []
for (n, t, p), v in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][2], tests.index(kv[0][1]))):
    r = [str(n), str(p), t.upper()]
    r += [f"{v[c][0]:,.0f}" if c in v else "-" for c in configs]
    r += [f"{v[c][1]:.2f}" if c in v else "-" for c in configs]
    if "distcache" in configs:
        for c in configs:
            if c != "distcache":
                r.append(f"{v['distcache'][0] / v[c][0]:.2f}" if "distcache" in v and c in v else "-")
    table.append(r)
w = [max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(headers)]
print(f"Scaling on {sys.argv[2]} CPUs: servers on CPUs 0..N-1, redis-benchmark --threads N on CPUs N..2N-1\n")
print("| " + " | ".join(h.rjust(x) for h, x in zip(headers, w)) + " |")
print("|" + "|".join("-" * (x + 1) + ":" for x in w) + "|")
for r in table:
    print("| " + " | ".join(c.rjust(x) for c, x in zip(r, w)) + " |")
EOF
