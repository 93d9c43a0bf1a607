#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit + integration).
# Extra arguments go to ctest, e.g.:  scripts/test.sh -L integration
#                                     scripts/test.sh -R resp_diff
# Integration tests pick free ports themselves, so they can run in parallel.
# Set DISTCACHE_LONG_TESTS=1 for the long differential runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 "$@"
