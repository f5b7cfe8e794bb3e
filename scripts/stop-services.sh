#!/usr/bin/env bash
# Stop the PostgreSQL server scripts/start-services.sh started for this clone (SoftHSM2 is a
# library and needs no stopping). scripts/test.sh calls this at exit when it started the server;
# run it by hand after ./scripts/start-services.sh. Does nothing when no server runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
PG_DATA="${TMPDIR:-/tmp}/vaxcert-pg-$(printf %s "$root" | md5sum | cut -c1-8)"
[ -f .services/pg-data ] && PG_DATA=$(cat .services/pg-data)
run_pg() {
    if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
if [ -n "$PG_BIN" ] && [ -f "$PG_DATA/postmaster.pid" ] \
        && run_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' status" >/dev/null 2>&1; then
    run_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' -m fast -w stop" >/dev/null
    echo "stopped PostgreSQL ($PG_DATA)" >&2
fi
rm -f .services/pg-started
