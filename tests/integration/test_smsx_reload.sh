#!/usr/bin/env bash
# sms-extraction SIGHUP reload: while requests keep flowing, a SIGHUP picks up a changed
# rules file (the new version shows in /metrics) and no request fails; a broken file on
# reload keeps the old rules serving.
source "$(dirname "$0")/lib.sh"

R="$T_TMP/rules"
mkdir -p "$R"
cp "$REPO_ROOT"/sms-extraction/rules/{vocabulary,classification,regex}.json "$R/" || {
    fail "default rules missing in sms-extraction/rules"
    finish
}
start_smsx VOCAB_PATH="$R/vocabulary.json" CLASSIFICATION_PATH="$R/classification.json" \
    REGEX_PATH="$R/regex.json" || {
    fail "daemon did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
mark=$(privacy_marker reload)
make_batch "$T_TMP/batch.json" 50 "$mark"
old_version=$(jq -r .version "$R/vocabulary.json")
assert_contains "metrics show the loaded vocabulary version" "$(metrics)" "$old_version"

# Requests flow in the background for the whole reload.
flow() {
    local stop=$1 out=$2
    while [ ! -e "$stop" ]; do
        curl -s -m 30 -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
            --data-binary "@$T_TMP/batch.json" "$D_URL/api/extract" >>"$out"
    done
}
flow "$T_TMP/stop" "$T_TMP/codes1" &
fpid=$!
flow "$T_TMP/stop" "$T_TMP/codes2" &
fpid2=$!
sleep 0.5

new_version="it-reload-$RANDOM$RANDOM"
jq --arg v "$new_version" '.version = $v' "$R/vocabulary.json" >"$R/v.tmp" && mv "$R/v.tmp" "$R/vocabulary.json"
kill -HUP "$D_PID"
seen=0
for i in $(seq 100); do
    metrics | grep -q "$new_version" && {
        seen=1
        break
    }
    sleep 0.1
done
assert_eq "after SIGHUP the metrics show the new vocabulary version" 1 "$seen"
sleep 0.5

# A broken file: reload fails, the old rules keep serving.
printf '{"version": "broken", ' >"$R/vocabulary.json"
kill -HUP "$D_PID"
sleep 1
assert_true "process still running after a failed reload" kill -0 "$D_PID"
assert_contains "metrics still show the last good version" "$(metrics)" "$new_version"
touch "$T_TMP/stop"
wait "$fpid" "$fpid2"

codes=$(cat "$T_TMP/codes1" "$T_TMP/codes2")
n=$(grep -c . <<<"$codes")
n200=$(grep -c '^200$' <<<"$codes")
echo "     $n requests during the reloads"
assert_true "requests flowed during the reloads" [ "$n" -gt 5 ]
assert_eq "no request failed during the reloads" "$n" "$n200"
http_get "$D_URL/ready"
assert_eq "still ready after a failed reload" 200 "$H_STATUS"
assert_true "the failed reload is logged" grep -qi 'reload' "$D_LOG"
stop_daemon
assert_eq "SIGTERM: exit status 0" 0 "$D_EXIT"
finish
