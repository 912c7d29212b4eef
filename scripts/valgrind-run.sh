#!/usr/bin/env bash
# A short sms-extraction run under valgrind memcheck: start on free ports, serve a few
# requests (a good batch, broken JSON, a validation error, an oversize body, an unknown
# path), then SIGTERM. Fails on any memcheck error or leak (--error-exitcode=1) and when the
# daemon does not exit 0.
# usage: scripts/valgrind-run.sh [BUILD_DIR] [LOG_DIR]
set -u
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd) || exit 1
export LOG_DIR=${2:-$BUILD/test-logs/valgrind}
mkdir -p "$LOG_DIR"
export BUILD REPO_ROOT=$(pwd)
export DAEMON_WRAPPER="valgrind --leak-check=full --error-exitcode=1 --num-callers=30 --log-file=$LOG_DIR/memcheck.%p.txt"
export DAEMON_START_TRIES=1200
# shellcheck source=../tests/integration/lib.sh
source tests/integration/lib.sh

start_smsx WORKER_THREADS=2 MAX_SMS_COUNT=50 MAX_BODY_BYTES=65536 || {
    fail "daemon did not start under valgrind (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
mark=$(privacy_marker vg)
make_batch "$T_TMP/good.json" 20 "$mark"
post_json /api/extract "$T_TMP/good.json"
assert_eq "good batch under valgrind" 200 "$H_STATUS"
printf '{"client_id": ' >"$T_TMP/broken"
post_json /api/extract "$T_TMP/broken"
assert_eq "broken JSON under valgrind" 422 "$H_STATUS"
jq -c 'del(.user_id) | .sms[0].sms_inbox_date = "2026-99-99"' "$T_TMP/good.json" >"$T_TMP/invalid"
post_json /api/extract "$T_TMP/invalid"
assert_eq "validation errors under valgrind" 422 "$H_STATUS"
make_batch "$T_TMP/many.json" 51 "$mark"
post_json /api/extract "$T_TMP/many.json"
assert_eq "too many messages under valgrind" 422 "$H_STATUS"
head -c 70000 /dev/zero | tr '\0' 'x' >"$T_TMP/huge"
post_json /api/extract "$T_TMP/huge"
assert_eq "oversize body under valgrind" 413 "$H_STATUS"
http GET "$D_URL/nope"
assert_eq "unknown path under valgrind" 404 "$H_STATUS"
http GET "$D_ADMIN_URL/metrics"
assert_eq "metrics under valgrind" 200 "$H_STATUS"
kill -HUP "$D_PID"
sleep 2
post_json /api/extract "$T_TMP/good.json"
assert_eq "good batch after SIGHUP reload under valgrind" 200 "$H_STATUS"
stop_daemon
assert_eq "valgrind: no errors, no leaks, daemon exit 0" 0 "$D_EXIT"
[ "$D_EXIT" = 0 ] || grep -h -A 12 -E 'definitely lost|Invalid|uninitialised|ERROR SUMMARY' \
    "$LOG_DIR"/memcheck.*.txt | head -n 60
finish
