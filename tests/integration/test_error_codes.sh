#!/usr/bin/env bash
# Every code of the error table is sent, by the daemons that say they send it: for each row
# each daemon prints with --error-docs (so a new row fails here until a case sends it), one
# request that provokes it against the real daemon, and the reply checked against the row:
# the status, Retry-After when the row says so, and the body in the row's style (the JSON
# code, the detail list, Credeau's 401 sentence, the 403 page). not_ready has no path in
# either daemon once started (their readiness holds after start-up): the HTTP framework's
# /ready sends it when a readiness hook says no, which test_http_server drives, checked here.
source "$(dirname "$0")/ins_lib.sh"

# rows DAEMON: "code status retry style" per row of its --error-docs table.
rows() {
    "$BUILD/$1" --error-docs | awk -F'|' '/^\| `/ {
        gsub(/[ `]/, "", $2); gsub(/ /, "", $3); gsub(/ /, "", $4); sub(/^ /, "", $5); sub(/ $/, "", $5)
        gsub(/ /, "_", $5); print $2, $3, ($4 == "yes" ? 1 : 0), $5 }'
}

# check DAEMON CODE STATUS RETRY STYLE: the last reply (H_*) is that row's.
check() {
    local d=$1 code=$2 status=$3 retry=$4 style=$5 got
    case "$style" in
    JSON) got=$(jqr .code) ;;
    detail_list) got=$(jqr 'if (.detail | type) == "array" and (.detail | length) > 0 then "validation" else "" end') ;;
    Credeau_401) got=$(jqr '.error | if startswith("Could not validate credentials. (request_id=") then "unauthorized" else "" end') ;;
    HTML_403) case "$H_BODY" in "<html><head><title>403 Forbidden</title>"*) got=forbidden ;; *) got= ;; esac ;;
    *) got="unknown style $style" ;;
    esac
    if [ "$H_STATUS" = "$status" ] && [ "$got" = "$code" ] &&
        { [ "$retry" = 0 ] || [ -n "$(header Retry-After)" ]; }; then
        ok "$d sends $code ($status, $style$([ "$retry" = 1 ] && echo ', Retry-After'))"
    else
        fail "$d $code: expected $status $style, got $H_STATUS '$(printf '%.200s' "$H_BODY")'"
    fi
}

# A listener that accepts connections and never answers: a dependency that hangs.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$T_TMP/hole.port" &
HOLE_PID=$!
T_PIDS+=("$HOLE_PID")
for i in $(seq 50); do [ -s "$T_TMP/hole.port" ] && break; sleep 0.1; done
HOLE=http://127.0.0.1:$(cat "$T_TMP/hole.port")

# drain_ready URL ADMIN_URL PID SLOW_CMD...: a keep-alive connection, SLOW_CMD in flight
# (seen in /metrics), SIGTERM to PID, then /ready on the open connection (the listener is
# closed by then): the reply into H_*.
drain_ready() {
    local url=$1 admin=$2 pid=$3
    shift 3
    "$@" &
    python3 - "${url##*:}" "$admin" "$pid" >"$T_TMP/drain.out" <<'PY'
import os, re, signal, socket, sys, time, urllib.request
port, admin, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = socket.create_connection(("127.0.0.1", port))
def ask(path):
    c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += c.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < n:
        body += c.recv(4096)
    return head.decode(), body.decode()
ask("/health")
for _ in range(600):
    m = urllib.request.urlopen(admin + "/metrics").read().decode()
    if re.search(r"(?m)^[a-z_]*in_flight[a-z_]*(\{[^}]*\})? +[1-9]", m):
        break
    time.sleep(0.01)
os.kill(pid, signal.SIGTERM)
time.sleep(0.05)
head, body = ask("/ready")
print(head.split(" ")[1]); print(head); print("BODY " + body)
PY
    H_STATUS=$(sed -n 1p "$T_TMP/drain.out")
    H_HEADERS=$(sed -n '2,/^BODY /p' "$T_TMP/drain.out" | grep -v '^BODY ' | tr -d '\r')
    H_BODY=$(sed -n 's/^BODY //p' "$T_TMP/drain.out")
}

# raw PORT REQUEST [WAIT]: exactly these bytes (C escapes) on a new connection, the first
# reply into H_* (curl would mend what these requests get wrong).
raw() {
    local r
    r=$(python3 "$REPO_ROOT/tests/integration/rawhttp.py" send "$1" "$2" "${3:-2}")
    H_STATUS=$(jq -r '.responses[0].status // "none"' <<<"$r")
    H_BODY=$(jq -r '.responses[0].body // ""' <<<"$r")
    H_HEADERS=$(jq -r '.responses[0].headers // {} | to_entries[] | "\(.key): \(.value)"' <<<"$r")
}

# framework_send PORT PATH CODE: the HTTP engine's refusals, the same on both daemons (the
# daemon runs with REQUEST_HEAD_TIMEOUT_MS=1000). PATH is a JSON POST route; 1 = not one of them.
framework_send() {
    local port=$1 path=$2 h='Host: x\r\nContent-Type: application/json\r\n'
    case "$3" in
    bad_request) raw "$port" "POST $path HTTP/1.1\r\n${h}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" ;;
    headers_too_large) raw "$port" "GET /health HTTP/1.1\r\n${h}X-Big: $(head -c 17000 /dev/zero | tr '\0' a)\r\n\r\n" ;;
    request_timeout) raw "$port" "GET /health HTTP/1.1\r\n${h}X-Slow: a" 4 ;;
    expectation_failed) raw "$port" "POST $path HTTP/1.1\r\n${h}Expect: magic\r\nContent-Length: 2\r\n\r\n" ;;
    not_implemented) raw "$port" "POST $path HTTP/1.1\r\n${h}Transfer-Encoding: gzip, chunked\r\n\r\n" ;;
    http_version_not_supported) raw "$port" "GET /health HTTP/2.0\r\nHost: x\r\n\r\n" ;;
    *) return 1 ;;
    esac
}

# ---- sms-extraction ---------------------------------------------------------------------

start_smsx MAX_BODY_BYTES=4096 MAX_SMS_COUNT=3000 REQUEST_HEAD_TIMEOUT_MS=1000 || {
    fail "sms-extraction did not start: $(tail -n 5 "$D_LOG")"
    finish
}
SMSX=$D_URL
SMSX_ADMIN=$D_ADMIN_URL
make_batch "$T_TMP/small.json" 2 "$(privacy_marker codes)"

smsx_send() {
    case "$1" in
    validation) printf '{"client_id": ' >"$T_TMP/b" && http POST "$SMSX/api/extract" "$T_TMP/b" ;;
    body_too_large)
        head -c 5000 /dev/zero | tr '\0' ' ' >"$T_TMP/b"
        http POST "$SMSX/api/extract" "$T_TMP/b"
        ;;
    unsupported_media_type)
        http POST "$SMSX/api/extract" "" -H 'Content-Type: text/plain' --data-binary "@$T_TMP/small.json"
        ;;
    not_found) http GET "$SMSX/nope" ;;
    method_not_allowed) http GET "$SMSX/api/extract" ;;
    overloaded)
        # MAX_IN_FLIGHT=1 and large requests at once: some are shed
        make_batch "$T_TMP/big.json" 3000 "$(privacy_marker codes)"
        stop_daemon
        start_smsx MAX_IN_FLIGHT=1 WORKER_THREADS=4 MAX_SMS_COUNT=20000 \
            MAX_BODY_BYTES=16777216 REQUEST_HEAD_TIMEOUT_MS=1000 || return 1
        burst_overloaded "$D_URL/api/extract" "$T_TMP/big.json"
        ;;
    draining)
        make_batch "$T_TMP/huge.json" 20000 "$(privacy_marker codes)"
        stop_daemon
        start_smsx MAX_SMS_COUNT=20000 MAX_BODY_BYTES=16777216 SHUTDOWN_GRACE_MS=60000 \
            REQUEST_TIMEOUT_MS=120000 || return 1
        drain_ready "$D_URL" "$D_ADMIN_URL" "$D_PID" burst "$D_URL/api/extract" "$T_TMP/huge.json" 4
        ;;
    *) framework_send "${D_URL##*:}" /api/extract "$1" ;;
    esac
}

# burst URL BODY N: N requests at once (run in a subshell: its wait is its own).
burst() {
    local i
    for i in $(seq "$3"); do
        curl -s -m 60 -o /dev/null -H 'Content-Type: application/json' --data-binary "@$2" "$1" &
    done
    wait
}

# burst_overloaded URL BODY: 12 at once until one is shed; H_* is that reply.
burst_overloaded() {
    local round i
    for round in 1 2 3 4 5; do
        burst_fire "$1" "$2"
        for i in $(seq 12); do
            if [ "$(cat "$T_TMP/b$i.code")" = 503 ]; then
                H_STATUS=503
                H_BODY=$(cat "$T_TMP/b$i.body")
                H_HEADERS=$(tr -d '\r' <"$T_TMP/b$i.hdr")
                return 0
            fi
        done
    done
}

while read -r code status retry style; do
    case "$code" in
    not_ready) continue ;; # below, once
    internal) continue ;;  # no request makes sms-extraction fail inside; insights-api below
    esac
    if smsx_send "$code"; then
        check sms-extraction "$code" "$status" "$retry" "$style"
    else
        fail "no test sends $code for sms-extraction"
    fi
done < <(rows sms-extraction | awk '$1 != "draining"' && rows sms-extraction | awk '$1 == "draining"')
stop_daemon

# ---- insights-api -----------------------------------------------------------------------

DB=codes_$$
psql_q postgres "CREATE DATABASE $DB" >/dev/null
# shellcheck disable=SC2046
export $(pg_env "$DB")
export TOKEN_PEPPER=pepper-$$
TOKEN=$("$BUILD/insights-api" client add --client "$INS_CLIENT" | jq -r .token)
privacy_secret "$TOKEN"
# Every call comes through a trusted proxy from its own allowed address (the rate limit
# counts per address): 10.9.9.1, .2, ...; 10.1.1.1 is not allowed.
start_insights TRUSTED_PROXY_CIDRS=127.0.0.1/32 IP_ALLOW_LIST=10.9.9.0/24 \
    RATE_LIMIT_PER_MINUTE=3 MAX_BODY_BYTES=65536 MAX_IN_FLIGHT=2 SHUTDOWN_GRACE_MS=30000 \
    REQUEST_HEAD_TIMEOUT_MS=1000 \
    SMS_EXTRACTOR_SERVICE_URL="$HOLE" SMS_EXTRACTOR_TIMEOUT_MS=3000 SMS_EXTRACTOR_RETRIES=0 || {
    fail "insights-api did not start: $(tail -n 5 "$D_LOG")"
    finish
}
insights_body "$T_TMP/ins.json" u1 '["sms"]'
jq -c '{user_id, client_id, sms_data: [{sms_id: "1", sms_body: "Rs 1 debited",
    sms_inbox_date: "2026-11-01 10:00:00"}]}' "$T_TMP/ins.json" >"$T_TMP/gen.json"
IPN=0

# ins PATH BODY [curl args]: a call with the credentials, from the next allowed address.
ins() {
    IPN=$((IPN + 1))
    api "$1" "$2" "$INS_CLIENT" "$TOKEN" "$INS_URL" -H "X-Forwarded-For: 10.9.9.$IPN" "${@:3}"
}

ins_send() {
    case "$1" in
    validation) echo '{}' >"$T_TMP/b" && ins /api/insights "$T_TMP/b" ;;
    body_too_large)
        head -c 70000 /dev/zero | tr '\0' ' ' >"$T_TMP/b"
        ins /api/insights "$T_TMP/b"
        ;;
    not_found) http GET "$D_ADMIN_URL/nope" ;; # the API port answers unknown paths with 403
    method_not_allowed) http GET "$INS_URL/api/insights" ;;
    unauthorized)
        api /api/insights "$T_TMP/ins.json" "$INS_CLIENT" wrong-token "$INS_URL" \
            -H 'X-Forwarded-For: 10.9.9.200'
        ;;
    forbidden)
        api /api/insights "$T_TMP/ins.json" "$INS_CLIENT" "$TOKEN" "$INS_URL" \
            -H 'X-Forwarded-For: 10.1.1.1'
        ;;
    rate_limited)
        for i in 1 2 3 4; do
            api /api/insights "$T_TMP/ins.json" "$INS_CLIENT" "$TOKEN" "$INS_URL" \
                -H 'X-Forwarded-For: 10.9.9.201'
        done
        ;;
    dependency_unavailable) ins /api/insights "$T_TMP/ins.json" ;; # no MongoDB configured
    overloaded)
        # two calls hang on the silent extractor (MAX_IN_FLIGHT=2): the third is shed
        local hung=()
        (ins /api/generate_features "$T_TMP/gen.json") &
        hung+=($!)
        (ins /api/generate_features "$T_TMP/gen.json") &
        hung+=($!)
        sleep 1
        ins /api/generate_features "$T_TMP/gen.json"
        wait "${hung[@]}"
        ;;
    internal)
        # a job whose computation failed inside: its one report is the table's 500
        psql_q "$DB" "INSERT INTO insights_jobs (client_id, user_id, groupings, state, request_id,
            error, finished_at) VALUES ('$INS_CLIENT', 'u1', 'sms', 'failed', 'r0', 'internal', now())" >/dev/null
        ins /api/async_insights "$T_TMP/ins.json"
        ;;
    dependency_timeout | dependency_overloaded)
        # a job that failed on sms-extraction timing out (shedding load): the one report of its
        # failure is the table's 504 (503); test_ins_credeau_client has the live extractor cases
        insights_body "$T_TMP/$1.json" "u-$1" '["sms"]'
        psql_q "$DB" "INSERT INTO insights_jobs (client_id, user_id, groupings, state, request_id,
            error, finished_at) VALUES ('$INS_CLIENT', 'u-$1', 'sms', 'failed', 'r0', '$1', now())" >/dev/null
        ins /api/async_insights "$T_TMP/$1.json"
        ;;
    unsupported_media_type)
        IPN=$((IPN + 1))
        http POST "$INS_URL/api/insights" "" -H 'Content-Type: text/plain' \
            -H "X-Forwarded-For: 10.9.9.$IPN" --data-binary "@$T_TMP/ins.json"
        ;;
    draining)
        drain_ready "$INS_URL" "$D_ADMIN_URL" "$INS_PID" ins /api/generate_features "$T_TMP/gen.json"
        ;;
    *) framework_send "${INS_URL##*:}" /api/insights "$1" ;;
    esac
}

while read -r code status retry style; do
    [ "$code" = not_ready ] && continue
    if ins_send "$code"; then
        check insights-api "$code" "$status" "$retry" "$style"
    else
        fail "no test sends $code for insights-api"
    fi
done < <(rows insights-api | sort -k1,1 -s | awk '$1 != "draining"' && rows insights-api | awk '$1 == "draining"')
wait_exit "$INS_PID" 30
psql_q postgres "DROP DATABASE IF EXISTS $DB" >/dev/null

# ---- not_ready: the framework's /ready, when a daemon's readiness hook says no ----------

if "$BUILD/tests/common/test_http_server" 2>/dev/null | grep -q '^\[       OK \] test_ready_hook_says_no$'; then
    ok "not_ready sent by /ready when the readiness hook says no (test_http_server)"
else
    fail "not_ready: test_http_server's test_ready_hook_says_no did not pass"
fi
kill "$HOLE_PID" 2>/dev/null
wait "$HOLE_PID" 2>/dev/null
finish
