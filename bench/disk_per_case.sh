#!/usr/bin/env bash
# Bytes on disk per case, and what an incremental backup adds (docs/operations.md, "Disk planning").
# Usage: bench/disk_per_case.sh CASELOOP [CASES] [MORE]   (defaults 20000 and 2000)
# Each case: report, register, dispatch, accept, feedback, verify (six events, with an address and a
# short Chinese description), in the district of shared/scenarios/worked.cl, 400 cases a day.
set -eu
C=$(realpath "$1")
N=${2:-20000}
M=${3:-2000}
HERE=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
gen() {
  /usr/bin/python3 - "$1" "$2" "$HERE/../shared/scenarios/worked.cl" <<'PY'
import datetime, sys
start, n, worked = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
out = [open(worked, encoding='utf-8').read().split('\n# Case 4')[0]] if start == 0 else []
routes = [('component', '0101', 'WATER'), ('event', '0102', 'STREET'), ('component', '0109', 'POWER'),
          ('event', '0301', 'BUILD')]
t0 = datetime.datetime(2025, 3, 3, 9, 0)
for i in range(start, start + n):
    kind, cat, unit = routes[i % 4]
    at = (t0 + datetime.timedelta(days=i // 400, minutes=i % 400)).strftime('%Y-%m-%dT%H:%M')
    c = f'K{i}'
    out += [f'at {at}',
            f'report {c} kind={kind} category={cat} source=inspector grid=620102001001{i % 1000:03d} by=I1 '
            f'address="七里河区敦煌路" desc="井盖破损，位于路口东侧 {i}"',
            f'register {c} by=L1', f'dispatch {c} by=D1', f'accept {c} by={unit}',
            f'feedback {c} note="已处理完毕" by={unit}', f'verify {c} result=pass by=I1']
print('\n'.join(out))
PY
}
gen 0 "$N" > a.cl
gen "$N" "$M" > b.cl
"$C" --db db --durability buffered run a.cl
echo "before an open (WAL not yet in tables): $(du -sb db | cut -f1) bytes"
"$C" --db db run /dev/null  # an open turns the recovered write-ahead log into table files
db=$(du -sb db | cut -f1)
echo "database, $N cases: $db bytes = $((db / N)) bytes per case"
"$C" --db db backup bk >/dev/null
bk1=$(du -sb bk | cut -f1)
echo "first backup: $bk1 bytes = $((bk1 / N)) bytes per case"
"$C" --db db --durability buffered run b.cl
"$C" --db db backup bk >/dev/null
bk2=$(du -sb bk | cut -f1)
echo "next backup after $M more cases: +$((bk2 - bk1)) bytes = $(((bk2 - bk1) / M)) bytes per new case"
