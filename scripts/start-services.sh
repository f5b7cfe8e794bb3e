#!/usr/bin/env bash
# Install (if missing) and start what the tests need beyond Python packages:
#   - a PostgreSQL server on loopback, data under /tmp (one per clone). Its port: $VAXCERT_PG_PORT
#     when set, else the one it already runs on, else the first free port from 54329 up;
#   - a SoftHSM2 token ("vaxcert-test", PINs below), configuration in .services/softhsm;
#   - poppler-utils (pdftoppm: the card tests render PDFs) and fonts-dejavu-core (the card's font);
#   - Debian's chromium, chromium-driver and ffmpeg for the checkpoint page's browser tests.
# Writes .services/env with the variables the tests read, and .services/pg-started ("1" when this
# run started the server, so scripts/test.sh stops it again; scripts/stop-services.sh stops it
# by hand). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
svc="$root/.services"
mkdir -p "$svc"

need_apt=()
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || need_apt+=(postgresql)
command -v softhsm2-util >/dev/null 2>&1 || need_apt+=(softhsm2)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)    # card tests: PDF -> PNG
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)  # vaxcert card PDFs
# tests/browser: Debian's browser and its driver (never one downloaded by a tool), ffmpeg for the fake camera
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
# tests/test_speedups_sanitized.py: clang builds the C shortcuts for coverage-guided fuzzing (fuzz/fuzz_compiled.py)
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing ${need_apt[*]} ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq >/dev/null
    $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

# --- PostgreSQL -------------------------------------------------------------------------
# The data directory lives under /tmp so the postgres user can reach it whatever the clone's path.
PG_DATA="${TMPDIR:-/tmp}/vaxcert-pg-$(printf %s "$root" | md5sum | cut -c1-8)"
PG_SOCKETS=/tmp
run_pg() {  # initdb and postgres refuse to run as root
    if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
port_busy() {  # something listens on 127.0.0.1:$1, or another server holds its socket lock
    [ -e "$PG_SOCKETS/.s.PGSQL.$1.lock" ] && return 0
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
running_port() {  # the port of this clone's server when it runs (line 4 of postmaster.pid)
    run_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' status" >/dev/null 2>&1 || return 1
    sed -n 4p "$PG_DATA/postmaster.pid"
}
start_pg() {  # start on port $1; 0 on success
    run_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' -l '$PG_DATA/server.log' -w -t 60 \
        -o \"-p $1 -k $PG_SOCKETS -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start" >/dev/null 2>&1
}
explain_failure() {  # why the server did not start, and what to do
    echo "error: PostgreSQL did not start on 127.0.0.1:$1 (data directory $PG_DATA)." >&2
    if [ -f "$PG_DATA/server.log" ]; then
        echo "  last lines of $PG_DATA/server.log:" >&2
        tail -n 5 "$PG_DATA/server.log" | sed 's/^/    /' >&2
    fi
    echo "  Another PostgreSQL may hold the port: choose a free one with VAXCERT_PG_PORT=<port>," >&2
    echo "  e.g. VAXCERT_PG_PORT=54400 ./scripts/test.sh (or leave it unset to pick one automatically)." >&2
}

if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$PG_DATA" && chown postgres "$PG_DATA" && chmod 700 "$PG_DATA"
fi
if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    run_pg "'$PG_BIN/initdb' -D '$PG_DATA' -U vaxcert --auth=trust -E UTF8 --no-locale" >/dev/null
fi

started=0
current=$(running_port || true)
if [ -n "$current" ] && [ -n "${VAXCERT_PG_PORT:-}" ] && [ "$current" != "$VAXCERT_PG_PORT" ]; then
    if port_busy "$VAXCERT_PG_PORT"; then
        echo "error: port $VAXCERT_PG_PORT (VAXCERT_PG_PORT) is already in use by another server;" >&2
        echo "  this clone's PostgreSQL keeps running on $current. Choose a free port, or unset VAXCERT_PG_PORT." >&2
        exit 1
    fi
    echo "restarting this clone's PostgreSQL on port $VAXCERT_PG_PORT (it ran on $current)" >&2
    run_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' -m fast -w stop" >/dev/null
    current=""
fi
if [ -n "$current" ]; then
    PG_PORT=$current
elif [ -n "${VAXCERT_PG_PORT:-}" ]; then
    PG_PORT=$VAXCERT_PG_PORT
    if port_busy "$PG_PORT"; then
        echo "error: port $PG_PORT (VAXCERT_PG_PORT) is already in use by another server." >&2
        echo "  Choose a free port with VAXCERT_PG_PORT=<port>, or unset it to pick one automatically." >&2
        exit 1
    fi
    start_pg "$PG_PORT" || { explain_failure "$PG_PORT"; exit 1; }
    started=1
else
    # The first free port from 54329 up; another process may take it between the check and the
    # start, so a failed start moves on to the next port.
    PG_PORT=""
    for candidate in $(seq 54329 54428); do
        port_busy "$candidate" && continue
        if start_pg "$candidate"; then PG_PORT=$candidate; break; fi
        last_tried=$candidate
    done
    if [ -z "$PG_PORT" ]; then
        explain_failure "${last_tried:-54329}"
        exit 1
    fi
    started=1
fi
echo "$started" > "$svc/pg-started"
echo "$PG_DATA" > "$svc/pg-data"
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
what="running"; [ "$started" -eq 1 ] && what="started"
echo "services ready: PostgreSQL $what on 127.0.0.1:$PG_PORT, SoftHSM token vaxcert-test" >&2
