#!/usr/bin/env bash
# A short insights-api run under valgrind memcheck, no database: start beside sms-extraction,
# serve a few requests (a generated user inline, a 422, a 401, an unknown path, a 502 for
# MongoDB), a SIGHUP reload and one more request, then SIGTERM. Fails on any memcheck error
# or leak (--error-exitcode=1) and when the daemon does not exit 0.
# usage: scripts/valgrind-insights.sh [BUILD_DIR] [LOG_DIR]
set -u
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd) || exit 1
export LOG_DIR=${2:-$BUILD/test-logs/valgrind}
mkdir -p "$LOG_DIR"
export BUILD REPO_ROOT=$(pwd)
# shellcheck source=../tests/integration/ins_lib.sh
source tests/integration/ins_lib.sh
TEST_NAME=valgrind-insights

start_smsx_bg || {
    fail "sms-extraction did not start"
    finish
}
export DAEMON_START_TRIES=1200
DAEMON_WRAPPER="valgrind --leak-check=full --error-exitcode=1 --num-callers=30 --log-file=$LOG_DIR/memcheck-insights.%p.txt" \
    start_insights WORKER_THREADS=2 PIPELINE_THREADS=2 DEMO_CLIENTS="$INS_CLIENT:vg-token" || {
    fail "insights-api did not start under valgrind (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
gen_users "$T_TMP/users" 1 11
inline_body "$(user_files "$T_TMP/users" | head -n 1)" "$T_TMP/inline.json"
api /api/generate_features "$T_TMP/inline.json" "$INS_CLIENT" vg-token
assert_eq "generate_features under valgrind" 200 "$H_STATUS"
printf '{"user_id": ' >"$T_TMP/broken.json"
api /api/generate_features "$T_TMP/broken.json" "$INS_CLIENT" vg-token
assert_eq "broken JSON under valgrind" 422 "$H_STATUS"
api /api/generate_features "$T_TMP/inline.json" "$INS_CLIENT" wrong
assert_eq "wrong token under valgrind" 401 "$H_STATUS"
insights_body "$T_TMP/ins.json" u1
api /api/insights "$T_TMP/ins.json" "$INS_CLIENT" vg-token
assert_eq "no MongoDB under valgrind" 502 "$H_STATUS"
http GET "$INS_URL/nope"
assert_eq "unknown path under valgrind" 403 "$H_STATUS"
# a SIGHUP reload: the new set published, the old one freed once nothing uses it
kill -HUP "$INS_PID"
for i in $(seq 300); do
    [ "$(metric_value insights_artifact_generation)" = 2 ] && break
    sleep 0.2
done
assert_eq "SIGHUP reload under valgrind" 2 "$(metric_value insights_artifact_generation)"
api /api/generate_features "$T_TMP/inline.json" "$INS_CLIENT" vg-token
assert_eq "generate_features after the reload" 200 "$H_STATUS"
stop_daemon "$INS_PID"
assert_eq "insights-api exits 0 with no memcheck error or leak" 0 "$D_EXIT"
stop_daemon "$SMSX_PID"
finish
