#!/usr/bin/env bash
# sms-extraction request logging into a real PostgreSQL 15: rows appear with the message
# counts and never the SMS text; when PostgreSQL stops the daemon keeps answering 200 and
# counts the failed writes in /metrics; when it comes back the rows resume.
source "$(dirname "$0")/lib.sh"

: "${PGPORT:?run through scripts/run-integration.sh (needs the PostgreSQL peer)}"
db="smsx_it_$$"
psql_q postgres "CREATE DATABASE $db" || {
    fail "could not create database $db"
    finish
}
start_smsx DB_HOST="$PGHOST" DB_PORT="$PGPORT" DB_USER="$PGUSER" DB_PASSWORD= DB_NAME="$db" \
    DB_SSLMODE=disable || {
    fail "daemon did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
mark=$(privacy_marker pg)
make_batch "$T_TMP/batch.json" 7 "$mark"

# Every row of every table in the public schema, as JSON lines.
all_rows() {
    local t
    for t in $(psql_q "$db" "SELECT table_name FROM information_schema.tables
                           WHERE table_schema = 'public' AND table_type = 'BASE TABLE'" 2>/dev/null); do
        psql_q "$db" "SELECT row_to_json(x)::text FROM \"$t\" x" 2>/dev/null
    done
}
row_count() { all_rows | grep -c .; }
wait_rows() { # wait until there are at least N rows (writes may be asynchronous)
    local i
    for i in $(seq 100); do
        [ "$(row_count)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

for i in 1 2 3; do post_json /api/extract "$T_TMP/batch.json"; done
assert_eq "requests answered while logging to PostgreSQL" 200 "$H_STATUS"
assert_true "rows appear in PostgreSQL after 3 requests" wait_rows 3
rows=$(all_rows)
echo "     tables: $(psql_q "$db" "SELECT string_agg(table_name, ',') FROM information_schema.tables WHERE table_schema = 'public'")"
echo "     a row: $(head -n 1 <<<"$rows" | cut -c1-300)"
assert_true "a row records the message count (7) in a *count* column" \
    bash -c 'jq -e -s "[.[] | to_entries[] | select(.key | test(\"count\")) | .value] | any(. == 7)" >/dev/null <<<"$1"' _ "$rows"
assert_not_contains "no row holds SMS text (marker)" "$rows" "$mark"
assert_not_contains "no row holds SMS text (words)" "$rows" "debited from"
assert_not_contains "no row holds the sms_body key" "$rows" "sms_body"

before=$(row_count)
pg_ctl_peer stop && ok "PostgreSQL stopped mid-run" || fail "could not stop PostgreSQL"
codes=""
for i in 1 2 3 4; do
    post_json /api/extract "$T_TMP/batch.json"
    codes="$codes$H_STATUS "
done
assert_eq "requests still answered 200 with PostgreSQL down" "200 200 200 200 " "$codes"
sleep 1
m=$(metrics)
assert_true "metrics count failed database writes" \
    grep -Eiq '^[a-z_]*(db|pg|store|request_log)[a-z_]*(fail|error)[a-z_]*(\{[^}]*\})? +[1-9]' <<<"$m"
http_get "$D_URL/health"
assert_eq "still healthy with PostgreSQL down" 200 "$H_STATUS"

pg_ctl_peer start && ok "PostgreSQL restarted" || fail "could not restart PostgreSQL"
resumed=0
for i in $(seq 30); do
    post_json /api/extract "$T_TMP/batch.json"
    if [ "$(row_count)" -gt "$before" ]; then
        resumed=1
        break
    fi
    sleep 1
done
assert_eq "rows resume after PostgreSQL is back" 1 "$resumed"
stop_daemon
assert_eq "SIGTERM: exit status 0" 0 "$D_EXIT"
assert_not_contains "the log does not carry the connection password field" "$(cat "$D_LOG")" "password="
finish
