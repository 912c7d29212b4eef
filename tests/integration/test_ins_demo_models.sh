#!/usr/bin/env bash
# The demo-model trainer end to end (tools/train-demo-models, docs/scoring.md): generated
# users featurised by the real daemons, scikit-learn gradient boosting trained on them,
# converted to LightGBM text, and insights-api's evaluator (tools/lgbm-predict) checked
# against sklearn's decision_function and predict_proba on every training row (the script
# fails above 1e-9). Runs on 40 users into a temporary directory; skipped without Debian's
# python3-sklearn. Also checks the committed demo models carry the NOT-a-credit-model label.
source "$(dirname "$0")/lib.sh"

for f in demo_payday_v2 demo_payday_v3 demo_emi_v2; do
    assert_contains "$f: predictor list labelled as a demo" \
        "$(cat "$REPO_ROOT/insights-api/models/$f.predictors.json")" "NOT a credit model"
    assert_eq "... it says what it predicts (a synthetic bad label, positive class bad)" \
        "synthetic bad" "$(jq -r '(.probability_of | split("_")[0]) + " " + .positive_class' \
            "$REPO_ROOT/insights-api/models/$f.predictors.json")"
done
assert_true "insights-api/models/README.txt says they are not credit models" \
    grep -q 'NOT CREDIT MODELS' "$REPO_ROOT/insights-api/models/README.txt"

if ! /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
    skip "python3-sklearn not installed (apt-get install python3-sklearn)"
    finish
fi
out=$(cd "$REPO_ROOT" && /usr/bin/python3 tools/train-demo-models --build "$BUILD" --users 40 \
    --out "$T_TMP/models" 2>&1)
rc=$?
assert_eq "train-demo-models on 40 users exits 0 (evaluator within 1e-9 of sklearn)" 0 "$rc"
assert_eq "three models checked" 3 "$(grep -c 'evaluator vs sklearn' <<<"$out")"
echo "     $(grep 'evaluator vs sklearn' <<<"$out" | sed 's/^\([^:]*\):.*proba diff| \(.*\)/\1 \2/' | tr '\n' ' ')"
for f in demo_payday_v2 demo_payday_v3 demo_emi_v2; do
    assert_true "$f.txt written with its predictor list" \
        test -s "$T_TMP/models/$f.txt" -a -s "$T_TMP/models/$f.predictors.json"
done
finish
