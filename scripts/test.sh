#!/usr/bin/env bash
# Runs every test: installs what is missing, configures and builds caseloop
# with tests, examples, benchmarks and Python bindings, then runs ctest (C++
# tests, golden scripts, the consumer build, the benchmark smoke pass and
# pytest, each registered as a ctest test).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/deps.sh" --test
build="${CASELOOP_BUILD_DIR:-$top/build}"
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCASELOOP_BUILD_TESTS=ON -DCASELOOP_BUILD_EXAMPLES=ON -DCASELOOP_BUILD_BENCH=ON \
  -DCASELOOP_BUILD_PYTHON=ON -DPython_EXECUTABLE=/usr/bin/python3 "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 1200
