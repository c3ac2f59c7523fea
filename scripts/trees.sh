#!/usr/bin/env bash
# The build trees of the sanitizer and fuzz runs, configured in one place so
# that scripts/test.sh (CI), scripts/sanitize.sh and scripts/fuzz.sh share
# them (a tree configured two ways would rebuild from scratch each time).
# Sourced, not run:  source scripts/trees.sh; configure_tree asan DIR [cmake args]
#
#   asan   clang; -fsanitize=address,undefined (LeakSanitizer included, UBSan
#          not recoverable) on everything, and the library instrumented for
#          libFuzzer (-fsanitize=fuzzer-no-link) so that the fuzz targets
#          (CASELOOP_FUZZ=ON, NAME_fuzz) link from the same objects as the
#          tests. Builds the tests, examples and CLI, benchmarks, Python
#          bindings and the install (consumer test): the whole ctest suite.
#   tsan   GCC (so that CI compiles the library with GCC too); -fsanitize=
#          thread. Only the library and the concurrency tests are built from
#          it (scripts/sanitize.sh thread lists them).
#   plain  GCC RelWithDebInfo, everything: the build scripts/test.sh always
#          made (build/ by default).
#
# Sanitized trees use -O1 and line tables only (-gline-tables-only / -g1):
# reports keep file:line stacks, and the build takes far less time than at
# -O2 -g. NDEBUG stays defined, as in the plain build.
configure_tree() {
  local kind=$1 dir=$2
  shift 2
  local top
  top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local common=(-S "$top" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASELOOP_BUILD_TESTS=ON
    -DCASELOOP_BUILD_EXAMPLES=ON -DPython_EXECUTABLE=/usr/bin/python3)
  case "$kind" in
    asan)
      CC=clang CXX=clang++ cmake "${common[@]}" \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
        -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" -DCASELOOP_SANITIZE=address,undefined \
        -DCASELOOP_FUZZ=ON -DCASELOOP_BUILD_BENCH=ON -DCASELOOP_BUILD_PYTHON=ON -DCASELOOP_INSTALL=ON "$@"
      ;;
    tsan)
      CC=gcc CXX=g++ cmake "${common[@]}" \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCASELOOP_SANITIZE=thread \
        -DCASELOOP_BUILD_BENCH=OFF -DCASELOOP_BUILD_PYTHON=OFF -DCASELOOP_INSTALL=OFF "$@"
      ;;
    plain)
      cmake "${common[@]}" -DCASELOOP_BUILD_BENCH=ON -DCASELOOP_BUILD_PYTHON=ON "$@"
      ;;
    *)
      echo "trees.sh: unknown tree '$kind' (asan, tsan or plain)" >&2
      return 2
      ;;
  esac
}

# The ASan runtime to preload into an uninstrumented program that loads
# instrumented code (/usr/bin/python3 importing the asan tree's _caseloop).
asan_runtime() {
  clang++ -print-file-name=libclang_rt.asan-x86_64.so
}
