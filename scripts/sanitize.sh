#!/usr/bin/env bash
# Builds caseloop with sanitizers and runs the tests under them.
#
#   scripts/sanitize.sh [address|thread] [extra ctest arguments]
#
#   address  build-asan: -DCASELOOP_SANITIZE=address,undefined (ASan + UBSan +
#            LeakSanitizer); runs the whole ctest suite except what cannot run
#            instrumented (the install/consumer build, the Python tests, the
#            benchmark smoke run). The crash torture runs fewer cycles
#            (CASELOOP_TORTURE_CYCLES, default here 20).
#   thread   build-tsan: -DCASELOOP_SANITIZE=thread; runs the concurrency
#            tests: engine_test, store_test and the crash torture (20 cycles).
#
# Any sanitizer report fails the run (halt_on_error). Build parallelism:
# CASELOOP_JOBS (default 2). The build directory: CASELOOP_SANITIZE_DIR.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-address}
shift || true
jobs=${CASELOOP_JOBS:-2}

case "$kind" in
  address)
    dir=${CASELOOP_SANITIZE_DIR:-$top/build-asan}
    sanitize=address,undefined
    ;;
  thread)
    dir=${CASELOOP_SANITIZE_DIR:-$top/build-tsan}
    sanitize=thread
    ;;
  *)
    echo "usage: scripts/sanitize.sh [address|thread] [ctest arguments]" >&2
    exit 2
    ;;
esac

cmake -S "$top" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASELOOP_SANITIZE="$sanitize" \
  -DCASELOOP_BUILD_TESTS=ON -DCASELOOP_BUILD_EXAMPLES=ON -DCASELOOP_BUILD_BENCH=OFF \
  -DCASELOOP_BUILD_PYTHON=OFF -DCASELOOP_INSTALL=OFF >/dev/null

# Reports go to stderr with a stack; the first one ends the process.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# tests/torture/tsan.supp: races reported inside the uninstrumented librocksdb.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$top/tests/torture/tsan.supp}
export CASELOOP_TORTURE_CYCLES=${CASELOOP_TORTURE_CYCLES:-20}

start=$(date +%s)
if [ "$kind" = address ]; then
  ninja -C "$dir" -j"$jobs"
  built=$(date +%s)
  cd "$dir"
  ctest --output-on-failure -j"$jobs" --timeout 1800 -E '^(consumer_|python|bench)' "$@"
else
  ninja -C "$dir" -j"$jobs" engine_test store_test caseloop_torture
  built=$(date +%s)
  cd "$dir"
  ctest --output-on-failure -j1 --timeout 1800 -R '^(engine|store|torture)$' "$@"
fi
end=$(date +%s)
echo "sanitize.sh $kind: build $((built - start)) s, tests $((end - built)) s"
