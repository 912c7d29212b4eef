#!/usr/bin/env bash
# insights-api SIGHUP reload (issue 18), both daemons real. Two model sets A and B for two
# scores (credeau_payday_score v2, credeau_emi_score v2) whose scores differ for every user
# (B's first tree has every leaf shifted by +0.7) and whose predictor lists carry the set in
# "version". The expected values per user and set are taken one request at a time; then
# three clients send requests without pause while the model files are switched A<->B and
# SIGHUP is sent again and again: every reply must be 200, both scores of a reply from the
# same set (model versions equal) and equal to that set's values (nothing computed with a
# half-swapped set). A corrupt model file keeps the old set, logs the variable and the
# reason, and counts artifact_reloads_total{result="failure"}; versions in /metrics follow.
source "$(dirname "$0")/ins_lib.sh"

M=$REPO_ROOT/insights-api/models
TOKEN=tok-reload-1
N_USERS=4
FLIPS=${RELOAD_FLIPS:-12}

# make_set DIR NAME SHIFT: the two demo models, first tree's leaves + SHIFT, version NAME.
make_set() {
    mkdir -p "$1"
    python3 - "$M/demo_payday_v2.txt" "$1/payday.txt" "$3" "$M/demo_emi_v2.txt" "$1/emi.txt" <<'PY'
import sys
def shift(src, dst, d):
    out, tree = [], None
    for line in open(src):
        if line.startswith("Tree="):
            tree = line.strip()
        if tree == "Tree=0" and line.startswith("leaf_value="):
            vals = [repr(float(v) + d) for v in line.split("=", 1)[1].split()]
            line = "leaf_value=" + " ".join(vals) + "\n"
        out.append(line)
    open(dst, "w").write("".join(out))
d = float(sys.argv[3])
shift(sys.argv[1], sys.argv[2], d)
shift(sys.argv[4], sys.argv[5], d)
PY
    jq --arg v "$2" '.version = $v' "$M/demo_payday_v2.predictors.json" >"$1/payday.json"
    jq --arg v "$2" '.version = $v' "$M/demo_emi_v2.predictors.json" >"$1/emi.json"
}

# use_set NAME: point $T_TMP/cur at set NAME (an atomic rename of a symlink).
use_set() {
    ln -sfn "$T_TMP/$1" "$T_TMP/cur.new" && mv -T "$T_TMP/cur.new" "$T_TMP/cur"
}

# reload_wait SAMPLE VALUE: SIGHUP, then wait (at most 20 s) until /metrics shows SAMPLE VALUE.
reload_wait() {
    local i
    kill -HUP "$INS_PID"
    for i in $(seq 200); do
        [ "$(metric_value "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# score_line BODYFILE: "payday_version payday emi_version emi" of one reply ("" on failure).
score_line() {
    api /api/generate_features "$1" "$INS_CLIENT" "$TOKEN"
    [ "$H_STATUS" = 200 ] || return 1
    jqr '"\(.credeau_payday_score_model_version) \(.credeau_payday_score) \(.credeau_emi_score_model_version) \(.credeau_emi_score)"'
}

start_smsx_bg || {
    fail "sms-extraction did not start: $(tail -n 3 "$D_LOG")"
    finish
}
gen_users "$T_TMP/users" "$N_USERS" 1818
i=0
for f in $(user_files "$T_TMP/users"); do
    inline_body "$f" "$T_TMP/body$i.json"
    i=$((i + 1))
done
make_set "$T_TMP/A" set-a 0
make_set "$T_TMP/B" set-b 0.7
use_set A
C=$T_TMP/cur
start_insights DEMO_CLIENTS="$INS_CLIENT:$TOKEN" PAYDAY_SCORE_LGB_MODEL_V2_PATH="$C/payday.txt" \
    PREDICTORS_PAYDAY_SCORE_LGB_MODEL_V2_PATH="$C/payday.json" EMI_LGB_MODEL_V2_PATH="$C/emi.txt" \
    PREDICTORS_EMI_LGB_MODEL_V2_PATH="$C/emi.json" LOG_LEVEL=info || {
    fail "insights-api did not start: $(tail -n 3 "$D_LOG")"
    finish
}
pid0=$INS_PID
assert_eq "start-up: generation 1" 1 "$(metric_value insights_artifact_generation)"
assert_eq "/metrics: the payday model's version" 1 \
    "$(metric_value 'insights_artifact_info{name="model:credeau_payday_score:v2",version="set-a"}')"

# ---- the expected values per user and set, one request at a time ----------------------
for i in $(seq 0 $((N_USERS - 1))); do
    echo "$i $(score_line "$T_TMP/body$i.json")" >>"$T_TMP/expect"
done
use_set B
reload_wait insights_artifact_generation 2 || {
    fail "SIGHUP: the new set is not in use after 20 s (generation $(metric_value insights_artifact_generation))"
    finish
}
ok "SIGHUP: the new set is in use (generation 2)"
for i in $(seq 0 $((N_USERS - 1))); do
    echo "$i $(score_line "$T_TMP/body$i.json")" >>"$T_TMP/expect"
done
assert_eq "/metrics: the payday model's version changed to set-b" 1 \
    "$(metric_value 'insights_artifact_info{name="model:credeau_payday_score:v2",version="set-b"}')"
assert_eq "... and the EMI model's" 1 \
    "$(metric_value 'insights_artifact_info{name="model:credeau_emi_score:v2",version="set-b"}')"
assert_eq "... set-a is gone" "" \
    "$(metric_value 'insights_artifact_info{name="model:credeau_payday_score:v2",version="set-a"}')"
assert_eq "... one reload counted as a success" 1 \
    "$(metric_value 'insights_artifact_reloads_total{result="success"}')"
assert_eq "8 expected lines, each from its set" "4 4" \
    "$(grep -c ' set-a [0-9.e-]* set-a ' "$T_TMP/expect") $(grep -c ' set-b [0-9.e-]* set-b ' "$T_TMP/expect")"
differ=$(awk '{v[$1" "$2] = $3" "$5} END {n = 0; for (k in v) { split(k, a, " ");
    if (a[2] == "set-a" && v[k] != v[a[1]" set-b"]) n++ } print n}' "$T_TMP/expect")
assert_eq "every user's two scores differ between the sets (a mixed reply is detectable)" \
    "$N_USERS" "$differ"

# ---- reload under load --------------------------------------------------------------
flow() {
    local stop=$1 out=$2 n=0 b
    while [ ! -e "$stop" ]; do
        b=$((n % N_USERS))
        n=$((n + 1))
        curl -s -m 60 -H "x-client-id: $INS_CLIENT" -H "x-auth-token: $TOKEN" \
            -H 'Content-Type: application/json' --data-binary "@$T_TMP/body$b.json" \
            -w '\n%{http_code}\n' "$INS_URL/api/generate_features" |
            jq -Rr --arg b "$b" 'fromjson? // . | if type == "object" then
                "\($b) \(.credeau_payday_score_model_version) \(.credeau_payday_score) \(.credeau_emi_score_model_version) \(.credeau_emi_score)"
                else "status \(.)" end' >>"$out"
    done
}
rm -f "$T_TMP/stop"
for k in 1 2 3; do
    flow "$T_TMP/stop" "$T_TMP/flow$k" &
    fpids+=($!)
done
sleep 0.5
gen=2
ok_flips=0
for k in $(seq "$FLIPS"); do
    if [ $((k % 2)) = 1 ]; then use_set A; else use_set B; fi
    gen=$((gen + 1))
    reload_wait insights_artifact_generation "$gen" && ok_flips=$((ok_flips + 1))
    sleep 0.2
done
touch "$T_TMP/stop"
wait "${fpids[@]}"
cat "$T_TMP"/flow[123] >"$T_TMP/flow"
assert_eq "$FLIPS SIGHUP reloads under load, each published" "$FLIPS" "$ok_flips"
n=$(grep -vc '^status' "$T_TMP/flow")
echo "     $n replies during the reloads"
assert_true "requests flowed during the reloads ($n)" [ "$n" -gt 10 ]
assert_eq "every reply was 200" "$n" "$(grep -c '^status 200$' "$T_TMP/flow")"
mixed=$(grep -v '^status' "$T_TMP/flow" | awk '$2 != $4' | wc -l)
assert_eq "no reply mixes two sets' model versions" 0 "$mixed"
wrong=$(grep -v '^status' "$T_TMP/flow" | awk 'NR == FNR { v[$1" "$2] = $3" "$5; next }
    v[$1" "$2] != $3" "$5' "$T_TMP/expect" - | wc -l)
assert_eq "every reply's scores are exactly its set's" 0 "$wrong"
na=$(grep -c ' set-a [^ ]* set-a ' "$T_TMP/flow")
nb=$(grep -c ' set-b [^ ]* set-b ' "$T_TMP/flow")
assert_true "both sets served during the storm (A $na, B $nb)" [ "$na" -gt 0 -a "$nb" -gt 0 ]

# ---- a corrupt model file keeps the old set --------------------------------------------
last=$([ $((FLIPS % 2)) = 1 ] && echo set-a || echo set-b) # the set of the last flip
cp -r "$T_TMP/B" "$T_TMP/bad"
printf 'tree\nversion=v4\nnum_class=1\nTree=0\nleaf_value=1 2\n' >"$T_TMP/bad/payday.txt"
use_set bad
assert_true "SIGHUP with a corrupt model: counted as a failure" \
    reload_wait 'insights_artifact_reloads_total{result="failure"}' 1
assert_eq "... naming the variable in /metrics" 1 \
    "$(metric_value 'insights_artifact_reload_failures_total{artifact="PAYDAY_SCORE_LGB_MODEL_V2_PATH"}')"
assert_eq "... the set in use is unchanged (generation $gen)" "$gen" \
    "$(metric_value insights_artifact_generation)"
assert_eq "... so are the versions in /metrics" 1 \
    "$(metric_value "insights_artifact_info{name=\"model:credeau_payday_score:v2\",version=\"$last\"}")"
assert_true "... the log says why" \
    grep -q '"artifact reload failed, keeping the current set".*PAYDAY_SCORE_LGB_MODEL_V2_PATH' "$D_LOG"
got=$(score_line "$T_TMP/body0.json")
assert_eq "... replies still come from the old set, exactly" \
    "$(awk -v s="$last" '$1 == 0 && $2 == s { print $2" "$3" "$4" "$5 }' "$T_TMP/expect")" "$got"
http_get "$INS_URL/ready"
assert_eq "... still ready" 200 "$H_STATUS"
use_set A
assert_true "the file fixed: the next SIGHUP loads it" \
    reload_wait insights_artifact_generation $((gen + 1))
assert_eq "no restart through all of it" "$pid0" "$INS_PID"
assert_true "still running" kill -0 "$INS_PID"
stop_daemon "$INS_PID"
assert_eq "SIGTERM: exit status 0" 0 "$D_EXIT"
stop_daemon "$SMSX_PID"
finish
