#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, test and benchmark
# distcache. Does nothing (and needs no network) when they are all installed.
# Runs apt-get as root, through sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ccache ninja-build  # Ninja: the sanitizer tree (scripts/sanitize-ci.sh)
  libboost-dev libboost-program-options-dev libfmt-dev catch2
  liblzf-dev liblua5.1-0-dev lua-cjson-dev lua-bitop-dev
  redis-server redis-tools python3-redis python3-rq
  prometheus-redis-exporter
  nodejs
  clang libclang-rt-dev  # libFuzzer + sanitizer runtimes for the fuzz targets (scripts/fuzz.sh)
)
# npm (for the BullMQ test) ships inside NodeSource's nodejs package; Debian's
# nodejs needs Debian's npm package beside it.
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(npm)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo)
else
  echo "install-deps: missing packages: ${missing[*]}; run as root or install sudo" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive

# The tests start their own redis-server processes; keep the package from
# starting the system-wide redis-server service (port 6379, which
# scripts/run.sh uses) during installation. policy-rc.d is only added when
# none exists, and removed again afterwards.
POLICY=/usr/sbin/policy-rc.d
if [[ ! -e $POLICY ]]; then
  "${SUDO[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $POLICY && chmod 755 $POLICY"
  trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
fi

"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
