#!/usr/bin/env bash
# insights-api data sources against real peers: the extraction client against TWO
# sms-extraction replicas given as a comma-separated SMS_EXTRACTOR_SERVICE_URL (both must
# receive traffic, seen from each replica's own /metrics), and the MongoDB source against
# the CongoDB wire server (documents written with libmongoc, read back, merged, deduped,
# capped; unknown user; Mongo down). The checks themselves are cmocka binaries
# (test_extraction_client, test_extraction_reply, test_mongo_source) run here with the env
# they need.
source "$(dirname "$0")/lib.sh"

TESTS="$BUILD/tests/insights-api"

# Sum of the 200 samples of the /api/extract request counter on a replica's /metrics.
extract_count() {
    curl -s -m 10 "$1/metrics" | grep -E '/api/extract' | grep '"200"' | grep -v _bucket |
        grep -Ev '_sum|_count' | awk '{s+=$NF} END {print s+0}'
}

# run_cmocka NAME BINARY [VAR=value...]: one check per binary; prints its failures.
run_cmocka() {
    local name=$1 bin=$2 out rc=0
    shift 2
    if [ ! -x "$bin" ]; then
        fail "$name: $bin not built"
        return
    fi
    out=$(env "$@" "$bin" 2>&1) || rc=$?
    if [ "$rc" = 0 ]; then
        ok "$name ($(grep -c '^\[       OK \]' <<<"$out") passed, $(grep -c '^\[  SKIPPED \] test' <<<"$out") skipped)"
    else
        fail "$name exited $rc: $(grep -E 'FAILED|Error|error' <<<"$out" | head -n 5 | tr '\n' ' ')"
    fi
    LAST_OUT=$out
}

# ---- two extraction replicas -------------------------------------------------------

start_smsx || {
    fail "replica A did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
A_URL=$D_URL A_ADMIN=$D_ADMIN_URL A_PID=$D_PID A_LOG=$D_LOG
start_smsx || {
    fail "replica B did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
B_URL=$D_URL B_ADMIN=$D_ADMIN_URL B_PID=$D_PID B_LOG=$D_LOG

a0=$(extract_count "$A_ADMIN")
b0=$(extract_count "$B_ADMIN")
run_cmocka "extraction client against two real replicas" "$TESTS/test_extraction_client" \
    EXTRACTOR_URLS="$A_URL,$B_URL"
assert_not_contains "no test was skipped with the replicas up" "$LAST_OUT" "SKIP: EXTRACTOR_URL"
a1=$(extract_count "$A_ADMIN")
b1=$(extract_count "$B_ADMIN")
assert_true "replica A served extraction requests ($a0 -> $a1)" [ "$a1" -gt "$a0" ]
assert_true "replica B served extraction requests ($b0 -> $b1)" [ "$b1" -gt "$b0" ]
# round-robin per batch: neither replica takes more than twice the other's share
da=$((a1 - a0)) db=$((b1 - b0))
assert_true "the two replicas share the batches ($da / $db)" \
    [ $((da * 2)) -ge "$db" -a $((db * 2)) -ge "$da" ]

# The reply scanner and jansson agree on real replies.
run_cmocka "reply parsers agree on real extractor replies" "$TESTS/test_extraction_reply" \
    EXTRACTOR_URL="$A_URL"
assert_not_contains "the real-reply comparison ran" "$LAST_OUT" "SKIP: EXTRACTOR_URL"

# One replica alone as a single URL works too.
run_cmocka "extraction client against one URL" "$TESTS/test_extraction_client" \
    EXTRACTOR_URL="$A_URL"

# The test messages must not reach the extractor logs.
for f in "$A_LOG" "$B_LOG"; do
    assert_not_contains "no message text in $(basename "$f")" "$(cat "$f")" "debited from A/c"
done
stop_daemon "$A_PID"
stop_daemon "$B_PID"

# ---- MongoDB source ----------------------------------------------------------------

if [ -n "${MONGO_URI:-}" ]; then
    # Generated users loaded in several overlapping syncs, with load-user's reference reading.
    db="ins_sources_$$"
    users="$T_TMP/users"
    : >"$T_TMP/users.txt"
    if python3 "$REPO_ROOT/tools/gen-users" --users 2 --seed 11 --now "2026-11-22 12:00:00" \
        --out "$users" >/dev/null && [ -x "$BUILD/tools/load-user" ] &&
        "$BUILD/tools/load-user" --db "$db" --syncs 3 --drop "$users"/u*[0-9a-f].json >/dev/null; then
        for f in "$users"/u*[0-9a-f].json; do
            c=$(jq -r .client_id "$f") u=$(jq -r .user_id "$f")
            echo "$db $c $u $f $("$BUILD/tools/load-user" --db "$db" --stat --client-id "$c" \
                --user-id "$u")" >>"$T_TMP/users.txt"
        done
        ok "generated users loaded ($(wc -l <"$T_TMP/users.txt") users, 3 syncs each)"
    else
        fail "could not generate or load users (tools/gen-users, $BUILD/tools/load-user)"
    fi
    run_cmocka "mongo source against the MongoDB wire server" "$TESTS/test_mongo_source" \
        MONGO_URI="$MONGO_URI" MONGO_USERS="$T_TMP/users.txt"
    assert_not_contains "no mongo test was skipped" "$LAST_OUT" "SKIP: MONGO"
else
    skip "MONGO_URI not set (run via scripts/run-integration.sh)"
fi

finish
