#!/usr/bin/env bash
# Compares distcache-server with redis-server using redis-benchmark: a quick
# ad-hoc comparison with free choice of tests and threads. For the issue-9
# measurements (memory, latency, idle CPU, targets) use benchmarks/bench.sh.
#
# Usage: benchmarks/compare.sh [options] [DISTCACHE_BINARY]
#
#   DISTCACHE_BINARY   server to measure (default: build/distcache-server)
#   --threads N        pass --threads N to distcache (not to redis-server)
#   -n N               requests per redis-benchmark run (default 200000)
#   -c N               parallel clients (default 50)
#   --tests LIST       redis-benchmark tests (default set,get,incr,mset)
#   --pipelines LIST   pipeline depths (default "1,16")
#   --redis PATH       reference server (default /usr/bin/redis-server)
#   --server-cpus L    CPUs for the server, taskset syntax (default 0)
#   --bench-cpus L     CPUs for redis-benchmark (default 1)
#
# Each server runs in turn on a free port, pinned with taskset, with no
# persistence. For every test and pipeline depth the script runs
#   redis-benchmark -c 50 -n N -r 100000 -d 16 -t TEST -P DEPTH --csv
# after a FLUSHALL, and reads the server's CPU time (on-CPU time of all its
# threads, /proc/PID/task/*/schedstat) before and after, to report CPU
# microseconds per request. One MSET request sets 10 keys. This script is not
# part of the test suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DISTCACHE="$REPO_ROOT/build/distcache-server"
REDIS=/usr/bin/redis-server
THREADS=""
REQUESTS=200000
CLIENTS=50
TESTS="set,get,incr,mset"
PIPELINES="1,16"
SERVER_CPUS=0
BENCH_CPUS=1

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    -n) REQUESTS="$2"; shift 2 ;;
    -c) CLIENTS="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --pipelines) PIPELINES="$2"; shift 2 ;;
    --redis) REDIS="$2"; shift 2 ;;
    --server-cpus) SERVER_CPUS="$2"; shift 2 ;;
    --bench-cpus) BENCH_CPUS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "compare.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) DISTCACHE="$1"; shift ;;
  esac
done

require_tools redis-benchmark redis-cli taskset
bench_init compare

DISTCACHE_ARGS=()
if [[ -n "$THREADS" ]]; then
  case "$(basename "$DISTCACHE")" in
    redis-server*) note "note: $DISTCACHE is redis-server; not passing --threads" ;;
    *) DISTCACHE_ARGS=(--threads "$THREADS") ;;
  esac
fi

declare -A RPS CPU

run_suite() {   # label binary extra-args...
  local label="$1" bin="$2"; shift 2
  start_server "$label" "$SERVER_CPUS" "$bin" "$@"
  local port=${SRV_PORT[$label]} pid=${SRV_PID[$label]}
  note "== $label: $bin $* (port $port, server CPUs $SERVER_CPUS, benchmark CPUs $BENCH_CPUS)"
  local p t before after
  for p in ${PIPELINES//,/ }; do
    for t in ${TESTS//,/ }; do
      redis-cli -p "$port" FLUSHALL >/dev/null
      before=$(cpu_ns "$pid")
      run_benchmark "$port" "$BENCH_CPUS" -c "$CLIENTS" -n "$REQUESTS" -r 100000 -d 16 -t "$t" -P "$p"
      after=$(cpu_ns "$pid")
      RPS[$label,$t,$p]=$BENCH_RPS
      CPU[$label,$t,$p]=$(awk -v d=$((after - before)) -v n="$REQUESTS" 'BEGIN { printf "%.2f", d / 1000 / n }')
      note "   $t -P $p: $BENCH_RPS ops/s, ${CPU[$label,$t,$p]} CPU us/req"
    done
  done
  stop_server "$label"
}

run_suite redis "$REDIS"
run_suite distcache "$DISTCACHE" "${DISTCACHE_ARGS[@]}"

echo
echo "redis-benchmark -c $CLIENTS -n $REQUESTS -r 100000 -d 16; distcache: $DISTCACHE ${DISTCACHE_ARGS[*]}"
echo "ratio = distcache ops/s / redis ops/s; CPU us/req = server CPU time per request"
printf '%-6s %8s %14s %15s %7s %16s %20s\n' test pipeline "redis ops/s" "distcache ops/s" ratio \
  "redis CPU us/req" "distcache CPU us/req"
for p in ${PIPELINES//,/ }; do
  for t in ${TESTS//,/ }; do
    r=${RPS[redis,$t,$p]}; d=${RPS[distcache,$t,$p]}
    ratio=$(awk -v r="$r" -v d="$d" 'BEGIN { printf (r > 0 ? "%.2f" : "-"), d / r }')
    printf '%-6s %8s %14s %15s %7s %16s %20s\n' "$t" "$p" "$r" "$d" "$ratio" \
      "${CPU[redis,$t,$p]}" "${CPU[distcache,$t,$p]}"
  done
done
