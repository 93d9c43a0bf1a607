#!/usr/bin/env bash
# Compares distcache-server with redis-server using redis-benchmark.
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
#   redis-benchmark -q -c 50 -n N -r 100000 -d 16 -t TEST -P DEPTH --csv
# and reads the server's CPU time (utime+stime of all its threads, from
# /proc/PID/stat) before and after, to report CPU microseconds per request.
# One MSET request sets 10 keys. This script is not part of the test suite.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DISTCACHE="$ROOT/build/distcache-server"
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

for tool in redis-benchmark redis-cli taskset; do
  command -v "$tool" >/dev/null || { echo "compare.sh: $tool not found (apt-get install redis-tools util-linux)" >&2; exit 1; }
done
for bin in "$DISTCACHE" "$REDIS"; do
  [[ -x "$bin" ]] || { echo "compare.sh: server binary not found: $bin (build with scripts/build.sh)" >&2; exit 1; }
done

CLK_TCK=$(getconf CLK_TCK)
WORKDIR=$(mktemp -d /tmp/distcache-bench.XXXXXX)
SERVER_PID=""

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORKDIR"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 - <<'EOF'
import random, socket
for _ in range(200):
    p = random.randrange(20000, 32768)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
EOF
}

# CPU time of a process (all threads), in clock ticks.
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat")
  stat=${stat##*) }                        # drop "pid (comm) "
  awk '{ print $12 + $13 }' <<<"$stat"     # fields 14 and 15: utime, stime
}

start_server() {   # binary port extra-args...
  local bin="$1" port="$2"; shift 2
  local log="$WORKDIR/server-$port.log"
  taskset -c "$SERVER_CPUS" "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORKDIR" "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + 20))
  until [[ "$(redis-cli -p "$port" PING 2>/dev/null)" == "PONG" ]]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "compare.sh: $bin exited during start-up:" >&2; cat "$log" >&2; exit 1
    fi
    if (( SECONDS >= deadline )); then
      echo "compare.sh: $bin did not answer PING within 20 s:" >&2; cat "$log" >&2; exit 1
    fi
    sleep 0.05
  done
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while kill -0 "$SERVER_PID" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.05; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

declare -A RPS CPU

run_suite() {   # label binary extra-args...
  local label="$1" bin="$2"; shift 2
  local port; port=$(free_port)
  echo "== $label: $bin $* (port $port, server CPUs $SERVER_CPUS, benchmark CPUs $BENCH_CPUS)" >&2
  start_server "$bin" "$port" "$@"
  local p t before after out rps
  for p in ${PIPELINES//,/ }; do
    for t in ${TESTS//,/ }; do
      redis-cli -p "$port" FLUSHALL >/dev/null
      before=$(cpu_ticks "$SERVER_PID")
      out=$(taskset -c "$BENCH_CPUS" redis-benchmark -p "$port" -q -c "$CLIENTS" -n "$REQUESTS" \
              -r 100000 -d 16 -t "$t" -P "$p" --csv 2>&1) || {
        echo "compare.sh: redis-benchmark failed against $label:" >&2; echo "$out" >&2; exit 1; }
      after=$(cpu_ticks "$SERVER_PID")
      rps=$(awk -F'","' 'NR > 1 { print $2; exit }' <<<"$out")
      [[ -n "$rps" ]] || { echo "compare.sh: cannot parse redis-benchmark output:" >&2; echo "$out" >&2; exit 1; }
      RPS[$label,$t,$p]=$rps
      CPU[$label,$t,$p]=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$REQUESTS" \
                            'BEGIN { printf "%.2f", d * 1e6 / hz / n }')
      echo "   $t -P $p: $rps ops/s, ${CPU[$label,$t,$p]} CPU us/req" >&2
    done
  done
  stop_server
}

DISTCACHE_ARGS=()
if [[ -n "$THREADS" ]]; then
  case "$(basename "$DISTCACHE")" in
    redis-server*) echo "compare.sh: note: $DISTCACHE is redis-server; not passing --threads" >&2 ;;
    *) DISTCACHE_ARGS=(--threads "$THREADS") ;;
  esac
fi

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
