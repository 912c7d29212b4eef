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

total=0 n200=0 n503=0 other=0 bad200=0 retry_after=0 code_ok=0
for round in 1 2 3; do
    pids=()
    for i in $(seq 12); do
        curl -s -m 120 -o "$T_TMP/r$i.body" -D "$T_TMP/r$i.hdr" -w '%{http_code}' \
            -H 'Content-Type: application/json' --data-binary "@$T_TMP/big.json" \
            "$D_URL/api/extract" >"$T_TMP/r$i.code" 2>/dev/null &
        pids+=($!)
    done
    wait "${pids[@]}" # not a bare wait: the daemon is a child of this shell too
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
echo "     $total requests in $round round(s): $n200 x 200, $n503 x 503, $other other"
assert_eq "every request answered 200 or 503 (none lost)" 0 "$other"
assert_true "some requests were served (200)" [ "$n200" -gt 0 ]
assert_true "some requests were shed (503) at MAX_IN_FLIGHT=1" [ "$n503" -gt 0 ]
assert_eq "every 200 carries all $N records" 0 "$bad200"
assert_eq "every 503 has a Retry-After header" "$n503" "$retry_after"
assert_eq "every 503 has code overloaded" "$n503" "$code_ok"

m=$(metrics)
assert_true "metrics count the 503 replies" grep -q '503' <<<"$m"
http_get "$D_URL/health"
assert_eq "daemon healthy after the burst" 200 "$H_STATUS"
stop_daemon
assert_eq "SIGTERM: exit status 0" 0 "$D_EXIT"
finish
