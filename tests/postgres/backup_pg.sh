#!/usr/bin/env bash
# Backup and restore of a PostgreSQL store with PostgreSQL's own tools, as
# docs/scale.md describes them: a script's district is dumped with pg_dump
# (custom format) while a second engine process is open on it, restored with
# pg_restore into a new database, once whole and once without the projection
# tables' data (derived: each engine rebuilds its own by catching up). Each
# restored database passes `caseloop check`, answers every query exactly as the
# original does, and takes new commands. Run under pg_env.sh:
#   pg_env.sh backup_pg.sh CASELOOP_BINARY SCRIPT
set -euo pipefail
cli=$1
script=$2
: "${CASELOOP_TEST_POSTGRES_URL:?run under pg_env.sh}"
host=$(sed -E 's/.*[?&]host=([^&]*).*/\1/' <<<"$CASELOOP_TEST_POSTGRES_URL")
pg=/usr/lib/postgresql/15/bin
psql=("$pg/psql" -X -q -v ON_ERROR_STOP=1 -h "$host" -U postgres)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "backup_pg.sh: $*" >&2
  exit 1
}
url() { echo "postgresql:///$1?host=$host&user=postgres"; }

"${psql[@]}" -d postgres -c "CREATE DATABASE bk_source" -c "CREATE DATABASE bk_whole" -c "CREATE DATABASE bk_log_only"
source=$(url bk_source)
"$cli" --db "$source" run "$script" >/dev/null || fail "the script failed on the source database"

queries=("rates from=2025-03-01 to=2025-05-01" "inspectors from=2025-03-01 to=2025-05-01"
  "centre from=2025-03-01 to=2025-05-01" "overdue" "workload")
for c in A1 A2 A3 A4 A5; do queries+=("show $c" "history $c"); done
answers() {  # DB OUT: every query's JSON answer, one after another
  : >"$2"
  for q in "${queries[@]}"; do
    # shellcheck disable=SC2086
    "$cli" --db "$1" $q >>"$2" 2>&1 || fail "'$q' failed on $1: $(tail -1 "$2")"
  done
}
answers "$source" "$work/source.json"

# Dump while another engine process holds the database open (its own
# projection scope): a script read from a pipe that stays open until the end.
mkfifo "$work/lines"
"$cli" --db "$source&caseloop_projections=other" run - <"$work/lines" >/dev/null &
holder=$!
exec 3>"$work/lines"
sleep 1  # it opens the database before it reads a line
"$pg/pg_dump" -h "$host" -U postgres -Fc -f "$work/whole.dump" bk_source
"$pg/pg_dump" -h "$host" -U postgres -Fc -f "$work/log_only.dump" \
  --exclude-table-data=caseloop_projection_kv --exclude-table-data=caseloop_checkpoints bk_source
exec 3>&-
wait $holder || fail "the engine holding the source open failed"
"$pg/pg_restore" -h "$host" -U postgres -d bk_whole --no-owner "$work/whole.dump"
"$pg/pg_restore" -h "$host" -U postgres -d bk_log_only --no-owner "$work/log_only.dump"

for name in bk_whole bk_log_only; do
  db=$(url $name)
  out=$("$cli" --db "$db" check 2>&1) || fail "check on the restored $name: $out"
  [[ $out == ok ]] || fail "check on the restored $name said: $out"
  answers "$db" "$work/$name.json"
  cmp -s "$work/source.json" "$work/$name.json" ||
    { diff "$work/source.json" "$work/$name.json" | head -20 >&2; fail "$name answers differ from the source"; }
  # The restored log goes on: a new case after the script's last instant.
  printf '%s\n' "at 2025-04-15T09:00" \
    "report B1 kind=component category=0101 source=inspector grid=620102001001001 by=I1" \
    "register B1 by=L1" "dispatch B1 by=D1" "expect B1 state=dispatched unit=WATER" |
    "$cli" --db "$db" run - >/dev/null || fail "a new case on the restored $name was refused"
done
echo "backup_pg.sh: a whole dump and a log-only dump restored; check ok; every answer equal; new commands taken"
