#!/usr/bin/env bash
# The main job: installs what is missing, builds caseloop, and runs the demo on
# an embedded RocksDB under ./caseloop-data. Arguments go to the demo.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/deps.sh"
cmake -S "$top" -B "$top/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$top/build" -j"$(nproc)"
if [[ -x "$top/build/bin/caseloop" ]]; then
  exec "$top/build/bin/caseloop" demo "$@"
else
  exec "$top/build/bin/store_demo" "$@"
fi
