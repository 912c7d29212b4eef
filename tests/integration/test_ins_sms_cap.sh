#!/usr/bin/env bash
# The per-user message cap (issue 11 item 1, MAX_SMS_PER_USER), against the real daemons
# (and the MongoDB peer when set). A borrower with more messages than the cap is featurised
# from the most recent N only: with MAX_SMS_PER_USER=40 the reply for the full inbox is
# exactly the reply for the inbox cut to its newest 40 messages (cut here with jq), and
# sms_count_used says 40; the same through /api/insights (MongoDB). Without a cap the full
# inbox is used (more than 40), so the first check fails when the cap is not applied. A cap
# outside 1..200000 refuses to start.
source "$(dirname "$0")/ins_lib.sh"

TOKEN="tok-sms-cap-1"
CAP=40
MONGO=()
[ -n "${MONGO_URI:-}" ] && read -r -a MONGO <<<"$(mongo_env)"
SAME='del(.request_id, .data_requested_time, .data_processed_time)'

# post PATH BODYFILE OUT: the reply, kept in OUT (normalised for comparison in OUT.cmp).
post() {
    api "$1" "$2" "$INS_CLIENT" "$TOKEN"
    printf '%s' "$H_BODY" >"$3"
    jq -S "$SAME" "$3" >"$3.cmp" 2>/dev/null
}

start_smsx_bg || {
    fail "sms-extraction did not start: $(tail -n 3 "$D_LOG")"
    finish
}
# one as_of for every request: a reply without one is as of its own second
now=$(TZ=Asia/Kolkata date '+%Y-%m-%d %H:%M:%S')
GEN_USERS_NOW=$now gen_users "$T_TMP/users" 1 1511
uf=$(user_files "$T_TMP/users" | head -n 1)
u=$(jq -r .user_id "$uf")
total=$(jq '.sms | length' "$uf")
# the newest CAP messages (ties on the date broken as the daemon does not promise: none here)
jq --argjson n "$CAP" '.sms |= (sort_by(.sms_inbox_date) | .[-$n:])' "$uf" >"$T_TMP/newest.user"
assert_eq "the generated user has more than $CAP distinct message dates" "true" \
    "$(jq --argjson n "$CAP" '[.sms[].sms_inbox_date] | unique | length > $n' "$uf")"
inline_body "$uf" "$T_TMP/full.json" '["sms","extracted_sms"]'
inline_body "$T_TMP/newest.user" "$T_TMP/newest.json" '["sms","extracted_sms"]'
for f in full newest; do
    jq -c --arg t "$now" '. + {as_of: $t}' "$T_TMP/$f.json" >"$T_TMP/$f.tmp" && mv "$T_TMP/$f.tmp" "$T_TMP/$f.json"
done
[ -n "${MONGO_URI:-}" ] && { load_users "$uf" || fail "load-user failed"; }

# ---- no cap below the inbox: every message is used ----------------------------------------
start_insights DEMO_CLIENTS="$INS_CLIENT:$TOKEN" "${MONGO[@]}" || {
    fail "insights-api did not start: $(tail -n 3 "$D_LOG")"
    finish
}
post /api/generate_features "$T_TMP/full.json" "$T_TMP/r-all"
assert_eq "default cap: 200 and more than $CAP SMS used" "200 true" \
    "$H_STATUS $(jqr ".sms_count_used > $CAP")"
stop_daemon "$INS_PID"

# ---- MAX_SMS_PER_USER=40: the newest 40, said in sms_count_used ---------------------------
start_insights DEMO_CLIENTS="$INS_CLIENT:$TOKEN" MAX_SMS_PER_USER=$CAP "${MONGO[@]}" || {
    fail "insights-api did not start: $(tail -n 3 "$D_LOG")"
    finish
}
post /api/generate_features "$T_TMP/full.json" "$T_TMP/r-full"
assert_eq "inline, $total SMS, cap $CAP: 200, sms_count_used $CAP" "200 $CAP" \
    "$H_STATUS $(jqr .sms_count_used)"
post /api/generate_features "$T_TMP/newest.json" "$T_TMP/r-newest"
if cmp -s "$T_TMP/r-full.cmp" "$T_TMP/r-newest.cmp"; then
    ok "... exactly the reply for the newest $CAP messages alone"
else
    fail "... differs from the reply for the newest $CAP alone in: $(jq -rn \
        --slurpfile a "$T_TMP/r-full.cmp" --slurpfile b "$T_TMP/r-newest.cmp" \
        '[$a[0] | keys[] | select($a[0][.] != $b[0][.])] | .[:8] | join(" ")')"
fi
if [ -n "${MONGO_URI:-}" ]; then
    insights_body "$T_TMP/ins.json" "$u" '["sms","extracted_sms"]'
    post /api/insights "$T_TMP/ins.json" "$T_TMP/r-ins"
    assert_eq "MongoDB, cap $CAP: 200, sms_count_used $CAP" "200 $CAP" \
        "$H_STATUS $(jqr .sms_count_used)"
else
    skip "MongoDB path (MONGO_URI not set)"
fi
stop_daemon "$INS_PID"

# ---- a cap outside its range refuses to start ----------------------------------------------
for bad in 0 200001; do
    expect_refusal insights "$BUILD/insights-api" MAX_SMS_PER_USER=$bad
    assert_true "MAX_SMS_PER_USER=$bad: refused (exit $R_EXIT), the variable named" \
        test "$R_EXIT" -ne 0 -a "$(grep -c MAX_SMS_PER_USER <<<"$R_OUT")" -gt 0
done
finish
