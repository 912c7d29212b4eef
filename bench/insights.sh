#!/usr/bin/env bash
# HTTP benchmark of insights-api with sms-extraction, both local: one realistic borrower
# (2,000 SMS over six months and 150 apps, built from tools/gen-users output) featurised
#   - inline: POST /api/generate_features (no database: the embedded path), and
#   - from MongoDB: POST /api/insights with the borrower loaded into the CongoDB peer
#     (reported apart: the wire server is a JavaScript test double, not a production MongoDB),
# each with wrk at concurrency 1 and 2 for BENCH_SECONDS (default 10). Prints p50/p99, users/s,
# users per CPU-second of both daemons together (from /proc utime+stime), and the RSS (and
# peak) of both daemons. Figures are printed, never asserted.
# usage: bench/insights.sh [BUILD_DIR]       (BENCH_SKIP_MONGO=1 skips the MongoDB path)
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/harness.sh
source scripts/harness.sh
harness_begin "${1:-${BUILD:-build}}" bench-logs
DUR=${BENCH_SECONDS:-10}

command -v wrk >/dev/null || {
    echo "insights bench: wrk not installed (scripts/deps.sh)"
    exit 1
}
TOKEN=bench-token

# ---- the borrower: 2,000 SMS over six months, 150 apps ---------------------------------
gen_users "$T_TMP/users" 4 5150
files=$(user_files "$T_TMP/users")
# shellcheck disable=SC2086
jq -s --arg c "$INS_CLIENT" '
    (.[0]) as $u |
    ([.[] | .sms[]] | to_entries | map(.value + {sms_id: ("b" + (.key | tostring))}) |
        sort_by(-.sms_inbox_date) | .[:2000]) as $sms |
    ([.[] | .apps[]] | unique_by(.package_name) | .[:150]) as $apps |
    {client_id: $c, user_id: "bench-user", sms: $sms, apps: $apps, device: $u.device}' \
    $files >"$T_TMP/user.json"
nsms=$(jq '.sms | length' "$T_TMP/user.json")
napps=$(jq '.apps | length' "$T_TMP/user.json")
inline_body "$T_TMP/user.json" "$T_TMP/inline.json"
insights_body "$T_TMP/insights.json" bench-user

cpu_ticks() { # utime + stime of a pid, in clock ticks
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
rss() { awk "/^$2/ { print \$2 }" "/proc/$1/status" 2>/dev/null; }

# run_wrk NAME PATH BODY CONNS: prints one result line.
run_wrk() {
    local name=$1 path=$2 body=$3 conns=$4 t0a t0b t1a t1b hz
    wrk_post_script "$T_TMP/post.lua" "$body" "x-client-id: $INS_CLIENT" "x-auth-token: $TOKEN"
    t0a=$(cpu_ticks "$INS_PID")
    t0b=$(cpu_ticks "$SMSX_PID")
    wrk -t"$conns" -c"$conns" -d"${DUR}s" --latency -s "$T_TMP/post.lua" "$INS_URL$path" \
        >"$T_TMP/wrk.out" 2>&1
    t1a=$(cpu_ticks "$INS_PID")
    t1b=$(cpu_ticks "$SMSX_PID")
    hz=$(getconf CLK_TCK)
    read -r p50 p99 reqs errs non2xx < <(sed -n 's/^WRK p50_us=\([0-9]*\) p99_us=\([0-9]*\) requests=\([0-9]*\) errors=\([0-9]*\) non2xx=\([0-9]*\)/\1 \2 \3 \4 \5/p' "$T_TMP/wrk.out")
    if [ -z "${p50:-}" ]; then
        echo "insights bench: could not read wrk output:"
        cat "$T_TMP/wrk.out"
        return 1
    fi
    awk -v name="$name" -v c="$conns" -v p50="$p50" -v p99="$p99" -v reqs="$reqs" -v dur="$DUR" \
        -v errs="$errs" -v non2xx="$non2xx" -v cpu=$(((t1a - t0a) + (t1b - t0b))) -v hz="$hz" 'BEGIN {
        cpus = cpu / hz
        printf "%-22s c=%d  p50 %7.2f ms  p99 %7.2f ms  %7.1f users/s  %7.1f users per CPU-s  (%d requests, %d errors, %d non-2xx)\n",
            name, c, p50 / 1000, p99 / 1000, reqs / dur, (cpus > 0 ? reqs / cpus : 0), reqs, errs, non2xx
    }'
}

report_rss() {
    awk -v w="$1" -v a="$(rss "$INS_PID" VmRSS)" -v ah="$(rss "$INS_PID" VmHWM)" \
        -v b="$(rss "$SMSX_PID" VmRSS)" -v bh="$(rss "$SMSX_PID" VmHWM)" 'BEGIN {
        printf "RSS after %-8s insights-api %.1f MiB (peak %.1f), sms-extraction %.1f MiB (peak %.1f)\n",
            w, a / 1024, ah / 1024, b / 1024, bh / 1024 }'
}

start_smsx_bg LOG_LEVEL=warn || {
    echo "insights bench: sms-extraction did not start: $(tail -n 5 "$D_LOG")"
    exit 1
}
echo "borrower: $nsms SMS, $napps apps; both daemons local on $(nproc) CPUs; wrk -tN -cN -d${DUR}s"

# ---- inline (embedded) path --------------------------------------------------------------
start_insights LOG_LEVEL=warn DEMO_CLIENTS="$INS_CLIENT:$TOKEN" RATE_LIMIT_PER_MINUTE=0 || {
    echo "insights bench: insights-api did not start: $(tail -n 5 "$D_LOG")"
    exit 1
}
api /api/generate_features "$T_TMP/inline.json" "$INS_CLIENT" "$TOKEN"
[ "$H_STATUS" = 200 ] || {
    echo "insights bench: warm-up got $H_STATUS: $(printf '%.300s' "$H_BODY")"
    exit 1
}
echo "reply: $(printf '%s' "$H_BODY" | wc -c) bytes, $(jqr 'keys | length') keys"
run_wrk generate_features /api/generate_features "$T_TMP/inline.json" 1
run_wrk generate_features /api/generate_features "$T_TMP/inline.json" 2
report_rss inline
stop_daemon "$INS_PID"

# ---- MongoDB path (CongoDB peer) --------------------------------------------------------
if [ "${BENCH_SKIP_MONGO:-0}" = 1 ]; then
    echo "insights (MongoDB path): skipped (BENCH_SKIP_MONGO=1)"
else
    if [ -z "${MONGO_URI:-}" ]; then
        export PEERS_DIR=${PEERS_DIR:-/tmp/insights-bench-peers-$$}
        own_peers=1
        env_lines=$(scripts/peers.sh up 2>/dev/null) && eval "$env_lines"
    fi
    if [ -n "${MONGO_URI:-}" ] && [ -x "$BUILD/tools/load-user" ] && load_users "$T_TMP/user.json"; then
        # shellcheck disable=SC2046
        start_insights LOG_LEVEL=warn DEMO_CLIENTS="$INS_CLIENT:$TOKEN" RATE_LIMIT_PER_MINUTE=0 \
            $(mongo_env) || echo "insights bench: insights-api (MongoDB) did not start"
        api /api/insights "$T_TMP/insights.json" "$INS_CLIENT" "$TOKEN"
        if [ "$H_STATUS" = 200 ]; then
            run_wrk "insights (CongoDB)" /api/insights "$T_TMP/insights.json" 1
            run_wrk "insights (CongoDB)" /api/insights "$T_TMP/insights.json" 2
            report_rss mongo
        else
            echo "insights bench: /api/insights warm-up got $H_STATUS"
        fi
        stop_daemon "$INS_PID"
    else
        echo "insights (MongoDB path): skipped (no MongoDB peer or load-user)"
    fi
    [ -n "${own_peers:-}" ] && scripts/peers.sh down 2>/dev/null
fi
stop_daemon "$SMSX_PID"
