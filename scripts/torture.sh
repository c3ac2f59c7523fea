#!/usr/bin/env bash
# Crash torture on demand (docs/reliability.md).
#
#   scripts/torture.sh [CYCLES] [SEED]     (default 1000 cycles, a random seed)
#
# Builds caseloop_torture and caseloop_full_disk in $CASELOOP_BUILD_DIR
# (default build), runs CYCLES kill-and-check cycles in a fresh directory
# under /tmp, then the full-disk test. Extra options for caseloop_torture go
# in CASELOOP_TORTURE_ARGS (e.g. "--threads 6 --max-ms 2000").
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cycles=${1:-1000}
seed=${2:-$(( (RANDOM << 15) | RANDOM ))}
build=${CASELOOP_BUILD_DIR:-$top/build}
[ -f "$build/build.ninja" ] || cmake -S "$top" -B "$build" -G Ninja -DCASELOOP_BUILD_TESTS=ON >/dev/null
ninja -C "$build" -j"${CASELOOP_JOBS:-2}" caseloop_torture caseloop_full_disk
dir=$(mktemp -d /tmp/caseloop-torture-XXXXXX)
trap 'rm -rf "$dir"' EXIT
start=$(date +%s)
# shellcheck disable=SC2086
"$build/bin/caseloop_torture" --cycles "$cycles" --dir "$dir/db" --seed "$seed" --quiet ${CASELOOP_TORTURE_ARGS:-}
echo "torture.sh: $cycles cycles in $(( $(date +%s) - start )) s (seed $seed)"
rc=0
"$build/bin/caseloop_full_disk" || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then exit "$rc"; fi
