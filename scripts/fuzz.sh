#!/usr/bin/env bash
# Builds the fuzz targets with clang + libFuzzer + ASan/UBSan and runs each.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 30); targets: record config csv script (all by
# default). The build lives in build-fuzz (CASELOOP_FUZZ_DIR). Each target
# starts from its seed corpus tests/fuzz/corpus/NAME and the regression inputs
# tests/fuzz/regressions/NAME; what it discovers goes to build-fuzz/corpus/NAME
# (kept between runs), crashers to build-fuzz/artifacts/. Any crash, leak,
# timeout or sanitizer report fails the run: turn the artifact into a
# regression (copy it to tests/fuzz/regressions/NAME/ and fix the bug).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(record config csv script)
dir=${CASELOOP_FUZZ_DIR:-$top/build-fuzz}
jobs=${CASELOOP_JOBS:-2}

CC=clang CXX=clang++ cmake -S "$top" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCASELOOP_FUZZ=ON -DCASELOOP_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" \
  -DCASELOOP_BUILD_TESTS=ON -DCASELOOP_BUILD_EXAMPLES=OFF -DCASELOOP_BUILD_BENCH=OFF \
  -DCASELOOP_BUILD_PYTHON=OFF -DCASELOOP_INSTALL=OFF >/dev/null
build_start=$(date +%s)
ninja -C "$dir" -j"$jobs" "${targets[@]/%/_fuzz}"
echo "fuzz.sh: build $(( $(date +%s) - build_start )) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$dir/artifacts"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t"
  inputs=("$dir/corpus/$t" "$top/tests/fuzz/corpus/$t")
  [ -d "$top/tests/fuzz/regressions/$t" ] && inputs+=("$top/tests/fuzz/regressions/$t")
  echo "== fuzz $t for ${seconds}s"
  if ! "$dir/bin/${t}_fuzz" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -max_len=16384 \
      -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" "${inputs[@]}" >"$dir/$t.log" 2>&1; then
    failed+=("$t")
    tail -n 60 "$dir/$t.log"
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$dir/$t.log" | tail -n 2 || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (artifacts in $dir/artifacts)" >&2
  exit 1
fi
echo "fuzz.sh: ok (${targets[*]}, ${seconds}s each)"
