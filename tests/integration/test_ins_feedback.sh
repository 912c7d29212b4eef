#!/usr/bin/env bash
# Issue 18's feedback loop against real PostgreSQL and both daemons: the prediction log (every
# returned and shadow score a row, the user as HMAC-SHA256(USER_KEY_SECRET, user_id) worked
# out here in Python, values equal to the reply's and to the logged shadow value; spooled while
# PostgreSQL is stopped and replayed when it is back), POST /api/outcomes (200 recorded, an
# idempotent repeat, a later observation updating, 422 for each bad field in Credeau's shape,
# 401, 413 over MAX_BODY_BYTES), `insights-api outcomes import FILE.csv` (bad lines reported
# by line number, the good ones stored, a re-run changing nothing), and `forget` erasing both
# tables. User ids, loan ids and the key are privacy markers: no daemon log may hold them.
source "$(dirname "$0")/ins_lib.sh"

: "${PGPORT:?run through scripts/run-integration.sh (needs the PostgreSQL peer)}"
db="ins_fb_$$"
use_database "$db"
USER_KEY_SECRET=$(privacy_marker ukey)
export USER_KEY_SECRET
BIN=$BUILD/insights-api
M=insights-api/models
wait_sql() { # wait_sql SQL EXPECTED
    local i
    for i in $(seq 150); do
        [ "$(q "$1" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
user_key() { python3 -c 'import hmac,sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), "sha256").hexdigest())' "$USER_KEY_SECRET" "$1"; }

"$BIN" migrate >/dev/null || fail "migrate failed"
tok=$("$BIN" client add --client acme | jq -r .token)
privacy_secret "$tok"
start_smsx_bg || fail "sms-extraction did not start"
start_insights DUMP_MODE=metadata \
    PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.txt \
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.predictors.json \
    PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.txt \
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.predictors.json \
    EMI_LGB_MODEL_V2_PATH="$M"/demo_emi_v2.txt \
    PREDICTORS_EMI_LGB_MODEL_V2_PATH="$M"/demo_emi_v2.predictors.json \
    SCORE_ARMS="credeau_payday_score=v2:100,v3:shadow" || {
    fail "insights-api did not start: $(tail -n 5 "$D_LOG")"
    finish
}

# ---- the prediction log ----------------------------------------------------------------
gen_users "$T_TMP/users" 2 1818
as_of=$(($(date +%s) - 120))
i=0
for f in $(user_files "$T_TMP/users"); do
    i=$((i + 1))
    jq -c --arg u "$(privacy_marker usr)" '.client_id = "acme" | .user_id = $u' "$f" >"$T_TMP/u$i.json"
    inline_body "$T_TMP/u$i.json" "$T_TMP/b$i.json"
    jq -c --argjson a "$as_of" '.as_of = $a' "$T_TMP/b$i.json" >"$T_TMP/body$i.json"
done
uid1=$(jq -r .user_id "$T_TMP/u1.json")
uid2=$(jq -r .user_id "$T_TMP/u2.json")
api /api/generate_features "$T_TMP/body1.json" acme "$tok"
assert_eq "a scored call: 200" 200 "$H_STATUS"
rid1=$(jqr .request_id)
payday=$(jqr .credeau_payday_score)
emi=$(jqr .credeau_emi_score)
payday_mv=$(jqr .credeau_payday_score_model_version)
assert_true "... the payday score is a number (the demo model scored this user)" \
    bash -c '[[ "$1" =~ ^[0-9.eE-]+$ ]]' _ "$payday"
assert_true "three prediction rows: payday v2 returned, payday v3 shadow, emi v2 returned" \
    wait_sql "SELECT count(*) FROM prediction_log WHERE request_id = '$rid1'" 3
assert_eq "... arms, shadow flags and model versions" \
    "credeau_emi_score v2 false|credeau_payday_score v2 false $payday_mv|credeau_payday_score v3 true" \
    "$(q "SELECT string_agg(concat_ws(' ', score_name, arm, shadow::text, CASE WHEN score_name = 'credeau_payday_score' AND NOT shadow THEN model_version END), '|' ORDER BY score_name, arm) FROM prediction_log WHERE request_id = '$rid1'")"
k1=$(user_key "$uid1")
assert_eq "... user_key is HMAC-SHA256(USER_KEY_SECRET, user_id), worked out in Python" \
    "$k1" "$(q "SELECT DISTINCT user_key FROM prediction_log WHERE request_id = '$rid1'")"
assert_eq "... the user id itself is in neither new table" 0 \
    "$(q "SELECT count(*) FROM prediction_log WHERE user_key = '$uid1' OR predictors_digest = '$uid1'")"
assert_eq "... client and as_of as the request said" "acme $as_of" \
    "$(q "SELECT DISTINCT client_id || ' ' || extract(epoch FROM as_of)::bigint FROM prediction_log WHERE request_id = '$rid1'")"
# same A B [REL]: equal numbers (REL: relative tolerance; the log line keeps 6 digits)
same() { python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(a - b) > float(sys.argv[3]) * max(1e-300, abs(a)))' "$1" "$2" "${3:-1e-15}"; }
assert_true "... the returned payday value is the reply's" same "$payday" \
    "$(q "SELECT value FROM prediction_log WHERE request_id = '$rid1' AND arm = 'v2' AND score_name = 'credeau_payday_score'")"
assert_true "... the emi value is the reply's" same "$emi" \
    "$(q "SELECT value FROM prediction_log WHERE request_id = '$rid1' AND score_name = 'credeau_emi_score'")"
shadow_logged=$(grep "\"request_id\":\"$rid1\"" "$D_LOG" | grep '"msg":"shadow score"' | jq -r .shadow_value | head -n 1)
assert_true "... the shadow value is the one the shadow log line gives (6 digits)" same \
    "$shadow_logged" "$(q "SELECT value FROM prediction_log WHERE request_id = '$rid1' AND shadow")" 1e-5
assert_eq "... every row has a 64-hex predictors digest" 3 \
    "$(q "SELECT count(*) FROM prediction_log WHERE request_id = '$rid1' AND predictors_digest ~ '^[0-9a-f]{64}$'")"
api /api/generate_features "$T_TMP/body1.json" acme "$tok"
rid1b=$(jqr .request_id)
wait_sql "SELECT count(*) FROM prediction_log WHERE request_id = '$rid1b'" 3
assert_eq "the same user and as_of again: the same digests (deterministic)" 0 \
    "$(q "SELECT count(*) FROM prediction_log a JOIN prediction_log b USING (score_name, arm) WHERE a.request_id = '$rid1' AND b.request_id = '$rid1b' AND a.predictors_digest <> b.predictors_digest")"
api /api/generate_features "$T_TMP/body2.json" acme "$tok"
rid2=$(jqr .request_id)
assert_true "another user's rows" wait_sql "SELECT count(*) FROM prediction_log WHERE request_id = '$rid2' AND user_key = '$(user_key "$uid2")'" 3
assert_eq "... with other digests (other predictor values)" 0 \
    "$(q "SELECT count(*) FROM prediction_log a JOIN prediction_log b USING (score_name, arm) WHERE a.request_id = '$rid1' AND b.request_id = '$rid2' AND a.predictors_digest = b.predictors_digest")"
assert_eq "prediction_log is partitioned by day (today's partition holds the rows)" t \
    "$(q "SELECT count(*) > 0 FROM prediction_log_$(date -u +%Y_%m_%d)")"

# ---- PostgreSQL down: spooled, then replayed ----------------------------------------------
pg_ctl_peer stop
api /api/generate_features "$T_TMP/body2.json" acme "$tok"
assert_eq "PostgreSQL down: the (cached) client is still scored" 200 "$H_STATUS"
rid_down=$(jqr .request_id)
spooled() { metrics | awk '/^insights_spool_bytes / { print $2 }'; }
for _ in $(seq 100); do [ "$(spooled)" -gt 0 ] 2>/dev/null && break; sleep 0.1; done
assert_true "... its rows wait in the spool" test "$(spooled)" -gt 0
pg_ctl_peer start
assert_true "PostgreSQL back: the spooled prediction rows are replayed" \
    wait_sql "SELECT count(*) FROM prediction_log WHERE request_id = '$rid_down' AND user_key = '$(user_key "$uid2")'" 3

# ---- POST /api/outcomes --------------------------------------------------------------------
loan=$(privacy_marker loan)
outcome() { # outcome JSON: POST it as acme
    printf '%s' "$1" >"$T_TMP/out.json"
    api /api/outcomes "$T_TMP/out.json" acme "$tok"
}
obs=$(($(date +%s) - 3600))
outcome "{\"client_id\":\"acme\",\"user_id\":\"$uid1\",\"request_id\":\"$rid1\",\"loan_id\":\"$loan\",\"outcome\":\"good\",\"observed_at\":$obs}"
assert_eq "an outcome: 200" 200 "$H_STATUS"
assert_eq "... recorded" recorded "$(jqr .status)"
assert_eq "... one row keyed by the user's hash" "$k1 good $rid1 $obs" \
    "$(q "SELECT user_key || ' ' || outcome || ' ' || request_id || ' ' || extract(epoch FROM observed_at)::bigint FROM outcomes WHERE loan_id = '$loan'")"
outcome "{\"client_id\":\"acme\",\"user_id\":\"$uid1\",\"request_id\":\"$rid1\",\"loan_id\":\"$loan\",\"outcome\":\"good\",\"observed_at\":$obs}"
assert_eq "the same outcome again: 200" 200 "$H_STATUS"
assert_eq "... unchanged" unchanged "$(jqr .status)"
outcome "{\"client_id\":\"acme\",\"user_id\":\"$uid1\",\"loan_id\":\"$loan\",\"outcome\":\"bad\",\"observed_at\":$((obs - 60))}"
assert_eq "an older observation of the loan: unchanged" unchanged "$(jqr .status)"
outcome "{\"client_id\":\"acme\",\"user_id\":\"$uid1\",\"loan_id\":\"$loan\",\"outcome\":\"bad\",\"observed_at\":\"$(date -u -d @$((obs + 60)) +%Y-%m-%dT%H:%M:%SZ)\"}"
assert_eq "a later observation (ISO date): updated" updated "$(jqr .status)"
assert_eq "... still one row for the loan, now bad" "1 bad" \
    "$(q "SELECT count(*) || ' ' || max(outcome) FROM outcomes WHERE client_id = 'acme' AND loan_id = '$loan'")"
outcome "{\"client_id\":\"acme\",\"user_id\":\"$uid2\",\"request_id\":\"$rid2\",\"outcome\":\"good\",\"observed_at\":$obs}"
assert_eq "no loan id: keyed by the request (200 recorded)" "200 recorded" "$H_STATUS $(jqr .status)"
outcome "{\"client_id\":\"acme\",\"user_id\":\"$uid2\",\"request_id\":\"$rid2\",\"outcome\":\"good\",\"observed_at\":$obs}"
assert_eq "... its repeat: unchanged" "200 unchanged" "$H_STATUS $(jqr .status)"
assert_eq "... one row" 1 "$(q "SELECT count(*) FROM outcomes WHERE request_id = '$rid2'")"
rows_before=$(q "SELECT count(*) FROM outcomes")

# bad422 NAME JSON TYPE LOC: a 422 whose first detail item has this type and loc, echoing no id
bad422() {
    outcome "$2"
    assert_eq "$1: 422" 422 "$H_STATUS"
    assert_eq "... type $3 at $4" "$3 $4" "$(jqr '.detail[0].type + " " + (.detail[0].loc | map(tostring) | join("."))')"
    assert_not_contains "... the body echoes no id" "$H_BODY" "$loan"
}
base="\"client_id\":\"acme\",\"user_id\":\"$uid1\",\"loan_id\":\"$loan\""
bad422 "missing outcome" "{$base,\"observed_at\":$obs}" missing body.outcome
bad422 "outcome not in the enum" "{$base,\"outcome\":\"ugly\",\"observed_at\":$obs}" literal_error body.outcome
bad422 "outcome not a string" "{$base,\"outcome\":1,\"observed_at\":$obs}" string_type body.outcome
bad422 "observed_at not a date" "{$base,\"outcome\":\"bad\",\"observed_at\":\"yesterday-ish\"}" datetime_from_date_parsing body.observed_at
bad422 "observed_at of a wrong type" "{$base,\"outcome\":\"bad\",\"observed_at\":[1]}" datetime_type body.observed_at
bad422 "observed_at a day ahead" "{$base,\"outcome\":\"bad\",\"observed_at\":$(($(date +%s) + 86400))}" datetime_past body.observed_at
bad422 "missing observed_at" "{$base,\"outcome\":\"bad\"}" missing body.observed_at
bad422 "loan_id not a string" "{\"client_id\":\"acme\",\"user_id\":\"$uid1\",\"loan_id\":true,\"outcome\":\"bad\",\"observed_at\":$obs}" string_type body.loan_id
bad422 "neither loan_id nor request_id" "{\"client_id\":\"acme\",\"user_id\":\"$uid1\",\"outcome\":\"bad\",\"observed_at\":$obs}" missing body.loan_id
bad422 "loan_id over 128 characters" "{\"client_id\":\"acme\",\"user_id\":\"$uid1\",\"loan_id\":\"$(printf 'L%.0s' $(seq 129))\",\"outcome\":\"bad\",\"observed_at\":$obs}" string_too_long body.loan_id
bad422 "an unknown field" "{$base,\"outcome\":\"bad\",\"observed_at\":$obs,\"outcom\":\"bad\"}" extra_forbidden body.outcom
bad422 "user_id not a string" "{\"client_id\":\"acme\",\"user_id\":5,\"loan_id\":\"$loan\",\"outcome\":\"bad\",\"observed_at\":$obs}" string_type body.user_id
outcome "{$base,\"outcome\":"
assert_eq "not JSON: 422 json_invalid" "422 json_invalid" "$H_STATUS $(jqr '.detail[0].type')"
outcome "{$base,\"outcome\":\"ugly\",\"observed_at\":\"soon\",\"extra\":1}"
assert_eq "three bad fields: three detail items" 3 "$(jqr '.detail | length')"
assert_eq "none of the refused calls wrote a row" "$rows_before" "$(q "SELECT count(*) FROM outcomes")"
assert_eq "... nor changed the loan's outcome" bad "$(q "SELECT outcome FROM outcomes WHERE loan_id = '$loan'")"
printf '%s' "{$base,\"outcome\":\"good\",\"observed_at\":$((obs + 120))}" >"$T_TMP/out.json"
api /api/outcomes "$T_TMP/out.json" acme not-the-token
assert_eq "a wrong token: 401" 401 "$H_STATUS"
assert_eq "... nothing written" bad "$(q "SELECT outcome FROM outcomes WHERE loan_id = '$loan'")"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$T_TMP/huge.json"
api /api/outcomes "$T_TMP/huge.json" acme "$tok"
assert_eq "a body over MAX_BODY_BYTES: 413 (the HTTP layer's, before any JSON)" 413 "$H_STATUS"
assert_contains "... body_too_large" "$H_BODY" "body_too_large"
assert_true "outcome calls are in usage" \
    wait_sql "SELECT count(*) >= 10 FROM usage WHERE api_name = 'outcomes' AND response_code = 422" t

# ---- outcomes import -------------------------------------------------------------------
u3=$(privacy_marker usr)
loan2=$(privacy_marker loan)
loan3=$(privacy_marker loan)
loan4=$(privacy_marker loan)
{
    echo 'loan_id,client_id,user_id,outcome,observed_at,request_id'
    echo "$loan2,acme,$u3,good,$obs,"
    echo "$loan3,acme,$u3,maybe,$obs,"
    echo "\"$loan4\",acme,\"$u3\",bad,\"$(date -u -d @"$obs" '+%Y-%m-%d %H:%M:%S')\","
    echo ",acme,$u3,bad,not-a-date,"
    echo ",acme,$u3,bad,$obs,$rid2"
    echo "\"unclosed,acme,$u3,bad,$obs,"
} >"$T_TMP/outcomes.csv"
"$BIN" outcomes import "$T_TMP/outcomes.csv" >"$T_TMP/import.out" 2>"$LOG_DIR/$TEST_NAME.import.err"
assert_eq "import with bad lines: exit 1" 1 "$?"
errs=$(cat "$LOG_DIR/$TEST_NAME.import.err")
assert_contains "... line 3 reported (outcome)" "$errs" "line 3: outcome: Input should be 'good' or 'bad'"
assert_contains "... line 5 reported (observed_at)" "$errs" "line 5: observed_at:"
assert_contains "... line 7 reported (the unclosed quote)" "$errs" "line 7: line: a quoted field is not closed"
assert_not_contains "... no value echoed" "$errs" "maybe"
assert_eq "... the summary" '{"lines":6,"recorded":2,"updated":0,"unchanged":1,"rejected":3}' "$(cat "$T_TMP/import.out")"
assert_eq "... the good lines are stored, keyed by the user's hash" "$(user_key "$u3") 2" \
    "$(q "SELECT user_key || ' ' || count(*) FROM outcomes WHERE loan_id IN ('$loan2', '$loan4') GROUP BY user_key")"
assert_eq "... the bad ones are not" 0 "$(q "SELECT count(*) FROM outcomes WHERE loan_id = '$loan3'")"
"$BIN" outcomes import "$T_TMP/outcomes.csv" >"$T_TMP/import2.out" 2>/dev/null
assert_eq "the same file again: nothing new" '{"lines":6,"recorded":0,"updated":0,"unchanged":3,"rejected":3}' "$(cat "$T_TMP/import2.out")"
printf 'client_id,user_id,outcome,observed_at,colour\n' >"$T_TMP/bad_header.csv"
"$BIN" outcomes import "$T_TMP/bad_header.csv" >/dev/null 2>"$T_TMP/bh.err"
assert_eq "an unknown column: exit 1" 1 "$?"
assert_contains "... named by position" "$(cat "$T_TMP/bh.err")" "column 5 is not one of"
"$BIN" outcomes import "$T_TMP/nope.csv" >/dev/null 2>&1
assert_eq "a missing file: exit 1" 1 "$?"
"$BIN" outcomes >/dev/null 2>&1
assert_eq "outcomes without import FILE: usage (2)" 2 "$?"

# ---- forget ------------------------------------------------------------------------------
k2=$(user_key "$uid2")
out=$("$BIN" forget --client acme --user "$uid1")
assert_eq "forget reports the prediction_log rows" 6 "$(jq .tables.prediction_log <<<"$out")"
assert_eq "... and the outcome" 1 "$(jq .tables.outcomes <<<"$out")"
assert_eq "no row of the user is left in either table" 0 \
    "$(q "SELECT (SELECT count(*) FROM prediction_log WHERE user_key = '$k1') + (SELECT count(*) FROM outcomes WHERE user_key = '$k1')")"
assert_true "... another user's rows stay" test "$(q "SELECT count(*) FROM prediction_log WHERE user_key = '$k2'")" -gt 0
"$BIN" maintain >/dev/null
assert_eq "maintain keeps prediction_log's partitions (today's is there)" t \
    "$(q "SELECT to_regclass('prediction_log_$(date -u +%Y_%m_%d)') IS NOT NULL")"

stop_daemon "$INS_PID"
assert_eq "stops cleanly" 0 "$D_EXIT"
stop_daemon "$SMSX_PID"
for m in "$uid1" "$uid2" "$u3" "$loan" "$loan2" "$USER_KEY_SECRET"; do
    assert_eq "no daemon log holds a user id, loan id or the key" 0 "$(cat "$LOG_DIR"/*.log 2>/dev/null | grep -c -- "$m")"
done
psql_q postgres "DROP DATABASE $db" >/dev/null 2>&1
finish
