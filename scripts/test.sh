#!/usr/bin/env bash
# Runs every test: the README's test command and CI's (.ci/run). Installs
# what is missing (scripts/deps.sh --test), then runs these stages in order;
# any failed test, crash, leak or sanitizer report fails the run.
#
#   asan   scripts/sanitize.sh address: clang with AddressSanitizer +
#          UndefinedBehaviorSanitizer + LeakSanitizer, in build-asan; builds
#          everything (library, tests, CLI and examples, benchmarks, Python
#          bindings, fuzz targets) and runs the whole ctest suite there: C++
#          tests, golden scripts, the crash torture (100 cycles), full disk,
#          corruption, bad input, fuzz corpus replays, the consumer build, the
#          benchmark smoke run, the Python tests (ASan runtime preloaded)
#   fuzz   scripts/fuzz.sh: each libFuzzer target of build-asan for
#          CASELOOP_FUZZ_SECONDS (default 25) seconds, two at a time
#   tsan   scripts/sanitize.sh thread: GCC with ThreadSanitizer, in
#          build-tsan; the library and the concurrency tests only (engine_test,
#          store_test, the crash torture at 10 cycles)
#   plain  GCC RelWithDebInfo in build/ ($CASELOOP_BUILD_DIR): everything,
#          the whole suite, uninstrumented
#
# CI runs "asan fuzz tsan" (the default). Locally:
#   CASELOOP_NO_SANITIZERS=1 scripts/test.sh     skips the sanitizer stages:
#                                                runs "plain" only (quickest)
#   CASELOOP_TEST_STAGES="plain tsan" scripts/test.sh   any stages, in order
# Extra arguments go to ctest (e.g. -R store). Parallelism: CASELOOP_JOBS
# (default nproc).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/trees.sh
source "$top/scripts/trees.sh"
bash "$top/scripts/deps.sh" --test
jobs=${CASELOOP_JOBS:-$(nproc)}
export CASELOOP_JOBS=$jobs

if [ -n "${CASELOOP_TEST_STAGES:-}" ]; then
  stages=$CASELOOP_TEST_STAGES
elif [ "${CASELOOP_NO_SANITIZERS:-0}" != 0 ]; then
  stages=plain
else
  stages="asan fuzz tsan"
fi

run_stage() {
  case "$1" in
    asan) bash "$top/scripts/sanitize.sh" address "${@:2}" ;;
    fuzz) bash "$top/scripts/fuzz.sh" "${CASELOOP_FUZZ_SECONDS:-25}" ;;
    tsan) bash "$top/scripts/sanitize.sh" thread "${@:2}" ;;
    plain)
      # (set -e does not apply inside a function called from `if`: chain.)
      local build="${CASELOOP_BUILD_DIR:-$top/build}"
      configure_tree plain "$build" >/dev/null && cmake --build "$build" -j"$jobs" &&
        (cd "$build" && ctest --output-on-failure -j"$jobs" --timeout 1200 "${@:2}")
      ;;
    *)
      echo "test.sh: unknown stage '$1' (asan, fuzz, tsan or plain)" >&2
      return 2
      ;;
  esac
}

# CPU seconds (user + system) used so far by this shell and its finished
# children, into $cpu: the stages' cost, whatever the load. (`times` must run
# in this shell, not in a $(...) subshell, to see the children.)
cpu_file=$(mktemp)
trap 'rm -f "$cpu_file"' EXIT
cpu_now() {
  times >"$cpu_file"
  cpu=$(awk '{ for (i = 1; i <= NF; ++i) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } } END { printf "%d", t }' "$cpu_file")
}

# A failed stage does not stop the later ones: one run shows every failure.
summary=()
failed=0
for stage in $stages; do
  echo "=== test.sh: stage $stage"
  t0=$(date +%s)
  cpu_now
  c0=$cpu
  status=ok
  run_stage "$stage" "$@" || status=FAILED
  [ "$status" = ok ] || failed=1
  cpu_now
  summary+=("$stage $status: $(($(date +%s) - t0)) s, CPU $((cpu - c0)) s;")
done
echo "test.sh: ${summary[*]} (load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
exit "$failed"
