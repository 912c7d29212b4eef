#!/usr/bin/env bash
# insights-api reading synced users from the MongoDB peer (CongoDB) and extracting their SMS
# through two sms-extraction replicas: POST /api/insights on generated users recovers the
# planted truth (estimated_salary within 5 %, bounce and EMI counts exact), an unknown user
# gets "user not found", /api/fetch_extracted_data returns the most recent N records, both
# extraction replicas receive traffic, and with MongoDB unreachable the API answers 502 (issue 15: a
# failed dependency is 502, which Credeau's sample client retries; 503 is our own overload).
source "$(dirname "$0")/ins_lib.sh"

: "${MONGO_URI:?run through scripts/run-integration.sh (needs the MongoDB peer)}"
[ -x "$BUILD/tools/load-user" ] || {
    fail "missing $BUILD/tools/load-user (build the tools)"
    finish
}
gen_users "$T_TMP/users" 3 777
# shellcheck disable=SC2046
load_users $(user_files "$T_TMP/users") || {
    fail "load-user could not load the generated users"
    finish
}
ok "3 generated users loaded into MongoDB"

start_smsx_bg || fail "first sms-extraction did not start"
url1=$SMSX_URL
pid1=$SMSX_PID
admin1=$D_ADMIN_URL
start_smsx_bg || fail "second sms-extraction did not start"
url2=$SMSX_URL
pid2=$SMSX_PID
admin2=$D_ADMIN_URL
# shellcheck disable=SC2046
SMSX_URL="$url1,$url2" start_insights $(mongo_env) DEMO_CLIENTS="$INS_CLIENT:tok-sync" \
    SMS_EXTRACTOR_BATCH_SIZE=200 || {
    fail "insights-api did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}

for uf in $(user_files "$T_TMP/users"); do
    truth=${uf%.json}.truth.json
    uid=$(jq -r .user_id "$uf")
    insights_body "$T_TMP/body.json" "$uid"
    api /api/insights "$T_TMP/body.json" "$INS_CLIENT" tok-sync
    assert_eq "$uid: 200 featurization completed" "200 featurization completed" "$H_STATUS $(jqr .message)"
    want=$(jq .salary.amount "$truth")
    got=$(jqr .estimated_salary)
    assert_true "$uid: estimated_salary $got within 5% of planted $want" \
        awk -v g="$got" -v w="$want" 'BEGIN { exit !(g != "null" && (g - w) / w < 0.05 && (w - g) / w < 0.05) }'
    # The truth keys that count the same quantities over the same windows (docs/data-model.md).
    assert_eq "$uid: bounce count exact" "$(jq .bounce_count_c180 "$truth")" "$(jqr .bounce_count_c180)"
    assert_eq "$uid: EMI debit count exact" "$(jq .emi_debit_count_c180 "$truth")" "$(jqr .emi_debit_count_c180)"
    assert_eq "$uid: distinct EMIs exact" "$(jq .emi_count_c90 "$truth")" "$(jqr .emi_loans_debited_count_c90)"
    assert_eq "$uid: every SMS counted (the client's own left out)" "$(jq .sms_counted "$truth")" "$(jqr .all_sms_count_nlp)"
done

insights_body "$T_TMP/nobody.json" "no-such-user-$$"
api /api/insights "$T_TMP/nobody.json" "$INS_CLIENT" tok-sync
assert_eq "unknown user: 200 user not found" "200 user not found" "$H_STATUS $(jqr .message)"
assert_eq "... and no features" null "$(jqr .all_sms_count_nlp)"

uf=$(user_files "$T_TMP/users" | head -n 1)
uid=$(jq -r .user_id "$uf")
jq -cn --arg u "$uid" '{user_id: $u, client_id: "'$INS_CLIENT'", cnt_sms_threshold: 25}' >"$T_TMP/fetch.json"
api /api/fetch_extracted_data "$T_TMP/fetch.json" "$INS_CLIENT" tok-sync
assert_eq "fetch_extracted_data: 200" 200 "$H_STATUS"
assert_eq "... the 25 most recent records" 25 "$(jqr '.extracted_sms_data | length')"
newest=$(jq -r '[.sms[].sms_inbox_date] | max' "$uf")
assert_eq "... starting with the newest message (newest first, as Credeau's example)" \
    "$(jq -r --argjson t "$newest" '[.sms[] | select(.sms_inbox_date == $t)][0].sms_id' "$uf")" \
    "$(jqr '.extracted_sms_data[0].sms_id')"

r1=$(curl -s "$admin1/metrics" | awk '/^smsx_http_requests_total\{route="\/api\/extract",status="200"\}/ { print $2 }')
r2=$(curl -s "$admin2/metrics" | awk '/^smsx_http_requests_total\{route="\/api\/extract",status="200"\}/ { print $2 }')
assert_true "both extraction replicas received batches ($r1 and $r2)" test "${r1:-0}" -gt 0 -a "${r2:-0}" -gt 0
stop_daemon "$INS_PID"

# MongoDB unreachable.
dead=$(free_port)
SMSX_URL=$url1 start_insights DI_MONGODB_URI="mongodb://127.0.0.1:$dead/?serverSelectionTimeoutMS=500" \
    DEMO_CLIENTS="$INS_CLIENT:tok-sync" || fail "insights-api did not start with MongoDB down"
api /api/insights "$T_TMP/body.json" "$INS_CLIENT" tok-sync
assert_eq "MongoDB down: 502" 502 "$H_STATUS"
assert_eq "... dependency_unavailable with Retry-After" "dependency_unavailable yes" \
    "$(jqr .code) $([ -n "$(header Retry-After)" ] && echo yes)"
stop_daemon "$INS_PID"
stop_daemon "$pid1"
stop_daemon "$pid2"
finish
