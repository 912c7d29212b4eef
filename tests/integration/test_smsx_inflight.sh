#!/usr/bin/env bash
# sms-extraction load shedding: with MAX_IN_FLIGHT=1 and several clients at once, the extra
# requests get 503 "overloaded" with Retry-After, and none is lost: every request is
# answered, either 200 with all its records or 503.
source "$(dirname "$0")/lib.sh"

N=3000
start_smsx MAX_IN_FLIGHT=1 WORKER_THREADS=4 MAX_SMS_COUNT=$N || {
    fail "daemon did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
mark=$(privacy_marker inflight)
make_batch "$T_TMP/big.json" $N "$mark"

shed_burst "MAX_IN_FLIGHT=1" "$T_TMP/big.json" $N

m=$(metrics)
assert_true "metrics count the 503 replies" grep -q '503' <<<"$m"
http_get "$D_URL/health"
assert_eq "daemon healthy after the burst" 200 "$H_STATUS"
stop_daemon
assert_eq "SIGTERM: exit status 0" 0 "$D_EXIT"
finish
