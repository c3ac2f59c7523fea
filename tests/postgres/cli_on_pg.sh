#!/usr/bin/env bash
# The caseloop CLI with its database in PostgreSQL: `--db PATH` (the first two
# arguments, as tests/script/run_golden.sh passes them) becomes the server of
# pg_env.sh, in a schema of its own named after PATH (created on first use),
# so a golden script and its "# then:" commands share one database.
#   CASELOOP_CLI=path/to/caseloop cli_on_pg.sh --db PATH ARGS...
set -euo pipefail
: "${CASELOOP_CLI:?the caseloop binary}" "${CASELOOP_TEST_POSTGRES_URL:?run under pg_env.sh}"
if [[ ${1:-} != --db || $# -lt 2 ]]; then
  echo "cli_on_pg.sh: expected --db PATH first" >&2
  exit 2
fi
schema=g_$(printf '%s' "$2" | md5sum | cut -c1-16)
shift 2
psql -X -q "$CASELOOP_TEST_POSTGRES_URL" -c "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS $schema" >/dev/null
exec "$CASELOOP_CLI" --db "$CASELOOP_TEST_POSTGRES_URL&options=-csearch_path%3D$schema" "$@"
