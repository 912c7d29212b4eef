# shellcheck shell=bash
# Helpers sourced by every tests/integration/test_*.sh: start and stop the daemons on free
# ports, talk HTTP with curl, and check results with one printed line per check.
#
# Env (set by scripts/run-integration.sh; defaults let a script run alone from the repo
# root after `eval "$(scripts/peers.sh up)"`): BUILD, REPO_ROOT, SHARED_DIR, LOG_DIR and
# the peers' PG_CONNINFO, PGHOST, PGPORT, PGUSER, MONGO_URI, S3_ENDPOINT, S3_BUCKET,
# S3_ACCESS_KEY, S3_SECRET_KEY.
#
# Privacy: every SMS body a test sends carries a marker (privacy_marker); the markers are
# listed in $LOG_DIR/privacy-markers.txt and scripts/test-all.sh fails if any daemon log
# written into $LOG_DIR contains one.

set -u
REPO_ROOT=${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$REPO_ROOT/build}
SHARED_DIR=${SHARED_DIR:-$(cd "$REPO_ROOT/.." && pwd)/shared}
LOG_DIR=${LOG_DIR:-$REPO_ROOT/build/test-logs}
mkdir -p "$LOG_DIR"
TEST_NAME=$(basename "$0" .sh)
T_TMP=$(mktemp -d "/tmp/$TEST_NAME.XXXXXX")
T_PASS=0
T_FAIL=0
T_SKIP=0
T_DAEMON_SEQ=0
T_PIDS=()

# ---- results ---------------------------------------------------------------------------

ok() {
    T_PASS=$((T_PASS + 1))
    echo "ok   $TEST_NAME: $*"
}

fail() {
    T_FAIL=$((T_FAIL + 1))
    echo "FAIL $TEST_NAME: $*"
}

skip() {
    T_SKIP=$((T_SKIP + 1))
    echo "SKIP $TEST_NAME: $*"
}

# assert_eq NAME EXPECTED ACTUAL
assert_eq() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        fail "$1: expected '$2', got '$(printf '%.300s' "$3")'"
    fi
}

# assert_contains NAME HAYSTACK NEEDLE
assert_contains() {
    case "$2" in
    *"$3"*) ok "$1" ;;
    *) fail "$1: '$3' not in '$(printf '%.300s' "$2")'" ;;
    esac
}

# assert_not_contains NAME HAYSTACK NEEDLE
assert_not_contains() {
    case "$2" in
    *"$3"*) fail "$1: '$3' must not appear" ;;
    *) ok "$1" ;;
    esac
}

# assert_true NAME COMMAND...   (passes when the command exits 0)
assert_true() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else fail "$name: '$*' was false"; fi
}

# Ends the script: prints the counts and exits non-zero on any failure.
finish() {
    echo "$TEST_NAME: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
    [ "$T_FAIL" = 0 ]
    exit $?
}

# ---- privacy markers -------------------------------------------------------------------

# privacy_marker [PREFIX]: prints a fresh marker and records it for the log check.
privacy_marker() {
    local m
    m="${1:-pm}$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    echo "$m" >>"$LOG_DIR/privacy-markers.txt"
    echo "$m"
}

# privacy_secret VALUE: a token/key that must never appear in a log either.
privacy_secret() {
    [ -n "$1" ] && echo "$1" >>"$LOG_DIR/privacy-markers.txt"
}

# ---- ports and processes ---------------------------------------------------------------

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Below the kernel's ephemeral range (32768-60999), so a port is not taken meanwhile as the
# source port of some outgoing connection; start_daemon still retries a lost bind race.
free_port() {
    local p i
    for i in $(seq 100); do
        p=$((12000 + (RANDOM * 32768 + RANDOM) % 20000))
        port_open "$p" || {
            echo "$p"
            return 0
        }
    done
    return 1
}

cleanup_daemons() {
    local pid
    for pid in "${T_PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$T_TMP"
}
trap cleanup_daemons EXIT

# start_daemon NAME BINARY [VAR=value...]: starts BINARY with HTTP_PORT/ADMIN_PORT on free
# ports plus the given environment, logs into $LOG_DIR, waits until /health answers.
# Sets D_PID D_PORT D_ADMIN D_URL D_ADMIN_URL D_LOG. Returns 1 if it died or never answered
# (D_EXIT then holds its exit status when it died).
start_daemon() {
    local attempt
    for attempt in 1 2 3; do
        start_daemon_once "$@" && return 0
        # another process took the port between free_port and bind: try other ports
        [ -n "$D_EXIT" ] && grep -q "Address already in use" "$D_LOG" 2>/dev/null || return 1
    done
    return 1
}

start_daemon_once() {
    local name=$1 bin=$2
    shift 2
    T_DAEMON_SEQ=$((T_DAEMON_SEQ + 1))
    D_PORT=$(free_port)
    D_ADMIN=$(free_port)
    while [ "$D_ADMIN" = "$D_PORT" ]; do D_ADMIN=$(free_port); done
    D_URL="http://127.0.0.1:$D_PORT"
    D_ADMIN_URL="http://127.0.0.1:$D_ADMIN"
    D_LOG="$LOG_DIR/$TEST_NAME.$name.$T_DAEMON_SEQ.log"
    D_EXIT=
    (cd "$REPO_ROOT" && exec env HTTP_PORT="$D_PORT" ADMIN_PORT="$D_ADMIN" HTTP_BIND=127.0.0.1 \
        LOG_LEVEL="${DAEMON_LOG_LEVEL:-debug}" "$@" ${DAEMON_WRAPPER:-} "$bin") \
        </dev/null >"$D_LOG" 2>&1 &
    D_PID=$!
    T_PIDS+=("$D_PID")
    local i
    for i in $(seq "${DAEMON_START_TRIES:-300}"); do
        if ! kill -0 "$D_PID" 2>/dev/null; then
            wait "$D_PID"
            D_EXIT=$?
            return 1
        fi
        if curl -s -o /dev/null -m 1 "$D_URL/health"; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# start_smsx [VAR=value...]: start_daemon for build/sms-extraction.
start_smsx() {
    start_daemon smsx "$BUILD/sms-extraction" "$@"
}

# stop_daemon [PID]: SIGTERM and wait (up to 30 s); sets D_EXIT to its exit status.
stop_daemon() {
    local pid=${1:-$D_PID} i
    kill -TERM "$pid" 2>/dev/null || {
        wait "$pid" 2>/dev/null
        D_EXIT=$?
        return 0
    }
    for i in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        D_EXIT=killed
        return 1
    fi
    wait "$pid" 2>/dev/null
    D_EXIT=$?
    return 0
}

# wait_exit [PID] [SECONDS]: waits (default 30 s) without signalling; sets D_EXIT
# ("timeout" and returns 1 when it is still running).
wait_exit() {
    local pid=${1:-$D_PID} secs=${2:-30} i
    for i in $(seq $((secs * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        D_EXIT=timeout
        return 1
    fi
    wait "$pid" 2>/dev/null
    D_EXIT=$?
}

# expect_refusal NAME BINARY [VAR=value...]: runs a daemon that must refuse to start;
# sets R_EXIT and R_OUT (its output). Kills it after 20 s if it starts after all.
expect_refusal() {
    local name=$1 bin=$2
    shift 2
    T_DAEMON_SEQ=$((T_DAEMON_SEQ + 1))
    local logf="$LOG_DIR/$TEST_NAME.$name.$T_DAEMON_SEQ.log"
    R_EXIT=0
    (cd "$REPO_ROOT" && exec env HTTP_PORT="$(free_port)" ADMIN_PORT="$(free_port)" \
        HTTP_BIND=127.0.0.1 "$@" timeout -s KILL 20 "$bin") </dev/null >"$logf" 2>&1 || R_EXIT=$?
    R_OUT=$(cat "$logf")
}

# ---- HTTP ------------------------------------------------------------------------------

# http METHOD URL [BODY_FILE] [curl args...]: sets H_STATUS, H_BODY, H_HEADERS.
http() {
    local method=$1 url=$2 body=${3:-}
    shift 2
    [ $# -gt 0 ] && shift
    local args=(-s -X "$method" -o "$T_TMP/resp" -D "$T_TMP/hdrs" -w '%{http_code}' -m 60)
    if [ -n "$body" ]; then
        args+=(-H 'Content-Type: application/json' --data-binary "@$body")
    fi
    H_STATUS=$(curl "${args[@]}" "$@" "$url") || H_STATUS=${H_STATUS:-000}
    H_BODY=$(cat "$T_TMP/resp" 2>/dev/null)
    H_HEADERS=$(tr -d '\r' <"$T_TMP/hdrs" 2>/dev/null)
}

http_get() { http GET "$@"; }

# post_json PATH FILE: POST a body file to the service port of the current daemon.
post_json() { http POST "$D_URL$1" "$2"; }

# header NAME: value of a response header of the last request (case-insensitive).
header() {
    printf '%s\n' "$H_HEADERS" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" -F': ' \
        'tolower($1) == n { sub(/^[^:]*: /, ""); print; exit }'
}

# jqr FILTER: jq on the last response body (raw output); empty on invalid JSON.
jqr() { printf '%s' "$H_BODY" | jq -r "$1" 2>/dev/null; }

metrics() { curl -s -m 10 "$D_ADMIN_URL/metrics"; }

# ---- request bodies --------------------------------------------------------------------

# make_batch OUT N MARKER [first_id]: a request with N invented messages of the common kinds,
# every body carrying MARKER (so the privacy check can find it in a log).
make_batch() {
    python3 "$REPO_ROOT/tests/integration/make_batch.py" "$@"
}

# ---- PostgreSQL peer -------------------------------------------------------------------

# pg_ctl_peer start|stop: controls the throwaway cluster of scripts/peers.sh.
pg_ctl_peer() {
    local args=(-D "$PGDATA_DIR" -w -t 30)
    [ "$1" = start ] && args+=(-l "$PEERS_DIR/pg.log")
    [ "$1" = stop ] && args+=(-m fast)
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" "${args[@]}" "$1" >/dev/null
    else
        "$PGBIN/pg_ctl" "${args[@]}" "$1" >/dev/null
    fi
}

# psql_q DB SQL: one query, unaligned tuples only.
psql_q() {
    psql -X -q -v ON_ERROR_STOP=1 -At -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$1" -c "$2"
}
