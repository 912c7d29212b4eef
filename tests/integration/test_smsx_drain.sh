#!/usr/bin/env bash
# sms-extraction graceful stop: SIGTERM while a large request is being processed lets that
# request finish with 200 and all its records; then the process exits with status 0.
source "$(dirname "$0")/lib.sh"

N=20000
start_smsx MAX_SMS_COUNT=$N MAX_BODY_BYTES=16777216 SHUTDOWN_GRACE_MS=60000 \
    REQUEST_TIMEOUT_MS=120000 || {
    fail "daemon did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
mark=$(privacy_marker drain)
make_batch "$T_TMP/big.json" $N "$mark"

curl -s -m 120 -o "$T_TMP/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "@$T_TMP/big.json" "$D_URL/api/extract" >"$T_TMP/code" 2>/dev/null &
cpid=$!
# Wait until the daemon reports the request in flight (gauge >= 1), then stop it.
seen=0
for i in $(seq 500); do
    if metrics | grep -Eq '^[a-z_]*in_flight[a-z_]*(\{[^}]*\})? +[1-9]'; then
        seen=1
        break
    fi
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.01
done
kill -TERM "$D_PID"
if [ "$seen" = 1 ]; then
    ok "SIGTERM sent while the metrics showed the request in flight"
else
    fail "never saw the request in flight in /metrics (request may have finished first)"
fi
wait "$cpid"
assert_eq "in-flight request completes with 200" 200 "$(cat "$T_TMP/code")"
assert_eq "in-flight request has all $N records" $N \
    "$(jq '.extracted_sms_data | length' "$T_TMP/resp" 2>/dev/null)"
wait_exit "$D_PID" 60
assert_eq "process exits 0 after draining" 0 "$D_EXIT"
assert_true "port closed after exit" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$D_PORT) 2>/dev/null"
finish
