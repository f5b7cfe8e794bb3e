#!/usr/bin/env bash
# Install (if missing) and start what the tests need beyond Python packages:
#   - a PostgreSQL server on loopback (port $VAXCERT_PG_PORT, default 54329), data under /tmp
#   - a SoftHSM2 token ("vaxcert-test", PINs below), configuration in .services/softhsm
# Writes .services/env with the variables the tests read. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
svc="$root/.services"
mkdir -p "$svc"

need_apt=()
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || need_apt+=(postgresql)
command -v softhsm2-util >/dev/null 2>&1 || need_apt+=(softhsm2)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)  # vaxcert card PDFs
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing ${need_apt[*]} ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq >/dev/null
    $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

# --- PostgreSQL -------------------------------------------------------------------------
PG_PORT=${VAXCERT_PG_PORT:-54329}
# The data directory lives under /tmp so the postgres user can reach it whatever the clone's path.
PG_DATA="${TMPDIR:-/tmp}/vaxcert-pg-$(printf %s "$root" | md5sum | cut -c1-8)"
run_pg() {  # initdb and postgres refuse to run as root
    if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$PG_DATA" && chown postgres "$PG_DATA" && chmod 700 "$PG_DATA"
fi
if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    run_pg "'$PG_BIN/initdb' -D '$PG_DATA' -U vaxcert --auth=trust -E UTF8 --no-locale" >/dev/null
fi
if ! run_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' status" >/dev/null 2>&1; then
    run_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' -l '$PG_DATA/server.log' -w -t 60 \
        -o \"-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start" >/dev/null
fi
for _ in $(seq 1 30); do
    "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q && break
    sleep 0.5
done
"$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U vaxcert -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='vaxcert_test'" | grep -q 1 \
    || "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U vaxcert vaxcert_test

# --- SoftHSM2 ---------------------------------------------------------------------------
HSM_DIR="$svc/softhsm"
mkdir -p "$HSM_DIR/tokens"
cat > "$HSM_DIR/softhsm2.conf" <<CONF
directories.tokendir = $HSM_DIR/tokens
objectstore.backend = file
log.level = ERROR
CONF
export SOFTHSM2_CONF="$HSM_DIR/softhsm2.conf"
HSM_MODULE=$(ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so 2>/dev/null | head -1)
if ! softhsm2-util --show-slots 2>/dev/null | grep -q "Label:.*vaxcert-test"; then
    softhsm2-util --init-token --free --label vaxcert-test --so-pin 87654321 --pin 123456 >/dev/null
fi

cat > "$svc/env" <<ENV
export VAXCERT_PG_DSN="postgresql://vaxcert@127.0.0.1:$PG_PORT/vaxcert_test"
export SOFTHSM2_CONF="$SOFTHSM2_CONF"
export VAXCERT_PKCS11_MODULE="$HSM_MODULE"
export VAXCERT_HSM_TOKEN="vaxcert-test"
export VAXCERT_HSM_PIN="123456"
ENV
echo "services ready: PostgreSQL on 127.0.0.1:$PG_PORT, SoftHSM token vaxcert-test" >&2
