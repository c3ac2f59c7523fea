#!/usr/bin/env bash
# Runs a command against a PostgreSQL 15 server of its own:
#
#   pg_env.sh COMMAND [ARGS...]
#
# initdb into a fresh temporary directory (as the `postgres` user when run as
# root: the server refuses root), a server that listens only on a Unix socket
# in that directory (no TCP port, so runs side by side never collide), fsync
# and synchronous_commit on (the defaults). The command runs with
#   CASELOOP_TEST_POSTGRES_URL  a connection URI of the database "caseloop"
#   CASELOOP_TEST_PG_CTL        "pg_ctl -D DIR" as the server's user: a test may
#                               restart the server (`$CASELOOP_TEST_PG_CTL restart -w`)
# The server is stopped and the directory removed at the end, whatever happens.
# No PostgreSQL (no initdb) is a failure, never a skip: a build without the
# backend (CASELOOP_POSTGRES=OFF) does not register these tests at all.
set -euo pipefail
bindir=${CASELOOP_PG_BINDIR:-/usr/lib/postgresql/15/bin}
if [[ ! -x $bindir/initdb || ! -x $bindir/pg_ctl ]]; then
  echo "pg_env.sh: no PostgreSQL 15 in $bindir (Debian: postgresql-15; scripts/deps.sh --test installs it)" >&2
  exit 1
fi
dir=$(mktemp -d /tmp/caseloop-pg.XXXXXX)
chmod 755 "$dir"
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi
stop() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
max_connections = 300
shared_buffers = 64MB
fsync = on
synchronous_commit = on
log_min_messages = warning
CONF
"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }
"$bindir/psql" -X -q -h "$dir" -U postgres -d postgres -c "CREATE DATABASE caseloop" >/dev/null
export CASELOOP_TEST_POSTGRES_URL="postgresql:///caseloop?host=$dir&user=postgres"
export CASELOOP_TEST_PG_CTL="${as_pg[*]} $bindir/pg_ctl -D $dir/data -l $dir/server.log"
set +e
"$@"
rc=$?
set -e
if ((rc != 0)) && [[ -s $dir/server.log ]]; then
  echo "pg_env.sh: the command failed ($rc); the server's log:" >&2
  tail -n 30 "$dir/server.log" >&2
fi
exit $rc
