#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit + integration).
# Extra arguments go to ctest, e.g.:  scripts/test.sh -L integration
#                                     scripts/test.sh -R resp_diff
# Integration tests pick free ports themselves, so they can run in parallel.
# Set DISTCACHE_LONG_TESTS=1 for the long differential runs.
#   scripts/test.sh --sanitize [ctest args]   the suite under ASan+UBSan (build-asan/)
#   scripts/test.sh --fuzz [fuzz.sh args]     the libFuzzer short runs (build-fuzz/)
# A full run (no ctest arguments) then runs the sanitizer stage,
# scripts/sanitize-ci.sh: one clang ASan+UBSan tree (build-sanitize/) for the
# unit tests, the protocol/bad-input/persistence/script/transaction
# integration tests and a short run of each fuzz target (45 s, two at a
# time; about 10 minutes cold on 2 cores). DISTCACHE_SKIP_SANITIZE=1 skips
# it for quick local runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
if [[ "${1:-}" == "--sanitize" ]]; then
  # ASan + UBSan build of everything in build-asan/ (scripts/sanitize-test.sh
  # documents the options); any sanitizer report from any process fails the run.
  shift
  exec scripts/sanitize-test.sh "$@"
fi
if [[ "${1:-}" == "--fuzz" ]]; then
  # libFuzzer targets (clang) in build-fuzz/: replay regressions, then the
  # short runs (60 s per target); see tests/fuzz/README.md.
  shift
  exec scripts/fuzz.sh --build "$@"
fi
scripts/build.sh
status=0
ctest --test-dir build --output-on-failure -j2 "$@" || status=$?
if [[ $# -eq 0 && "${DISTCACHE_SKIP_SANITIZE:-0}" != 1 ]]; then
  scripts/sanitize-ci.sh || status=1
fi
exit $status
