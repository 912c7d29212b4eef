#!/usr/bin/env bash
# The memory budget of issue 11, measured: each daemon (default configuration, no
# databases) under the report's hostile traffic, RSS sampled every 50 ms
# (bench/memory_budget.py): 12 parallel 60 MB POSTs to sms-extraction and, without a token,
# to insights-api's /api/generate_features; 12 parallel 15 MB POSTs (under MAX_BODY_BYTES, so
# the budget decides), to sms-extraction and with credentials to insights-api; 1,000 idle
# connections; 200 connections each holding 15 KiB of an
# unfinished head. Prints one line per scenario: replies by status, RSS before, peak and
# 10 s after. With BASE_BUILD set (e.g. a build of main), every scenario runs on both
# builds, alternated, base first, for a before/after in the same run.
# usage: bench/memory_budget.sh [BUILD_DIR]      (BASE_BUILD=dir for the comparison)
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/harness.sh
source scripts/harness.sh
harness_begin "${1:-${BUILD:-build}}" bench-logs
NEW=$BUILD
BASE=${BASE_BUILD:+$(cd "$BASE_BUILD" && pwd)}
PY="python3 $REPO_ROOT/bench/memory_budget.py"

builds=("$NEW")
[ -n "$BASE" ] && builds=("$BASE" "$NEW")
label() { [ "$1" = "$NEW" ] && echo "this build" || echo "base ($1)"; }

run_smsx() { # BUILD SCENARIO ARGS...
    local b=$1
    shift
    start_daemon smsx "$b/sms-extraction" LOG_LEVEL=warn || {
        echo "memory_budget: sms-extraction did not start: $(tail -n 3 "$D_LOG")"
        return 1
    }
    echo "sms-extraction, $(label "$b"): $($PY "$1" "$D_PID" "$D_PORT" "${@:2}")"
    stop_daemon >/dev/null
}

run_insights() { # BUILD SCENARIO ARGS...
    local b=$1
    shift
    start_daemon insights "$b/insights-api" LOG_LEVEL=warn SPOOL_PATH="$T_TMP/spool" \
        SMS_EXTRACTOR_SERVICE_URL=http://127.0.0.1:9 || {
        echo "memory_budget: insights-api did not start: $(tail -n 3 "$D_LOG")"
        return 1
    }
    echo "insights-api, $(label "$b"): $($PY "$1" "$D_PID" "$D_PORT" "${@:2}")"
    stop_daemon >/dev/null
}

for b in "${builds[@]}"; do run_smsx "$b" big-posts /api/extract 12 60; done
for b in "${builds[@]}"; do run_smsx "$b" big-posts /api/extract 12 15; done
for b in "${builds[@]}"; do run_insights "$b" big-posts /api/generate_features 12 60; done
# with the default DEMO_CLIENTS credentials: bodies that reach the pipeline (which copies them)
for b in "${builds[@]}"; do
    run_insights "$b" big-posts /api/generate_features 12 15 "x-client-id: demo" \
        "x-auth-token: demo-token"
done
for b in "${builds[@]}"; do run_smsx "$b" idle-conns 1000; done
for b in "${builds[@]}"; do run_smsx "$b" partial-heads 200 15; done
exit 0
