#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit + integration).
# Extra arguments go to ctest, e.g.:  scripts/test.sh -L integration
#                                     scripts/test.sh -R resp_diff
# Integration tests pick free ports themselves, so they can run in parallel.
# Set DISTCACHE_LONG_TESTS=1 for the long differential runs.
#   scripts/test.sh --sanitize [ctest args]   the suite under ASan+UBSan (build-asan/)
#   scripts/test.sh --fuzz [fuzz.sh args]     the libFuzzer short runs (build-fuzz/)
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
ctest --test-dir build --output-on-failure -j2 "$@"
