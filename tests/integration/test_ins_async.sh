#!/usr/bin/env bash
# Async insights across two replicas sharing one PostgreSQL database and one MongoDB.
# Replica A takes a job while its sms-extraction hangs; A is killed (kill -9) mid-job;
# replica B, polled with the same body, re-claims the job once A's lease expires, computes
# it and answers 200; every poll before that is 202 "featurization in progress" naming the
# same job. A finished result is then reused (same request_id) by either replica.
source "$(dirname "$0")/ins_lib.sh"

: "${PGPORT:?run through scripts/run-integration.sh (needs PostgreSQL)}"
: "${MONGO_URI:?run through scripts/run-integration.sh (needs MongoDB)}"
db="ins_async_$$"
use_database "$db"
# shellcheck disable=SC2046
export $(mongo_env)
tok=$("$BUILD/insights-api" client add --client "$INS_CLIENT" | jq -r .token)
privacy_secret "$tok"

gen_users "$T_TMP/users" 1 31337
uf=$(user_files "$T_TMP/users" | head -n 1)
load_users "$uf" || fail "load-user failed"
uid=$(jq -r .user_id "$uf")
insights_body "$T_TMP/body.json" "$uid"

# A stand-in for an sms-extraction that accepts connections and never answers.
hang_port=$(free_port)
cat >"$T_TMP/hang.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)
PY
python3 "$T_TMP/hang.py" "$hang_port" </dev/null >/dev/null 2>&1 &
hang_pid=$!
for i in $(seq 200); do port_open "$hang_port" && break; sleep 0.05; done
T_PIDS+=("$hang_pid")

start_smsx_bg || fail "sms-extraction did not start"
real_smsx=$SMSX_URL
SMSX_URL=http://127.0.0.1:$hang_port start_insights JOB_STALE_SECONDS=3 JOB_SWEEP_INTERVAL_SECONDS=1 \
    SMS_EXTRACTOR_TIMEOUT_MS=60000 SMS_EXTRACTOR_RETRIES=0 || {
    fail "replica A did not start: $(tail -n 5 "$D_LOG")"
    finish
}
url_a=$INS_URL
pid_a=$INS_PID

api /api/async_insights "$T_TMP/body.json" "$INS_CLIENT" "$tok" "$url_a"
assert_eq "first POST: 202" 202 "$H_STATUS"
assert_eq "... featurization in progress" "featurization in progress" "$(jqr .message)"
job_rid=$(jqr .request_id)
claimed() { [ "$(q "SELECT state FROM insights_jobs WHERE user_id = '$uid'")" = running ]; }
for i in $(seq 100); do claimed && break; sleep 0.1; done
assert_true "replica A claimed the job" claimed
owner_a=$(q "SELECT owner FROM insights_jobs WHERE user_id = '$uid'")
http GET "$url_a/health"
assert_eq "replica A answers /health while its job waits on extraction" 200 "$H_STATUS"
api /api/async_insights "$T_TMP/body.json" "$INS_CLIENT" "$tok" "$url_a"
assert_eq "... and answers polls (202)" 202 "$H_STATUS"

SMSX_URL=$real_smsx start_insights JOB_STALE_SECONDS=3 JOB_SWEEP_INTERVAL_SECONDS=1 || {
    fail "replica B did not start: $(tail -n 5 "$D_LOG")"
    finish
}
url_b=$INS_URL
api /api/async_insights "$T_TMP/body.json" "$INS_CLIENT" "$tok" "$url_b"
assert_eq "a poll on replica B while A computes: 202" 202 "$H_STATUS"
assert_eq "... for the same job" "$job_rid" "$(jqr .request_id)"

kill -KILL "$pid_a"
wait "$pid_a" 2>/dev/null
ok "replica A killed mid-job (kill -9)"
status=
for i in $(seq 60); do
    api /api/async_insights "$T_TMP/body.json" "$INS_CLIENT" "$tok" "$url_b"
    status=$H_STATUS
    [ "$status" = 202 ] || break
    sleep 0.5
done
assert_eq "replica B finishes the job: 200" 200 "$status"
assert_eq "... featurization completed" "featurization completed" "$(jqr .message)"
assert_eq "... the job's request_id" "$job_rid" "$(jqr .request_id)"
assert_true "... with the features" test "$(jqr .all_sms_count_nlp)" -gt 0
assert_true "the job (first owner $owner_a) was claimed again after A died" \
    test "$(q "SELECT attempts FROM insights_jobs WHERE user_id = '$uid'")" -ge 2
first=$H_BODY
api /api/async_insights "$T_TMP/body.json" "$INS_CLIENT" "$tok" "$url_b"
assert_eq "a later POST reuses the finished result" "200 $job_rid" "$H_STATUS $(jqr .request_id)"
assert_eq "... byte for byte" "$first" "$H_BODY"
insights_body "$T_TMP/other.json" "$uid" '["sms"]'
api /api/async_insights "$T_TMP/other.json" "$INS_CLIENT" "$tok" "$url_b"
assert_eq "other groupings are another job: 202" 202 "$H_STATUS"
stop_daemon "$INS_PID"
stop_daemon "$SMSX_PID"
kill "$hang_pid" 2>/dev/null
psql_q postgres "DROP DATABASE $db" >/dev/null 2>&1
finish
