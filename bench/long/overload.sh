#!/usr/bin/env bash
# `make overload` (issue 11; out of CI, about 2 minutes per daemon): a daemon pushed well
# past its capacity, and what it answers. For each daemon (default rules/artifacts, no
# databases, SHUTDOWN_GRACE_MS=1000):
#   1. idle RSS, and the unloaded p99 (1 connection, 5 s);
#   2. the connections at which throughput peaks (1, 2, 4, 8, 16 connections, 5 s each);
#   3. ten times that many connections for OVERLOAD_SECONDS (30): replies by status, p50/p99
#      of the admitted (200) requests, RSS peak during the run;
#   4. after the load: seconds until /ready answers 200, RSS 10 s after the load stopped;
#   5. the same load again, SIGTERM after 3 s: seconds from SIGTERM to exit, and the replies.
# sms-extraction gets 1,000-SMS /api/extract batches on one worker (as bench/http.sh);
# insights-api /api/generate_features with one synthetic user inline (demo credentials)
# and a sms-extraction beside it (RATE_LIMIT_PER_MINUTE raised: OVERLOAD_RATE_LIMIT). Load from bench/long/loadgen.py (one JSON line per 10 s).
# Figures are printed, never asserted; the issue's bars are printed beside them.
# usage: bench/long/overload.sh [BUILD_DIR] [sms-extraction|insights-api|both]
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../../scripts/harness.sh
source scripts/harness.sh
harness_begin "${1:-${BUILD:-build}}" bench-logs
WHICH=${2:-both}
DUR=${OVERLOAD_SECONDS:-30}
LOADGEN="python3 $REPO_ROOT/bench/long/loadgen.py"
INS_CLIENT=demo

rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }
field() { jq -r "$1" <<<"$2"; }
load() { # CONNS SECONDS [loadgen args...]: the last (summary) line
    $LOADGEN --port "$T_PORT" --path "$T_PATH" --body "$T_BODY" "${T_HDR[@]}" --pid "$T_PID" \
        --conns "$1" --seconds "$2" "${@:3}" | tail -n 1
}

target_sms_extraction() {
    make_batch "$T_TMP/smsx.json" 1000 ""
    start_smsx LOG_LEVEL=warn WORKER_THREADS=1 SHUTDOWN_GRACE_MS=1000 || return 1
    T_PORT=$D_PORT T_PID=$D_PID T_URL=$D_URL T_PATH=/api/extract T_BODY=$T_TMP/smsx.json
    T_HDR=()
    T_QUEUE_LIMIT="EXTRACT_QUEUE_TIMEOUT_MS, default 2000 ms"
}

target_insights_api() {
    gen_users "$T_TMP/users" 1 7 >/dev/null
    inline_body "$(user_files "$T_TMP/users" | head -n 1)" "$T_TMP/ins.json"
    start_smsx_bg LOG_LEVEL=warn || return 1
    # Every client of the load generator is 127.0.0.1: at the default per-address limit the
    # run measures the rate limiter (22k x 429, 281 x 200 in one run), not the pipeline.
    start_insights LOG_LEVEL=warn SHUTDOWN_GRACE_MS=1000 \
        RATE_LIMIT_PER_MINUTE="${OVERLOAD_RATE_LIMIT:-1000000}" || return 1
    T_PORT=$D_PORT T_PID=$D_PID T_URL=$D_URL T_PATH=/api/generate_features T_BODY=$T_TMP/ins.json
    T_HDR=(--header "x-client-id: demo" --header "x-auth-token: demo-token")
    T_QUEUE_LIMIT="PIPELINE_TIMEOUT_MS, default 25000 ms"
}

ready_after() { # seconds until /ready answers 200 (30 at most)
    local t0 i
    t0=$(date +%s.%N)
    for i in $(seq 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "$T_URL/ready")" = 200 ] && break
        sleep 0.1
    done
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

overload() { # NAME
    local name=$1 idle unl peak_c=1 best=0 c s rps over ready rss10 t0 t_term t_exit
    echo "== $name"
    "target_${name//-/_}" || {
        echo "overload: $name did not start: $(tail -n 3 "$D_LOG")"
        return 1
    }
    idle=$(rss "$T_PID")
    unl=$(load 1 5)
    echo "idle RSS $idle MiB; unloaded (1 connection, 5 s): p50 $(field .p50_ms "$unl") ms, p99 $(field .p99_ms "$unl") ms"
    for c in 1 2 4 8 16; do
        s=$(load "$c" 5)
        rps=$(jq '(.status["200"] // 0) / .t' <<<"$s")
        printf '  %2d connections: %6.1f admitted requests/s, p99 %s ms\n' "$c" "$rps" "$(field .p99_ms "$s")"
        if awk -v r="$rps" -v b="$best" 'BEGIN { exit !(r > b * 1.05) }'; then
            best=$rps
            peak_c=$c
        fi
    done
    c=${OVERLOAD_CONNS:-$((peak_c * 10))} # OVERLOAD_CONNS pins it (before/after comparisons)
    printf "peak throughput at %d connections (%.1f requests/s); overload: %d connections for %s s\n" "$peak_c" "$best" "$c" "$DUR"
    $LOADGEN --port "$T_PORT" --path "$T_PATH" --body "$T_BODY" "${T_HDR[@]}" --pid "$T_PID" \
        --conns "$c" --seconds "$DUR" --every 10 --timeout 60 >"$T_TMP/over.jsonl"
    sed 's/^/  /' "$T_TMP/over.jsonl" | head -n -1
    over=$(tail -n 1 "$T_TMP/over.jsonl")
    t0=$(date +%s.%N)
    ready=$(ready_after)
    echo "replies by status: $(field '.status | to_entries | map("\(.key): \(.value)") | join(", ")' "$over")"
    echo "admitted (200): p50 $(field .p50_ms "$over") ms, p99 $(field .p99_ms "$over") ms; all replies p99 $(field .p99_all_ms "$over") ms"
    echo "bar: p99 of admitted < queue-delay limit ($T_QUEUE_LIMIT) + 2 x unloaded p99 ($(field .p99_ms "$unl") ms)"
    echo "RSS peak during: $(field .rss_peak_mib "$over") MiB"
    echo "ready again after the load: $ready s (bar: 5 s)"
    sleep "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { d = 10 - (b - a); print (d > 0 ? d : 0) }')"
    rss10=$(rss "$T_PID")
    echo "RSS 10 s after: $rss10 MiB (idle $idle MiB; bar: within 20 MiB of idle)"
    # shutdown under the same load
    $LOADGEN --port "$T_PORT" --path "$T_PATH" --body "$T_BODY" "${T_HDR[@]}" --pid "$T_PID" \
        --conns "$c" --seconds 10 --timeout 30 --started "$T_TMP/started" >"$T_TMP/term.jsonl" &
    local lg=$!
    while [ ! -e "$T_TMP/started" ] && kill -0 "$lg" 2>/dev/null; do sleep 0.1; done
    sleep 2 # the load is on
    t_term=$(date +%s.%N)
    kill -TERM "$T_PID"
    wait_exit "$T_PID" 60
    t_exit=$(date +%s.%N)
    wait "$lg"
    echo "exit after SIGTERM under load: $(awk -v a="$t_term" -v b="$t_exit" 'BEGIN { printf "%.2f", b - a }') s (SHUTDOWN_GRACE_MS=1000; bar: grace + 1 s), exit status $D_EXIT"
    echo "replies around the shutdown: $(field '.status | to_entries | map("\(.key): \(.value)") | join(", ")' "$(tail -n 1 "$T_TMP/term.jsonl")") (error = connection refused once the listener closed)"
    [ -n "${SMSX_PID:-}" ] && stop_daemon "$SMSX_PID" >/dev/null
    SMSX_PID=
    echo
}

echo "overload: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD 2>/dev/null)"
case "$WHICH" in
sms-extraction) overload sms-extraction ;;
insights-api) overload insights-api ;;
*)
    overload sms-extraction
    overload insights-api
    ;;
esac
exit 0
