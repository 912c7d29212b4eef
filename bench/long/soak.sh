#!/usr/bin/env bash
# `make soak` (issue 11; out of CI, SOAK_SECONDS = 600 by default): both daemons under
# mixed valid and hostile traffic at once. sms-extraction gets 1,000-SMS /api/extract
# batches; insights-api /api/generate_features with one synthetic user inline (its
# extraction calls go to the same sms-extraction); beside the valid clients, hostile ones on
# each daemon send 60 MB heads without a body, ambiguous framing, broken JSON, a second
# credential header and slow heads (bench/long/loadgen.py --hostile). Every minute, per
# daemon: replies by status, p99 of the admitted requests, RSS and open descriptors (at the
# report and the fewest seen in the minute). Ends with the issue's bar figures: RSS at
# minute 10 against minute 5 (bar: within 2 MiB); descriptors (bar: equal): the minute's
# fewest at minute 10 against minute 5 (reported only), and the settled count after the load against the
# one after a SOAK_WARMUP (10 s) of the same traffic, which opens the keep-alive connections
# and per-thread descriptors a daemon keeps (bench/long/fds.py: everything but TCP
# connections equal, and no connection left in CLOSE_WAIT). A single sample during the load
# is not compared: it counts whatever connections happen to be open (45 vs 43 in one run).
# Printed, never asserted.
# usage: bench/long/soak.sh [BUILD_DIR]     (SOAK_SECONDS, SOAK_CONNS=4, SOAK_HOSTILE=2, SOAK_EVERY=60, SOAK_WARMUP=10)
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../../scripts/harness.sh
source scripts/harness.sh
harness_begin "${1:-${BUILD:-build}}" bench-logs
DUR=${SOAK_SECONDS:-600}
CONNS=${SOAK_CONNS:-4}
HOSTILE=${SOAK_HOSTILE:-2}
EVERY=${SOAK_EVERY:-60}
LOADGEN="python3 $REPO_ROOT/bench/long/loadgen.py"
INS_CLIENT=demo

make_batch "$T_TMP/smsx.json" 1000 ""
gen_users "$T_TMP/users" 1 7 >/dev/null
inline_body "$(user_files "$T_TMP/users" | head -n 1)" "$T_TMP/ins.json"
start_smsx_bg LOG_LEVEL=warn || {
    echo "soak: sms-extraction did not start: $(tail -n 3 "$D_LOG")"
    exit 1
}
# every client is 127.0.0.1: at the default 1,000 a minute the limiter, not the pipeline,
# would answer most of the valid traffic (the hostile clients' 429s are covered elsewhere)
start_insights LOG_LEVEL=warn RATE_LIMIT_PER_MINUTE="${SOAK_RATE_LIMIT:-1000000}" || {
    echo "soak: insights-api did not start: $(tail -n 3 "$D_LOG")"
    exit 1
}
SMSX_PORT=${SMSX_URL##*:}
INS_PORT=${INS_URL##*:}
FDS="python3 $REPO_ROOT/bench/long/fds.py $SMSX_PID $INS_PID"
both() { # SECONDS EVERY SMSX_OUT INS_OUT: the valid and hostile clients on both daemons
    $LOADGEN --port "$SMSX_PORT" --path /api/extract --body "$T_TMP/smsx.json" --pid "$SMSX_PID" \
        --conns "$CONNS" --hostile "$HOSTILE" --seconds "$1" --every "$2" >"$3" &
    local a=$!
    $LOADGEN --port "$INS_PORT" --path /api/generate_features --body "$T_TMP/ins.json" \
        --header "x-client-id: demo" --header "x-auth-token: demo-token" --pid "$INS_PID" \
        --conns "$CONNS" --hostile "$HOSTILE" --seconds "$1" --every "$2" >"$4" &
    wait "$a" $!
}
both "${SOAK_WARMUP:-10}" 0 /dev/null /dev/null
fds_warm=$($FDS)
echo "soak: $(date -u '+%Y-%m-%d %H:%M UTC'), $DUR s, $CONNS valid + $HOSTILE hostile clients per daemon, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD 2>/dev/null)"
echo "after the warm-up: sms-extraction RSS $(awk '/^VmRSS/ {printf "%.1f", $2/1024}' /proc/"$SMSX_PID"/status) MiB, insights-api $(awk '/^VmRSS/ {printf "%.1f", $2/1024}' /proc/"$INS_PID"/status) MiB"
both "$DUR" "$EVERY" "$T_TMP/smsx.jsonl" "$T_TMP/ins.jsonl"
fds_after=$($FDS)

show() { # NAME FILE PID
    echo "== $1 (every $EVERY s: replies; admitted p99; RSS; fds at the report / fewest in the interval; hostile replies)"
    head -n -1 "$2" | jq -r --arg p "$3" '"  \(.t | round) s: \(.status | to_entries | map("\(.key)=\(.value)") | join(" ")); p99 \(.p99_ms) ms; RSS \(.rss_mib[$p]) MiB; fds \(.fds[$p]) / \(.fds_min[$p]); hostile \(.hostile.status | to_entries | map("\(.key)=\(.value)") | join(" "))"'
    jq -rs --arg p "$3" '.[:-1] as $m |
        if ($m | length) >= 10 then
            (($m[9].rss_mib[$p] - $m[4].rss_mib[$p]) * 10 | round / 10) as $d |
            "  bar: RSS report 10 - report 5 = \($d) MiB (bar: within 2): \(if ($d | fabs) <= 2 then "met" else "NOT met" end); fewest fds in interval 5 / 10: \($m[4].fds_min[$p]) / \($m[9].fds_min[$p]) (reported only: the last interval holds the clients leaving; the settled count below is the check)"
        else "  (fewer than 10 reports: no bar figures)" end' "$2"
    jq -rn --arg p "$3" --argjson a "$fds_warm" --argjson b "$fds_after" '
        "  bar: settled fds after the warm-up / after the load: all but TCP connections \($a[$p].other) / \($b[$p].other) (equal), TCP connections \($a[$p].tcp) / \($b[$p].tcp) (keep-alive pools; reported), in CLOSE_WAIT \($b[$p].close_wait) (0): \(if $b[$p].close_wait == 0 and $a[$p].other == $b[$p].other then "met" else "NOT met" end)"'
    tail -n 1 "$2" | jq -r '"  whole run: \(.status | to_entries | map("\(.key)=\(.value)") | join(" ")); admitted p99 \(.p99_ms) ms; hostile sent \(.hostile.sent)"'
}
show sms-extraction "$T_TMP/smsx.jsonl" "$SMSX_PID"
show insights-api "$T_TMP/ins.jsonl" "$INS_PID"
stop_daemon "$INS_PID" >/dev/null
echo "insights-api stopped: exit $D_EXIT"
stop_daemon "$SMSX_PID" >/dev/null
echo "sms-extraction stopped: exit $D_EXIT"
exit 0
