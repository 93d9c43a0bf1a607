# shellcheck shell=bash disable=SC2034
# Shared helpers of the benchmark scripts (sourced, not run).
#
#   bench_init NAME          work directory ($WORKDIR) and clean-up on exit
#   start_server LABEL CPUS BINARY ARGS...   pinned server on a free port;
#                            sets SRV_PID[LABEL] and SRV_PORT[LABEL]
#   stop_server LABEL
#   cpu_ticks PID            utime+stime of all threads (clock ticks)
#   cpu_ns PID               on-CPU time of the live threads (ns, schedstat)
#   thread_ticks PID         "tid:ticks tid:ticks ..." per thread
#   rss_kb PID               VmRSS
#   info_field PORT FIELD    one INFO field (e.g. used_memory)
#   pipe_load PORT CPUS GEN-ARGS...   gen_load.py ... | redis-cli --pipe
#   pipe_file PORT CPUS FILE          redis-cli --pipe < FILE
#   run_benchmark PORT CPUS ARGS...   redis-benchmark --csv; sets BENCH_RPS,
#                            BENCH_P50, BENCH_P99 (ms) from the first result row
#   load_average             "1.23 0.98 0.70" from /proc/loadavg
#
# Scripts using these set `set -euo pipefail` themselves.

BENCH_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_DIR="$(dirname "$BENCH_LIB_DIR")"
REPO_ROOT="$(dirname "$BENCH_DIR")"
PYTHON=/usr/bin/python3
CLK_TCK=$(getconf CLK_TCK)
BENCH_NAME=bench
WORKDIR=""
declare -A SRV_PID=() SRV_PORT=()
BENCH_RPS="" BENCH_P50="" BENCH_P99=""

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
note() { echo "$BENCH_NAME: $*" >&2; }

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install redis-tools redis-server util-linux)"
  done
}

bench_cleanup() {
  local label pid
  for label in "${!SRV_PID[@]}"; do
    pid=${SRV_PID[$label]}
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ -n "$WORKDIR" && -z "${KEEP_WORKDIR:-}" ]]; then rm -rf "$WORKDIR"; fi
}

bench_init() {   # name
  BENCH_NAME="$1"
  WORKDIR=$(mktemp -d "/tmp/distcache-$1.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

free_port() {   # a free port P whose cluster bus port P+10000 is free too
  "$PYTHON" - <<'EOF'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
for _ in range(500):
    p = random.randrange(20000, 32768)
    if free(p) and free(p + 10000):
        print(p)
        break
EOF
}

cpu_ticks() {   # pid: utime+stime of the whole process (also of exited threads)
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }                        # drop "pid (comm) "
  awk '{ print $12 + $13 }' <<<"$stat"     # fields 14 and 15: utime, stime
}

cpu_ns() {   # pid: sum of the live threads' on-CPU time in ns (schedstat)
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

thread_ticks() {   # pid: "tid:ticks ..." for every live thread, by tid
  local t stat out=""
  for t in $(ls /proc/"$1"/task | sort -n); do
    stat=$(<"/proc/$1/task/$t/stat") || continue
    stat=${stat##*) }
    out+="$t:$(awk '{ print $12 + $13 }' <<<"$stat") "
  done
  echo "${out% }"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

info_field() {   # port field
  redis-cli -p "$1" INFO 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f && !found { print $2; found = 1 }'
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

start_server() {   # label cpus binary args...
  local label="$1" cpus="$2" bin="$3"; shift 3
  [[ -x "$bin" ]] || die "server binary not found: $bin"
  local port; port=$(free_port)
  local log="$WORKDIR/$label.log"
  taskset -c "$cpus" "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORKDIR" "$@" >"$log" 2>&1 &
  local pid=$!
  SRV_PID[$label]=$pid SRV_PORT[$label]=$port
  local deadline=$((SECONDS + 20))
  until [[ "$(redis-cli -p "$port" PING 2>/dev/null)" == "PONG" ]]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log" >&2; die "$bin exited during start-up"
    fi
    (( SECONDS < deadline )) || { cat "$log" >&2; die "$bin did not answer PING within 20 s"; }
    sleep 0.05
  done
}

stop_server() {   # label
  local label="$1" pid=${SRV_PID[$1]:-}
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "SRV_PID[$label]" "SRV_PORT[$label]"
}

pipe_load() {   # port cpus gen_load.py-args...
  local port="$1" cpus="$2"; shift 2
  local out
  out=$(taskset -c "$cpus" bash -c '"$0" "$1" "${@:3}" | redis-cli -p "$2" --pipe' \
          "$PYTHON" "$BENCH_LIB_DIR/gen_load.py" "$port" "$@" 2>&1) \
    || { echo "$out" >&2; die "loading ($*) into port $port failed"; }
  grep -q 'errors: 0,' <<<"$out" || { echo "$out" >&2; die "loading ($*) into port $port had errors"; }
}

pipe_file() {   # port cpus file: redis-cli --pipe < file (generated earlier)
  local out
  out=$(taskset -c "$2" redis-cli -p "$1" --pipe <"$3" 2>&1) \
    || { echo "$out" >&2; die "loading $3 into port $1 failed"; }
  grep -q 'errors: 0,' <<<"$out" || { echo "$out" >&2; die "loading $3 into port $1 had errors"; }
}

run_benchmark() {   # port cpus redis-benchmark-args...
  local port="$1" cpus="$2"; shift 2
  local out
  out=$(taskset -c "$cpus" redis-benchmark -p "$port" --csv "$@" 2>"$WORKDIR/benchmark.err") \
    || { cat "$WORKDIR/benchmark.err" >&2; die "redis-benchmark $* failed on port $port"; }
  if grep -qiE 'error|WRONGTYPE' "$WORKDIR/benchmark.err"; then
    cat "$WORKDIR/benchmark.err" >&2; die "redis-benchmark $* reported errors on port $port"
  fi
  # "test","rps","avg","min","p50","p95","p99","max" (latencies in ms)
  # (In --cluster mode a description of the nodes comes first.)
  local row; row=$(awk 'header && !done { print; done = 1 } /^"test","rps"/ { header = 1 }' <<<"$out")
  BENCH_RPS=$(awk -F'","' '{ print $2 }' <<<"$row")
  BENCH_P50=$(awk -F'","' '{ print $5 }' <<<"$row")
  BENCH_P99=$(awk -F'","' '{ print $7 }' <<<"$row")
  [[ -n "$BENCH_RPS" && -n "$BENCH_P99" ]] || { echo "$out" >&2; die "cannot parse redis-benchmark output"; }
}
