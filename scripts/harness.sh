# shellcheck shell=bash
# The shell harness of everything that runs the daemons: `make run`, the benches, the build
# comparison (scripts/compare-builds.sh), and the integration tests, whose tests/integration/
# lib.sh adds their checks on top of it. Sourcing it sets REPO_ROOT, BUILD and LOG_DIR
# (defaults: this checkout, BUILD or build/, BUILD/test-logs), makes a temporary directory
# T_TMP removed at exit with every daemon still running, and offers: daemons on free ports
# (start_daemon, start_smsx, start_insights, stop_daemon, wait_exit), HTTP with curl (http,
# post_json, api, header, jqr, metrics, metric_value), request bodies (make_batch,
# insights_body, inline_body) and synthetic users (gen_users, user_files, load_users,
# mongo_env).
#
# A script outside tests/ starts with
#   cd "$(dirname "$0")/.." && source scripts/harness.sh && harness_begin "${1:-build}" demo-logs
set -u
REPO_ROOT=${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$REPO_ROOT/build}
SHARED_DIR=${SHARED_DIR:-$(cd "$REPO_ROOT/.." && pwd)/shared}
H_GIVEN_LOG_DIR=${LOG_DIR:-}
LOG_DIR=${LOG_DIR:-$REPO_ROOT/build/test-logs}
mkdir -p "$LOG_DIR"
TEST_NAME=$(basename "$0" .sh)
T_TMP=$(mktemp -d "/tmp/$TEST_NAME.XXXXXX")
T_DAEMON_SEQ=0
T_PIDS=()
# libmongoc's load-time init keeps counters in /dev/shm/mongoc-<pid> and prints a plain-text
# warning when a killed process left that file for a pid now reused: off, as in the images
# (docs/operations.md "libmongoc's shared-memory counters").
export MONGOC_DISABLE_SHM=${MONGOC_DISABLE_SHM:-1}

# harness_begin BUILD_DIR LOGS_NAME: for scripts outside tests/: BUILD (made absolute) and
# LOG_DIR=BUILD/LOGS_NAME unless LOG_DIR was set, exported.
harness_begin() {
    BUILD=$(cd "$1" && pwd) || exit 1
    LOG_DIR=${H_GIVEN_LOG_DIR:-$BUILD/$2}
    mkdir -p "$LOG_DIR"
    export BUILD LOG_DIR REPO_ROOT
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
    python3 "$REPO_ROOT/tools/make-batch" "$@"
}

# wrk_post_script OUT BODY [HEADER_LINE...]: a wrk Lua script POSTing BODY as JSON with the
# extra headers ('x-client-id: c') that prints "WRK p50_us= p99_us= requests= errors= non2xx=".
wrk_post_script() {
    local out=$1 body=$2 h
    shift 2
    {
        echo 'wrk.method = "POST"'
        echo 'wrk.headers["Content-Type"] = "application/json"'
        for h in "$@"; do
            printf 'wrk.headers["%s"] = "%s"\n' "${h%%: *}" "${h#*: }"
        done
        cat <<LUA
local f = io.open("$body", "rb")
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  io.write(string.format("WRK p50_us=%d p99_us=%d requests=%d errors=%d non2xx=%d\\n",
    latency:percentile(50), latency:percentile(99), summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
LUA
    } >"$out"
}

# ---- insights-api and its users ---------------------------------------------------------

INS_CLIENT=${INS_CLIENT:-demo_client}

# The demo models (insights-api/models: trained on synthetic users, NOT credit models), as
# the environment of an insights-api that should return scores: "${DEMO_MODELS[@]}".
DM=insights-api/models
DEMO_MODELS=(PAYDAY_SCORE_LGB_MODEL_V2_PATH="$DM"/demo_payday_v2.txt
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH="$DM"/demo_payday_v2.predictors.json
    PAYDAY_SCORE_LGB_MODEL_V3_PATH="$DM"/demo_payday_v3.txt
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V3_PATH="$DM"/demo_payday_v3.predictors.json
    EMI_LGB_MODEL_V2_PATH="$DM"/demo_emi_v2.txt
    PREDICTORS_EMI_LGB_MODEL_V2_PATH="$DM"/demo_emi_v2.predictors.json
    SCORE_ARMS="credeau_payday_score=v2:50,v3:50")

# start_smsx_bg: sms-extraction on free ports; sets SMSX_URL SMSX_PID.
start_smsx_bg() {
    start_smsx LOG_LEVEL=info "$@" || return 1
    SMSX_URL=$D_URL
    SMSX_PID=$D_PID
}

# start_insights [VAR=value...]: insights-api on free ports (sms-extraction at $SMSX_URL,
# spool under T_TMP); sets the D_* variables of start_daemon plus INS_URL INS_PID.
start_insights() {
    start_daemon insights "$BUILD/insights-api" SMS_EXTRACTOR_SERVICE_URL="${SMSX_URL:-http://127.0.0.1:9}" \
        SPOOL_PATH="$T_TMP/spool.$T_DAEMON_SEQ" "$@" || return 1
    INS_URL=$D_URL
    INS_PID=$D_PID
}

# mongo_env: DI_MONGODB_URI for the peer (database sync_db).
mongo_env() {
    echo "DI_MONGODB_URI=$MONGO_URI DI_MONGODB_DATABASE=sync_db DI_MONGODB_SERVER_SELECTION_TIMEOUT_MS=2000"
}

# gen_users DIR N SEED: N synthetic users (client $INS_CLIENT) with planted truth, "now" = now.
gen_users() {
    local now
    now=${GEN_USERS_NOW:-$(TZ=Asia/Kolkata date '+%Y-%m-%d %H:%M:%S')}
    echo "     gen-users --users $2 --seed $3 --now '$now' (set GEN_USERS_NOW to replay)"
    python3 "$REPO_ROOT/tools/gen-users" --users "$2" --seed "$3" --now "$now" \
        --client-id "$INS_CLIENT" --out "$1" >/dev/null
}

# user_files DIR: the users' data files (not the truth files).
user_files() { ls "$1"/*.json | grep -v '\.truth\.json$'; }

# load_users FILE...: into the MongoDB peer.
load_users() {
    MONGO_URI=$MONGO_URI "$BUILD/tools/load-user" --drop "$@" >/dev/null
}

# inline_body USERFILE OUT [GROUPINGS_JSON]: the /api/generate_features body for a user.
inline_body() {
    jq -c --argjson g "${3:-null}" '{user_id, client_id, sms_data: .sms, apps_data: .apps,
        device_data: .device} + (if $g == null then {} else {groupings: $g} end)' "$1" >"$2"
}

# insights_body OUT USER [GROUPINGS_JSON] [CLIENT]: the /api/insights body.
insights_body() {
    jq -cn --arg u "$2" --arg c "${4:-$INS_CLIENT}" --argjson g "${3:-[\"sms\",\"fraud\",\"extracted_sms\"]}" \
        '{user_id: $u, client_id: $c, groupings: $g}' >"$1"
}

# api PATH BODYFILE CLIENT TOKEN [URL [curl args...]]: POST with the credential headers.
api() {
    local path=$1 body=$2 client=$3 token=$4 url=${5:-$INS_URL}
    shift 4
    [ $# -gt 0 ] && shift
    http POST "$url$path" "$body" -H "x-client-id: $client" -H "x-auth-token: $token" "$@"
}

# metric_value NAME_AND_LABELS: the value of one sample in the current daemon's /metrics.
metric_value() {
    metrics | awk -v k="$1" 'index($0, k" ") == 1 { print $2; exit }'
}
