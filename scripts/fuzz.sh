#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz (see tests/fuzz/README.md).
#
#   scripts/fuzz.sh                      # build (build-fuzz/), then 60 s per target (the CI short form)
#   scripts/fuzz.sh --seconds 10 rdb     # one target, 10 s
#   scripts/fuzz.sh --long               # 1 hour per target, corpus kept in ~/.cache/distcache-fuzz
#   scripts/fuzz.sh --long --seconds 28800 --jobs 2 commands   # a night on one target, 2 processes
#   scripts/fuzz.sh --replay             # only replay the seed corpora and regression inputs
#
# Options:
#   --build-dir DIR  the -DDISTCACHE_FUZZ=ON build tree (default: build-fuzz/ in the
#                    repository, configured and built with clang when --build is given
#                    or when it does not exist yet)
#   --build          (re)configure and build the fuzz targets first
#   --seconds N      fuzzing time per target (default 60; --long: 3600)
#   --long           keep a growing corpus per target in $DISTCACHE_FUZZ_CORPUS
#                    (default ~/.cache/distcache-fuzz/<target>) instead of a scratch copy
#   --jobs N         parallel fuzzing processes per target (default 1)
#   --replay         replay the inputs only, no fuzzing
# Targets: resp_parser rdb aof restore commands (default: all).
#
# Each target first replays tests/fuzz/corpus/<target> and
# tests/fuzz/regressions/<target>; then fuzzes from the seed corpus. A crash
# leaves its input in $DISTCACHE_FUZZ_ARTIFACTS (default /tmp/distcache-fuzz-artifacts)
# and the script exits non-zero: fix the bug, then copy the input into
# tests/fuzz/regressions/<target>/ so that every build's ctest replays it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$ROOT/build-fuzz"
SECONDS_PER_TARGET=""
LONG=0
JOBS=1
REPLAY_ONLY=0
DO_BUILD=0
TARGETS=()
ALL_TARGETS=(resp_parser rdb aof restore commands)

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --build) DO_BUILD=1; shift ;;
    --seconds) SECONDS_PER_TARGET="$2"; shift 2 ;;
    --long) LONG=1; shift ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --replay) REPLAY_ONLY=1; shift ;;
    -h|--help) sed -n '2,28p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=("${ALL_TARGETS[@]}")
if [[ -z "$SECONDS_PER_TARGET" ]]; then
  if [[ $LONG -eq 1 ]]; then SECONDS_PER_TARGET=3600; else SECONDS_PER_TARGET=60; fi
fi

if [[ $DO_BUILD -eq 1 || ! -d "$BUILD_DIR/fuzz" ]]; then
  command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
        -DDISTCACHE_FUZZ=ON >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${TARGETS[@]}")
fi

ARTIFACTS="${DISTCACHE_FUZZ_ARTIFACTS:-/tmp/distcache-fuzz-artifacts}"
mkdir -p "$ARTIFACTS"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
for t in "${TARGETS[@]}"; do
  bin="$BUILD_DIR/fuzz/fuzz_$t"
  [[ -x "$bin" ]] || { echo "fuzz.sh: $bin not built" >&2; exit 1; }
  seeds="$ROOT/tests/fuzz/corpus/$t"
  regressions="$ROOT/tests/fuzz/regressions/$t"
  dict=()
  case "$t" in
    commands) dict=(-dict="$ROOT/tests/fuzz/commands.dict") ;;
    resp_parser) dict=(-dict="$ROOT/tests/fuzz/resp_parser.dict") ;;
  esac

  echo "== $t: replaying seeds and regressions"
  inputs=()
  while IFS= read -r -d '' f; do inputs+=("$f"); done < <(find "$seeds" "$regressions" -type f -print0 2>/dev/null | sort -z)
  if [[ ${#inputs[@]} -gt 0 ]]; then
    # Files (not directories) given to a libFuzzer binary are run once each.
    if ! printf '%s\0' "${inputs[@]}" | xargs -0 -n 200 "$bin" -timeout=60 -rss_limit_mb=4096 >"$ARTIFACTS/$t.replay.log" 2>&1; then
      echo "fuzz.sh: $t: a corpus or regression input fails; see $ARTIFACTS/$t.replay.log" >&2
      tail -40 "$ARTIFACTS/$t.replay.log" >&2
      status=1
      continue
    fi
  fi
  [[ $REPLAY_ONLY -eq 1 ]] && continue

  if [[ $LONG -eq 1 ]]; then
    work="${DISTCACHE_FUZZ_CORPUS:-$HOME/.cache/distcache-fuzz}/$t"
    mkdir -p "$work"
  else
    work="$(mktemp -d "/tmp/distcache-fuzz-$t.XXXXXX")"
  fi
  echo "== $t: fuzzing ${SECONDS_PER_TARGET}s (corpus $work, jobs $JOBS)"
  maxlen=65536; [[ $t == rdb ]] && maxlen=131072
  args=(-max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=4096 -max_len="$maxlen"
        -artifact_prefix="$ARTIFACTS/$t-" -print_final_stats=1 "${dict[@]}")
  if [[ $JOBS -gt 1 ]]; then args+=(-jobs="$JOBS" -workers="$JOBS"); fi
  if ! (cd "$ARTIFACTS" && "$bin" "${args[@]}" "$work" "$seeds") >"$ARTIFACTS/$t.log" 2>&1; then
    echo "fuzz.sh: $t: CRASH; input and log in $ARTIFACTS ($t.log):" >&2
    grep -E "^(==|SUMMARY|FUZZ CHECK|    #[0-9]|artifact_prefix|Test unit written)" "$ARTIFACTS/$t.log" | head -60 >&2
    echo "fuzz.sh: once fixed, copy the crash input into tests/fuzz/regressions/$t/" >&2
    status=1
  else
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)|cov: " "$ARTIFACTS/$t.log" | tail -3
  fi
  [[ $LONG -eq 1 ]] || rm -rf "$work"
done
exit $status
