#!/usr/bin/env bash
# The extraction accuracy bar, measured by the shared scorer over real HTTP against the
# daemon with its default rules: the headline must be at least 75%. Needs ../shared (the
# labelled set is never copied into the repo); skipped with a clear line when absent.
source "$(dirname "$0")/lib.sh"

SCORER="$SHARED_DIR/tools/score-extraction"
if [ ! -x "$SCORER" ] && [ ! -f "$SCORER" ]; then
    skip "accuracy: $SCORER not present (../shared absent)"
    finish
fi
start_smsx LOG_LEVEL=info || {
    fail "daemon did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
# The scorer's bodies come from ../shared: record a few distinctive words of them as
# privacy markers so the log check covers this run too.
python3 - "$SHARED_DIR/data/sms/cases.jsonl" >>"$LOG_DIR/privacy-markers.txt" <<'PY'
import json, sys
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    if i % 25 == 0 and line.strip():
        body = json.loads(line).get("body", "")
        if len(body) > 40:
            print(body[:40])
PY
python3 "$SCORER" "$D_URL" --fail-under 75 >"$T_TMP/score" 2>&1
rc=$?
sed 's/^/     /' "$T_TMP/score"
assert_eq "score-extraction --fail-under 75 passes ($(tail -n 1 "$T_TMP/score"))" 0 "$rc"
stop_daemon
assert_eq "SIGTERM: exit status 0" 0 "$D_EXIT"
finish
