#!/usr/bin/env bash
# The golden scripts on PostgreSQL: each SCRIPT through tests/script/run_golden.sh
# with the CLI's database in the server of pg_env.sh (cli_on_pg.sh), compared
# with the same expected output as on RocksDB. Run under pg_env.sh:
#   pg_env.sh golden_pg.sh CASELOOP_BINARY SCRIPT...
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CASELOOP_CLI=$1
shift
fail=0
for script in "$@"; do
  bash "$here/../script/run_golden.sh" "$here/cli_on_pg.sh" "$script" || fail=1
done
exit $fail
