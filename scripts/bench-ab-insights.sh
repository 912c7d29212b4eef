#!/usr/bin/env bash
# A/B benchmark of POST /api/generate_features: this checkout against another one (say
# main's HEAD: `git worktree add /tmp/base <commit> && make -C /tmp/base -j2`), rounds
# alternated in one run so both see the same machine. Both serve the same borrower body
# (2,000 SMS over six months and 150 apps from this checkout's tools/gen-users, the
# bench/insights.sh recipe), each with its own sms-extraction, artifacts and catalogue.
# Per round and side: wrk -t2 -c2 for BENCH_SECONDS (default 10); printed: p50, p99 and the
# CPU seconds of both daemons per borrower (utime + stime from /proc). At the end the
# median of each over the rounds, and this checkout's relative to the other's.
# Figures are printed, never asserted.
# usage: scripts/bench-ab-insights.sh OTHER_REPO [ROUNDS (default 5)]
#        (OTHER_REPO/build must hold its built daemons; BENCH_CLIENT sets x-client-id,
#        default demo_client, whose client_exclusions.json entry this side applies)
set -uo pipefail
cd "$(dirname "$0")/.."
HERE=$(pwd)
OTHER=$(cd "${1:?usage: scripts/bench-ab-insights.sh OTHER_REPO [ROUNDS]}" && pwd) || exit 1
ROUNDS=${2:-5}
DUR=${BENCH_SECONDS:-10}
export INS_CLIENT=${BENCH_CLIENT:-demo_client}
# shellcheck source=harness.sh
source scripts/harness.sh
harness_begin build bench-logs
command -v wrk >/dev/null || {
    echo "bench-ab: wrk not installed (scripts/deps.sh)"
    exit 1
}
for r in "$HERE" "$OTHER"; do
    [ -x "$r/build/insights-api" ] && [ -x "$r/build/sms-extraction" ] || {
        echo "bench-ab: $r/build has no daemons (make -C $r -j2)"
        exit 1
    }
done
TOKEN=bench-ab-token

gen_users "$T_TMP/users" 4 5150
# shellcheck disable=SC2046
jq -s --arg c "$INS_CLIENT" '
    (.[0]) as $u |
    ([.[] | .sms[]] | to_entries | map(.value + {sms_id: ("b" + (.key | tostring))}) |
        sort_by(-.sms_inbox_date) | .[:2000]) as $sms |
    ([.[] | .apps[]] | unique_by(.package_name) | .[:150]) as $apps |
    {client_id: $c, user_id: "bench-user", sms: $sms, apps: $apps, device: $u.device}' \
    $(user_files "$T_TMP/users") >"$T_TMP/user.json"
inline_body "$T_TMP/user.json" "$T_TMP/inline.json"
cat >"$T_TMP/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-client-id"] = "$INS_CLIENT"
wrk.headers["x-auth-token"] = "$TOKEN"
local f = io.open("$T_TMP/inline.json", "rb")
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  io.write(string.format("WRK %d %d %d %d\n", latency:percentile(50), latency:percentile(99),
    summary.requests, summary.errors.status + summary.errors.timeout))
end
LUA
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# one_side REPO LABEL: both daemons of REPO, a warm-up, wrk; appends "p50 p99 cpu_ms" to LABEL.
one_side() {
    local repo=$1 label=$2 a0 b0 a1 b1 p50 p99 reqs errs
    REPO_ROOT=$repo BUILD=$repo/build start_smsx_bg LOG_LEVEL=warn || return 1
    REPO_ROOT=$repo BUILD=$repo/build start_insights LOG_LEVEL=warn \
        DEMO_CLIENTS="$INS_CLIENT:$TOKEN" RATE_LIMIT_PER_MINUTE=0 || return 1
    api /api/generate_features "$T_TMP/inline.json" "$INS_CLIENT" "$TOKEN"
    [ "$H_STATUS" = 200 ] || echo "bench-ab: $label warm-up got $H_STATUS"
    a0=$(cpu_ticks "$INS_PID")
    b0=$(cpu_ticks "$SMSX_PID")
    wrk -t2 -c2 -d"${DUR}s" --latency -s "$T_TMP/post.lua" "$INS_URL/api/generate_features" \
        >"$T_TMP/wrk.out" 2>&1
    a1=$(cpu_ticks "$INS_PID")
    b1=$(cpu_ticks "$SMSX_PID")
    read -r p50 p99 reqs errs < <(sed -n 's/^WRK //p' "$T_TMP/wrk.out")
    stop_daemon "$INS_PID"
    stop_daemon "$SMSX_PID"
    awk -v p50="$p50" -v p99="$p99" -v n="$reqs" -v e="$errs" -v t=$((a1 - a0 + b1 - b0)) \
        -v hz="$(getconf CLK_TCK)" -v l="$label" -v out="$T_TMP/$label" 'BEGIN {
        printf "%-5s p50 %7.2f ms  p99 %7.2f ms  %6.2f ms CPU/borrower  (%d requests, %d errors)\n",
            l, p50 / 1000, p99 / 1000, t / hz * 1000 / n, n, e
        printf "%f %f %f\n", p50 / 1000, p99 / 1000, t / hz * 1000 / n >> out }'
}

echo "bench-ab: $HERE ($(git rev-parse --short HEAD)) vs $OTHER ($(git -C "$OTHER" rev-parse --short HEAD 2>/dev/null || echo '?')); $(jq '.sms | length' "$T_TMP/user.json") SMS, $(jq '.apps | length' "$T_TMP/user.json") apps; $ROUNDS rounds x ${DUR}s, wrk -t2 -c2, sides alternated"
for i in $(seq 1 "$ROUNDS"); do
    if [ $((i % 2)) = 1 ]; then
        one_side "$HERE" this
        one_side "$OTHER" other
    else
        one_side "$OTHER" other
        one_side "$HERE" this
    fi
done
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
for col in 1 2 3; do
    t=$(cut -d' ' -f"$col" "$T_TMP/this" | median)
    o=$(cut -d' ' -f"$col" "$T_TMP/other" | median)
    name=$(echo "p50_ms p99_ms cpu_ms_per_borrower" | cut -d' ' -f"$col")
    awk -v n="$name" -v t="$t" -v o="$o" 'BEGIN { printf "median %-20s this %8.2f  other %8.2f  (%+.1f%%)\n", n, t, o, (t / o - 1) * 100 }'
done
