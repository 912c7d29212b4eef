#!/usr/bin/env bash
# Two builds side by side, for changes that must not change behaviour (refactors): the same
# requests to both, the replies compared.
#
#   1. sms-extraction: five corpora (the dev bodies of ../shared/data/sms, the ~51k SMS of
#      `tools/gen-users --users 30 --seed 5`, bench_extract's 100,000-body corpus, 3,000
#      hostile bodies, symbol-heavy variants of the dev bodies) in batches of 1,000 to both
#      daemons over HTTP: every reply byte for byte.
#   2. insights-api: 20 generated users (seeds 1-20, one each, the same --now) in the MongoDB
#      peer and inline: /api/insights (every grouping), /api/fetch_extracted_data and
#      /api/generate_features to both stacks (each its own sms-extraction, the demo models),
#      compared field by field except request_id, data_requested_time, data_processed_time and
#      the fetched records' request_id, created_at, created_date (the call's id and time)
#      (as_of is pinned to the users' --now in both).
#
# usage: scripts/compare-builds.sh BASE_BUILD [NEW_BUILD]   (NEW_BUILD default build/)
#   e.g. git worktree add /tmp/base d5c6307 && make -C /tmp/base -j2 &&
#        eval "$(scripts/peers.sh up)" && scripts/compare-builds.sh /tmp/base/build
# Part 2's MongoDB calls need the peers (MONGO_URI); without them only the inline endpoint is
# compared. COMPARE_ONLY=extraction|insights runs one part. Exits 1 on any difference.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || {
    sed -n '2,19p' "$0"
    exit 2
}
BASE=$(cd "$1" && pwd) || exit 2
# shellcheck source=harness.sh
source scripts/harness.sh
harness_begin "${2:-build}" compare-logs
PY=scripts/compare-builds.py
NOW="2026-11-22 12:00:00"
differ=0

say() { echo "compare: $*"; }

# post_file URL FILE OUT [curl args]: the reply body into OUT, prints the status.
post_file() {
    local url=$1 file=$2 out=$3
    shift 3
    curl -s -m 120 -o "$out" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "@$file" "$@" "$url"
}

# ---- 1. sms-extraction ------------------------------------------------------------------

make_corpora() {
    local c=$T_TMP/corpora
    mkdir -p "$c"
    python3 $PY corpus dev "$c/dev.jsonl" "$SHARED_DIR" >/dev/null
    python3 tools/gen-users --users 30 --seed 5 --now "$NOW" --out "$c/users" >/dev/null
    python3 $PY corpus users "$c/users.jsonl" "$c/users" >/dev/null
    "$BUILD/bench/bench_extract" --write-corpus "$c/bench.raw" >/dev/null
    python3 $PY corpus jsonl "$c/bench.jsonl" "$c/bench.raw" >/dev/null
    python3 $PY corpus hostile "$c/hostile.jsonl" 3000 12 >/dev/null
    python3 $PY corpus symbols "$c/symbols.jsonl" "$c/dev.jsonl" 12 >/dev/null
}

compare_extraction() {
    local name base_url new_url b n same bodies status_a status_b statuses
    make_corpora
    start_smsx_bg LOG_LEVEL=warn MAX_BODY_BYTES=16777216 || return 1
    new_url=$SMSX_URL
    start_daemon smsx_base "$BASE/sms-extraction" LOG_LEVEL=warn MAX_BODY_BYTES=16777216 || return 1
    base_url=$D_URL
    for name in dev users bench hostile symbols; do
        python3 $PY batches "$T_TMP/corpora/$name.jsonl" "$T_TMP/batches/$name" 1000 >/dev/null
        bodies=$(wc -l <"$T_TMP/corpora/$name.jsonl")
        n=0
        same=0
        statuses=
        for b in "$T_TMP/batches/$name"/*.json; do
            n=$((n + 1))
            status_a=$(post_file "$base_url/api/extract" "$b" "$T_TMP/a.json")
            status_b=$(post_file "$new_url/api/extract" "$b" "$T_TMP/b.json")
            case " $statuses " in *" $status_b "*) ;; *) statuses="$statuses $status_b" ;; esac
            if [ "$status_a" = "$status_b" ] && cmp -s "$T_TMP/a.json" "$T_TMP/b.json"; then
                same=$((same + 1))
            else
                differ=1
                say "extraction $name $(basename "$b"): $status_a vs $status_b, replies differ"
            fi
        done
        say "extraction $name: $bodies bodies, $same of $n replies byte-identical (HTTP$statuses)"
    done
}

# ---- 2. insights-api --------------------------------------------------------------------


# start_stack BUILD_DIR: its sms-extraction and insights-api (with the demo models, so the
# scores are compared too); sets STACK_URL (insights').
start_stack() {
    local dir=$1 mongo=()
    [ -n "${MONGO_URI:-}" ] && read -ra mongo <<<"$(mongo_env)"
    start_daemon smsx "$dir/sms-extraction" LOG_LEVEL=warn || return 1
    start_daemon insights "$dir/insights-api" LOG_LEVEL=warn \
        SMS_EXTRACTOR_SERVICE_URL="$D_URL" SPOOL_PATH="$T_TMP/spool.$T_DAEMON_SEQ" \
        DEMO_CLIENTS="$INS_CLIENT:demo-token" RATE_LIMIT_PER_MINUTE=0 "${DEMO_MODELS[@]}" \
        "${mongo[@]}" || return 1
    STACK_URL=$D_URL
}

# compare_call NAME PATH BODY: the same call (same X-Request-Id) to both stacks.
compare_call() {
    local name=$1 path=$2 body=$3 sa sb fields
    local h=(-H "x-client-id: $INS_CLIENT" -H "x-auth-token: demo-token" -H "X-Request-Id: cmp-$name")
    sa=$(post_file "$BASE_INS$path" "$body" "$T_TMP/a.json" "${h[@]}")
    sb=$(post_file "$NEW_INS$path" "$body" "$T_TMP/b.json" "${h[@]}")
    fields=$(python3 $PY diff "$T_TMP/a.json" "$T_TMP/b.json")
    if [ "$sa" != "$sb" ] || [ -n "$fields" ]; then
        differ=1
        say "insights $name $path: $sa vs $sb, fields differ: $fields"
        return 1
    fi
    [ "$sa" = 200 ] || say "insights $name $path: both $sa"
    CALLS=$((CALLS + 1))
    FIELDS=$((FIELDS + $(jq 'keys | length' "$T_TMP/b.json")))
}

# pin_as_of BODY: both stacks featurise as of the users' generation time, not each call's
# own second (two calls straddling a second, or a day, would differ by their windows).
pin_as_of() {
    jq -c --arg t "$NOW" '. + {as_of: $t}' "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

compare_insights() {
    local seed uf uid
    CALLS=0
    FIELDS=0
    for seed in $(seq 1 20); do
        python3 tools/gen-users --users 1 --seed "$seed" --now "$NOW" --client-id "$INS_CLIENT" \
            --out "$T_TMP/users" >/dev/null
    done
    [ -n "${MONGO_URI:-}" ] && load_users $(user_files "$T_TMP/users")
    start_stack "$BASE" || return 1
    BASE_INS=$STACK_URL
    start_stack "$BUILD" || return 1
    NEW_INS=$STACK_URL
    for uf in $(user_files "$T_TMP/users"); do
        uid=$(jq -r .user_id "$uf")
        inline_body "$uf" "$T_TMP/inline.json"
        pin_as_of "$T_TMP/inline.json"
        compare_call "$uid" /api/generate_features "$T_TMP/inline.json"
        [ -n "${MONGO_URI:-}" ] || continue
        insights_body "$T_TMP/ins.json" "$uid" '["sms","extracted_sms","fraud","apps","device"]'
        pin_as_of "$T_TMP/ins.json"
        compare_call "$uid" /api/insights "$T_TMP/ins.json"
        jq -cn --arg u "$uid" --arg c "$INS_CLIENT" \
            '{user_id: $u, client_id: $c, cnt_sms_threshold: 500}' >"$T_TMP/fetch.json"
        compare_call "$uid" /api/fetch_extracted_data "$T_TMP/fetch.json"
    done
    say "insights: $CALLS calls on 20 users identical ($FIELDS fields compared)"
}

say "base $BASE, new $BUILD"
[ "${COMPARE_ONLY:-extraction}" = insights ] || compare_extraction
[ "${COMPARE_ONLY:-insights}" = extraction ] || compare_insights
for pid in "${T_PIDS[@]}"; do stop_daemon "$pid"; done
if [ "$differ" = 0 ]; then say "no difference"; else say "DIFFERENCES (above)"; fi
exit $differ
