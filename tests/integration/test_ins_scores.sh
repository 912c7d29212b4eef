#!/usr/bin/env bash
# insights-api scores end to end, with the committed demo models (insights-api/models/, NOT
# credit models): sms-extraction and insights-api started for real, generated users POSTed to
# /api/generate_features, the score keys checked (probability, what it is the probability of,
# arm, model version, flat reason keys naming predictor features, pushing toward the bad
# outcome, strongest first), the arm checked against an independent computation of
# the bucket (SHA-256 of client_id:user_id in Python), /metrics per arm, a shadow version
# logged but never returned, new weights through the environment moving some users (and
# only in the direction the weights moved), a score null with a reason when extraction is
# down or a group is not asked, and start-up refused for a predictor the catalogue lacks.
source "$(dirname "$0")/ins_lib.sh"

BIN=$BUILD/insights-api
M=insights-api/models
TOKEN=tok-scores-1
MODELS=(PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.txt
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.predictors.json
    PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.txt
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.predictors.json
    EMI_LGB_MODEL_V2_PATH="$M"/demo_emi_v2.txt
    PREDICTORS_EMI_LGB_MODEL_V2_PATH="$M"/demo_emi_v2.predictors.json)
N_USERS=16

# restart_insights ARMS [VAR=value...]: (re)start insights-api with the demo models and SCORE_ARMS.
restart_insights() {
    local arms=$1
    shift
    [ -n "${INS_PID:-}" ] && stop_daemon "$INS_PID"
    start_insights DEMO_CLIENTS="$INS_CLIENT:$TOKEN" "${MODELS[@]}" SCORE_ARMS="$arms" "$@" ||
        {
            fail "insights-api did not start with the demo models: $(tail -n 3 "$D_LOG")"
            finish
        }
}

# expected_arm USER V2_PERCENT: the arm a 2-arm v2/v3 split must give, computed independently.
expected_arm() {
    python3 -c 'import hashlib,sys
b = int.from_bytes(hashlib.sha256(sys.argv[1].encode()).digest()[:8], "big") % 10000
print("v2" if b < int(sys.argv[2]) * 100 else "v3")' "$INS_CLIENT:$1" "$2"
}

# score_all FILE_OUT: POST every user, write "user arm value" lines.
score_all() {
    local f
    : >"$1"
    for f in $(user_files "$T_TMP/users"); do
        inline_body "$f" "$T_TMP/body.json"
        api /api/generate_features "$T_TMP/body.json" "$INS_CLIENT" "$TOKEN"
        echo "$(jqr .user_id) $(jqr .credeau_payday_score_arm) $(jqr .credeau_payday_score)" >>"$1"
    done
}

start_smsx_bg || {
    fail "sms-extraction did not start: $(tail -n 3 "$D_LOG")"
    finish
}
gen_users "$T_TMP/users" "$N_USERS" 606
restart_insights "credeau_payday_score=v2:50,v3:50"
assert_contains "the up line names the arms" "$(cat "$D_LOG")" \
    'credeau_payday_score=v2:50,v3:50;credeau_emi_score=v2:100'

# ---- one user, every key -------------------------------------------------------------
uf=$(user_files "$T_TMP/users" | head -n 1)
inline_body "$uf" "$T_TMP/one.json"
api /api/generate_features "$T_TMP/one.json" "$INS_CLIENT" "$TOKEN"
assert_eq "generate_features: 200" 200 "$H_STATUS"
user=$(jqr .user_id)
p=$(jqr .credeau_payday_score)
assert_true "credeau_payday_score is a probability ($p)" \
    python3 -c 'import sys; v = float(sys.argv[1]); sys.exit(not 0 <= v <= 1)' "$p"
arm=$(jqr .credeau_payday_score_arm)
assert_eq "the arm is the SHA-256 bucket's (computed in Python)" "$(expected_arm "$user" 50)" "$arm"
assert_eq "the model version is the predictor list's" "demo-payday-$arm" \
    "$(jqr .credeau_payday_score_model_version)"
assert_eq "the reply says what the score is the probability of" \
    "$(jq -r .probability_of "$M/demo_payday_$arm.predictors.json") true" \
    "$(jqr .credeau_payday_score_probability_of) $(jqr .credeau_payday_score_higher_is_riskier)"
names=$(printf '%s' "$H_BODY" | jq -c '[range(1; 6) as $n | .["credeau_payday_score_reason_\($n)"]
    | select(. != null) | sub("^missing:"; "")]')
assert_true "reason codes are there ($names)" test "$(jq length <<<"$names")" -gt 0
assert_eq "... as flat keys, no array" null "$(jqr .credeau_payday_score_reason_codes)"
notlisted=$(jq -r --argjson r "$names" '$r - .features | length' "$M/demo_payday_$arm.predictors.json")
assert_eq "... each names one of the model's predictors" 0 "$notlisted"
assert_eq "... pushing toward the bad outcome, strongest first" true \
    "$(jqr '[range(1; 6) as $n | .["credeau_payday_score_reason_\($n)_impact"] | select(. != null)]
        | (. == (sort | reverse)) and all(. > 0)')"
assert_eq "no null reason on a computed score" null "$(jqr .credeau_payday_score_null_reason)"
e=$(jqr .credeau_emi_score)
assert_true "credeau_emi_score is a probability ($e)" \
    python3 -c 'import sys; v = float(sys.argv[1]); sys.exit(not 0 <= v <= 1)' "$e"
assert_eq "... arm v2 (its only version)" v2 "$(jqr .credeau_emi_score_arm)"
api /api/generate_features "$T_TMP/one.json" "$INS_CLIENT" "$TOKEN"
assert_eq "the same user again: same arm and score" "$arm $p" \
    "$(jqr .credeau_payday_score_arm) $(jqr .credeau_payday_score)"

# ---- all users: arms, metrics --------------------------------------------------------
score_all "$T_TMP/arms50"
bad=0
while read -r u a _; do
    [ "$(expected_arm "$u" 50)" = "$a" ] || bad=$((bad + 1))
done <"$T_TMP/arms50"
assert_eq "every user's arm matches the bucket at 50/50 ($N_USERS users)" 0 "$bad"
m=$(metrics)
n2=$(awk '/scores_total\{arm="credeau_payday_score:v2"\}/ {print $2}' <<<"$m")
n3=$(awk '/scores_total\{arm="credeau_payday_score:v3"\}/ {print $2}' <<<"$m")
assert_eq "/metrics counts per arm (v2 $n2 + v3 $n3 = $N_USERS users + 2)" $((N_USERS + 2)) \
    $((${n2:-0} + ${n3:-0}))

# ---- new weights through the environment ---------------------------------------------
restart_insights "credeau_payday_score=v2:10,v3:90"
score_all "$T_TMP/arms10"
moved=$(join <(sort "$T_TMP/arms50") <(sort "$T_TMP/arms10") | awk '$2 != $4' | wc -l)
back=$(join <(sort "$T_TMP/arms50") <(sort "$T_TMP/arms10") | awk '$2 == "v3" && $4 == "v2"' | wc -l)
want=$(while read -r u a _; do [ "$a" != "$(expected_arm "$u" 10)" ] && echo x; done <"$T_TMP/arms50" | wc -l)
assert_eq "v2:10,v3:90 without a rebuild: the users whose bucket moved changed arm" "$want" "$moved"
assert_true "... some did ($moved of $N_USERS)" test "$moved" -gt 0
assert_eq "... none moved from v3 to v2" 0 "$back"
same=$(join <(sort "$T_TMP/arms50") <(sort "$T_TMP/arms10") | awk '$2 == $4 && $3 != $5' | wc -l)
assert_eq "... users who kept their arm kept their score" 0 "$same"

# ---- shadow --------------------------------------------------------------------------
restart_insights "credeau_payday_score=v2:100,v3:shadow"
api /api/generate_features "$T_TMP/one.json" "$INS_CLIENT" "$TOKEN"
assert_eq "shadow: the returned arm is v2" v2 "$(jqr .credeau_payday_score_arm)"
assert_not_contains "... the v3 model version appears nowhere in the reply" "$H_BODY" "demo-payday-v3"
assert_eq "... nor a \"v3\" value" 0 "$(jqr '[.. | strings | select(. == "v3")] | length')"
sleep 0.3
assert_true "... the shadow score is logged (score, arm, value)" \
    grep -q '"shadow score".*"shadow_arm":"v3","shadow_value":[0-9.e-]*,"returned_arm":"v2"' "$D_LOG"
assert_true "... and counted" bash -c "curl -s '$D_ADMIN_URL/metrics' | grep -q 'credeau_payday_score:v3:shadow\"} 1'"
assert_true "... the shadow log line carries no feature values" \
    bash -c "! grep '\"shadow score\"' '$D_LOG' | grep -q estimated_salary"

# ---- a group not asked ---------------------------------------------------------------
restart_insights "credeau_payday_score=v3:100"
inline_body "$uf" "$T_TMP/smsonly.json" '["sms","extracted_sms"]'
api /api/generate_features "$T_TMP/smsonly.json" "$INS_CLIENT" "$TOKEN"
assert_eq "v3 reads app features: null when apps were not asked" \
    "null inputs_not_requested:apps" \
    "$(jqr .credeau_payday_score) $(jqr .credeau_payday_score_null_reason)"
assert_eq "... the EMI score (SMS only) is computed" false "$(jqr '.credeau_emi_score == null')"

# ---- extraction down -----------------------------------------------------------------
stop_daemon "$SMSX_PID"
restart_insights "credeau_payday_score=v2:50,v3:50" SMS_EXTRACTOR_RETRIES=0
api /api/generate_features "$T_TMP/one.json" "$INS_CLIENT" "$TOKEN"
assert_eq "extraction down: still 200 with failed groups" '200 ["sms","extracted_sms"]' \
    "$H_STATUS $(jqr '.failed_groups | tojson')"
assert_eq "... the payday score is null with a reason, not computed on zeros" \
    "null inputs_failed:extracted_sms" \
    "$(jqr .credeau_payday_score) $(jqr .credeau_payday_score_null_reason)"
assert_eq "... it still names the arm" "$arm" "$(jqr .credeau_payday_score_arm)"
assert_eq "... no reason codes for a null score" "null null" \
    "$(jqr .credeau_payday_score_reason_1) $(jqr .credeau_payday_score_reason_1_impact)"
assert_eq "... the EMI score too" "null inputs_failed:extracted_sms" \
    "$(jqr .credeau_emi_score) $(jqr .credeau_emi_score_null_reason)"
assert_true "... counted in scores_null_total" \
    bash -c "curl -s '$D_ADMIN_URL/metrics' | grep -q 'scores_null_total{reason=\"credeau_payday_score:inputs_failed:extracted_sms\"} 1'"
stop_daemon "$INS_PID"
INS_PID=

# ---- refusals at start-up ------------------------------------------------------------
jq '.features[3] = "bounce_count_c9000"' "$M/demo_payday_v2.predictors.json" >"$T_TMP/bad-pred.json"
expect_refusal bad-pred "$BIN" PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.txt \
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH="$T_TMP/bad-pred.json"
assert_true "a predictor the catalogue lacks stops start-up" test "$R_EXIT" -ne 0
assert_contains "... naming the feature" "$R_OUT" "'bounce_count_c9000' is not in the catalogue"
expect_refusal no-pred "$BIN" PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.txt
assert_contains "a model without its predictor list stops start-up" "$R_OUT" \
    "PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH: required"
expect_refusal bad-arms "$BIN" "${MODELS[@]}" SCORE_ARMS="credeau_payday_score=v2:60,v3:60"
assert_contains "arms not summing to 100 stop start-up" "$R_OUT" "weights sum to 120"
finish
