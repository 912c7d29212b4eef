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

burst() { # LABEL REASON: 12 clients at once, up to 3 rounds until both 200 and 503 are seen
    local label=$1 reason=$2 total=0 n200=0 n503=0 other=0 bad200=0 retry_after=0 code_ok=0
    local round i c pids
    for round in 1 2 3; do
        pids=()
        for i in $(seq 12); do
            curl -s -m 120 -o "$T_TMP/r$i.body" -D "$T_TMP/r$i.hdr" -w '%{http_code}' \
                -H 'Content-Type: application/json' --data-binary "@$T_TMP/big.json" \
                "$D_URL/api/extract" >"$T_TMP/r$i.code" 2>/dev/null &
            pids+=($!)
        done
        wait "${pids[@]}"
        for i in $(seq 12); do
            total=$((total + 1))
            c=$(cat "$T_TMP/r$i.code")
            case "$c" in
            200)
                n200=$((n200 + 1))
                [ "$(jq '.extracted_sms_data | length' "$T_TMP/r$i.body" 2>/dev/null)" = $N ] ||
                    bad200=$((bad200 + 1))
                ;;
            503)
                n503=$((n503 + 1))
                grep -qi '^retry-after: *[0-9]' "$T_TMP/r$i.hdr" && retry_after=$((retry_after + 1))
                [ "$(jq -r .code "$T_TMP/r$i.body" 2>/dev/null)" = overloaded ] && code_ok=$((code_ok + 1))
                ;;
            *) other=$((other + 1)) ;;
            esac
        done
        [ "$n503" -gt 0 ] && [ "$n200" -gt 0 ] && break
    done
    echo "     $label: $total requests in $round round(s): $n200 x 200, $n503 x 503, $other other"
    assert_eq "$label: every request answered 200 or 503 (none lost)" 0 "$other"
    assert_true "$label: some requests were served (200)" [ "$n200" -gt 0 ]
    assert_true "$label: some requests were shed (503)" [ "$n503" -gt 0 ]
    assert_eq "$label: every 200 carries all $N records" 0 "$bad200"
    assert_eq "$label: every 503 has a Retry-After header" "$n503" "$retry_after"
    assert_eq "$label: every 503 has code overloaded" "$n503" "$code_ok"
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
