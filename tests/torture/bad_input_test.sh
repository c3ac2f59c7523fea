#!/usr/bin/env bash
# Bad input through the real CLI (docs/reliability.md, "bad input sweep"):
# absurd times, huge fields, invalid UTF-8 and NUL bytes, very long lines,
# dirty CSV files, unusable database paths, a second process on a
# database directory that another one holds, and the tools (import, demo,
# report) on bad options, endless input, failed writes and full disks (§10;
# the full disks need root, to mount a tmpfs). The malformed-line messages
# themselves are pinned by tests/script/golden/errors.cl; this test checks
# what must hold for any input:
#   * the process ends by itself with a documented exit status (0, 1, 2 or 3),
#     never a signal, never an uncaught exception or a sanitizer report;
#   * a refusal says what is wrong on stderr;
#   * the database checks clean afterwards (`caseloop check` exits 0) and
#     every query's output is valid JSON, one object per line.
#
#   bad_input_test.sh CASELOOP_BINARY
set -u
bin=$1
# Sanitizer builds reserve terabytes of shadow memory up front: no
# address-space limit (ulimit -v) can hold them (§8a, §10f).
sanitized=false
grep -q AddressSanitizer "$bin" 2>/dev/null && sanitized=true
tmp=$(mktemp -d /tmp/caseloop-bad-input-XXXXXX)
holder_pid=
mounted=
cleanup() {
  [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
  [ -n "$mounted" ] && umount "$mounted"
  rm -rf "$tmp"
}
trap cleanup EXIT
py=/usr/bin/python3
failures=0
tried=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# cli WANT DESCRIPTION ARGS... — runs the CLI (stdin from $stdin_file if set),
# checks the exit status is one of WANT (e.g. "0|1"), and that nothing
# crashed. Leaves stdout/stderr in $tmp/out, $tmp/err and the status in $rc.
stdin_file=/dev/null
cli() {
  local want=$1 what=$2
  shift 2
  tried=$((tried + 1))
  timeout 300 "$bin" "$@" <"$stdin_file" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" -ge 124 ]; then
    fail "$what: exit status $rc (killed by a signal or timed out)"
    head -c 2000 "$tmp/err" >&2
  elif ! [[ "|$want|" == *"|$rc|"* ]]; then
    fail "$what: exit status $rc, expected $want"
    head -c 2000 "$tmp/err" >&2
  fi
  if grep -qE 'terminate called|AddressSanitizer|runtime error:|LeakSanitizer|ThreadSanitizer|Assertion .* failed' \
    "$tmp/err"; then
    fail "$what: crash report on stderr"
    head -c 2000 "$tmp/err" >&2
  fi
  if [ "$rc" -ne 0 ] && [ ! -s "$tmp/err" ]; then
    fail "$what: exit status $rc without a message on stderr"
  fi
}

# Every stdout line is a JSON object (queries), or "ok"/"ok N".
json_lines() {
  local what=$1
  if ! "$py" - "$tmp/out" <<'EOF'; then
import json, sys
for n, line in enumerate(open(sys.argv[1], 'rb').read().split(b'\n'), 1):
    if not line or line == b'ok' or line.startswith(b'ok '):
        continue
    try:
        json.loads(line.decode('utf-8'))
    except Exception as e:
        print(f'line {n}: not JSON ({e}): {line[:200]!r}', file=sys.stderr)
        sys.exit(1)
EOF
    fail "$what: output is not JSON lines"
  fi
}

check_clean() {
  local db=$1 what=$2
  cli 0 "$what: check" --db "$db" check
}

setup() {
  cat <<'EOF'
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
unit WATER name="水务局"
inspector I1 grid=620102
staff R1 role=receiver
staff L1 role=shift_leader
staff D1 role=dispatcher
category component 0101 name="上水井盖" limit=4wh emergency_limit=2h
category event 0102 limit=3wd
route component 0101 WATER
route event 0102 WATER
EOF
}

# ---------------------------------------------------------------------------
# 1. Absurd times: before 1970, year 9999 and beyond, impossible dates.
db=$tmp/times
{
  setup
  echo "at 1969-12-31T23:59"
  echo "at 0000-01-01"
  echo "at 2025-02-30T10:00"
  echo "at 2025-13-01"
  echo "at 10000-01-01T00:00"
  echo "at 2025-03-31T25:61"
  echo "at -2025-03-31"
  echo "at 1970-01-01T00:00Z"
  echo "report T0 kind=component category=0101 source=inspector by=I1"
  echo "register T0 by=L1"
  echo "dispatch T0 by=D1 limit=3650d"
  echo "show T0"
  echo "advance 3650d"
  echo "advance 99999999999999999999d"
  echo "advance -1h"
  echo "at 9999-12-31T16:00"
  echo "report T1 kind=component category=0101 source=inspector by=I1"
  echo "register T1 by=L1"
  echo "dispatch T1 by=D1"
  echo "dispatch T1 by=D1 limit=3650d"
  echo "show T1"
  echo "report T2 kind=event category=0102 source=inspector by=I1 emergency"
  echo "register T2 by=L1"
  echo "dispatch T2 by=D1 limit=3650wd"
  echo "show T2 at=9999-12-31T23:59:59"
  echo "at 9999-12-31T23:59:59.999999Z"
  echo "overdue"
  echo "workload"
  echo "rates from=9999-01-01 to=9999-12-31"
  echo "rates from=1970-01-01 to=9999-12-31T23:59:59"
  echo "centre from=1970-01-01 to=9999-12-31"
  echo "history T1"
} >"$tmp/times.cl"
cli "0|1" "absurd times" --db "$db" run --keep-going "$tmp/times.cl"
json_lines "absurd times"
check_clean "$db" "absurd times"
cli "0|1" "show a case with a deadline past 9999" --db "$db" show T1
json_lines "show past 9999"
cli "1|2" "query before 1970" --db "$db" show T1 at=1969-12-31T00:00
cli "0|1|2" "rates over an empty far period" --db "$db" rates from=9999-12-31 to=9999-12-31T23:59
cli "0" "rebuild after absurd times" --db "$db" rebuild
check_clean "$db" "rebuild after absurd times"

# ---------------------------------------------------------------------------
# 2. Huge fields: a 10 MB description, a 10 MB case id, a 1 MB unit name,
#    100,000 words on a line, a 20 MB line of nothing.
db=$tmp/huge
big10=$(head -c 10000000 /dev/zero | tr '\0' 'd')
big1=$(head -c 1000000 /dev/zero | tr '\0' 'u')
{
  setup
  echo "at 2025-03-31T10:00"
  echo "report H1 kind=component category=0101 source=inspector by=I1 desc=\"$big10\""
  echo "report H2 kind=component category=0101 source=inspector by=I1 address=$big1"
  echo "report H$big10 kind=component category=0101 source=inspector by=I1"
  echo "unit U$big1 name=x"
  echo "unit BIGNAME name=\"$big1\""
  echo "report H3 kind=component category=0101 source=inspector by=I1 $(printf 'x=1 %.0s' $(seq 1 20000))"
  echo "                                      "
  printf '%s\n' "$(head -c 20000000 /dev/zero | tr '\0' ' ')"
  echo "show H1"
} >"$tmp/huge.cl"
unset big10 big1
cli "0|1" "huge fields" --db "$db" run --keep-going "$tmp/huge.cl"
check_clean "$db" "huge fields"
cli "0|1" "history of a case with a 10 MB description" --db "$db" history H1
if [ "$rc" -eq 0 ]; then
  json_lines "history H1"
  # Accepted, so it must come back whole.
  "$py" - "$tmp/out" <<'EOF' || fail "the 10 MB description does not come back whole"
import json, sys
for line in open(sys.argv[1], encoding='utf-8'):
    e = json.loads(line)
    d = json.dumps(e)
    if 'ddddd' in d:
        desc = [v for v in e.get('fields', e).values() if isinstance(v, str) and v.startswith('ddd')] \
            if isinstance(e.get('fields', e), dict) else []
        if desc and len(desc[0]) != 10000000:
            print('description length', len(desc[0]), file=sys.stderr); sys.exit(1)
        sys.exit(0)
print('no description in the history', file=sys.stderr); sys.exit(1)
EOF
fi
# (one argument is at most 128 KiB on Linux)
cli "0|1|2" "a 100 KB argument to show" --db "$db" show "$(head -c 100000 /dev/zero | tr '\0' 'q')"

# ---------------------------------------------------------------------------
# 3. Invalid UTF-8, NUL bytes, control characters, CRLF, a byte-order mark.
db=$tmp/bytes
{
  printf '\xef\xbb\xbf'
  setup
  printf 'at 2025-03-31T10:00\r\n'
  printf 'report B1 kind=component category=0101 source=inspector by=I1 desc="\xff\xfe\xc3\x28 broken"\r\n'
  printf 'report B2 kind=component category=0101 source=inspector by=I1 address="\x00nul\x00"\n'
  printf 'report B\xff3 kind=component category=0101 source=inspector by=I1\n'
  printf 'report B4 kind=component category=0101 source=inspector by=I1 desc="tab\there \x01\x02\x1b[31m"\n'
  printf 'unit W\xc0\xafX name="\xed\xa0\x80 surrogate"\n'
  printf 'report B5\x00 kind=component category=0101 source=inspector by=I1\n'
  printf 'register B1 by=L1\n'
  printf 'dispatch B1 by=D1\n'
  printf 'show B1\nhistory B1\nhistory B4\n'
  printf 'show B\xff3\nhistory B\xff3\n'
  printf '\x00\x00\x00\n'
  printf '\xff\xff\xff\xff\n'
} >"$tmp/bytes.cl"
cli "0|1" "invalid UTF-8 and NUL bytes" --db "$db" run --keep-going "$tmp/bytes.cl"
json_lines "invalid UTF-8 output"
check_clean "$db" "invalid UTF-8"
cli "0|1" "history with invalid UTF-8" --db "$db" history B1
json_lines "history B1 with invalid UTF-8"
cli "0|1|2" "query with an invalid UTF-8 case id" --db "$db" show "$(printf 'B\xff3')"
json_lines "show of an invalid UTF-8 case id"
cli "0|1|2" "binary garbage as a script" --db "$db" run --keep-going /bin/true
check_clean "$db" "binary script"
stdin_file=/dev/urandom
tried=$((tried + 1))
timeout 20 "$bin" --db "$tmp/random" run --keep-going - </dev/urandom >/dev/null 2>"$tmp/err"
rc=$?
# Random bytes forever: the run is stopped by the timeout (124), never a crash.
if [ "$rc" -ne 124 ] && [ "$rc" -gt 3 ]; then fail "random bytes on stdin: exit status $rc"; fi
stdin_file=/dev/null
check_clean "$tmp/random" "after random bytes on stdin"

# ---------------------------------------------------------------------------
# 4. Dirty CSV files.
db=$tmp/csv
printf 'id,created,unit,due,closed\n' >"$tmp/ok.csv"
for i in $(seq 1 50); do
  printf 'C%d,2025-03-%02d 10:00:00,WATER,2025-03-%02d 17:00:00,\n' "$i" $((i % 28 + 1)) $((i % 28 + 1)) >>"$tmp/ok.csv"
done
{
  printf 'id,created,unit,due,closed,category\n'
  printf 'D1,1969-12-31 23:59:59,WATER,,,x\n'
  printf 'D2,9999-12-31 23:59:59,WATER,9999-12-31 23:59:59,,x\n'
  printf 'D3,2025-02-30 10:00:00,WATER,,,x\n'
  printf 'D4,2025-03-01 10:00:00,WATER,2025-02-01 10:00:00,2025-01-01 10:00:00,x\n'
  printf 'D5,2025-03-01 10:00:00,,,,\n'
  printf ',2025-03-01 10:00:00,WATER,,,\n'
  printf 'D6,2025-03-01 10:00:00,"WATER\n'
  printf 'D7,2025-03-01 10:00:00,\xff\xfe,,,\xc3\x28\n'
  printf 'D8,2025-03-01 10:00:00,WATER,,,"%s"\n' "$(head -c 3000000 /dev/zero | tr '\0' 'c')"
  printf 'D9\n'
  printf 'D10,2025-03-01 10:00:00,WATER,,,,,,,,,,,,,,,,,,,\n'
  printf '"D11"x,2025-03-01 10:00:00,WATER\n'
  printf 'D1,2025-03-02 10:00:00,OTHER,,,y\n'
  printf '%s,2025-03-01 10:00:00,WATER,,,\n' "$(head -c 100000 /dev/zero | tr '\0' 'i')"
  printf 'D12,2025-03-01 10:00:00,WATER,,,"unterminated at the end'
} >"$tmp/dirty.csv"
cli "0|1" "import a clean CSV" --db "$db" import "$tmp/ok.csv" --id id --created created --unit unit --due due --closed closed
cli "0|1" "import a dirty CSV" --db "$db" import "$tmp/dirty.csv" --id id --created created --unit unit --due due --closed closed --category category
cli "1" "import a dirty CSV --strict" --db "$db" import "$tmp/dirty.csv" --id id --created created --unit unit --strict
cli "1|2" "import with a missing column" --db "$db" import "$tmp/ok.csv" --id id --created nope --unit unit
cli "2" "import a missing file" --db "$db" import "$tmp/none.csv" --id id --created created --unit unit
cli "0|1|2" "import a binary file" --db "$db" import /bin/true --id id --created created --unit unit
cli "0|1|2" "import an empty file" --db "$db" import /dev/null --id id --created created --unit unit
cli "0|1" "import with a bad time format" --db "$db" import "$tmp/ok.csv" --id id --created created --unit unit --time-format '%Q%%%'
cli "1|2" "import with a bad --tz" --db "$db" import "$tmp/ok.csv" --id id --created created --unit unit --tz +25:00
check_clean "$db" "dirty CSV"
cli "0" "rates after dirty CSV" --db "$db" rates from=1970-01-01 to=9999-12-31
json_lines "rates after dirty CSV"

# ---------------------------------------------------------------------------
# 5. Unusable database paths.
echo "not a database" >"$tmp/afile"
cli 3 "--db is a file" --db "$tmp/afile" check
# Nothing at these paths: exit 2, no database at the path (issue 22; was exit 3 from the store).
cli 2 "--db under a file" --db "$tmp/afile/db" check
cli 2 "--db in /proc" --db /proc/self/caseloop check
mkdir -p "$tmp/garbage"
echo "MANIFEST-000999" >"$tmp/garbage/CURRENT"
head -c 4096 /dev/urandom >"$tmp/garbage/MANIFEST-000999"
cli 3 "--db with a garbage CURRENT/MANIFEST" --db "$tmp/garbage" check
mkdir -p "$tmp/emptycur"
: >"$tmp/emptycur/CURRENT"
cli 3 "--db with an empty CURRENT" --db "$tmp/emptycur" check
mkdir -p "$tmp/ro"
chmod 500 "$tmp/ro"
# (root ignores directory permissions; the case still must not crash)
cli 2 "--db in a read-only directory" --db "$tmp/ro/db" check
cli 2 "unknown command" --db "$tmp/x" frobnicate
cli 2 "run a missing script" --db "$tmp/x" run "$tmp/none.cl"
# A directory as the script: a usage error naming it (it opens as a stream
# on Linux and fails only at the first read).
cli 2 "run a directory" --db "$tmp/x" run "$tmp"
grep -qF "cannot open the script $tmp: it is a directory" "$tmp/err" ||
  fail "run a directory: stderr does not name the directory: $(head -c 300 "$tmp/err")"
cli 2 "bad durability" --db "$tmp/x" --durability sometimes check

# ---------------------------------------------------------------------------
# 6. A second process on a database another one holds: refused with a clear
#    error (exit 3), and the first one is not disturbed.
db=$tmp/shared
{
  setup
  echo "at 2025-03-31T10:00"
  echo "report S1 kind=component category=0101 source=inspector by=I1"
} >"$tmp/first.cl"
mkfifo "$tmp/fifo"
"$bin" --db "$db" run --echo - <"$tmp/fifo" >"$tmp/holder.out" 2>"$tmp/holder.err" &
holder_pid=$!
exec 7>"$tmp/fifo"
cat "$tmp/first.cl" >&7
for _ in $(seq 1 100); do
  grep -q "^ok 12$" "$tmp/holder.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "^ok 12$" "$tmp/holder.out" || fail "the first process did not acknowledge its report"
cli 3 "second writer while the first holds the database" --db "$db" run "$tmp/first.cl"
grep -qi "lock" "$tmp/err" || fail "the second writer's error does not say the database is locked: $(cat "$tmp/err")"
cli 3 "a query while another process holds the database" --db "$db" show S1
cli 3 "check while another process holds the database" --db "$db" check
echo "register S1 by=L1" >&7
echo "dispatch S1 by=D1" >&7
exec 7>&-
wait "$holder_pid"
holder_rc=$?
holder_pid=
[ "$holder_rc" -eq 0 ] || fail "the first process ended with $holder_rc: $(cat "$tmp/holder.err")"
check_clean "$db" "after the second writer was refused"
cli 0 "the first process's commands are all there" --db "$db" show S1
grep -q '"state":"dispatched"' "$tmp/out" || fail "S1 is not dispatched after the first process: $(cat "$tmp/out")"
cli 0 "history after the shared database" --db "$db" history S1
[ "$(wc -l <"$tmp/out")" -eq 3 ] || fail "S1 should have 3 events: $(cat "$tmp/out")"

# ---------------------------------------------------------------------------
# 7. Ways a whole database used to be lost (docs/reliability.md, bugs 10-13).
db=$tmp/lossy
{
  setup
  echo "at 2025-03-31T10:00"
  for i in $(seq 1 20); do
    echo "report L$i kind=component category=0101 source=inspector by=I1"
    echo "register L$i by=L1"
  done
} >"$tmp/lossy.cl"
cli 0 "the database to damage" --db "$db" run "$tmp/lossy.cl"
cli 0 "a query flushes nothing new" --db "$db" show L20
# 7a. CURRENT missing: every command refuses (exit 3) and changes nothing;
#     repair writes CURRENT back and every case is there again.
rm "$db/CURRENT"
ls "$db" | grep -v '^LOG' >"$tmp/lossy.before"
for args in "check" "show L1" "history L1" "rates from=2025-03-01 to=2025-04-01" "rebuild"; do
  # shellcheck disable=SC2086
  cli 3 "CURRENT missing: $args" --db "$db" $args
  grep -q "CURRENT file is missing" "$tmp/err" || fail "CURRENT missing: $args does not say so: $(cat "$tmp/err")"
done
cli 3 "CURRENT missing: run" --db "$db" run "$tmp/lossy.cl"
ls "$db" | grep -v '^LOG' | diff "$tmp/lossy.before" - >/dev/null ||
  fail "CURRENT missing: the database directory changed: $(ls "$db")"
cli 0 "repair a missing CURRENT" --db "$db" repair
grep -q "wrote CURRENT naming MANIFEST-" "$tmp/out" || fail "repair does not say what it did: $(cat "$tmp/out")"
check_clean "$db" "after repairing CURRENT"
cli 0 "every case after the repair" --db "$db" show L20
grep -q '"state":"registered"' "$tmp/out" || fail "L20 after the repair: $(cat "$tmp/out")"
# 7b. The write-ahead log truncated: acknowledged events are missing, and
#     every open says so until the loss is accepted.
printf 'at 2025-04-01T10:00\nreport L21 kind=component category=0101 source=inspector by=I1\n' >"$tmp/more.cl"
cli 0 "more commands" --db "$db" run "$tmp/more.cl"
for wal in "$db"/*.log; do
  [ -s "$wal" ] && truncate -s 10 "$wal"
done
cli 3 "truncated WAL: check" --db "$db" check
grep -q "acknowledged event.* missing" "$tmp/out" "$tmp/err" || fail "truncated WAL: check does not report the loss"
cli 3 "truncated WAL: show" --db "$db" show L1
cli 3 "truncated WAL: repair without --accept-loss" --db "$db" repair
cli 0 "truncated WAL: repair --accept-loss" --db "$db" repair --accept-loss
grep -q "accepted the loss of" "$tmp/out" || fail "repair --accept-loss: $(cat "$tmp/out")"
check_clean "$db" "after accepting the loss"
# 7c. An empty --db (an unset variable) is refused; nothing is written.
for args in "run $tmp/lossy.cl" "show L1" "check" "import $tmp/lossy.cl --id a --created b --unit c"; do
  # shellcheck disable=SC2086
  cd "$tmp" || exit 1
  cli 2 "empty --db: $args" --db "" $args
  cd - >/dev/null || exit 1
  grep -q -- "--db is empty" "$tmp/err" || fail "empty --db: $args: $(cat "$tmp/err")"
done
[ -e "$tmp/caseloop-data" ] && fail "empty --db: a database was created in the working directory"
cli 0 "--db :memory: is the explicit in-memory store" --db :memory: run "$tmp/lossy.cl"
# 7d. A query on a mistyped --db creates nothing and fails.
# Exit 2 (issue 22): a mistyped --db is a usage error, not a storage failure.
cli 2 "a query on a missing database" --db "$tmp/no-such-db" show L1
grep -q "no database at" "$tmp/err" || fail "query on a missing database: $(cat "$tmp/err")"
[ -e "$tmp/no-such-db" ] && fail "a query created the database directory $tmp/no-such-db"
mkdir -p "$tmp/other-files"
echo mine >"$tmp/other-files/notes.txt"
cli 1 "run into a directory of other files" --db "$tmp/other-files" run "$tmp/lossy.cl"
[ "$(ls "$tmp/other-files")" = notes.txt ] || fail "a database was created among other files"
# 7e. --echo promises durability; --durability none has none to give.
cli 2 "--echo with --durability none" --db "$tmp/none-echo" --durability none run --echo "$tmp/lossy.cl"
[ -e "$tmp/none-echo" ] && fail "--echo with --durability none opened the database"
# 7f. Queries do not leave an empty write-ahead log behind each.
for _ in $(seq 1 30); do "$bin" --db "$db" show L1 >/dev/null 2>&1; done
logs=$(ls "$db" | grep -c '\.log$')
[ "$logs" -le 2 ] || fail "30 queries left $logs .log files"

# ---------------------------------------------------------------------------
# 8. The script language against hostile input (docs/reliability.md, the
#    language's bugs of issue 14): unbounded lines, CR line endings, raw bytes
#    and huge words echoed in messages, ids that are not valid UTF-8.
# 8a. /dev/zero is one endless line: refused at once with its line number, in
#     bounded memory (it used to grow to 5.8 GB).
cli 1 "run /dev/zero" --db "$tmp/zero" run /dev/zero
grep -q "^line 1: the line is longer than 1048576 bytes" "$tmp/err" || fail "run /dev/zero: $(head -c 300 "$tmp/err")"
# The address-space limit proves the bound; sanitizer builds check the message only.
if $sanitized; then
  echo "bad_input: 8a (address-space limit) skipped: sanitizer build"
else
  tried=$((tried + 1))
  (ulimit -v 1500000 && timeout 60 "$bin" --db :memory: run /dev/zero >/dev/null 2>"$tmp/err")
  [ $? -eq 1 ] || fail "run /dev/zero within 1.5 GB of address space: $(head -c 300 "$tmp/err")"
fi
# 8b. CR-only line endings run every line (they used to run nothing after a
#     first comment line); CRLF ends one line.
db=$tmp/cr
{
  echo "# written on an old Mac"
  setup
  echo "at 2025-03-31T10:00"
  echo "report CR1 kind=component category=0101 source=inspector by=I1"
} | tr '\n' '\r' >"$tmp/cr.cl"
cli 0 "a script with CR line endings" --db "$db" run --echo "$tmp/cr.cl"
grep -q "^ok 13$" "$tmp/out" || fail "CR line endings: line 13 not acknowledged: $(cat "$tmp/out")"
cli 0 "the case of the CR script is there" --db "$db" show CR1
grep -q '"state":"reported"' "$tmp/out" || fail "CR line endings: CR1 is not reported: $(cat "$tmp/out")"
printf 'at 2025-03-31T11:00\r\nreport CR2 kind=component category=0101 source=inspector by=I1\r\ndispach CR2 by=D1\r\n' \
  >"$tmp/crlf.cl"
cli 1 "a CRLF script counts its lines once" --db "$db" run "$tmp/crlf.cl"
grep -q "^line 3: unknown command 'dispach'" "$tmp/err" || fail "CRLF line numbers: $(cat "$tmp/err")"
# 8c. Messages quote what the user wrote escaped and cut short: no raw NUL,
#     control or invalid byte, and not a 10 MB word, reaches stderr.
db=$tmp/echo
word=$(head -c 60000 /dev/zero | tr '\0' 'w')
{
  setup
  echo "at 2025-03-31T10:00"
  printf 'dispach\xff\x00\x1b[2J E1 by=D1\n'
  printf 'report E1 kind=\xfe category=0101 source=inspector by=I1\n'
  echo "frobnicate$word"
  echo "report E2 kind=component category=0101 source=inspector by=I1 desc=\"$(head -c 100000 /dev/zero | tr '\0' 'd')\""
  printf 'show E\x07\xff\n'
} >"$tmp/echo.cl"
unset word
cli 1 "messages quote escaped and short" --db "$db" run --keep-going "$tmp/echo.cl"
"$py" - "$tmp/err" <<'EOF' || fail "messages echo raw bytes or whole words: $(head -c 600 "$tmp/err" | od -c | head -20)"
import sys
data = open(sys.argv[1], 'rb').read()
lines = data.split(b'\n')
bad = [l for l in lines if any(b < 0x20 or b == 0x7f for b in l)]
if bad:
    print('raw control bytes:', bad[0][:120], file=sys.stderr); sys.exit(1)
data.decode('utf-8')  # raises on a raw invalid byte
if max(len(l) for l in lines) > 4200:
    print('a message of', max(len(l) for l in lines), 'bytes', file=sys.stderr); sys.exit(1)
need = [b"unknown command 'dispach\\xff\\x00\\x1b[2J'", b"bad kind=\\xfe", b"(60010 bytes)",
        b"is longer than 65536 bytes", b"case E\\x07\\xff not found"]
for n in need:
    if n not in data:
        print('missing', n, file=sys.stderr); sys.exit(1)
EOF
# 8d. Ids and text that are not valid UTF-8 are refused: X\xff, X\xfe and
#     X\uFFFD are no longer three cases that print alike.
db=$tmp/utf8
{
  setup
  echo "at 2025-03-31T10:00"
  printf 'report X\xff kind=component category=0101 source=inspector by=I1\n'
  printf 'report X\xfe kind=component category=0101 source=inspector by=I1\n'
  printf 'report X\xef\xbf\xbd kind=component category=0101 source=inspector by=I1\n'
  printf 'report X2 kind=component category=0101 source=inspector by=I1 desc="\xc0\xaf"\n'
  printf 'unit W\xed\xa0\x80 name=x\n'
  printf 'staff S1 role=receiver\nunit WATER2 name="caf\xe9"\n'
} >"$tmp/utf8.cl"
cli 1 "ids that are not valid UTF-8" --db "$db" run --keep-going "$tmp/utf8.cl"
[ "$(grep -c "is not valid UTF-8" "$tmp/err")" -eq 5 ] || fail "invalid UTF-8 not refused 5 times: $(cat "$tmp/err")"
cli 0 "the valid U+FFFD case" --db "$db" show "$(printf 'X\xef\xbf\xbd')"
cli 1 "no case X\\xff" --db "$db" show "$(printf 'X\xff')"
cli 1 "no case X2 with a broken description" --db "$db" show X2
check_clean "$db" "after refusing invalid UTF-8"

# ---------------------------------------------------------------------------
# 9. The store and the engine (docs/reliability.md, bugs 27-29): one range for every instant,
#    read-only media, a LOCK that is not a file, a damaged write-ahead log
#    named.
# 9a. A deadline after 9999-12-31T23:59:59Z fires; the clock stops at the end
#     of the range (9999-12-31T23:59:59.999999-14:00); a deadline past it is
#     refused.
db=$tmp/range
{
  setup
  echo "category component 0199 name=natural limit=20h"
  echo "route component 0199 WATER"
  echo "at 9999-12-31T12:00"
  echo "report R1 kind=component category=0199 source=inspector by=I1"
  echo "register R1 by=L1"
  echo "dispatch R1 by=D1"
  echo "at 10000-01-01T21:00"
} >"$tmp/range.cl"
cli 0 "a deadline in the year 10000, within the range" --db "$db" run "$tmp/range.cl"
cli 0 "history of the late case" --db "$db" history R1
grep -q '"type":"task_overdue"' "$tmp/out" || fail "the deadline 10000-01-01T08:00+08:00 did not fire: $(cat "$tmp/out")"
grep -q '10000-01-01T08:00:00+08:00' "$tmp/out" || fail "the late deadline is not in the history: $(cat "$tmp/out")"
printf 'at 10000-01-01T21:00\nadvance 1h\n' >"$tmp/range-advance.cl"
cli 1 "the clock past the end of the range" --db "$db" run "$tmp/range-advance.cl"
grep -q "after the latest instant caseloop handles" "$tmp/err" || fail "advance past the range: $(cat "$tmp/err")"
{
  echo "at 10000-01-01T10:00"
  echo "report R2 kind=component category=0101 source=inspector by=I1"
  echo "register R2 by=L1"
  echo "dispatch R2 by=D1"
} >"$tmp/range-deadline.cl"
cli 1 "a deadline past the end of the range" --db "$db" run "$tmp/range-deadline.cl"
grep -q "deadline 10000-01-03T.*after the latest instant" "$tmp/err" ||
  fail "a deadline past the range: $(cat "$tmp/err")"
check_clean "$db" "the instant range"

# 9b. A LOCK that is a directory is named as such (it was "locked by another
#     process").
db=$tmp/media
{
  setup
  echo "at 2025-04-01T10:00"
  echo "report M1 kind=component category=0101 source=inspector by=I1"
  echo "register M1 by=L1"
  echo "dispatch M1 by=D1"
} >"$tmp/media.cl"
cli 0 "a database for the media tests" --db "$db" run "$tmp/media.cl"
rm "$db/LOCK" && mkdir "$db/LOCK"
for args in "show M1" "check" "run $tmp/media.cl"; do
  # shellcheck disable=SC2086
  cli 3 "LOCK is a directory: $args" --db "$db" $args
  grep -q "$db/LOCK is a directory" "$tmp/err" || fail "LOCK is a directory: $args: $(cat "$tmp/err")"
  grep -q "locked by another process" "$tmp/err" && fail "LOCK is a directory: $args says it is locked"
done
rmdir "$db/LOCK"
# 9c/9d. Read-only media: queries and check read the database read-only;
#        commands that write say why they cannot (it was "locked by another
#        process", and nothing could be read). $1 names the media, $2 is the
#        reason the CLI must give, $3 the wrapper that runs the CLI there.
read_only_media() {
  local what=$1 reason=$2 wrapper=$3 saved_bin=$bin
  bin=$wrapper
  cli 0 "$what: show" --db "$db" show M1
  grep -q '"state":"dispatched"' "$tmp/out" || fail "$what: show M1: $(cat "$tmp/out")"
  json_lines "$what: show"
  cli 0 "$what: rates" --db "$db" rates from=2025-04-01 to=2025-05-01
  json_lines "$what: rates"
  cli 0 "$what: check" --db "$db" check
  for args in "run $tmp/media.cl" "rebuild"; do
    # shellcheck disable=SC2086
    cli 3 "$what: $args" --db "$db" $args
    grep -q "$reason" "$tmp/err" || fail "$what: $args: $(cat "$tmp/err")"
    grep -q "locked by another process" "$tmp/err" && fail "$what: $args says it is locked"
  done
  bin=$saved_bin
}
# 9c. A directory this user may not write (as root: without the capabilities
#     that let root write anywhere).
printf '#!/bin/sh\nif [ "$(id -u)" = 0 ]; then\n  exec capsh --drop=cap_dac_override,cap_dac_read_search -- -c '"'"'exec "$0" "$@"'"'"' "%s" "$@"\nfi\nexec "%s" "$@"\n' \
  "$bin" "$bin" >"$tmp/no-write.sh"
chmod +x "$tmp/no-write.sh"
chmod 555 "$db"
if [ "$(id -u)" != 0 ] || capsh --drop=cap_dac_override -- -c true 2>/dev/null; then
  read_only_media "read-only directory" "cannot be written by this process (permission denied)" "$tmp/no-write.sh"
else
  echo "bad_input: 9c skipped (capsh cannot drop capabilities here)" >&2
fi
chmod 755 "$db"
# 9d. A read-only mount (a bind mount in a private mount namespace of each
#     run; skipped where mounting is refused).
mkdir -p "$tmp/media.ro"
mount_ro="mount --make-rprivate / && mount --bind '$tmp/media' '$tmp/media.ro' && mount -o remount,bind,ro '$tmp/media.ro'"
printf '#!/bin/sh\nexec unshare -m sh -c "%s && exec \\"\\$0\\" \\"\\$@\\"" "%s" "$@"\n' "$mount_ro" "$bin" >"$tmp/ro-mount.sh"
chmod +x "$tmp/ro-mount.sh"
if unshare -m sh -c "$mount_ro" 2>/dev/null; then
  db=$tmp/media.ro
  read_only_media "read-only mount" "is on a read-only file system" "$tmp/ro-mount.sh"
  db=$tmp/media
else
  echo "bad_input: 9d skipped (mount refused here)" >&2
fi
check_clean "$db" "after the read-only media"
# 9e. A damaged write-ahead log: the error names the file (it did not).
wal=$(ls -S "$db"/*.log | head -1)
"$py" -c '
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
data[len(data) * 4 // 10] ^= 0x5A
open(path, "wb").write(data)
' "$wal"
for args in "show M1" "check"; do
  # shellcheck disable=SC2086
  cli 3 "damaged WAL: $args" --db "$db" $args
  grep -q "in the write-ahead log $wal" "$tmp/err" || fail "damaged WAL: $args does not name $wal: $(cat "$tmp/err")"
done

# ---------------------------------------------------------------------------
# 10. The tools: import, demo and report on bad input, full disks and failed
#     writes (docs/reliability.md, bugs 15-21).
# stderr holds every word of $2.. (fixed strings), else a failure.
err_has() {
  local what=$1
  shift
  local part
  for part in "$@"; do
    grep -qF -- "$part" "$tmp/err" || fail "$what: stderr lacks '$part': $(head -c 600 "$tmp/err")"
  done
}
db=$tmp/tools
printf 'id,created,unit,due,closed\nP1,12/25/2013 01:00:00 PM,WATER,,\n' >"$tmp/pm.csv"
# 10a. A 24-hour hour with AM/PM (every PM time 12 hours early) is refused.
cli 1 "import with %H and %p" --db "$db" import "$tmp/pm.csv" --id id --created created --unit unit \
  --time-format '%m/%d/%Y %H:%M:%S %p' --tz +00:00
err_has "import with %H and %p" "reads a 24-hour hour (%H) and AM/PM (%p)" "use %I (01-12) with %p"
cli 1 "import with %I and no %p" --db "$db" import "$tmp/pm.csv" --id id --created created --unit unit \
  --time-format '%m/%d/%Y %I:%M:%S' --tz +00:00
err_has "import with %I and no %p" "reads a 12-hour hour (%I) without AM/PM (%p)"
cli 1 "nothing was imported with the refused format" --db "$db" show P1
cli 0 "import with %I and %p" --db "$db" import "$tmp/pm.csv" --id id --created created --unit unit \
  --time-format '%m/%d/%Y %I:%M:%S %p' --tz +00:00
cli 0 "history of the PM case" --db "$db" history P1
# The new database took the zone of --tz (issue 22; it stayed at +08:00 and printed 21:00+08:00).
grep -q '"2013-12-25T13:00:00+00:00"' "$tmp/out" || fail "1 PM (+00:00) is not 13:00+00:00: $(head -c 300 "$tmp/out")"
cli 1 "import at another --tz than the calendar's" --db "$db" import "$tmp/pm.csv" --id id --created created \
  --unit unit --time-format '%m/%d/%Y %I:%M:%S %p' --tz -05:00
err_has "import at another --tz" "--tz -05:00 is not the zone of this database's calendar (+00:00)"
# 10b. A file none of whose rows can be imported is an error.
printf 'id,created,unit\nN1,not a time,WATER\nN2,2025-03-03 09:00:00,\n' >"$tmp/none.csv"
cli 1 "import with every row bad" --db "$db" import "$tmp/none.csv" --id id --created created --unit unit
err_has "import with every row bad" "row 2: case N1" "row 3: case N2" "none of the 2 rows could be imported"
grep -qF "skipped 2 of 2 rows" "$tmp/out" || fail "import with every row bad: no summary: $(cat "$tmp/out")"
# 10c. Unbounded input: a record without end stops at its line, in bounded
#      memory; an over-long field skips its row.
cli 1 "import /dev/zero" --db "$db" import /dev/zero --id id --created created --unit unit
err_has "import /dev/zero" "line 1: a record longer than 16777216 bytes"
{
  printf 'id,created,unit\nL1,2025-03-03 09:00:00,WATER\n'
  printf 'L2,2025-03-03 09:00:00,%s\n' "$(head -c 2000000 /dev/zero | tr '\0' 'u')"
} >"$tmp/longfield.csv"
cli 0 "import a 2 MB field" --db "$db" import "$tmp/longfield.csv" --id id --created created --unit unit
err_has "import a 2 MB field" "row 3: malformed CSV: field 3 is longer than 1048576 bytes"
# 10d. Failed writes of the results: exit 3 with the reason, never "wrote".
cli 0 "rates" --db "$db" rates from=2013-01-01 to=2014-01-01
json_lines "rates after the tools' inputs"
tried=$((tried + 1))
"$bin" --db "$db" rates from=2013-01-01 to=2014-01-01 >/dev/full 2>"$tmp/err"
rc=$?
[ "$rc" -eq 3 ] || fail "rates > /dev/full: exit status $rc, expected 3"
err_has "rates > /dev/full" "writing the output failed: No space left on device"
cli 3 "report --html /dev/full" --db "$db" report from=2013-01-01 to=2014-01-01 --html /dev/full
err_has "report --html /dev/full" "cannot write '/dev/full': No space left on device"
grep -q "^wrote" "$tmp/err" && fail "report --html /dev/full says it wrote"
[ -c /dev/full ] || fail "/dev/full is no longer a character device"
ls /dev | grep -q '^full\.' && fail "report --html /dev/full left $(ls /dev | grep '^full\.')"
mkdir -p "$tmp/reportdir"
cli 3 "report --html DIR" --db "$db" report from=2013-01-01 to=2014-01-01 --html "$tmp/reportdir"
err_has "report --html DIR" "cannot write '$tmp/reportdir': Is a directory"
grep -q "Success" "$tmp/err" && fail "report --html DIR: $(cat "$tmp/err")"
# 10e. The demo's limits, said plainly.
for args in "--cases 0" "--cases 2000000000" "--cases -5" "--days 0" "--days 3661"; do
  # shellcheck disable=SC2086
  cli 2 "demo $args" --db :memory: demo $args --html ""
  grep -qE 'e\+308|1\.79|bad_alloc' "$tmp/err" && fail "demo $args: $(cat "$tmp/err")"
done
err_has "demo --days 3661" "not in range 1 to 3660"
cli 2 "demo --cases 0 (message)" --db :memory: demo --cases 0 --html ""
err_has "demo --cases 0" "Value 0 not in range 1 to 1000000"
# 10f. Out of memory is not bad input (exit 3, not 1). Sanitizer builds need
#      more address space for their shadow memory than any such limit.
if $sanitized; then
  echo "bad_input: 10f (out of memory) skipped: sanitizer build"
else
  tried=$((tried + 1))
  (ulimit -v 400000 && MALLOC_ARENA_MAX=1 exec "$bin" --db :memory: demo --cases 1000000 --days 3660 --html "") \
    >/dev/null 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq 3 ] || fail "demo out of memory: exit status $rc, expected 3: $(head -c 300 "$tmp/err")"
  err_has "demo out of memory" "out of memory"
  grep -q "bad_alloc" "$tmp/err" && fail "demo out of memory: $(cat "$tmp/err")"
fi
# 10g. Full disks (a tmpfs; root only): an import whose batch cannot be made
#      durable, a close that fails after an import, results and a report
#      written to a full disk.
mnt=$tmp/mnt
mkdir -p "$mnt"
if mount -t tmpfs -o size=8m tmpfs "$mnt" 2>/dev/null; then
  mounted=$mnt
  # fill_leaving KIB: a ballast file so that about KIB KiB stay free.
  fill_leaving() {
    local free
    rm -f "$mnt/ballast"
    free=$(df -k --output=avail "$mnt" | tail -1)
    head -c $(((free - $1) * 1024)) /dev/zero >"$mnt/ballast" 2>/dev/null
  }
  {
    printf 'id,created,unit,due,closed\n'
    for i in $(seq 1 2000); do
      d=$((i % 28 + 1))
      if [ $((i % 2)) -eq 0 ]; then c=$(printf '2025-03-%02d 12:00:00' "$d"); else c=; fi
      printf 'R%05d,2025-03-%02d 09:%02d:00,UNIT%d,2025-03-%02d 17:00:00,%s\n' "$i" "$d" $((i % 60)) $((i % 7)) "$d" "$c"
    done
  } >"$tmp/big.csv"
  printf 'id,created,unit,due,closed\nW1,2025-03-03 09:00:00,WATER,,\n' >"$tmp/one.csv"
  # Bug 15: the batch's flush fails.
  cli 0 "full disk: the database" --db "$mnt/db" import "$tmp/one.csv" --id id --created created --unit unit
  fill_leaving 256
  cli 3 "full disk: import" --db "$mnt/db" import "$tmp/big.csv" --id id --created created --unit unit \
    --due due --closed closed
  err_has "full disk: import" "No space left on device"
  grep -q "string pointer is null" "$tmp/err" && fail "full disk: import: $(head -c 300 "$tmp/err")"
  [ -s "$tmp/out" ] && fail "full disk: import printed a summary: $(cat "$tmp/out")"
  # Bug 20: the import succeeds in memory, the close's flush fails.
  rm -rf "$mnt/db" "$mnt/ballast"
  mkdir "$mnt/db"
  fill_leaving 300
  cli 3 "full disk: import, then the close fails" --db "$mnt/db" --durability none import "$tmp/big.csv" \
    --id id --created created --unit unit --due due --closed closed
  err_has "full disk: import, then the close fails" "closing the database" "No space left on device"
  [ -s "$tmp/out" ] && fail "full disk: 'imported …' before a failed close: $(cat "$tmp/out")"
  # Bug 19: results and a report on a full disk (the database is elsewhere).
  rm -rf "$mnt/db" "$mnt/ballast"
  fill_leaving 0
  tried=$((tried + 1))
  "$bin" --db "$db" rates from=2013-01-01 to=2014-01-01 >"$mnt/rates.json" 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq 3 ] || fail "rates to a full disk: exit status $rc, expected 3"
  err_has "rates to a full disk" "writing the output failed: No space left on device"
  cli 3 "report to a full disk" --db "$db" report from=2013-01-01 to=2014-01-01 --html "$mnt/r.html"
  err_has "report to a full disk" "cannot write '$mnt/r.html'" "No space left on device"
  left=$(ls "$mnt" | grep -v -e '^ballast$' -e '^rates.json$')
  [ -z "$left" ] && [ ! -e "$mnt/r.html" ] || fail "a failed report left files behind: $left"
  umount "$mnt" && mounted=
else
  echo "bad_input: 10g (full disks) skipped: mounting a tmpfs is not permitted"
fi

if [ "$failures" -ne 0 ]; then
  echo "bad_input: $failures failure(s) in $tried inputs" >&2
  exit 1
fi
echo "bad_input: $tried inputs tried, no crash, every database checks clean"
