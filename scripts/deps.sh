#!/usr/bin/env bash
# Installs the Debian packages caseloop needs — only those missing, so a re-run
# is quick. Sourced by demo.sh and test.sh. Needs root (or sudo) on Debian 12.
set -euo pipefail
CASELOOP_PACKAGES=(build-essential cmake ninja-build pkg-config libboost-dev librocksdb-dev libfmt-dev
  libcereal-dev nlohmann-json3-dev libcli11-dev doctest-dev libsodium-dev libpq-dev libxlsxwriter-dev libcctz-dev)
if [[ "${1:-}" == "--test" ]]; then
  CASELOOP_PACKAGES+=(pybind11-dev python3-pybind11 python3-dev python3-pytest clang libclang-rt-14-dev
    python3-requests postgresql-15 chromium chromium-driver python3-selenium fonts-noto-cjk)
fi
missing=()
for p in "${CASELOOP_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "caseloop: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
