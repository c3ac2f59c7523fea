#!/usr/bin/env bash
# caseloop backup / restore / calendar through the CLI (docs/operations.md):
# exit statuses, outputs and the files left behind. Usage: cli_ops.sh CASELOOP SOURCE_DIR
set -u
C=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expect CODE TEXT -- command...: exit status CODE and TEXT in stdout+stderr
  local code=$1 text=$2
  shift 3
  local out
  out=$("$@" 2>&1)
  local got=$?
  [ "$got" = "$code" ] || fail "$* exited $got, not $code: $out"
  case "$out" in *"$text"*) ;; *) fail "$*: no '$text' in: $out" ;; esac
}

"$C" --db db demo --cases 200 --days 10 --html "" >/dev/null || fail demo
echo "k1a2b3c4d5 D1 hash 2025-01-01T00:00:00Z -" > db.keys
expect 0 "backup 1 " -- "$C" --db db backup bk
expect 0 "with the keys file" -- "$C" --db db backup bk
expect 0 "backup 2 " -- "$C" backup bk --list
expect 0 "ok" -- "$C" backup bk --verify
expect 0 "restored backup 2 of bk into r1" -- "$C" restore bk r1
expect 0 "ok" -- "$C" --db r1 check
cmp -s db.keys r1.keys || fail "the keys file was not restored"
expect 0 "restored backup 1" -- "$C" restore bk r2 --id 1 --keys r2-keys
[ -f r2-keys ] || fail "--keys was not honoured"
# The restored database answers as the original.
"$C" --db db rates from=2025-01-01 to=2025-02-01 > a.json || fail rates
"$C" --db r1 rates from=2025-01-01 to=2025-02-01 > b.json || fail rates
cmp -s a.json b.json || fail "restored rates differ"
# Refusals.
expect 1 "never over a database" -- "$C" restore bk db
expect 1 "pg_dump" -- "$C" --db postgresql://localhost/x backup bk
expect 1 "no backup 9" -- "$C" restore bk r3 --id 9
expect 3 "no database at" -- "$C" --db nothing backup bk2
# A damaged backup is refused (exit 3) and nothing is restored.
f=$(find bk/shared_checksum -type f -size +1k | head -1)
[ -n "$f" ] || fail "no table file in the backup"
printf '\x00\x01\x02\x03' | dd of="$f" bs=1 seek=100 conv=notrunc status=none
expect 3 "damaged" -- "$C" backup bk --verify
expect 3 "damaged and was not restored" -- "$C" restore bk r4
[ ! -e r4 ] || fail "a damaged restore left r4 behind"

# Yearly calendars.
expect 0 "year 2025, 28 holiday(s), 5 adjusted working day(s)" -- "$C" calendar check "$SRC/examples/calendars/cn-2025.txt"
expect 0 "applied at position" -- "$C" --db db calendar apply "$SRC/examples/calendars/cn-2026.txt"
printf 'year 2025\nholiday 2025-02-08\nworkday 2025-02-08\n' > bad.txt
expect 1 "bad.txt: line 3: 2025-02-08 is both a holiday and a working day" -- "$C" calendar check bad.txt
expect 1 "line 3" -- "$C" --db db calendar apply bad.txt
printf 'year 2025\nworkday 2025-02-10\n' > monday.txt
expect 1 "is a Monday, a working day anyway" -- "$C" --db db calendar apply monday.txt
expect 2 "no database at" -- "$C" --db nothing calendar apply "$SRC/examples/calendars/cn-2025.txt"
echo "cli_ops: ok"
