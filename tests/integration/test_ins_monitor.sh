#!/usr/bin/env bash
# `insights-api monitor` against the real PostgreSQL peer and independent truth
# (docs/monitoring.md). Part 1: a planted prediction log and outcomes (tests/integration/
# monitor_check.py synthetic: join-rule traps, ties, rows outside the window) give, per score,
# version, arm and shadow flag, the volume, labelled count, bad rate, AUC, KS and decile
# calibration scikit-learn computes on the pairs the fixture planted, to 1e-9; the gauges
# file carries them. Part 2: generated users scored by the real daemons (both started, replies
# dumped to PostgreSQL with DUMP_MODE=full): a population drawn as the models' training one
# keeps the PSI of the score and of every top predictor under 0.25; the same users with their
# income halved and 3 more lending apps cross 0.25. Bad input: an unparsable --since fails
# with a clear error and writes no row. The report: tests/integration/report_check.py parses
# its SVG and finds one mark per CSV row at the row's values.
source "$(dirname "$0")/ins_lib.sh"

: "${PGPORT:?run through scripts/run-integration.sh (needs PostgreSQL)}"
PY=/usr/bin/python3
CHECK="$REPO_ROOT/tests/integration/monitor_check.py"
M=insights-api/models
MODELS=(PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.txt
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.predictors.json
    PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.txt
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.predictors.json)
db="ins_monitor_$$"
use_database "$db"
export DUMP_MODE=full
"$BUILD/insights-api" migrate >/dev/null || fail "migrate failed"

# The prediction log and outcomes as issue 18's logging part defines them (its migrations
# 0008/0009, branch i18b, 33d04d2), created here only when they are not in the tree yet.
q "CREATE TABLE IF NOT EXISTS prediction_log (created_at timestamptz NOT NULL DEFAULT now(),
    request_id text NOT NULL, client_id text NOT NULL, user_key text NOT NULL,
    score_name text NOT NULL, model_version text, arm text NOT NULL, shadow boolean NOT NULL,
    value double precision, as_of timestamptz, predictors_digest text, null_reason text,
    PRIMARY KEY (request_id, score_name, arm, shadow, created_at)) PARTITION BY RANGE (created_at);
   CREATE TABLE IF NOT EXISTS prediction_log_default PARTITION OF prediction_log DEFAULT;
   CREATE TABLE IF NOT EXISTS outcomes (created_at timestamptz NOT NULL DEFAULT now(),
    client_id text NOT NULL, user_key text NOT NULL, request_id text NULL, loan_id text NULL,
    outcome text NOT NULL CHECK (outcome IN ('good', 'bad')), observed_at timestamptz NOT NULL,
    CHECK (request_id IS NOT NULL OR loan_id IS NOT NULL));
   CREATE INDEX IF NOT EXISTS prediction_log_user_idx ON prediction_log (client_id, user_key);
   CREATE INDEX IF NOT EXISTS prediction_log_request_id_idx ON prediction_log (request_id);
   CREATE UNIQUE INDEX IF NOT EXISTS outcomes_client_loan_key
    ON outcomes (client_id, loan_id) WHERE loan_id IS NOT NULL" >/dev/null

# ---- part 1: the numbers against scikit-learn ----------------------------------------
$PY "$CHECK" synthetic "$T_TMP/planted.sql" "$T_TMP/expected.json" ||
    fail "monitor_check.py synthetic failed"
psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$db" \
    -f "$T_TMP/planted.sql" >/dev/null || fail "loading the planted rows failed"
if env "${MODELS[@]}" "$BUILD/insights-api" monitor --since 2026-11-01 --until 2027-01-01 \
    --prom "$T_TMP/monitor.prom" >"$T_TMP/monitor.out" 2>"$T_TMP/monitor.err"; then
    ok "monitor ran: $(wc -l <"$T_TMP/monitor.out") groups"
else
    fail "monitor failed: $(cat "$T_TMP/monitor.err")"
fi
q "SELECT score_name, model_version, arm, CASE WHEN shadow THEN 't' ELSE 'f' END, metric,
    feature, coalesce(bin::text, ''), coalesce(value::text, ''), coalesce(mean_pred::text, ''),
    coalesce(count::text, '') FROM monitor_results WHERE metric <> 'psi'" >"$T_TMP/results.txt"
if $PY "$CHECK" compare "$T_TMP/expected.json" "$T_TMP/results.txt" >"$T_TMP/compare.txt"; then
    ok "volume, bad rate, AUC, KS and calibration equal scikit-learn's to 1e-9 ($(grep -c '^ok' "$T_TMP/compare.txt") numbers)"
else
    fail "against scikit-learn: $(grep FAIL "$T_TMP/compare.txt" | head -n 5 | tr '\n' ';')"
fi
want=$(jq -r '."credeau_payday_score|demo-payday-v2|a|f".auc' "$T_TMP/expected.json")
have=$(awk '/^insights_model_auc\{score="credeau_payday_score",version="demo-payday-v2",arm="a",shadow="false"\}/ {print $2}' "$T_TMP/monitor.prom")
assert_true "the gauges file has insights_model_auc of v2 arm a = sklearn's ($want)" bash -c \
    "$PY -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 1e-9)' '$want' '${have:-nan}'"
assert_contains "the gauges file has the PSI of the score" "$(cat "$T_TMP/monitor.prom")" \
    'insights_model_psi{score="credeau_payday_score",version="demo-payday-v2",arm="a",shadow="false",feature="score",top="true"}'

before=$(q "SELECT count(*) FROM monitor_results")
if "$BUILD/insights-api" monitor --since yesterdayish >"$T_TMP/bad.out" 2>"$T_TMP/bad.err"; then
    fail "an unparsable --since was accepted"
else
    assert_contains "an unparsable --since is refused naming the problem" "$(cat "$T_TMP/bad.err")" \
        "monitor failed:"
fi
assert_eq "a refused run writes no row" "$before" "$(q "SELECT count(*) FROM monitor_results")"

# ---- part 2: drift on users scored by the daemons --------------------------------------
start_smsx_bg || {
    fail "sms-extraction did not start: $(tail -n 3 "$D_LOG")"
    finish
}
tok=$("$BUILD/insights-api" client add --client "$INS_CLIENT" | jq -r .token)
start_insights "${MODELS[@]}" SCORE_ARMS="credeau_payday_score=v3:100" \
    RATE_LIMIT_PER_MINUTE=100000000 || {
    fail "insights-api did not start: $(tail -n 3 "$D_LOG")"
    finish
}
N=${MONITOR_DRIFT_USERS:-100}
now="2026-12-01 12:00:00" # the models' training "now" (tools/train-demo-models)
for pop in same shifted; do
    shift_args=()
    [ "$pop" = shifted ] && shift_args=(--income-factor 0.5 --extra-lending-apps 3)
    $PY "$REPO_ROOT/tools/gen-users" --users "$N" --seed 1818 --now "$now" \
        --client-id "$INS_CLIENT" --out "$T_TMP/$pop" "${shift_args[@]}" >/dev/null
    $PY "$CHECK" gig "$T_TMP/$pop" 0.3 1818 >/dev/null
    day=$([ "$pop" = same ] && echo 2027-02-01 || echo 2027-02-02)
    $PY "$CHECK" score "$INS_URL" "$INS_CLIENT" "$tok" "$T_TMP/$pop" "$day 10:00:00+00" \
        "$T_TMP/$pop.sql" >/dev/null || fail "$pop: scoring failed"
    psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$db" \
        -f "$T_TMP/$pop.sql" >/dev/null || fail "$pop: loading the predictions failed"
done
stop_daemon "$INS_PID"
for pop in same shifted; do
    since=$([ "$pop" = same ] && echo 2027-02-01 || echo 2027-02-02)
    env "${MODELS[@]}" "$BUILD/insights-api" monitor --since "$since" \
        --until "$(date -d "$since + 1 day" +%F)" >"$T_TMP/$pop.out" 2>&1 ||
        fail "$pop: monitor failed: $(cat "$T_TMP/$pop.out")"
    q "SELECT feature, top, round(value::numeric, 4), count FROM monitor_results
        WHERE metric = 'psi' AND window_start = '$since'::timestamptz
        AND (top OR feature = 'score') ORDER BY value DESC" >"$T_TMP/$pop.psi"
    echo "     $pop population, PSI (feature|top|value|n): $(tr '\n' ' ' <"$T_TMP/$pop.psi")"
done
max_same=$(head -n 1 "$T_TMP/same.psi" | cut -d'|' -f3)
max_shift=$(head -n 1 "$T_TMP/shifted.psi" | cut -d'|' -f3)
assert_true "unchanged population: PSI of the score and every top predictor <= 0.25 (max ${max_same:-none})" bash -c \
    "[ -n '$max_same' ] && awk 'BEGIN { exit !($max_same <= 0.25) }'"
assert_true "shifted population (income halved, +3 lending apps): a PSI > 0.25 (max ${max_shift:-none})" bash -c \
    "[ -n '$max_shift' ] && awk 'BEGIN { exit !($max_shift > 0.25) }'"
dumped=$(awk -F'|' '$1 != "score" {print $4; exit}' "$T_TMP/same.psi")
assert_true "predictor PSI read the dumped replies (n = ${dumped:-0})" bash -c "[ '${dumped:-0}' -gt 0 ]"

# ---- the report: HTML charts = CSV rows ------------------------------------------------
mkdir -p "$T_TMP/report"
if "$BUILD/insights-api" report --since 2026-11-01 --out "$T_TMP/report" >/dev/null \
    2>"$T_TMP/report.err"; then
    if $PY "$REPO_ROOT/tests/integration/report_check.py" "$T_TMP/report" >"$T_TMP/report.txt"; then
        ok "report: each chart draws one mark per CSV row at its values ($(grep -c '^ok' "$T_TMP/report.txt") checks)"
    else
        fail "report: $(grep FAIL "$T_TMP/report.txt" | head -n 3 | tr '\n' ';')"
    fi
else
    fail "report failed: $(cat "$T_TMP/report.err")"
fi
"$BUILD/insights-api" report --since 2026-11-01 --out "$T_TMP/no-such-dir" 2>"$T_TMP/report-bad.err" &&
    fail "a report into a missing directory succeeded"
assert_contains "a report into a missing directory names it" "$(cat "$T_TMP/report-bad.err")" \
    "no-such-dir/report.csv.tmp"

psql_q postgres "DROP DATABASE $db" >/dev/null || true
finish
