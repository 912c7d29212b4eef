#!/usr/bin/env bash
# HTTP benchmark of sms-extraction: the daemon (default rules, no database) on free ports,
# a 1,000-message request of invented messages (tools/make-batch), and wrk
# POSTing it to /api/extract with 1 thread and 4 connections for BENCH_SECONDS (default 10).
# Prints requests/s, messages/s, latency p50/p99, the daemon's RSS, and the HTTP+JSON cost
# per message: 1/(HTTP msgs/s) - 1/(in-process msgs/s), the in-process figure coming from
# build/bench/bench_extract (or INPROC_MSGS_PER_S when set).
# usage: bench/http.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/harness.sh
source scripts/harness.sh
harness_begin "${1:-${BUILD:-build}}" bench-logs
DUR=${BENCH_SECONDS:-10}
N=1000

command -v wrk >/dev/null || {
    echo "http bench: wrk not installed (scripts/deps.sh)"
    exit 1
}
make_batch "$T_TMP/body.json" $N ""
# One worker thread: wrk takes the other core, and the in-process figure is one core too.
start_smsx LOG_LEVEL=warn WORKER_THREADS=1 || {
    echo "http bench: daemon did not start: $(tail -n 5 "$D_LOG")"
    exit 1
}
wrk_post_script "$T_TMP/post.lua" "$T_TMP/body.json"
post_json /api/extract "$T_TMP/body.json"
[ "$H_STATUS" = 200 ] || {
    echo "http bench: warm-up request got $H_STATUS"
    exit 1
}
wrk -t1 -c4 -d"${DUR}s" --latency -s "$T_TMP/post.lua" "$D_URL/api/extract" >"$T_TMP/wrk.out" 2>&1
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$D_PID/status" 2>/dev/null)
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$D_PID/status" 2>/dev/null)
stop_daemon

rps=$(awk '/^Requests\/sec:/ {print $2}' "$T_TMP/wrk.out")
read -r p50 p99 reqs errs non2xx < <(sed -n 's/^WRK p50_us=\([0-9]*\) p99_us=\([0-9]*\) requests=\([0-9]*\) errors=\([0-9]*\) non2xx=\([0-9]*\)/\1 \2 \3 \4 \5/p' "$T_TMP/wrk.out")
if [ -z "$rps" ] || [ -z "${p50:-}" ]; then
    echo "http bench: could not read wrk output:"
    cat "$T_TMP/wrk.out"
    exit 1
fi

inproc=${INPROC_MSGS_PER_S:-}
if [ -z "$inproc" ] && [ -x "$BUILD/bench/bench_extract" ]; then
    "$BUILD/bench/bench_extract" >"$T_TMP/inproc.out" 2>&1
    # Its "generated corpus" section, median round on one core (bodies like ours).
    inproc=$(awk '/^generated corpus/ {g = 1} g && /median round/ {
        for (i = 1; i <= NF; i++) if ($i == "messages/s") { print $(i - 1); exit } }' \
        "$T_TMP/inproc.out")
fi

awk -v rps="$rps" -v n=$N -v p50="$p50" -v p99="$p99" -v reqs="$reqs" -v errs="$errs" \
    -v non2xx="$non2xx" -v rss="${rss_kb:-0}" -v hwm="${hwm_kb:-0}" -v inproc="${inproc:-}" \
    -v dur="$DUR" 'BEGIN {
    mps = rps * n
    printf "wrk -t1 -c4 -d%ss, %d messages per request, daemon WORKER_THREADS=1 (%d requests, %d socket errors, %d non-2xx)\n", dur, n, reqs, errs, non2xx
    printf "requests/s            %.1f\n", rps
    printf "messages/s (HTTP)     %.0f\n", mps
    printf "latency p50 / p99     %.2f ms / %.2f ms\n", p50 / 1000, p99 / 1000
    printf "daemon RSS            %.1f MiB (peak %.1f MiB)\n", rss / 1024, hwm / 1024
    if (inproc != "" && inproc > 0 && mps > 0) {
        printf "messages/s in-process %.0f (bench_extract, generated corpus, one core, median)\n", inproc
        printf "HTTP+JSON overhead    %.2f us per message (1/%.0f - 1/%.0f)\n", (1 / mps - 1 / inproc) * 1e6, mps, inproc
    } else {
        printf "HTTP+JSON overhead    n/a (no in-process figure: build/bench/bench_extract absent)\n"
    }
}'
