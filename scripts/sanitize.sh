#!/usr/bin/env bash
# Builds caseloop with sanitizers and runs the tests under them (CI runs both
# through scripts/test.sh; the trees are described in scripts/trees.sh).
#
#   scripts/sanitize.sh address|thread [extra ctest arguments]
#
#   address  build-asan (clang, ASan + UBSan + LeakSanitizer, libFuzzer
#            coverage): builds everything and runs the whole ctest suite —
#            C++ tests, golden scripts, reliability tests (the crash torture at
#            CASELOOP_TORTURE_CYCLES, default 100), fuzz corpus replays,
#            examples, the consumer build, the benchmark smoke run — then the
#            Python tests (ctest -R '^python') with the ASan runtime preloaded
#            into /usr/bin/python3, leak checks off for the interpreter (it
#            keeps its own objects to the end), every other check on.
#   thread   build-tsan (GCC, ThreadSanitizer): builds the library and the
#            concurrency tests only and runs them: engine_test (its
#            concurrency_test cases included), store_test (group commit,
#            crash tests) and the crash torture at CASELOOP_TORTURE_CYCLES
#            (default here 10). Races TSan reports inside the uninstrumented
#            librocksdb are suppressed (tests/torture/tsan.supp).
#
# Any sanitizer report fails its test (halt_on_error, abort_on_error), and a
# failed test fails the script. Build parallelism: CASELOOP_JOBS (default
# nproc); ctest parallelism: the same. Build directory: CASELOOP_SANITIZE_DIR.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/trees.sh
source "$top/scripts/trees.sh"
kind=${1:-address}
shift || true
jobs=${CASELOOP_JOBS:-$(nproc)}

# Reports go to stderr with a stack; the first one ends the process.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# history_size: longer stacks of the earlier access in a race report.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$top/tests/torture/tsan.supp}

start=$(date +%s)
case "$kind" in
  address)
    dir=${CASELOOP_SANITIZE_DIR:-$top/build-asan}
    export CASELOOP_TORTURE_CYCLES=${CASELOOP_TORTURE_CYCLES:-100}
    configure_tree asan "$dir" >/dev/null
    ninja -C "$dir" -j"$jobs"
    built=$(date +%s)
    cd "$dir"
    ctest --output-on-failure -j"$jobs" --timeout 1200 -E '^python' "$@"
    # Python loads the instrumented _caseloop into an uninstrumented
    # interpreter: the ASan runtime must be loaded first.
    LD_PRELOAD=$(asan_runtime) ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
      ctest --output-on-failure -j"$jobs" --timeout 1200 -R '^python' "$@"
    ;;
  thread)
    dir=${CASELOOP_SANITIZE_DIR:-$top/build-tsan}
    export CASELOOP_TORTURE_CYCLES=${CASELOOP_TORTURE_CYCLES:-10}
    configure_tree tsan "$dir" >/dev/null
    ninja -C "$dir" -j"$jobs" engine_test store_test caseloop_torture
    built=$(date +%s)
    cd "$dir"
    ctest --output-on-failure -j"$jobs" --timeout 1200 -R '^(engine|store|torture)$' "$@"
    ;;
  *)
    echo "usage: scripts/sanitize.sh address|thread [ctest arguments]" >&2
    exit 2
    ;;
esac
end=$(date +%s)
echo "sanitize.sh $kind: build $((built - start)) s, tests $((end - built)) s"
