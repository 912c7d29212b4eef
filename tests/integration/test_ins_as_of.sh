#!/usr/bin/env bash
# Features at a point in time and scores that refuse to guess, against the real daemons
# (sms-extraction and insights-api with the demo models, NOT credit models) and, when set,
# the MongoDB and PostgreSQL peers. Five generated users, each at an as_of T on or next to a
# month boundary (India time): (a) the full inbox at as_of = T gives exactly the reply of
# the same inbox cut at T (messages, apps installed, device captured after T removed here
# with jq; update times after T dropped); (b) it equals the reply of a daemon whose clock is
# set to T (TEST_CLOCK), no as_of; through MongoDB (/api/insights) too. Every reply is one
# flat object of scalars (failed_groups aside), with the demo models and without. The
# empty user, a user whose newest message is 400 days old and one with 10 messages get
# every score null with no_data, stale_data and thin_file. Async jobs at two as_of are two
# jobs with two results. Malformed and future as_of get the 422.
source "$(dirname "$0")/ins_lib.sh"

M=insights-api/models
TOKEN="tok-as-of-1"
MODELS=(PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.txt
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.predictors.json
    PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.txt
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.predictors.json
    EMI_LGB_MODEL_V2_PATH="$M"/demo_emi_v2.txt
    PREDICTORS_EMI_LGB_MODEL_V2_PATH="$M"/demo_emi_v2.predictors.json
    SCORE_ARMS="credeau_payday_score=v2:50,v3:50")
MONGO=()
[ -n "${MONGO_URI:-}" ] && read -r -a MONGO <<<"$(mongo_env)"
FLAT='[to_entries[] | select(.key != "failed_groups") | select(.value | type == "array" or type == "object") | .key]'
SAME='del(.request_id, .data_requested_time, .data_processed_time)'

# insights VAR=value...: (re)start insights-api with the demo models (and MongoDB when set).
insights() {
    [ -n "${INS_PID:-}" ] && stop_daemon "$INS_PID"
    start_insights DEMO_CLIENTS="$INS_CLIENT:$TOKEN" "${MODELS[@]}" "${MONGO[@]}" "$@" || {
        fail "insights-api did not start: $(tail -n 3 "$D_LOG")"
        finish
    }
}

# post PATH BODYFILE OUT: the reply, kept in OUT (normalised for comparison in OUT.cmp).
post() {
    api "$1" "$2" "$INS_CLIENT" "$TOKEN"
    printf '%s' "$H_BODY" >"$3"
    jq -S "$SAME" "$3" >"$3.cmp" 2>/dev/null
}

# same MSG A B: the two normalised replies are equal (else the keys that differ are shown).
same() {
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        fail "$1: differ in $(jq -rn --slurpfile a "$2" --slurpfile b "$3" \
            '[$a[0] | keys[] | select($a[0][.] != $b[0][.])] | .[:8] | join(" ")')"
    fi
}

# cut USERFILE T OUT: the user's data as the phone held it at T (epoch seconds).
cut() {
    jq --argjson t "$2" '($t * 1000) as $ms | .sms |= map(select(.sms_inbox_date <= $ms))
        | .apps |= map(select((.install_time // 0) <= $ms)
            | if (.update_time // 0) > $ms then del(.update_time) else . end)
        | if (.device.captured_at // 0) > $ms then .device = null else . end' "$1" >"$3"
}

# with_as_of BODYFILE T_TEXT: as_of added in place.
with_as_of() { jq -c --arg t "$2" '. + {as_of: $t}' "$1" >"$1.tmp" && mv "$1.tmp" "$1"; }

start_smsx_bg || {
    fail "sms-extraction did not start: $(tail -n 3 "$D_LOG")"
    finish
}
now=$(TZ=Asia/Kolkata date '+%Y-%m-%d %H:%M:%S')
GEN_USERS_NOW=$now gen_users "$T_TMP/users" 5 1414
mapfile -t USERS < <(user_files "$T_TMP/users")
# T: the second before this month, its first second, the same for last month, and 3 days ago
mapfile -t TIMES < <(python3 - "$now" <<'PY'
import datetime as dt, sys
now = dt.datetime.strptime(sys.argv[1], "%Y-%m-%d %H:%M:%S")
m0 = now.replace(day=1, hour=0, minute=0, second=0)
m1 = (m0 - dt.timedelta(days=1)).replace(day=1)
s = dt.timedelta(seconds=1)
for t in (m0 - s, m0, m1 - s, m1, now - dt.timedelta(days=3, hours=5)):
    print(t.strftime("%Y-%m-%d %H:%M:%S"))
PY
)
echo "     as_of per user: ${TIMES[*]}"
ist_epoch() { TZ=Asia/Kolkata date -d "$1" +%s; }
[ -n "${MONGO_URI:-}" ] && { load_users "${USERS[@]}" || fail "load-user failed"; }

# ---- (a) the full inbox at T is the inbox cut at T -----------------------------------
insights
for i in 0 1 2 3 4; do
    uf=${USERS[$i]} t=${TIMES[$i]} e=$(ist_epoch "${TIMES[$i]}") u=$(jq -r .user_id "${USERS[$i]}")
    inline_body "$uf" "$T_TMP/full$i.json"
    with_as_of "$T_TMP/full$i.json" "$t"
    cut "$uf" "$e" "$T_TMP/cut$i.user"
    inline_body "$T_TMP/cut$i.user" "$T_TMP/cut$i.json"
    with_as_of "$T_TMP/cut$i.json" "$t"
    post /api/generate_features "$T_TMP/full$i.json" "$T_TMP/r-full$i"
    assert_eq "user $i at $t: 200, as_of in the reply" "200 $t" "$H_STATUS $(jqr .as_of)"
    assert_eq "... one flat object of scalars" "[]" "$(jq -c "$FLAT" "$T_TMP/r-full$i")"
    assert_true "... scored ($(jqr .credeau_payday_score), $(jqr .sms_count_used) SMS)" \
        test "$(jqr '.credeau_payday_score | type')" = number
    post /api/generate_features "$T_TMP/cut$i.json" "$T_TMP/r-cut$i"
    same "... (a) exactly the reply of the inbox cut at T ($(jq '.sms | length' "$T_TMP/cut$i.user") of $(jq '.sms | length' "$uf") SMS)" \
        "$T_TMP/r-full$i.cmp" "$T_TMP/r-cut$i.cmp"
    # MongoDB (3 overlapping syncs, a device snapshot per sync) for two of them: the SMS
    # groups, as the device history differs from the one device sent inline
    if [ -n "${MONGO_URI:-}" ] && [ "$i" -le 1 ]; then
        insights_body "$T_TMP/ins$i.json" "$u" '["sms","extracted_sms"]'
        with_as_of "$T_TMP/ins$i.json" "$t"
        post /api/insights "$T_TMP/ins$i.json" "$T_TMP/r-ins$i"
        inline_body "$T_TMP/cut$i.user" "$T_TMP/cutsms$i.json" '["sms","extracted_sms"]'
        with_as_of "$T_TMP/cutsms$i.json" "$t"
        post /api/generate_features "$T_TMP/cutsms$i.json" "$T_TMP/r-cutsms$i"
        same "... /api/insights (MongoDB) at T: the features of the cut inbox" \
            "$T_TMP/r-ins$i.cmp" "$T_TMP/r-cutsms$i.cmp"
    fi
done

# ---- (b) ... and the reply of a daemon whose clock is T ------------------------------
for i in 0 1 2 3 4; do
    uf=${USERS[$i]} t=${TIMES[$i]} u=$(jq -r .user_id "${USERS[$i]}")
    insights TEST_CLOCK="$t"
    inline_body "$uf" "$T_TMP/clock$i.json"
    post /api/generate_features "$T_TMP/clock$i.json" "$T_TMP/r-clock$i"
    assert_eq "user $i, clock set to $t, no as_of: stamped with the clock" "$t $t" \
        "$(jqr .data_requested_time) $(jqr .as_of)"
    same "... (b) the same reply as the full inbox at as_of = T" \
        "$T_TMP/r-full$i.cmp" "$T_TMP/r-clock$i.cmp"
    if [ -n "${MONGO_URI:-}" ] && [ "$i" -le 1 ]; then
        insights_body "$T_TMP/insclock$i.json" "$u" '["sms","extracted_sms"]'
        post /api/insights "$T_TMP/insclock$i.json" "$T_TMP/r-insclock$i"
        same "... through MongoDB too" "$T_TMP/r-ins$i.cmp" "$T_TMP/r-insclock$i.cmp"
    fi
done
expect_refusal prod-clock "$BUILD/insights-api" LAUNCH_ENVIRONMENT=prod TEST_CLOCK="$now" \
    DI_POSTGRES_HOST=127.0.0.1
assert_contains "TEST_CLOCK is refused in prod" "$R_OUT" "TEST_CLOCK: a test-only setting"

# ---- refusals --------------------------------------------------------------------------
insights
for bad in '"2026-02-30 10:00:00"' '"soon"' '[1]' '"2999-01-01 00:00:00"'; do
    jq -c --argjson a "$bad" '. + {as_of: $a}' "$T_TMP/full0.json" >"$T_TMP/bad.json"
    api /api/generate_features "$T_TMP/bad.json" "$INS_CLIENT" "$TOKEN"
    assert_eq "as_of $bad: 422 on as_of" "422 as_of" "$H_STATUS $(jqr '.detail[0].loc[1]')"
done
assert_eq "... a date in the future is datetime_past" datetime_past "$(jqr '.detail[0].type')"

# ---- evidence gates --------------------------------------------------------------------
# null_scores FILE REASON: both demo scores null with REASON, arm named, no reason code.
null_scores() {
    jq -r --arg r "$2" '[.credeau_payday_score, .credeau_emi_score] == [null, null]
        and .credeau_payday_score_null_reason == $r and .credeau_emi_score_null_reason == $r
        and (.credeau_payday_score_arm | type) == "string" and .credeau_payday_score_reason_1 == null' "$1"
}
jq -cn --arg c "$INS_CLIENT" '{user_id: "u-empty", client_id: $c}' >"$T_TMP/empty.json"
post /api/generate_features "$T_TMP/empty.json" "$T_TMP/r-empty"
assert_eq "empty user: scores null, no_data" true "$(null_scores "$T_TMP/r-empty" no_data)"
assert_eq "... evidence: 0 SMS, no recency, no history" "0 null null" \
    "$(jqr .sms_count_used) $(jqr .data_recency_days) $(jqr .history_days)"
# the first user's messages moved 400 days back from its newest
jq -c '(.sms | map(.sms_inbox_date) | max) as $n
    | .sms |= map(.sms_inbox_date -= ($n - (now * 1000 | floor) + 400 * 86400000))' \
    "${USERS[0]}" >"$T_TMP/stale.user"
inline_body "$T_TMP/stale.user" "$T_TMP/stale.json"
post /api/generate_features "$T_TMP/stale.json" "$T_TMP/r-stale"
assert_eq "newest message 400 days old: scores null, stale_data" true \
    "$(null_scores "$T_TMP/r-stale" stale_data)"
assert_eq "... data_recency_days 400" 400 "$(jqr .data_recency_days)"
jq -c '.sms |= (sort_by(.sms_inbox_date) | .[-10:])' "${USERS[1]}" >"$T_TMP/thin.user"
inline_body "$T_TMP/thin.user" "$T_TMP/thin.json"
post /api/generate_features "$T_TMP/thin.json" "$T_TMP/r-thin"
assert_eq "10 messages: scores null, thin_file" true "$(null_scores "$T_TMP/r-thin" thin_file)"
assert_eq "... sms_count_used 10" 10 "$(jqr .sms_count_used)"
for f in empty stale thin; do
    assert_eq "$f: flat" "[]" "$(jq -c "$FLAT" "$T_TMP/r-$f")"
done

# ---- without models ------------------------------------------------------------------
stop_daemon "$INS_PID"
start_insights DEMO_CLIENTS="$INS_CLIENT:$TOKEN" || fail "insights-api without models did not start"
INS_PID=$D_PID
post /api/generate_features "$T_TMP/full0.json" "$T_TMP/r-nomodel"
assert_eq "no models: flat" "[]" "$(jq -c "$FLAT" "$T_TMP/r-nomodel")"
assert_eq "... every score's keys there, null, no_model" "null no_model null null null" \
    "$(jqr .credeau_payday_score) $(jqr .credeau_payday_score_null_reason) $(jqr .credeau_emi_score) $(jqr .credeau_score) $(jqr .credeau_payday_score_reason_1)"
assert_eq "... the same keys as with the models" \
    "$(jq -c 'keys' "$T_TMP/r-full0")" "$(jq -c 'keys' "$T_TMP/r-nomodel")"

# ---- async: two as_of, two jobs, two results -----------------------------------------
if [ -n "${PGPORT:-}" ] && [ -n "${MONGO_URI:-}" ]; then
    db="ins_as_of_$$"
    if psql_q postgres "CREATE DATABASE $db"; then
        # shellcheck disable=SC2046
        export $(pg_env "$db")
        export TOKEN_PEPPER=pepper-$$
        tok=$("$BUILD/insights-api" client add --client "$INS_CLIENT" | jq -r .token)
        privacy_secret "$tok"
        stop_daemon "$INS_PID"
        start_insights "${MODELS[@]}" "${MONGO[@]}" || fail "insights-api with PostgreSQL did not start"
        INS_PID=$D_PID
        u=$(jq -r .user_id "${USERS[0]}")
        # poll BODYFILE: POST until 200 (at most 20 s); the reply in H_BODY
        poll() {
            for _ in $(seq 100); do
                api /api/async_insights "$1" "$INS_CLIENT" "$tok"
                [ "$H_STATUS" != 202 ] && return
                sleep 0.2
            done
        }
        for i in 0 2; do
            insights_body "$T_TMP/async$i.json" "$u" '["sms","extracted_sms"]'
            with_as_of "$T_TMP/async$i.json" "${TIMES[$i]}"
            api /api/async_insights "$T_TMP/async$i.json" "$INS_CLIENT" "$tok"
            assert_eq "async at ${TIMES[$i]}: 202 (its own job)" 202 "$H_STATUS"
        done
        for i in 0 2; do
            poll "$T_TMP/async$i.json"
            printf '%s' "$H_BODY" | jq -S "$SAME" >"$T_TMP/r-async$i.cmp"
            assert_eq "... then 200 as of ${TIMES[$i]}" "200 ${TIMES[$i]}" "$H_STATUS $(jqr .as_of)"
            api /api/insights "$T_TMP/async$i.json" "$INS_CLIENT" "$tok"
            printf '%s' "$H_BODY" | jq -S "$SAME" >"$T_TMP/r-sync$i.cmp"
            same "... the reply of /api/insights at that as_of" \
                "$T_TMP/r-async$i.cmp" "$T_TMP/r-sync$i.cmp"
        done
        assert_true "... the two results differ ($(jq .sms_count_used "$T_TMP/r-async0.cmp") and $(jq .sms_count_used "$T_TMP/r-async2.cmp") SMS)" \
            test "$(jq .sms_count_used "$T_TMP/r-async0.cmp")" != "$(jq .sms_count_used "$T_TMP/r-async2.cmp")"
        assert_eq "two jobs in insights_jobs" 2 \
            "$(psql_q "$db" "SELECT count(*) FROM insights_jobs WHERE groupings LIKE '%;as_of=%'")"
    else
        fail "could not create database $db"
    fi
else
    skip "async at two as_of: PostgreSQL and MongoDB needed (scripts/run-integration.sh)"
fi
stop_daemon "$INS_PID"
stop_daemon "$SMSX_PID"
finish
