#!/usr/bin/env bash
# Installs dependencies, builds, and starts distcache-server on port 6379 in
# the foreground. Extra arguments are server options, e.g.:
#   scripts/run.sh --threads 4
#   scripts/run.sh --port 7000      (a later --port overrides 6379)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/distcache-server --port 6379 "$@"
