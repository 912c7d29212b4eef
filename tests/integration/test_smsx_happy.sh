#!/usr/bin/env bash
# sms-extraction happy path: a batch in gives one record per message, in the same order,
# with exactly the contract's keys in the contract's order; dates are normalised to India
# time; the flags (--version, --healthcheck, --config-docs, --error-docs) behave; SIGTERM
# ends the process with status 0.
source "$(dirname "$0")/lib.sh"

KEYS='sms_id,sms_sender,sms_inbox_date,sender_name,sender_type,sms_type,sms_sub_type,sms_kind,is_classified,is_extracted,is_transactional,transaction,transaction_type,account_last_digits,transaction_party,party_kind,unique_pan,available_balance,reference_no,channel,transaction_date,credit_limit,available_limit,due_amount,min_due,due_date,overdue_amount,days_past_due,currency,template_id'

v=$("$BUILD/sms-extraction" --version 2>&1) && ok "--version exits 0 ($v)" || fail "--version failed: $v"
d=$("$BUILD/sms-extraction" --config-docs 2>&1)
assert_contains "--config-docs lists HTTP_PORT" "$d" "HTTP_PORT"
assert_contains "--config-docs lists MAX_SMS_COUNT" "$d" "MAX_SMS_COUNT"
d=$("$BUILD/sms-extraction" --error-docs 2>&1)
assert_contains "--error-docs lists body_too_large" "$d" "body_too_large"

start_smsx || {
    fail "daemon did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
ok "daemon started and /health answers"
http_get "$D_URL/health"
assert_eq "GET /health is 200" 200 "$H_STATUS"
http_get "$D_URL/ready"
assert_eq "GET /ready is 200 with the default rules" 200 "$H_STATUS"
HTTP_PORT=$D_PORT "$BUILD/sms-extraction" --healthcheck >/dev/null 2>&1
assert_eq "--healthcheck exits 0 while the daemon serves" 0 "$?"

mark=$(privacy_marker happy)
make_batch "$T_TMP/batch.json" 20 "$mark" 100
post_json /api/extract "$T_TMP/batch.json"
assert_eq "POST 20 messages is 200" 200 "$H_STATUS"
assert_contains "reply is JSON" "$(header content-type)" "application/json"
assert_eq "one record per message" 20 "$(jqr '.extracted_sms_data | length')"
assert_eq "records in input order" "$(jq -r '[.sms[].sms_id] | join(",")' "$T_TMP/batch.json")" \
    "$(jqr '[.extracted_sms_data[].sms_id] | join(",")')"
assert_eq "every record has exactly the contract keys, in order" "20" \
    "$(jqr "[.extracted_sms_data[] | select((keys_unsorted | join(\",\")) == \"$KEYS\")] | length")"
assert_eq "text date stays India time" "2026-11-01 10:00:00" \
    "$(jqr '.extracted_sms_data[0].sms_inbox_date')"
# 1795000060000 ms = 2026-11-18 11:07:40 UTC = 16:37:40 India time (UTC+05:30).
assert_eq "epoch-ms date converted to India time" "2026-11-18 16:37:40" \
    "$(jqr '.extracted_sms_data[1].sms_inbox_date')"
assert_eq "sender normalised (operator prefix removed, lower case)" "hdfcbk" \
    "$(jqr '.extracted_sms_data[0].sms_sender')"
assert_eq "boolean flags are JSON booleans" "true" \
    "$(jqr '[.extracted_sms_data[] | (.is_classified|type), (.is_extracted|type), (.is_transactional|type)] | all(. == "boolean")')"
assert_eq "transaction_type only debit/credit/null" "true" \
    "$(jqr '[.extracted_sms_data[].transaction_type] | all(. == null or . == "debit-transaction" or . == "credit-transaction")')"
assert_not_contains "reply carries no sms_body field" "$(jqr '[.extracted_sms_data[] | has("sms_body")] | any')" "true"

# The demo batch: the UPI debit must come out as a debit of 1250 from account 4821.
cp "$REPO_ROOT/tests/data/demo/batch.json" "$T_TMP/demo.json"
post_json /api/extract "$T_TMP/demo.json"
assert_eq "demo batch is 200" 200 "$H_STATUS"
assert_eq "demo debit direction" "debit-transaction" "$(jqr '.extracted_sms_data[0].transaction_type')"
assert_eq "demo debit amount" "1250" "$(jqr '.extracted_sms_data[0].transaction | floor')"
assert_eq "demo debit account" "4821" "$(jqr '.extracted_sms_data[0].account_last_digits')"
assert_eq "demo OTP is not transactional" "false" "$(jqr '.extracted_sms_data[3].is_transactional')"
assert_eq "demo promo is not transactional" "false" "$(jqr '.extracted_sms_data[4].is_transactional')"

# An empty list is valid and gives an empty list.
printf '{"client_id":"c","user_id":"u","sms":[]}' >"$T_TMP/empty.json"
post_json /api/extract "$T_TMP/empty.json"
assert_eq "empty sms list is 200" 200 "$H_STATUS"
assert_eq "empty sms list gives no records" 0 "$(jqr '.extracted_sms_data | length')"

port=$D_PORT
stop_daemon
assert_eq "SIGTERM: exit status 0" 0 "$D_EXIT"
HTTP_PORT=$port "$BUILD/sms-extraction" --healthcheck >/dev/null 2>&1
assert_eq "--healthcheck exits 1 when nothing serves" 1 "$?"
finish
