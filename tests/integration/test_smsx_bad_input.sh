#!/usr/bin/env bash
# sms-extraction bad input matrix: each bad request gets its status and a clear error
# (pydantic-v2 detail for validation, {"detail","code"} otherwise), never echoes an SMS body,
# and the daemon still serves a good request afterwards.
source "$(dirname "$0")/lib.sh"

start_smsx MAX_SMS_COUNT=5 MAX_BODY_BYTES=4096 || {
    fail "daemon did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
mark=$(privacy_marker bad)
make_batch "$T_TMP/good.json" 3 "$mark"

still_serves() {
    local what=$1 s b
    http_get "$D_URL/health"
    s=$H_STATUS
    post_json /api/extract "$T_TMP/good.json"
    b=$(jqr '.extracted_sms_data | length')
    if [ "$s" = 200 ] && [ "$H_STATUS" = 200 ] && [ "$b" = 3 ]; then
        ok "$what: daemon still serves (health 200, good batch 200 with 3 records)"
    else
        fail "$what: daemon after it: health $s, good batch $H_STATUS ($b records)"
    fi
}

# send NAME FILE STATUS: posts FILE, checks the status and that no marker is echoed.
send() {
    post_json /api/extract "$2"
    assert_eq "$1: status $3" "$3" "$H_STATUS"
    assert_not_contains "$1: reply does not echo the SMS body" "$H_BODY" "$mark"
}

# 1. Not JSON at all.
printf '{"client_id": "c", "user_id": ' >"$T_TMP/bad1"
send "truncated JSON" "$T_TMP/bad1" 422
assert_eq "truncated JSON: type json_invalid" json_invalid "$(jqr '.detail[0].type')"
assert_eq "truncated JSON: loc starts with body" body "$(jqr '.detail[0].loc[0]')"
still_serves "truncated JSON"

printf 'this is not json %s' "$mark" >"$T_TMP/bad1b"
send "plain text body" "$T_TMP/bad1b" 422
assert_eq "plain text body: type json_invalid" json_invalid "$(jqr '.detail[0].type')"

# 2. Empty body.
: >"$T_TMP/bad2"
send "empty body" "$T_TMP/bad2" 422
assert_eq "empty body: a pydantic detail list" array "$(jqr '.detail | type')"
still_serves "empty body"

# 3. Wrong types.
jq -c --arg m "$mark" '.sms = "not a list"' "$T_TMP/good.json" >"$T_TMP/bad3"
send "sms is a string" "$T_TMP/bad3" 422
assert_eq "sms is a string: type list_type" list_type "$(jqr '.detail[0].type')"
assert_eq "sms is a string: loc" '["body","sms"]' "$(jqr '.detail[0].loc | tostring')"

jq -c '.user_id = 42' "$T_TMP/good.json" >"$T_TMP/bad3b"
send "user_id is a number" "$T_TMP/bad3b" 422
assert_eq "user_id is a number: type string_type" string_type "$(jqr '.detail[0].type')"
assert_eq "user_id is a number: loc" '["body","user_id"]' "$(jqr '.detail[0].loc | tostring')"

jq -c '.sms[1].sms_body = 42' "$T_TMP/good.json" >"$T_TMP/bad3c"
send "sms_body is a number" "$T_TMP/bad3c" 422
assert_eq "sms_body is a number: loc" '["body","sms",1,"sms_body"]' "$(jqr '.detail[0].loc | tostring')"

jq -c '.sms[0] = "just a string"' "$T_TMP/good.json" >"$T_TMP/bad3d"
send "sms item not an object" "$T_TMP/bad3d" 422
assert_eq "sms item not an object: type model_type" model_type "$(jqr '.detail[0].type')"

printf '[1, 2, 3]' >"$T_TMP/bad3e"
send "top level is an array" "$T_TMP/bad3e" 422
still_serves "wrong types"

# 4. Missing fields.
jq -c 'del(.user_id)' "$T_TMP/good.json" >"$T_TMP/bad4"
send "user_id missing" "$T_TMP/bad4" 422
assert_eq "user_id missing: type missing" missing "$(jqr '.detail[0].type')"
assert_eq "user_id missing: loc" '["body","user_id"]' "$(jqr '.detail[0].loc | tostring')"
assert_eq "user_id missing: msg" "Field required" "$(jqr '.detail[0].msg')"
assert_eq "user_id missing: echoed input has bodies redacted" "[redacted]" \
    "$(jqr '.detail[0].input.sms[0].sms_body')"

jq -c 'del(.sms[2].sms_body)' "$T_TMP/good.json" >"$T_TMP/bad4b"
send "sms_body missing" "$T_TMP/bad4b" 422
assert_eq "sms_body missing: loc" '["body","sms",2,"sms_body"]' "$(jqr '.detail[0].loc | tostring')"

jq -c 'del(.client_id) | del(.sms[0].sms_id)' "$T_TMP/good.json" >"$T_TMP/bad4c"
send "two fields missing" "$T_TMP/bad4c" 422
assert_eq "two fields missing: both reported" 2 "$(jqr '[.detail[] | select(.type == "missing")] | length')"
still_serves "missing fields"

# 5. Too many messages (MAX_SMS_COUNT=5).
make_batch "$T_TMP/bad5" 6 "$mark"
send "6 messages with MAX_SMS_COUNT=5" "$T_TMP/bad5" 422
assert_eq "too many messages: type too_long" too_long "$(jqr '.detail[0].type')"
assert_eq "too many messages: loc" '["body","sms"]' "$(jqr '.detail[0].loc | tostring')"
make_batch "$T_TMP/ok5" 5 "$mark"
post_json /api/extract "$T_TMP/ok5"
assert_eq "exactly MAX_SMS_COUNT messages is 200" 200 "$H_STATUS"
still_serves "too many messages"

# 6. Oversize body (MAX_BODY_BYTES=4096).
python3 - "$T_TMP/bad6" "$mark" <<'PY'
import json, sys
body = "x" * 6000 + " " + sys.argv[2]
json.dump({"client_id": "c", "user_id": "u", "sms": [{"sms_id": "1", "sms_sender": "VM-HDFCBK",
           "sms_body": body, "sms_inbox_date": "2026-11-01 10:00:00"}]}, open(sys.argv[1], "w"))
PY
send "body over MAX_BODY_BYTES" "$T_TMP/bad6" 413
assert_eq "oversize: code body_too_large" body_too_large "$(jqr '.code')"
assert_eq "oversize: detail is a message" string "$(jqr '.detail | type')"
still_serves "oversize body"

# 7. Invalid UTF-8 inside a string.
printf '{"client_id":"c","user_id":"u","sms":[{"sms_id":"1","sms_sender":"VM-HDFCBK","sms_body":"Rs 10 debited \xff\xfe %s","sms_inbox_date":"2026-11-01 10:00:00"}]}' "$mark" >"$T_TMP/bad7"
send "invalid UTF-8" "$T_TMP/bad7" 422
assert_eq "invalid UTF-8: type json_invalid" json_invalid "$(jqr '.detail[0].type')"
still_serves "invalid UTF-8"

# 8. Bad dates.
jq -c '.sms[0].sms_inbox_date = "2026-13-45 99:00:00"' "$T_TMP/good.json" >"$T_TMP/bad8"
send "impossible date" "$T_TMP/bad8" 422
assert_eq "impossible date: loc" '["body","sms",0,"sms_inbox_date"]' "$(jqr '.detail[0].loc | tostring')"

# 9. Unknown path and wrong method.
http GET "$D_URL/api/nope"
assert_eq "unknown path: 404" 404 "$H_STATUS"
assert_eq "unknown path: code not_found" not_found "$(jqr '.code')"
http GET "$D_URL/api/extract"
assert_eq "GET /api/extract: 405" 405 "$H_STATUS"
assert_eq "GET /api/extract: code method_not_allowed" method_not_allowed "$(jqr '.code')"
http POST "$D_URL/health" "$T_TMP/good.json"
assert_eq "POST /health: 405" 405 "$H_STATUS"
http GET "$D_ADMIN_URL/api/extract"
assert_eq "extract is not served on the admin port" 404 "$H_STATUS"
still_serves "unknown path and wrong method"

# 10. The counters saw them.
m=$(metrics)
assert_contains "metrics count 422 replies" "$m" '422'
assert_contains "metrics count 413 replies" "$m" '413'

stop_daemon
assert_eq "SIGTERM after bad inputs: exit status 0" 0 "$D_EXIT"
finish
