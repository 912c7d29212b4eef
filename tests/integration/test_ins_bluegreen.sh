#!/usr/bin/env bash
# Blue/green and rollback of a model version without a restart (issue 18), as
# docs/operations.md "Model versions: shadow, canary, promote, roll back" tells an operator:
# both daemons real, the demo models v2 (blue) and v3 (green) of credeau_payday_score
# configured, the arms in a file (SCORE_ARMS_PATH) edited and SIGHUP sent. Shadow: everyone
# gets v2, v3 only counted; canary 50/50 and 10/90: each user's arm is the SHA-256 bucket's
# (computed in Python), users move only from v2 to v3; promote v3:100; roll back to
# v2:100,v3:shadow: every user gets back exactly the v2 score of the start. A bad arms file
# is refused and the arms in use stay. /metrics shows the arms and the model versions at
# each step; the process is the same throughout.
source "$(dirname "$0")/ins_lib.sh"

M=insights-api/models
TOKEN=tok-bluegreen-1
N_USERS=8
ARMS=$T_TMP/arms.conf

# expected_arm USER V2_PERCENT: the arm a v2/v3 split gives, computed independently.
expected_arm() {
    python3 -c 'import hashlib,sys
b = int.from_bytes(hashlib.sha256(sys.argv[1].encode()).digest()[:8], "big") % 10000
print("v2" if b < int(sys.argv[2]) * 100 else "v3")' "$INS_CLIENT:$1" "$2"
}

# set_arms SPEC EXPECTED_GENERATION: write the arms file (with a comment), SIGHUP, wait.
set_arms() {
    local i
    printf '# credeau_payday_score arms (docs/operations.md)\n%s\n' "$1" >"$ARMS"
    kill -HUP "$INS_PID"
    for i in $(seq 200); do
        [ "$(metric_value insights_artifact_generation)" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# score_all OUT: "user arm value" per user.
score_all() {
    local i
    : >"$1"
    for i in $(seq 0 $((N_USERS - 1))); do
        api /api/generate_features "$T_TMP/body$i.json" "$INS_CLIENT" "$TOKEN"
        echo "$(jqr .user_id) $(jqr .credeau_payday_score_arm) $(jqr .credeau_payday_score)" >>"$1"
    done
}

# arms_wrong FILE PERCENT: the number of users whose arm is not the bucket's.
arms_wrong() {
    local u a n=0
    while read -r u a _; do [ "$(expected_arm "$u" "$2")" = "$a" ] || n=$((n + 1)); done <"$1"
    echo "$n"
}

arms_metric() { metric_value "insights_artifact_info{name=\"arms:credeau_payday_score\",version=\"$1\"}"; }

start_smsx_bg || {
    fail "sms-extraction did not start: $(tail -n 3 "$D_LOG")"
    finish
}
gen_users "$T_TMP/users" "$N_USERS" 1819
i=0
for f in $(user_files "$T_TMP/users"); do
    inline_body "$f" "$T_TMP/body$i.json"
    i=$((i + 1))
done
printf 'credeau_payday_score=v2:100,v3:shadow\n' >"$ARMS"
start_insights DEMO_CLIENTS="$INS_CLIENT:$TOKEN" PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.txt \
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH="$M"/demo_payday_v2.predictors.json \
    PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.txt \
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V3_PATH="$M"/demo_payday_v3.predictors.json \
    SCORE_ARMS_PATH="$ARMS" SCORE_ARMS="credeau_payday_score=v3:100" LOG_LEVEL=info || {
    fail "insights-api did not start: $(tail -n 3 "$D_LOG")"
    finish
}
pid0=$INS_PID

# ---- 1. shadow ------------------------------------------------------------------------
score_all "$T_TMP/s1"
assert_eq "shadow: every user gets v2 (SCORE_ARMS_PATH wins over SCORE_ARMS)" "$N_USERS" \
    "$(awk '$2 == "v2"' "$T_TMP/s1" | wc -l)"
assert_eq "... v3 computed and counted as shadow for each" "$N_USERS" \
    "$(metric_value 'insights_scores_total{arm="credeau_payday_score:v3:shadow"}')"
assert_eq "... /metrics shows the arms" 1 "$(arms_metric 'v2:100,v3:shadow')"
assert_eq "... and both model versions" "1 1" \
    "$(metric_value 'insights_artifact_info{name="model:credeau_payday_score:v2",version="demo-payday-v2"}') $(metric_value 'insights_artifact_info{name="model:credeau_payday_score:v3",version="demo-payday-v3"}')"

# ---- 2. canary: promote the shadow to an arm -----------------------------------------
set_arms "credeau_payday_score=v2:50,v3:50" 2 || {
    fail "canary v2:50,v3:50: not loaded 20 s after SIGHUP"
    finish
}
ok "canary v2:50,v3:50: SIGHUP loads it"
score_all "$T_TMP/s2"
assert_eq "... every user's arm is the bucket's at 50/50" 0 "$(arms_wrong "$T_TMP/s2" 50)"
assert_true "... some users on v3 ($(awk '$2 == "v3"' "$T_TMP/s2" | wc -l))" \
    test "$(awk '$2 == "v3"' "$T_TMP/s2" | wc -l)" -gt 0
kept=$(join <(sort "$T_TMP/s1") <(sort "$T_TMP/s2") | awk '$4 == "v2" && $3 != $5' | wc -l)
assert_eq "... users still on v2 keep their score" 0 "$kept"
assert_eq "... /metrics shows the new arms" 1 "$(arms_metric 'v2:50,v3:50')"

# ---- 3. move weights ----------------------------------------------------------------
assert_true "weights v2:10,v3:90: SIGHUP loads them" set_arms "credeau_payday_score=v2:10,v3:90" 3
score_all "$T_TMP/s3"
assert_eq "... every user's arm is the bucket's at 10/90" 0 "$(arms_wrong "$T_TMP/s3" 10)"
back=$(join <(sort "$T_TMP/s2") <(sort "$T_TMP/s3") | awk '$2 == "v3" && $4 == "v2"' | wc -l)
assert_eq "... nobody moved from v3 back to v2" 0 "$back"

# ---- 4. promote ---------------------------------------------------------------------
assert_true "promote v3:100,v2:shadow: SIGHUP loads it" \
    set_arms "credeau_payday_score=v3:100,v2:shadow" 4
score_all "$T_TMP/s4"
assert_eq "... every user gets v3" "$N_USERS" "$(awk '$2 == "v3"' "$T_TMP/s4" | wc -l)"
assert_eq "... /metrics shows it" 1 "$(arms_metric 'v3:100,v2:shadow')"

# ---- a bad arms file is refused -------------------------------------------------------
printf 'credeau_payday_score=v2:60,v3:60\n' >"$ARMS"
kill -HUP "$INS_PID"
for i in $(seq 200); do
    [ -n "$(metric_value 'insights_artifact_reloads_total{result="failure"}')" ] && break
    sleep 0.1
done
assert_eq "arms summing to 120: the reload fails, counted" 1 \
    "$(metric_value 'insights_artifact_reload_failures_total{artifact="SCORE_ARMS_PATH"}')"
assert_true "... the log says why" grep -q 'artifact reload failed.*SCORE_ARMS_PATH.*120' "$D_LOG"
score_all "$T_TMP/s4b"
assert_eq "... the arms in use stay (every user still v3, same scores)" "" \
    "$(diff "$T_TMP/s4" "$T_TMP/s4b")"

# ---- 5. roll back -------------------------------------------------------------------
assert_true "roll back to v2:100,v3:shadow: SIGHUP loads it" \
    set_arms "credeau_payday_score=v2:100,v3:shadow" 5
score_all "$T_TMP/s5"
assert_eq "... every user gets exactly the v2 score of the start" "" "$(diff "$T_TMP/s1" "$T_TMP/s5")"
assert_eq "... /metrics shows the arms of the start" 1 "$(arms_metric 'v2:100,v3:shadow')"
assert_eq "... four reloads succeeded, one failed" "4 1" \
    "$(metric_value 'insights_artifact_reloads_total{result="success"}') $(metric_value 'insights_artifact_reloads_total{result="failure"}')"
assert_eq "the same process throughout" "$pid0" "$INS_PID"
assert_true "... still running" kill -0 "$INS_PID"
stop_daemon "$INS_PID"
assert_eq "SIGTERM: exit status 0" 0 "$D_EXIT"
stop_daemon "$SMSX_PID"
finish
