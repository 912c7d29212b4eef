#!/usr/bin/env bash
# `make run`: the main job end to end on this machine. Starts sms-extraction with its default
# rules (sms-extraction/rules/*.json, no database) on free ports, sends the demo batch of
# invented messages (tests/data/demo/batch.json: debit, credit, salary, OTP, promo, bill due,
# declined, balance), prints the extracted records, and stops the daemon.
# usage: scripts/run-demo.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=harness.sh
source scripts/harness.sh
harness_begin "${1:-build}" demo-logs

DEMO=tests/data/demo/batch.json
echo "demo: starting $BUILD/sms-extraction (rules: sms-extraction/rules/, no database)"
start_smsx LOG_LEVEL=info || {
    echo "demo: the daemon did not start (exit ${D_EXIT:-?}); its log:"
    tail -n 20 "$D_LOG"
    exit 1
}
echo "demo: listening on $D_URL (metrics on $D_ADMIN_URL/metrics)"
echo "demo: POST $DEMO ($(jq '.sms | length' "$DEMO") messages) to $D_URL/api/extract"
echo
jq -r '.sms[] | "  [\(.sms_id)] \(.sms_sender): \(.sms_body)"' "$DEMO"
echo
post_json /api/extract "$DEMO"
if [ "$H_STATUS" != 200 ]; then
    echo "demo: HTTP $H_STATUS: $H_BODY"
    stop_daemon
    exit 1
fi
echo "demo: HTTP 200, extracted records:"
if command -v jq >/dev/null; then
    printf '%s' "$H_BODY" | jq .
else
    printf '%s' "$H_BODY" | python3 -m json.tool
fi
echo
echo "demo: summary (id, type, direction, amount, account, party):"
printf '%s' "$H_BODY" | jq -r '.extracted_sms_data[] |
    "  [\(.sms_id)] \(.sms_type // "-") \(.transaction_type // "-") \(.transaction // "-") \(.account_last_digits // "-") \(.transaction_party // "-")"'
stop_daemon
echo "demo: daemon stopped (exit $D_EXIT); its log is $D_LOG"
[ "$D_EXIT" = 0 ]
