#!/usr/bin/env bash
# The documented backup and restore of api_insights_db (docs/operations.md "Backups"), tested
# (issue 17): `pg_dump -Fc` while replica B serves borrowers (usage rows written throughout)
# and replica A holds an async job in 'running' (its sms-extraction hangs); then the database
# is dropped (the disaster), the replicas die, and `pg_restore` brings it back into a new
# database of the same name. A fresh replica then authenticates the same token (clients and
# their hashes restored; the pepper is the Secret's), serves a borrower, finds the usage rows of
# before the dump, and completes the unfinished async job (its lease expires and it is claimed
# again); `insights-api maintain` re-applies the partitions. The seconds from the drop to the
# replica being ready are printed (the RTO of this database size; docs/operations.md).
source "$(dirname "$0")/ins_lib.sh"

: "${PGPORT:?run through scripts/run-integration.sh (needs PostgreSQL)}"
: "${MONGO_URI:?run through scripts/run-integration.sh (needs MongoDB)}"
db="ins_restore_$$"
psql_q postgres "CREATE DATABASE $db" || {
    fail "could not create database $db"
    finish
}
# shellcheck disable=SC2046
export $(pg_env "$db") $(mongo_env)
export TOKEN_PEPPER=pepper-restore-$$
q() { psql_q "$db" "$1"; }
"$BUILD/insights-api" migrate >/dev/null || fail "migrate failed"
tok=$("$BUILD/insights-api" client add --client "$INS_CLIENT" | jq -r .token)
privacy_secret "$tok"

gen_users "$T_TMP/users" 2 4242
load_users $(user_files "$T_TMP/users") || fail "load-user failed"
uid_job=$(jq -r .user_id "$(user_files "$T_TMP/users" | head -n 1)")
uid_sync=$(jq -r .user_id "$(user_files "$T_TMP/users" | tail -n 1)")
insights_body "$T_TMP/job.json" "$uid_job"
insights_body "$T_TMP/sync.json" "$uid_sync"

# An sms-extraction that accepts connections and never answers: replica A's job stays running.
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
T_PIDS+=("$hang_pid")
for i in $(seq 200); do port_open "$hang_port" && break; sleep 0.05; done

start_smsx_bg || fail "sms-extraction did not start"
real_smsx=$SMSX_URL
SMSX_URL=http://127.0.0.1:$hang_port start_insights JOB_STALE_SECONDS=3 JOB_SWEEP_INTERVAL_SECONDS=1 \
    SMS_EXTRACTOR_TIMEOUT_MS=120000 SMS_EXTRACTOR_RETRIES=0 || {
    fail "replica A did not start: $(tail -n 5 "$D_LOG")"
    finish
}
url_a=$INS_URL pid_a=$INS_PID
SMSX_URL=$real_smsx start_insights || {
    fail "replica B did not start: $(tail -n 5 "$D_LOG")"
    finish
}
url_b=$INS_URL pid_b=$INS_PID

api /api/async_insights "$T_TMP/job.json" "$INS_CLIENT" "$tok" "$url_a"
assert_eq "an async job is accepted by replica A" 202 "$H_STATUS"
for i in $(seq 100); do [ "$(q "SELECT state FROM insights_jobs LIMIT 1")" = running ] && break; sleep 0.1; done
assert_eq "... and is running on A (its extraction hangs)" running "$(q "SELECT state FROM insights_jobs LIMIT 1")"

# Traffic on replica B during the dump.
(
    end=$((SECONDS + 8))
    while [ $SECONDS -lt $end ]; do
        curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' -H "x-client-id: $INS_CLIENT" \
            -H "x-auth-token: $tok" --data-binary "@$T_TMP/sync.json" "$url_b/api/insights"
    done
) >"$T_TMP/traffic.codes" &
traffic=$!
sleep 2
usage_before=$(q "SELECT count(*) FROM usage")
pg_dump -Fc -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$db" -f "$T_TMP/backup.dump" 2>"$T_TMP/dump.err"
assert_eq "pg_dump -Fc under traffic succeeds" 0 "$?"
wait "$traffic"
assert_eq "the traffic during the dump was all 200" "" "$(grep -v '^200$' "$T_TMP/traffic.codes" | sort | uniq -c)"
echo "     backup: $(stat -c %s "$T_TMP/backup.dump") bytes; $usage_before usage rows when the dump started," \
    "$(grep -c . "$T_TMP/traffic.codes") requests during the run"

# The disaster: both replicas die, the database is gone.
kill -KILL "$pid_a" "$pid_b"
wait "$pid_a" "$pid_b" 2>/dev/null
kill -TERM "$hang_pid" 2>/dev/null
psql_q postgres "DROP DATABASE $db WITH (FORCE)" || fail "drop failed"
t0=$(date +%s.%N)
psql_q postgres "CREATE DATABASE $db" &&
    pg_restore -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$db" --exit-on-error "$T_TMP/backup.dump" 2>"$T_TMP/restore.err"
assert_eq "pg_restore into a new database of the same name succeeds" 0 "$?"
assert_eq "the unfinished job is in the backup, still running" running "$(q "SELECT state FROM insights_jobs LIMIT 1")"
SMSX_URL=$real_smsx start_insights JOB_STALE_SECONDS=3 JOB_SWEEP_INTERVAL_SECONDS=1 || {
    fail "a replica did not start on the restored database: $(tail -n 5 "$D_LOG")"
    finish
}
t1=$(date +%s.%N)
echo "     restore to ready: $(echo "$t1 - $t0" | bc) s (create database, pg_restore, a replica up)"

assert_true "usage rows of before the dump are back" test "$(q "SELECT count(*) FROM usage")" -ge "$usage_before"
api /api/insights "$T_TMP/sync.json" "$INS_CLIENT" "$tok"
assert_eq "the same token authenticates on the restored database" 200 "$H_STATUS"
assert_true "... and the borrower is featurised" test "$(jqr '[.[]] | length')" -gt 100
for i in $(seq 150); do
    api /api/async_insights "$T_TMP/job.json" "$INS_CLIENT" "$tok"
    [ "$H_STATUS" = 200 ] && break
    sleep 0.2
done
assert_eq "the job unfinished at backup time completes after the restore" 200 "$H_STATUS"
assert_eq "... recorded done" done "$(q "SELECT state FROM insights_jobs LIMIT 1")"
out=$("$BUILD/insights-api" maintain)
assert_eq "insights-api maintain runs on the restored database" 0 "$?"
assert_true "... and answers with its partition counts" jq -e .partitions_created <<<"$out" >/dev/null
stop_daemon "$INS_PID"
assert_eq "the replica stops cleanly" 0 "$D_EXIT"
stop_daemon "$SMSX_PID"
finish
