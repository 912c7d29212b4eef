#!/usr/bin/env bash
# insights-api's shutdown is bounded by SHUTDOWN_GRACE_MS even with a slow dependency and
# queued work (issue 11, item 6): sms-extraction accepts connections and never answers
# (SMS_EXTRACTOR_TIMEOUT_MS 10 s, 2 retries: 30 s per call), one pipeline thread, four
# clients with SMS to extract: one call blocked on the dependency, the others waiting. After
# SIGTERM with a 1 s grace every client gets a reply (503 draining for what was left) and the
# process exits at once instead of running the queued calls against the dead dependency
# (main took 30 s and more). No timing is asserted beyond "exited within 15 s".
source "$(dirname "$0")/ins_lib.sh"

# A dependency that accepts and never answers (a hung replica).
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
' >"$T_TMP/hung.port" &
HUNG_PID=$!
T_PIDS+=("$HUNG_PID")
for i in $(seq 50); do [ -s "$T_TMP/hung.port" ] && break; sleep 0.1; done
SMSX_URL="http://127.0.0.1:$(cat "$T_TMP/hung.port")"

start_insights SHUTDOWN_GRACE_MS=1000 WORKER_THREADS=1 PIPELINE_THREADS=1 \
    SMS_EXTRACTOR_TIMEOUT_MS=10000 SMS_EXTRACTOR_RETRIES=2 DEMO_CLIENTS="$INS_CLIENT:tok-drain" || {
    fail "insights-api did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
privacy_secret tok-drain
gen_users "$T_TMP/users" 1 11
inline_body "$(user_files "$T_TMP/users" | head -n 1)" "$T_TMP/body.json"
for i in 1 2 3 4; do
    curl -s -m 90 -o "$T_TMP/resp.$i" -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "x-client-id: $INS_CLIENT" -H 'x-auth-token: tok-drain' \
        --data-binary "@$T_TMP/body.json" "$INS_URL/api/generate_features" >"$T_TMP/code.$i" &
    eval "c$i=$!"
done
# Wait until the hung dependency holds the first call (its extraction is in progress).
for i in $(seq 100); do
    [ "$(ss -Htn state established "( dport = :$(cat "$T_TMP/hung.port") )" 2>/dev/null | wc -l)" -gt 0 ] && break
    sleep 0.1
done
sleep 0.5 # the other three reach the daemon and wait
kill -TERM "$INS_PID"
# by the wall clock (wait_exit counts sleeps, which stretch on a loaded machine)
exited_within() { # PID SECONDS
    local end=$(($(date +%s) + $2))
    while kill -0 "$1" 2>/dev/null; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}
assert_true "insights-api exits within 15 s of SIGTERM (grace 1 s, a call blocked 30 s, three queued)" \
    exited_within "$INS_PID" 15
kill -KILL "$INS_PID" 2>/dev/null
wait "$INS_PID" 2>/dev/null
assert_eq "... with exit status 0 (not killed)" 0 "$?"
for i in 1 2 3 4; do
    eval "wait \$c$i"
    assert_eq "client $i got a reply: 503 draining" "503 draining" \
        "$(cat "$T_TMP/code.$i") $(jq -r .code "$T_TMP/resp.$i" 2>/dev/null)"
done
kill "$HUNG_PID" 2>/dev/null
finish
