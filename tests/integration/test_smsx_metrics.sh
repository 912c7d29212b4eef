#!/usr/bin/env bash
# sms-extraction /metrics on the admin port: valid Prometheus text with per-route/status
# request counters that move, a latency histogram, the in-flight gauge and artifact info.
source "$(dirname "$0")/lib.sh"

start_smsx || {
    fail "daemon did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
mark=$(privacy_marker metrics)
make_batch "$T_TMP/batch.json" 10 "$mark"
for i in 1 2 3; do post_json /api/extract "$T_TMP/batch.json"; done
printf 'nope' >"$T_TMP/bad.json"
post_json /api/extract "$T_TMP/bad.json"
http_get "$D_URL/no/such/path"

http_get "$D_ADMIN_URL/metrics"
m=$H_BODY
assert_eq "GET /metrics is 200" 200 "$H_STATUS"
assert_contains "metrics content type is Prometheus text" "$(header content-type)" "text/plain"
bad=$(grep -v '^#' <<<"$m" | grep -v '^$' |
    grep -Evc '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? +[-+0-9.eEInfa]+$')
assert_eq "every sample line is valid exposition format" 0 "$bad"
assert_true "has # TYPE lines" grep -q '^# TYPE ' <<<"$m"
assert_true "a counter labelled with route and status 200 for /api/extract" \
    grep -Eq '\{[^}]*/api/extract[^}]*"200"|\{[^}]*"200"[^}]*/api/extract' <<<"$m"
assert_true "a 422 sample for /api/extract" grep -Eq '/api/extract.*"422"|"422".*/api/extract' <<<"$m"
assert_true "a 404 sample" grep -q '"404"' <<<"$m"
assert_true "a histogram with +Inf bucket" grep -q '_bucket{.*le="+Inf"' <<<"$m"
assert_true "histogram _sum and _count" bash -c 'grep -q "_sum" <<<"$1" && grep -q "_count" <<<"$1"' _ "$m"
assert_true "an in-flight gauge" grep -Eq '^[a-z_]*in_flight' <<<"$m"
v=$(jq -r .version "$REPO_ROOT/sms-extraction/rules/regex.json" 2>/dev/null)
assert_contains "artifact info carries the regex artifact version" "$m" "$v"
# Counters move: three more good requests raise the 200 count for /api/extract by 3.
c1=$(grep -E '/api/extract' <<<"$m" | grep '"200"' | grep -v _bucket | grep -Ev '_sum|_count' | awk '{s+=$NF} END {print s+0}')
for i in 1 2 3; do post_json /api/extract "$T_TMP/batch.json"; done
c2=$(metrics | grep -E '/api/extract' | grep '"200"' | grep -v _bucket | grep -Ev '_sum|_count' | awk '{s+=$NF} END {print s+0}')
assert_eq "the /api/extract 200 counter grows by 3" 3 "$(awk -v a="$c1" -v b="$c2" 'BEGIN{print b-a}')"
assert_not_contains "metrics never carry a body" "$m" "$mark"
stop_daemon
assert_eq "SIGTERM: exit status 0" 0 "$D_EXIT"
finish
