#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, the asan tree of
# scripts/trees.sh, shared with scripts/sanitize.sh address) and runs each.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 30); targets: record config csv script http (all by
# default); CASELOOP_JOBS targets run at once (default nproc). The build lives
# in build-asan (CASELOOP_FUZZ_DIR). Each target starts from its seed corpus
# tests/fuzz/corpus/NAME and the regression inputs tests/fuzz/regressions/NAME
# (the script target also from the golden scripts, tests/script/golden);
# what it discovers goes to DIR/corpus/NAME (kept between runs), crashers to
# DIR/artifacts/. Any crash, leak, timeout, out-of-memory or sanitizer report
# fails the run: turn the artifact into a regression (copy it to
# tests/fuzz/regressions/NAME/ and fix the bug).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/trees.sh
source "$top/scripts/trees.sh"
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(record config csv script http)
dir=${CASELOOP_FUZZ_DIR:-$top/build-asan}
jobs=${CASELOOP_JOBS:-$(nproc)}

configure_tree asan "$dir" >/dev/null
build_start=$(date +%s)
ninja -C "$dir" -j"$jobs" "${targets[@]/%/_fuzz}"
echo "fuzz.sh: build $(($(date +%s) - build_start)) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$dir/artifacts"

# run_target NAME: one libFuzzer run; its output in DIR/NAME.log, its exit
# status in DIR/NAME.rc.
run_target() {
  local t=$1
  mkdir -p "$dir/corpus/$t"
  local inputs=("$dir/corpus/$t" "$top/tests/fuzz/corpus/$t")
  [ -d "$top/tests/fuzz/regressions/$t" ] && inputs+=("$top/tests/fuzz/regressions/$t")
  # The golden scripts seed the script target where they stand (no copies).
  [ "$t" = script ] && inputs+=("$top/tests/script/golden")
  local rc=0
  "$dir/bin/${t}_fuzz" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" "${inputs[@]}" >"$dir/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$dir/$t.rc"
}

start=$(date +%s)
pids=()
for t in "${targets[@]}"; do
  echo "== fuzz $t for ${seconds}s"
  run_target "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p"; done

failed=()
total=0
for t in "${targets[@]}"; do
  rc=$(cat "$dir/$t.rc")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$t.log" | tail -n 1)
  echo "fuzz $t: exit $rc, ${runs:-?} executions, corpus $(find "$dir/corpus/$t" -type f | wc -l) new files"
  total=$((total + ${runs:-0}))
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    tail -n 60 "$dir/$t.log"
  fi
done
echo "fuzz.sh: $total executions in $(($(date +%s) - start)) s (${seconds}s per target, $jobs at once)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (artifacts in $dir/artifacts)" >&2
  exit 1
fi
echo "fuzz.sh: ok (${targets[*]})"
