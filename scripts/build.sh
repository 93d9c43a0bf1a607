#!/usr/bin/env bash
# Configures and builds distcache (Release) into build/.
# Extra arguments are passed to the configure step, e.g. -DDISTCACHE_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j"$(nproc)"
