#!/usr/bin/env bash
# Builds the whole tree with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DDISTCACHE_SANITIZE=ON, RelWithDebInfo at -O1) into build-asan/ and runs
# the test suite there. Every process (unit tests, fuzz replays, the servers
# the integration tests start) writes its sanitizer reports to one directory;
# the run fails if any report appears, even when the test itself passed
# (e.g. a leak reported when a server exits).
#
#   scripts/sanitize-test.sh                  # everything (about 20 min of tests on 2 cores, see README)
#   scripts/sanitize-test.sh -L unit          # extra arguments go to ctest
#   DISTCACHE_SANITIZE_BUILD_DIR=/tmp/asan scripts/sanitize-test.sh -R fuzz
#   scripts/sanitize-test.sh --tsan -L unit   # ThreadSanitizer instead (build-tsan/)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MODE=asan
if [[ "${1:-}" == "--tsan" ]]; then MODE=tsan; shift; fi

if [[ $MODE == asan ]]; then
  BUILD="${DISTCACHE_SANITIZE_BUILD_DIR:-build-asan}"
  FLAG=-DDISTCACHE_SANITIZE=ON
else
  BUILD="${DISTCACHE_SANITIZE_BUILD_DIR:-build-tsan}"
  FLAG=-DDISTCACHE_TSAN=ON
fi
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" "$FLAG" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"

REPORTS="$(mktemp -d /tmp/distcache-sanitizer-XXXXXX)"
# Sanitizer frames are several times larger: a script returning a
# self-referencing table nests ~8000 levels deep in the Lua-to-RESP conversion
# (as in Redis), which the unit tests run on the main thread (the server's
# shard threads get 64 MB stacks, server/shard_thread.cpp).
ulimit -s 65536 2>/dev/null || true
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPORTS/ubsan"
export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:log_path=$REPORTS/tsan"
# Servers started by the integration tests are slower under sanitizers: give
# RSS checks more room.
export DISTCACHE_RSS_SLACK_MB="${DISTCACHE_RSS_SLACK_MB:-256}"
export DISTCACHE_SANITIZER_BUILD=$MODE

status=0
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" --timeout 1800 "$@" || status=$?
if compgen -G "$REPORTS/*" >/dev/null; then
  echo "sanitize-test: sanitizer reports (in $REPORTS):" >&2
  for f in "$REPORTS"/*; do
    echo "---- $f" >&2
    head -60 "$f" >&2
  done
  status=1
else
  rmdir "$REPORTS"
fi
exit $status
