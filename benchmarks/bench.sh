#!/usr/bin/env bash
# The issue-9 performance measurements: distcache against redis-server 7.0 on
# this machine, one core each, with the ratios the targets are stated in.
#
# Usage: benchmarks/bench.sh [options]
#
#   --distcache PATH   server to measure (default: build/distcache-server)
#   --redis PATH       reference server (default: /usr/bin/redis-server)
#   --quick            short smoke run (small request counts and data sets)
#   --only LIST        run only these sections (comma-separated):
#                        throughput  SET GET INCR LPUSH LPOP SADD HSET ZADD MSET,
#                                    P1 and P16, Redis vs distcache --threads 1
#                        threads     the same tests, distcache --threads 2 vs 1
#                        hop         GET of a key owned by the other thread vs own
#                        memory      1M x SET key:N <16 bytes>: RSS growth per key
#                        collections 10k hashes/sets/zsets of 100 elements
#                        latency     longest GET round trip while 10M keys load
#                        idle        CPU of an idle distcache --threads 2
#   --repeat K         run every throughput and hop cell K times and report the
#                      medians (default 3, quick 1); the two servers alternate
#                      test by test, and which one goes first alternates too
#   --tests LIST       throughput tests (default set,get,incr,lpush,lpop,sadd,hset,zadd,mset)
#   --pipelines LIST   pipeline depths (default 1,16)
#   --requests P1,P16  redis-benchmark -n at P1 and at deeper pipelines
#                      (default 200000,1000000; quick 20000,100000)
#   --clients N        redis-benchmark -c (default 50)
#   --latency-keys N   keys loaded during the latency probe (default 10000000)
#   --latency-redis    also probe redis-server while it loads (reference)
#   --server-cpus L    CPUs of the one-core servers (default 0)
#   --bench-cpus L     CPUs of redis-benchmark and the loaders (default 1)
#   --probe PATH       latency_probe binary (default: build/benchmarks/latency_probe
#                      next to the server, else compiled with c++ into a temp dir)
#   --results FILE     also keep the raw results (TSV) in FILE
#   --report FILE      only print the report of a results file kept earlier
#
# The report (Markdown tables and PASS/FAIL lines of the targets) goes to
# standard output, progress to standard error. Every server runs on a free
# port with no persistence and is stopped at the end. Not part of the test
# suite: see docs/performance.md for the methodology.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DISTCACHE="$REPO_ROOT/build/distcache-server"
REDIS=/usr/bin/redis-server
QUICK=0
ONLY=""
REPEAT=""
TESTS="set,get,incr,lpush,lpop,sadd,hset,zadd,mset"
PIPELINES="1,16"
REQUESTS=""
CLIENTS=50
LATENCY_KEYS=""
LATENCY_REDIS=0
SERVER_CPUS=0
BENCH_CPUS=1
PROBE=""
RESULTS_COPY=""
ALL_SECTIONS="throughput threads hop memory collections latency idle"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --distcache) DISTCACHE="$2"; shift 2 ;;
    --redis) REDIS="$2"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --only) ONLY="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --pipelines) PIPELINES="$2"; shift 2 ;;
    --requests) REQUESTS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --latency-keys) LATENCY_KEYS="$2"; shift 2 ;;
    --latency-redis) LATENCY_REDIS=1; shift ;;
    --server-cpus) SERVER_CPUS="$2"; shift 2 ;;
    --bench-cpus) BENCH_CPUS="$2"; shift 2 ;;
    --probe) PROBE="$2"; shift 2 ;;
    --results) RESULTS_COPY="$2"; shift 2 ;;
    --report) exec "$PYTHON" "$BENCH_LIB_DIR/report.py" "$2" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

SECTIONS=${ONLY//,/ }
SECTIONS=${SECTIONS:-$ALL_SECTIONS}
for s in $SECTIONS; do
  [[ " $ALL_SECTIONS " == *" $s "* ]] || { echo "bench.sh: unknown section $s (sections: $ALL_SECTIONS)" >&2; exit 2; }
done
wants() { [[ " $SECTIONS " == *" $1 "* ]]; }

if (( QUICK )); then
  REQUESTS=${REQUESTS:-20000,100000}
  MEMORY_KEYS=100000 COLLECTION_KEYS=1000 LATENCY_KEYS=${LATENCY_KEYS:-1000000}
  IDLE_WAIT=1 IDLE_SECONDS=3 REPEAT=${REPEAT:-1}
else
  REQUESTS=${REQUESTS:-200000,1000000}
  MEMORY_KEYS=1000000 COLLECTION_KEYS=10000 LATENCY_KEYS=${LATENCY_KEYS:-10000000}
  IDLE_WAIT=5 IDLE_SECONDS=10 REPEAT=${REPEAT:-3}
fi
REQUESTS_P1=${REQUESTS%%,*}
REQUESTS_PN=${REQUESTS##*,}
COLLECTION_ELEMENTS=100
THREADS2_CPUS=0,1   # distcache --threads 2 and its redis-benchmark share both cores

require_tools redis-benchmark redis-cli taskset
[[ -x "$DISTCACHE" ]] || die "distcache binary not found: $DISTCACHE (build it, or pass --distcache)"
[[ -x "$REDIS" ]] || die "redis-server not found: $REDIS"

bench_init bench
RESULTS="$WORKDIR/results.tsv"
: >"$RESULTS"
record() { local IFS=$'\t'; echo "$*" >>"$RESULTS"; }
requests_for() { if (( $1 == 1 )); then echo "$REQUESTS_P1"; else echo "$REQUESTS_PN"; fi; }

SECTION_NAME="" SECTION_LOAD="" SECTION_START=0
section_begin() {
  SECTION_NAME="$1" SECTION_LOAD=$(load_average) SECTION_START=$SECONDS
  note "== $1 (load average $SECTION_LOAD)"
}
section_end() { record section "$SECTION_NAME" "$SECTION_LOAD" "$(load_average)" $((SECONDS - SECTION_START)); }

# ---------------------------------------------------------------- meta data
RUN_START=$SECONDS
commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null | grep -vc '^??' || true)
record meta date "$(date '+%Y-%m-%d %H:%M:%S %Z')"
record meta mode "$( ((QUICK)) && echo quick || echo full ); sections: $SECTIONS; repeat $REPEAT; requests P1 $REQUESTS_P1, deeper $REQUESTS_PN"
record meta distcache "$DISTCACHE (built $(date -r "$DISTCACHE" '+%Y-%m-%d %H:%M'))"
record meta commit "$commit of $REPO_ROOT ($dirty files modified in the working tree)"
record meta redis "$("$REDIS" --version | awk '{ print $3, $6 }')"
record meta machine "$(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
record meta load_start "$(load_average) ($(uptime | sed 's/^ *//'))"

# -------------------------------------------------------------- throughput
# Per test: FLUSHALL, then what the test needs to be meaningful on its own
# (GET reads the 100k keys redis-benchmark's random GETs address; LPOP pops
# from a list holding one element per request), then the timed run with the
# server's CPU time read before and after.
prepare_test() {   # port test requests
  redis-cli -p "$1" FLUSHALL >/dev/null
  case "$2" in
    get) pipe_load "$1" "$BENCH_CPUS" strings 100000 --pad 12 ;;
    lpop) pipe_load "$1" "$BENCH_CPUS" list "$3" --key mylist ;;
  esac
}

measure_test() {   # table label bench-cpus test pipeline
  local table="$1" label="$2" cpus="$3" t="$4" p="$5"
  local port=${SRV_PORT[$label]} pid=${SRV_PID[$label]} n; n=$(requests_for "$p")
  prepare_test "$port" "$t" "$n"
  local ns0 ticks0 ns1 ticks1
  ns0=$(cpu_ns "$pid"); ticks0=$(cpu_ticks "$pid")
  run_benchmark "$port" "$cpus" -c "$CLIENTS" -n "$n" -r 100000 -d 16 -P "$p" -t "$t"
  ns1=$(cpu_ns "$pid"); ticks1=$(cpu_ticks "$pid")
  local cpu_us; cpu_us=$(awk -v d=$((ns1 - ns0)) -v n="$n" 'BEGIN { printf "%.4f", d / 1000 / n }')
  # Cross-check the schedstat time against utime+stime (10 ms ticks).
  awk -v ns=$((ns1 - ns0)) -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" \
    'BEGIN { tk = t * 1e9 / hz; d = ns - tk; if (d < 0) d = -d; exit !(d > 0.05 * tk + 2e9 / hz) }' \
    && note "   warning: schedstat CPU $((ns1 - ns0)) ns vs utime+stime $((ticks1 - ticks0)) ticks"
  record tput "$table" "$label" "$t" "$p" "$n" "$BENCH_RPS" "$cpu_us" "$BENCH_P50" "$BENCH_P99"
  printf '%s:    %-10s %-6s -P %-3s %12s ops/s %9s us/req  p50 %s  p99 %s ms\n' "$BENCH_NAME" "$label" "$t" "$p" \
    "$BENCH_RPS" "$cpu_us" "$BENCH_P50" "$BENCH_P99" >&2
}

throughput_table() {   # table labelA cpusA labelB cpusB
  local table="$1" a="$2" ca="$3" b="$4" cb="$5" p t rep
  local turn=0
  for p in ${PIPELINES//,/ }; do
    for t in ${TESTS//,/ }; do
      for ((rep = 0; rep < REPEAT; rep++)); do
        if (( turn++ % 2 == 0 )); then
          measure_test "$table" "$a" "$ca" "$t" "$p"; measure_test "$table" "$b" "$cb" "$t" "$p"
        else
          measure_test "$table" "$b" "$cb" "$t" "$p"; measure_test "$table" "$a" "$ca" "$t" "$p"
        fi
      done
    done
  done
}

if wants throughput; then
  section_begin throughput
  start_server redis "$SERVER_CPUS" "$REDIS"
  start_server distcache "$SERVER_CPUS" "$DISTCACHE" --threads 1
  throughput_table main redis "$BENCH_CPUS" distcache "$BENCH_CPUS"
  stop_server redis; stop_server distcache
  section_end
fi

if wants threads; then
  section_begin threads
  start_server t1 "$SERVER_CPUS" "$DISTCACHE" --threads 1
  start_server t2 "$THREADS2_CPUS" "$DISTCACHE" --threads 2
  throughput_table threads t1 "$BENCH_CPUS" t2 "$THREADS2_CPUS"
  stop_server t1; stop_server t2
  section_end
fi

# --------------------------------------------------------------------- hop
# Shard of a key = CRC16(key) % threads (no hash tags in these keys).
shard_key() {   # shard threads -> a key "hop:N" owned by that shard
  "$PYTHON" - "$1" "$2" <<'EOF'
import sys
def crc16(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc
want, threads = int(sys.argv[1]), int(sys.argv[2])
i = 0
while (crc16(f"hop:{i}".encode()) % 16384) % threads != want:
    i += 1
print(f"hop:{i}")
EOF
}

thread_stats() {   # pid -> "ns:switches ..." per live thread, by tid
  local t out=""
  for t in $(ls /proc/"$1"/task | sort -n); do
    out+="$(awk '{ print $1 }' "/proc/$1/task/$t/schedstat" 2>/dev/null || echo 0):"
    out+="$(awk '/^(non)?voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }' "/proc/$1/task/$t/status" 2>/dev/null) "
  done
  echo "${out% }"
}

if wants hop; then
  section_begin hop
  start_server hop "$THREADS2_CPUS" "$DISTCACHE" --threads 2
  port=${SRV_PORT[hop]} pid=${SRV_PID[hop]}
  keys=("$(shard_key 0 2)" "$(shard_key 1 2)")
  for p in ${PIPELINES//,/ }; do
    n=$(( $(requests_for "$p") / 4 ))   # one client: a quarter of the requests
    # Each run opens three connections (SET, redis-benchmark's CONFIG GET and
    # its client), so with two threads consecutive runs usually land on
    # alternate threads: running each key twice in a row measures it from both.
    for ((attempt = 0; attempt < REPEAT; attempt++)); do
      for shard in 0 0 1 1; do
        key=${keys[$shard]}
        redis-cli -p "$port" SET "$key" 0123456789abcdef >/dev/null
        read -ra before <<<"$(thread_stats "$pid")"; ns0=$(cpu_ns "$pid")
        run_benchmark "$port" "$THREADS2_CPUS" -c 1 -n "$n" -P "$p" GET "$key"
        read -ra after <<<"$(thread_stats "$pid")"; ns1=$(cpu_ns "$pid")
        # Per thread: CPU share and wake-ups (context switches) per request.
        # The connection's thread wakes for every batch it reads; the other
        # shard thread wakes only for its cron (10/s), unless the GETs are
        # sent to it: then it wakes for (nearly) every one. More than one
        # thread with over max(200, n/64) wake-ups means the GETs hopped.
        read -r placement breakdown < <(
          for i in "${!after[@]}"; do
            b=${before[i]:-0:0}
            echo "$(( ${after[i]%%:*} - ${b%%:*} )) $(( ${after[i]##*:} - ${b##*:} ))"
          done | awk -v n="$n" '
          { d[NR] = $1; w[NR] = $2; s += $1 }
          END { busy = 0; cpu = ""; wake = ""; lim = n / 64; if (lim < 200) lim = 200
                for (i = 1; i <= NR; i++) {
                  if (w[i] > lim) busy++
                  cpu = cpu (i > 1 ? "/" : "") sprintf("%.0f%%", s > 0 ? 100 * d[i] / s : 0)
                  wake = wake (i > 1 ? "/" : "") sprintf("%.2f", w[i] / n) }
                print (busy > 1 ? "other" : "own"), "CPU " cpu ", wake-ups/req " wake }')
        cpu_us=$(awk -v d=$((ns1 - ns0)) -v n="$n" 'BEGIN { printf "%.4f", d / 1000 / n }')
        record hop "$p" "$key" "$shard" "$placement" "$n" "$BENCH_RPS" "$cpu_us" "$BENCH_P50" "$BENCH_P99" "$breakdown"
        note "   GET $key (shard $shard) -P $p: $placement thread, $BENCH_RPS ops/s, $cpu_us us/req, $breakdown (main/thread/thread)"
      done
    done
  done
  stop_server hop
  section_end
fi

# ------------------------------------------------------------------ memory
# A fresh server per data set: RSS of the empty server, load, RSS again.
measure_memory() {   # kind count key-for-encoding gen-args...
  local kind="$1" count="$2" enc_key="$3"; shift 3
  local label
  for label in redis distcache; do
    if [[ $label == redis ]]; then start_server mem "$SERVER_CPUS" "$REDIS"
    else start_server mem "$SERVER_CPUS" "$DISTCACHE" --threads 1; fi
    local port=${SRV_PORT[mem]} pid=${SRV_PID[mem]}
    sleep 0.5
    local rss0 used0 rss1 used1 enc
    rss0=$(rss_kb "$pid"); used0=$(info_field "$port" used_memory)
    pipe_load "$port" "$BENCH_CPUS" "$@"
    sleep 1
    rss1=$(rss_kb "$pid"); used1=$(info_field "$port" used_memory)
    enc=$(redis-cli -p "$port" OBJECT ENCODING "$enc_key" 2>&1 | tr -d '\r' | tr ' \t' '__')
    local keys; keys=$(redis-cli -p "$port" DBSIZE)
    record mem "$kind" "$label" "$count" "$rss0" "$rss1" "${used0:-0}" "${used1:-0}" "$enc"
    note "   $kind $label: $keys keys, RSS $rss0 -> $rss1 kB, used_memory $used0 -> $used1, encoding $enc"
    stop_server mem
  done
}

if wants memory; then
  section_begin memory
  measure_memory strings "$MEMORY_KEYS" key:0 strings "$MEMORY_KEYS"
  section_end
fi

if wants collections; then
  section_begin collections
  n=$((COLLECTION_KEYS * COLLECTION_ELEMENTS))
  measure_memory hashes "$n" h:0 hashes "$COLLECTION_KEYS" "$COLLECTION_ELEMENTS"
  measure_memory sets "$n" s:0 sets "$COLLECTION_KEYS" "$COLLECTION_ELEMENTS"
  measure_memory zsets "$n" z:0 zsets "$COLLECTION_KEYS" "$COLLECTION_ELEMENTS"
  section_end
fi

# ----------------------------------------------------------------- latency
find_probe() {
  if [[ -n "$PROBE" ]]; then [[ -x "$PROBE" ]] || die "latency probe not found: $PROBE"; return; fi
  local candidate
  for candidate in "$(dirname "$DISTCACHE")/benchmarks/latency_probe" "$REPO_ROOT/build/benchmarks/latency_probe"; do
    if [[ -x "$candidate" && "$candidate" -nt "$BENCH_DIR/latency_probe.cpp" ]]; then PROBE=$candidate; return; fi
  done
  PROBE="$WORKDIR/latency_probe"
  note "   compiling $BENCH_DIR/latency_probe.cpp"
  c++ -std=c++20 -O2 -o "$PROBE" "$BENCH_DIR/latency_probe.cpp" || die "cannot compile latency_probe"
}

record_probe() {   # server phase keys load-seconds probe-output-file
  local line longest
  line=$(grep '^probe ' "$5") || { cat "$5" >&2; die "latency_probe printed no summary"; }
  longest=$(grep '^# .*longest:' "$5" | sed 's/.*longest: *//' | cut -d' ' -f1-5)
  # probe samples= seconds= min_us= p50_us= p99_us= p999_us= max_us= max_at_s= over_1ms= over_10ms=
  local -A v=()
  local kv
  for kv in ${line#probe }; do v[${kv%%=*}]=${kv#*=}; done
  record lat "$1" "$2" "$3" "$4" "${v[samples]}" "${v[p50_us]}" "${v[p99_us]}" "${v[p999_us]}" "${v[max_us]}" \
    "${v[max_at_s]}" "${v[over_1ms]}" "${v[over_10ms]}" "$longest"
  note "   $1 $2: ${line#probe }"
}

# Three phases per server: the prober alone (its own jitter and the machine's),
# then while N new keys load (the table grows from 0 to N), then while the same
# N keys are loaded again (overwrites: the same work without growth). A pause
# in the second phase only is the table's growth.
probe_during_load() {   # label phase port
  local label="$1" phase="$2" port="$3"
  taskset -c "$BENCH_CPUS" "$PROBE" --port "$port" >"$WORKDIR/probe-$phase.out" 2>&1 &
  local probe_pid=$! load_start load_s
  sleep 0.5
  load_start=$(date +%s.%N)
  pipe_file "$port" "$BENCH_CPUS" "$LATENCY_FILE"
  load_s=$(awk -v a="$load_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  sleep 0.5
  kill -INT "$probe_pid"
  wait "$probe_pid" || { cat "$WORKDIR/probe-$phase.out" >&2; die "latency_probe failed"; }
  record_probe "$label" "$phase" "$LATENCY_KEYS" "$load_s" "$WORKDIR/probe-$phase.out"
}

if wants latency; then
  section_begin latency
  find_probe
  # Generated before any server starts, so that only redis-cli shares the
  # prober's CPU during the measurement.
  LATENCY_FILE="$WORKDIR/latency-load.resp"
  "$PYTHON" "$BENCH_LIB_DIR/gen_load.py" strings "$LATENCY_KEYS" >"$LATENCY_FILE"
  servers=(distcache); (( LATENCY_REDIS )) && servers+=(redis)
  for label in "${servers[@]}"; do
    if [[ $label == redis ]]; then start_server lat "$SERVER_CPUS" "$REDIS"
    else start_server lat "$SERVER_CPUS" "$DISTCACHE" --threads 1; fi
    port=${SRV_PORT[lat]}
    redis-cli -p "$port" SET latency-probe 0123456789abcdef >/dev/null
    taskset -c "$BENCH_CPUS" "$PROBE" --port "$port" --duration 3 >"$WORKDIR/probe-idle.out" 2>&1 \
      || { cat "$WORKDIR/probe-idle.out" >&2; die "latency_probe failed"; }
    record_probe "$label" idle 0 0 "$WORKDIR/probe-idle.out"
    probe_during_load "$label" grow "$port"
    keys=$(redis-cli -p "$port" DBSIZE)
    (( keys == LATENCY_KEYS + 1 )) || die "expected $((LATENCY_KEYS + 1)) keys after loading, found $keys"
    probe_during_load "$label" overwrite "$port"
    stop_server lat
  done
  rm -f "$LATENCY_FILE"
  section_end
fi

# -------------------------------------------------------------------- idle
if wants idle; then
  section_begin idle
  start_server idle-d "$THREADS2_CPUS" "$DISTCACHE" --threads 2
  start_server idle-r "$SERVER_CPUS" "$REDIS"
  switches() { cat /proc/"$1"/task/*/status | awk '/^(non)?voluntary_ctxt_switches/ { s += $2 } END { print s }'; }
  idle_measure() {   # clients: CPU time and wake-ups of both servers over the same interval
    local label server threads t0 t1 secs
    local -A ns0=() ticks0=() sw0=()
    t0=$(date +%s.%N)
    for label in idle-d idle-r; do
      ns0[$label]=$(cpu_ns "${SRV_PID[$label]}"); ticks0[$label]=$(cpu_ticks "${SRV_PID[$label]}")
      sw0[$label]=$(switches "${SRV_PID[$label]}")
    done
    sleep "$IDLE_SECONDS"
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    for label in idle-d idle-r; do
      local pid=${SRV_PID[$label]} ns ticks sw
      ns=$(( $(cpu_ns "$pid") - ns0[$label] )); ticks=$(( $(cpu_ticks "$pid") - ticks0[$label] ))
      sw=$(( $(switches "$pid") - sw0[$label] ))
      if [[ $label == idle-d ]]; then server=distcache threads=2; else server=redis threads=1; fi
      record idle "$server" "$threads" "$1" "$secs" "$ns" "$ticks" "$sw"
      note "   $server, $1 idle clients, $secs s: $ns ns CPU, $sw context switches"
    done
  }
  sleep "$IDLE_WAIT"
  idle_measure 0
  # The same with 50 connected clients that send nothing.
  taskset -c "$BENCH_CPUS" redis-benchmark -p "${SRV_PORT[idle-d]}" -I -c 50 >/dev/null 2>&1 &
  idle_d_clients=$!
  taskset -c "$BENCH_CPUS" redis-benchmark -p "${SRV_PORT[idle-r]}" -I -c 50 >/dev/null 2>&1 &
  idle_r_clients=$!
  sleep "$IDLE_WAIT"
  idle_measure 50
  kill "$idle_d_clients" "$idle_r_clients" 2>/dev/null || true
  wait "$idle_d_clients" "$idle_r_clients" 2>/dev/null || true
  stop_server idle-d; stop_server idle-r
  section_end
fi

record meta load_end "$(load_average) ($(uptime | sed 's/^ *//'))"
record meta duration "$(( (SECONDS - RUN_START) / 60 )) min $(( (SECONDS - RUN_START) % 60 )) s"
[[ -z "$RESULTS_COPY" ]] || cp "$RESULTS" "$RESULTS_COPY"
"$PYTHON" "$BENCH_LIB_DIR/report.py" "$RESULTS"
