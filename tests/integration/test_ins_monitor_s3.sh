#!/usr/bin/env bash
# `insights-api monitor` with the models in S3, sealed as prod ships them (the real S3 peer,
# which verifies SigV4): the reference of s3://B/k/demo_payday_v2.txt.enc is fetched from
# s3://B/k/demo_payday_v2.reference.json.enc through the models' artifact fetcher (credentials,
# ARTIFACT_KEYS), and the PSI rows it writes equal those of a run on the same files read
# locally. v3's reference is not uploaded: its groups carry a reference_problem naming the
# missing object and the run still succeeds. The sealing key never reaches the output.
source "$(dirname "$0")/ins_lib.sh"

: "${PGPORT:?run through scripts/run-integration.sh (needs PostgreSQL)}"
: "${S3_ENDPOINT:?run through scripts/run-integration.sh (needs the S3 peer)}"
PY=/usr/bin/python3
TOOL="$BUILD/tools/artifact"
M=insights-api/models
prefix="monitor_it$RANDOM"
s3_put() { # FILE KEY
    curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
        -H "x-amz-content-sha256: $(sha256sum "$1" | cut -d' ' -f1)" \
        -T "$1" "$S3_ENDPOINT/$S3_BUCKET/$2"
}
db="ins_monitor_s3_$$"
use_database "$db"
"$BUILD/insights-api" migrate >/dev/null || fail "migrate failed"
$PY "$REPO_ROOT/tests/integration/monitor_check.py" synthetic "$T_TMP/planted.sql" \
    "$T_TMP/expected.json" || fail "monitor_check.py synthetic failed"
psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$db" \
    -f "$T_TMP/planted.sql" >/dev/null || fail "loading the planted rows failed"

# The artifacts as docs/deployment.md ships them: each file sealed to NAME.enc and uploaded.
keys=$("$TOOL" keygen it-monitor)
privacy_secret "${keys#*:}"
for f in demo_payday_v2.txt demo_payday_v2.reference.json demo_payday_v3.txt; do
    "$TOOL" seal --key-id it-monitor --keys "$keys" "$M/$f" "$T_TMP/$f.enc" 2>/dev/null ||
        fail "sealing $f failed"
    assert_eq "upload sealed $f" 200 "$(s3_put "$T_TMP/$f.enc" "$prefix/$f.enc")"
done

psi_rows() { # the PSI rows of the last run, then clears the results
    q "SELECT score_name, model_version, arm, shadow, feature, top, coalesce(bin::text, ''),
        coalesce(value::text, ''), coalesce(reference::text, ''), count FROM monitor_results
        WHERE metric = 'psi' ORDER BY 1, 2, 3, 4, 5, 7"
    q "DELETE FROM monitor_results" >/dev/null
}
run_monitor() { # OUT VAR=value...: one run over the planted window
    local out=$1
    shift
    env "$@" "$BUILD/insights-api" monitor --since 2026-11-01 --until 2027-01-01 \
        >"$out" 2>"$out.err"
}

run_monitor "$T_TMP/local.out" PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.txt \
    PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.txt ||
    fail "local run failed: $(cat "$T_TMP/local.out.err")"
psi_rows >"$T_TMP/local.psi"
grep '|demo-payday-v2|' "$T_TMP/local.psi" >"$T_TMP/local-v2.psi"
want=$(grep '|score|' "$T_TMP/local-v2.psi" | cut -d'|' -f8 | tr '\n' ' ')
assert_true "local run: the v2 score has a PSI (${want:-none}; $(grep -c . "$T_TMP/local-v2.psi") v2 PSI rows)" \
    test -n "${want// /}"

B="s3://$S3_BUCKET/$prefix"
if run_monitor "$T_TMP/s3.out" PAYDAY_SCORE_LGB_MODEL_V2_PATH="$B/demo_payday_v2.txt.enc" \
    PAYDAY_SCORE_LGB_MODEL_V3_PATH="$B/demo_payday_v3.txt.enc" ARTIFACT_KEYS="$keys" \
    AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL_S3="$S3_ENDPOINT"; then
    ok "S3 run exits 0 with a reference missing ($(wc -l <"$T_TMP/s3.out") groups)"
else
    fail "S3 run failed: $(cat "$T_TMP/s3.out.err")"
fi
psi_rows >"$T_TMP/s3.psi"
v2=$(grep '|demo-payday-v2|' "$T_TMP/s3.psi")
assert_eq "S3 run: v2's PSI rows (score and predictors) equal the local run's" \
    "$(cat "$T_TMP/local-v2.psi")" "$v2"
have=$(grep '|score|' <<<"$v2" | cut -d'|' -f8 | tr '\n' ' ')
assert_eq "S3 run: the v2 score PSI equals the local one" "$want" "$have"
g2=$(jq -c 'select(.version == "demo-payday-v2")' "$T_TMP/s3.out")
assert_eq "S3 run: v2's line has no reference_problem" "null" \
    "$(jq -r '.reference_problem' <<<"$g2")"
g3=$(jq -r 'select(.version == "demo-payday-v3") | .reference_problem' "$T_TMP/s3.out")
assert_eq "S3 run: both v3 groups have a reference_problem" 2 "$(grep -c . <<<"$g3")"
assert_contains "S3 run: v3's reference_problem names the missing object" "$g3" \
    "$B/demo_payday_v3.reference.json.enc"
assert_contains "S3 run: v3's reference_problem says why (HTTP 404)" "$g3" "404"
assert_eq "S3 run: no PSI row for v3 (its reference is missing)" 0 \
    "$(grep -vc '|demo-payday-v2|' "$T_TMP/s3.psi")"
assert_not_contains "the sealing key is not in the output" \
    "$(cat "$T_TMP/s3.out" "$T_TMP/s3.out.err")" "${keys#*:}"

psql_q postgres "DROP DATABASE $db" >/dev/null || true
finish
