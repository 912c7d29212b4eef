# shellcheck shell=bash
# Helpers for the insights-api integration tests (tests/integration/test_ins_*.sh), on top of
# lib.sh: start sms-extraction and insights-api together, make synthetic users with
# tools/gen-users and load them into the MongoDB peer with build/tools/load-user, turn a user
# into an inline /api/generate_features body, and call the API with credentials.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INS_CLIENT=${INS_CLIENT:-demo_client}

# start_smsx_bg: sms-extraction on free ports; sets SMSX_URL SMSX_PID.
start_smsx_bg() {
    start_smsx LOG_LEVEL=info "$@" || return 1
    SMSX_URL=$D_URL
    SMSX_PID=$D_PID
}

# start_insights [VAR=value...]: insights-api on free ports (sms-extraction at $SMSX_URL,
# spool under the test's tmp dir); sets the D_* variables of lib.sh plus INS_URL INS_PID.
start_insights() {
    start_daemon insights "$BUILD/insights-api" SMS_EXTRACTOR_SERVICE_URL="${SMSX_URL:-http://127.0.0.1:9}" \
        SPOOL_PATH="$T_TMP/spool.$T_DAEMON_SEQ" "$@" || return 1
    INS_URL=$D_URL
    INS_PID=$D_PID
}

# pg_env DB: the DI_POSTGRES_* assignments for database DB of the peer.
pg_env() {
    echo "DI_POSTGRES_HOST=$PGHOST DI_POSTGRES_PORT=$PGPORT DI_POSTGRES_USERNAME=$PGUSER" \
        "DI_POSTGRES_DATABASE=$1 DI_POSTGRES_SSLMODE=disable"
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
