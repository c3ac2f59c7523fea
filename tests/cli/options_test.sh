#!/usr/bin/env bash
# The CLI's global options and scripts, as a newcomer meets them (issue 22):
#   * `run --now` is the system clock: commands are stamped with the system
#     time, `at`/`advance`/at= are refused and nothing of the script applied;
#   * every global option works where it is given or is refused (exit 2);
#   * a script that fails on a clock line before its first command (worked.cl
#     on a database past its first instant) applies nothing of it.
#
#   options_test.sh CASELOOP_BINARY SHARED_DIR
set -u
bin=$1
shared=$2
tmp=$(mktemp -d /tmp/caseloop-options-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# cli WANT DESCRIPTION ARGS...: stdout/stderr in $tmp/out, $tmp/err.
cli() {
  local want=$1 what=$2
  shift 2
  timeout 120 "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: exit status $rc, expected $want: $(head -c 600 "$tmp/err")"
}
err_has() {
  local what=$1
  shift
  local part
  for part in "$@"; do
    grep -qF -- "$part" "$tmp/err" || fail "$what: stderr lacks '$part': $(head -c 600 "$tmp/err")"
  done
}

cat >"$tmp/district.cl" <<'CL'
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
unit WATER name="水务局"
inspector I1 grid=620102
staff L1 role=shift_leader
category component 0101 name="上水井盖" limit=4wh
route component 0101 WATER
CL

# 1. run --now: the system clock.
db=$tmp/now
{ cat "$tmp/district.cl"; echo "report A1 kind=component category=0101 source=inspector by=I1"; } >"$tmp/live.cl"
day_before=$(TZ=Asia/Shanghai date +%F)
cli 0 "run --now" --db "$db" --now run "$tmp/live.cl"
day_after=$(TZ=Asia/Shanghai date +%F)
cli 0 "history after run --now" --db "$db" history A1
grep -qE "\"time\":\"($day_before|$day_after)T" "$tmp/out" ||
  fail "run --now did not stamp A1 with today's date ($day_before): $(head -c 400 "$tmp/out")"
printf 'unit PARKS\nat 2025-03-31T09:00\nregister A1 by=L1\n' >"$tmp/at.cl"
cli 1 "run --now with an at line" --db "$db" --now run "$tmp/at.cl"
err_has "run --now with an at line" "line 2: 'at' sets the script clock" "system clock (--now)" \
  "nothing of the script was applied"
cli 1 "PARKS was not defined" --db "$db" rates from=2025-01-01 to=2025-02-01 unit=PARKS
err_has "PARKS was not defined" "unknown unit 'PARKS'"
printf 'register A1 by=L1 at=2025-03-31T09:00\n' >"$tmp/at2.cl"
cli 1 "run --now with at=" --db "$db" --now run "$tmp/at2.cl"
err_has "run --now with at=" "'register''s at= sets the script clock"
# Without --now the same database runs on its manual clock, from its latest instant.
cli 1 "run without --now: an at before the clock" --db "$db" run "$tmp/at.cl"
err_has "run without --now" "is before the script clock"

# 2. Options where they do not apply are refused (exit 2), and nothing runs.
cli 2 "--now import" --db "$db" --now import "$tmp/live.cl" --id a --created b --unit c
err_has "--now import" "--now (the system clock) applies to run, the queries and report, not to 'import'"
cli 2 "--now check" --db "$db" check --now
err_has "--now check" "not to 'check'"
cli 2 "--now demo" --db :memory: --now demo --cases 1 --html ""
cli 2 "--durability on a query" --db "$db" --durability none show A1
err_has "--durability on a query" "--durability applies to the commands that write" "not to 'show'"
cli 2 "--durability on check" --db "$db" --durability sync check
cli 2 "--durability on report" --db "$db" --durability sync report from=2025-01-01 to=2025-02-01 --html "$tmp/r.html"
[ -e "$tmp/r.html" ] && fail "--durability on report wrote the report"
cli 2 "--db on help" --db "$db" help
# ... and work where they apply.
cli 0 "--now on a query" --db "$db" --now show A1
cli 0 "--durability on run" --db "$db" --durability buffered run "$tmp/district.cl"
cli 0 "--now on report" --db "$db" --now report from=2025-01-01 to=2025-02-01 --html "$tmp/r.html"

# 3. worked.cl on a database whose clock is past the script's first instant:
#    refused on line 25, nothing of lines 1-24 applied (the README's trap).
if [ -f "$shared/scenarios/worked.cl" ]; then
  db=$tmp/past
  { cat "$tmp/district.cl"; printf 'at 2026-01-01T09:00\nreport Z1 kind=component category=0101 source=inspector by=I1\n'; } >"$tmp/past.cl"
  cli 0 "a database past 2025" --db "$db" run "$tmp/past.cl"
  cli 1 "worked.cl on it" --db "$db" run "$shared/scenarios/worked.cl"
  err_has "worked.cl on it" "line 25: time 2025-03-31T09:00:00+08:00 is before the script clock" \
    "nothing of the script was applied (lines 3 to 22"
  cli 1 "worked.cl's units were not defined" --db "$db" rates from=2025-01-01 to=2025-02-01 unit=BUILD
  err_has "worked.cl's units" "unknown unit 'BUILD'"
  cli 0 "worked.cl in a fresh database" --db "$tmp/fresh" run "$shared/scenarios/worked.cl"
else
  echo "skipped part 3: no $shared/scenarios/worked.cl" >&2
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok"
