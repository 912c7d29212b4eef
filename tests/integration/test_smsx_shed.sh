#!/usr/bin/env bash
# sms-extraction sheds load by queued work and queue delay (issue 11, item 5): extraction runs
# on its own threads (EXTRACT_THREADS) off the event loop, so MAX_IN_FLIGHT is not what
# refuses. With one extraction thread and EXTRACT_QUEUE_MAX=1, a burst of clients gets 503
# overloaded with Retry-After for what does not fit the queue; with EXTRACT_QUEUE_TIMEOUT_MS=5
# what waited longer gets the same from the extraction thread. Every request is answered,
# 200 with all its records or 503, and the refusals are counted by reason. (main ran the work
# on the event loop and never answered 503 below MAX_IN_FLIGHT.)
source "$(dirname "$0")/lib.sh"

N=3000
mark=$(privacy_marker shed)
make_batch "$T_TMP/big.json" $N "$mark"

burst() { # LABEL REASON
    local label=$1 reason=$2
    shed_burst "$label" "$T_TMP/big.json" $N
    assert_true "$label: counted as $reason in /metrics" \
        bash -c "curl -s '$D_ADMIN_URL/metrics' | grep -Eq '^smsx_requests_rejected_total\\{reason=\"$reason\"\\} [1-9]'"
    http_get "$D_URL/health"
    assert_eq "$label: healthy after the burst" 200 "$H_STATUS"
}

start_smsx WORKER_THREADS=1 EXTRACT_THREADS=1 EXTRACT_QUEUE_MAX=1 MAX_SMS_COUNT=$N || {
    fail "daemon did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
burst "queue of 1" queue_full
stop_daemon
assert_eq "stops cleanly" 0 "$D_EXIT"

start_smsx WORKER_THREADS=1 EXTRACT_THREADS=1 EXTRACT_QUEUE_TIMEOUT_MS=5 MAX_SMS_COUNT=$N || {
    fail "daemon did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
burst "queue delay of 5 ms" queue_timeout
stop_daemon
assert_eq "stops cleanly" 0 "$D_EXIT"
finish
