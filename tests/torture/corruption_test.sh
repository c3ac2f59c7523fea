#!/usr/bin/env bash
# On-disk corruption (docs/reliability.md): builds a real database with the
# demo (a few hundred cases), copies it many times, flips random bytes in one
# file of each copy — table files (SST), the write-ahead log, the MANIFEST,
# CURRENT, OPTIONS, the info LOG — and checks, for every copy:
#   * nothing crashes: `caseloop check`, queries and a read-only dump end by
#     themselves with a documented status (0, 1 or 3), never a signal;
#   * damage is reported: when the copy cannot be read back whole, `caseloop
#     check` (or the open) fails with exit status 3 and a message;
#   * no wrong data as if right: a copy that opens and reads without an error
#     reads exactly what the original holds (same records, streams and
#     projection keys, compared through caseloop_dump).
#
#   corruption_test.sh CASELOOP_BINARY CASELOOP_DUMP_BINARY [COPIES] [SEED]
set -u
bin=$1
dump=$2
copies=${3:-${CASELOOP_CORRUPTION_COPIES:-32}}
seed=${4:-${CASELOOP_CORRUPTION_SEED:-1}}
tmp=$(mktemp -d /tmp/caseloop-corruption-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# A real database: the simulated quarter, then a few scripted commands after
# it so that the newest events sit in the write-ahead log, not in tables.
base=$tmp/base
start=$(date +%s)
if ! "$bin" --db "$base" demo --cases 300 --days 20 --seed 3 --html "" >"$tmp/demo.out" 2>"$tmp/demo.err"; then
  echo "the demo failed:" >&2
  cat "$tmp/demo.err" >&2
  exit 1
fi
# The demo's Close flushed everything into tables (SST files). The newest
# events must sit in the write-ahead log only, as after a crash: a process
# runs a few commands, acknowledges them (--echo prints "ok N" once line N is
# durable) and is killed before it can close and flush.
{
  echo "at 2026-01-05T10:00"
  for i in $(seq 1 40); do
    echo "report Z$i kind=component category=0101 source=inspector grid=620102001001001 by=I1"
    echo "register Z$i by=L1"
    echo "dispatch Z$i by=D1"
  done
} >"$tmp/tail.cl"
mkfifo "$tmp/fifo"
"$bin" --db "$base" run --echo - <"$tmp/fifo" >"$tmp/tail.out" 2>"$tmp/tail.err" &
tail_pid=$!
exec 7>"$tmp/fifo"
cat "$tmp/tail.cl" >&7
lines=$(wc -l <"$tmp/tail.cl")
for _ in $(seq 1 600); do
  grep -q "^ok $lines$" "$tmp/tail.out" && break
  sleep 0.1
done
kill -9 "$tail_pid" 2>/dev/null
wait "$tail_pid" 2>/dev/null
exec 7>&-
grep -q "^ok $lines$" "$tmp/tail.out" || {
  echo "the tail script was not acknowledged:" >&2
  cat "$tmp/tail.err" >&2
  exit 1
}
# The reference dump replays the log read-only (no flush); so does every copy.
"$dump" "$base" >"$tmp/base.dump" 2>"$tmp/base.dump.err" || {
  echo "the undamaged database does not dump:" >&2
  cat "$tmp/base.dump.err" >&2
  exit 1
}
cp -a "$base" "$tmp/undamaged"
"$bin" --db "$tmp/undamaged" check >/dev/null 2>&1 || {
  echo "the undamaged database does not check clean" >&2
  exit 1
}
rm -rf "$tmp/undamaged"
events=$(head -n 1 "$tmp/base.dump" | cut -d' ' -f2)
echo "corruption: base database with $events events ($(( $(date +%s) - start )) s):"
ls -l "$base" | sed 's/^/  /'

# Kinds of damage: bytes flipped in one file of each kind; a write-ahead log
# cut short or deleted (acknowledged events gone: must be reported, never
# read back as a shorter healthy log); CURRENT deleted (must be refused
# without changing anything: docs/reliability.md bug 10); the ACKNOWLEDGED
# marker flipped.
kinds=(sst wal manifest current options sst wal info wal-truncate wal-delete current-delete ack)
files_of() {
  case $1 in
    sst) ls "$2"/*.sst 2>/dev/null ;;
    wal | wal-truncate | wal-delete) find "$2" -maxdepth 1 -name '*.log' -size +0 2>/dev/null ;;
    manifest) ls "$2"/MANIFEST-* 2>/dev/null ;;
    current | current-delete) ls "$2"/CURRENT 2>/dev/null ;;
    options) ls "$2"/OPTIONS-* 2>/dev/null ;;
    info) ls "$2"/LOG 2>/dev/null ;;
    ack) ls "$2"/ACKNOWLEDGED 2>/dev/null ;;
  esac
}

# flip FILE COUNT SEED: xor COUNT random bytes of FILE with random non-zero values.
flip() {
  "$py" - "$1" "$2" "$3" <<'EOF'
import random, sys
path, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
data = bytearray(open(path, 'rb').read())
if not data:
    sys.exit(0)
offsets = []
for _ in range(count):
    i = rng.randrange(len(data))
    data[i] ^= rng.randrange(1, 256)
    offsets.append(i)
open(path, 'wb').write(bytes(data))
print(','.join(map(str, sorted(offsets))))
EOF
}

# status WHAT RC: a documented exit status, not a signal or a timeout.
status_ok() {
  local what=$1 rc=$2 allowed=$3
  if [ "$rc" -ge 124 ]; then
    fail "$what: exit status $rc (signal or timeout)"
    return 1
  fi
  if ! [[ "|$allowed|" == *"|$rc|"* ]]; then
    fail "$what: exit status $rc, expected $allowed"
    return 1
  fi
  if grep -qE 'terminate called|AddressSanitizer|runtime error:|Assertion .* failed' "$tmp/err" 2>/dev/null; then
    fail "$what: crash report on stderr: $(head -c 500 "$tmp/err")"
    return 1
  fi
  return 0
}

refused_open=0
reported=0
harmless=0
n=0
for i in $(seq 1 "$copies"); do
  kind=${kinds[$(( i % ${#kinds[@]} ))]}
  mapfile -t files < <(files_of "$kind" "$base")
  [ ${#files[@]} -eq 0 ] && continue
  file=${files[$(( (seed * 7919 + i * 104729) % ${#files[@]} ))]}
  name=$(basename "$file")
  copy=$tmp/copy$i
  cp -a "$base" "$copy"
  count=$(( (i % 3 == 0) ? 32 : (i % 3 == 1) ? 1 : 4 ))
  case $kind in
    wal-truncate)
      size=$(stat -c %s "$copy/$name")
      cut=$(( (seed * 7919 + i * 104729) % size ))
      truncate -s "$cut" "$copy/$name"
      what="copy $i ($name cut from $size to $cut bytes)"
      ;;
    wal-delete | current-delete)
      rm "$copy/$name"
      what="copy $i ($name deleted)"
      ;;
    *)
      offsets=$(flip "$copy/$name" "$count" $(( seed * 1000 + i )))
      what="copy $i ($kind $name, $count byte(s) at $offsets)"
      ;;
  esac
  ls "$copy" | grep -v '^LOG' >"$tmp/files.before"
  find "$copy" -maxdepth 1 -name '*.log' -size +0 -printf '%f\n' >"$tmp/nonempty.before"
  n=$((n + 1))

  # Read-only dump first (check opens read-write).
  timeout 120 "$dump" "$copy" >"$tmp/copy.dump" 2>"$tmp/err"
  drc=$?
  status_ok "$what: dump" "$drc" "0|3" || continue
  cp "$tmp/err" "$tmp/dump.err"
  timeout 120 "$bin" --db "$copy" check >"$tmp/out" 2>"$tmp/err"
  crc=$?
  status_ok "$what: check" "$crc" "0|3" || continue
  check_text=$(cat "$tmp/out" "$tmp/err")
  timeout 120 "$bin" --db "$copy" rates from=2025-01-01 to=2027-01-01 >"$tmp/out" 2>"$tmp/err"
  status_ok "$what: rates" $? "0|1|3"
  timeout 120 "$bin" --db "$copy" history Z1 >"$tmp/out" 2>"$tmp/err"
  hrc=$?
  status_ok "$what: history" $hrc "0|1|3"
  # Damage that every open refuses (log, manifest, CURRENT, the marker)
  # leaves every data file in place through the queries' refused opens
  # (they must not "repair" it by creating a new one over it, nor turn its
  # log into tables and delete it). RocksDB rolls its MANIFEST and OPTIONS
  # at every open and starts a new log: not data. (A damaged table may be
  # found only after a successful open, which flushes the log as usual.)
  if [ "$kind" != sst ] && grep -q "cannot open the database" <<<"$check_text"; then
    gone=$(ls "$copy" | grep -v '^LOG' | comm -23 "$tmp/files.before" - | grep -v -e '^MANIFEST-' -e '^OPTIONS-' |
      while read -r f; do [ "${f%.log}" != "$f" ] && ! grep -qx "$f" "$tmp/nonempty.before" && continue; echo "$f"; done)
    [ -n "$gone" ] && fail "$what: the refused opens deleted $(echo $gone)"
  fi

  if [ "$drc" -eq 0 ] && cmp -s "$tmp/copy.dump" "$tmp/base.dump"; then
    # Reads back exactly: the damage hit bytes nothing reads (padding, a
    # comment, the info log) or was repaired from a redundant copy.
    harmless=$((harmless + 1))
    echo "  $what: reads back identical (check exit $crc)"
  elif [ "$drc" -eq 0 ]; then
    fail "$what: reads WITHOUT an error but differs from the original: $(diff "$tmp/base.dump" "$tmp/copy.dump" | head -n 4 | tr '\n' ' ')"
  elif [ "$crc" -ne 3 ]; then
    fail "$what: the dump fails ($(head -c 300 "$tmp/dump.err")) but check exits $crc"
  elif [ -z "$check_text" ]; then
    fail "$what: check exits 3 without saying why"
  else
    if grep -q "cannot open the database" <<<"$check_text"; then
      refused_open=$((refused_open + 1))
    else
      reported=$((reported + 1))
    fi
    echo "  $what: check exit 3: $(head -c 240 <<<"$check_text" | tr '\n' ' ')"
  fi
  rm -rf "$copy"
done

echo "corruption: $n damaged copies: $refused_open refused at open, $reported reported by check," \
  "$harmless read back identical; $failures failure(s); $(( $(date +%s) - start )) s"
[ "$failures" -eq 0 ]
