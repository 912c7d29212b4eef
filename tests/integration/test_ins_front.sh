#!/usr/bin/env bash
# insights-api without any database (the embedded default of `make run`): the flags, the
# start-up refusals of prod, the documented 403 page for unknown paths, 422 pydantic details
# that never echo an SMS body, the 401 body for every credential failure (missing, wrong,
# header/body mismatch), /api/generate_features end to end with sms-extraction (and with it
# down: a partial reply naming the failed groups, or 502 when strict), 502 for what needs a
# database or MongoDB, then the per-IP rate limit (429 + Retry-After), the IP allow-list
# (403 page) and X-Forwarded-For believed only from a trusted proxy.
source "$(dirname "$0")/ins_lib.sh"

BIN=$BUILD/insights-api
FORBIDDEN='<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center></body></html>'

# ---- flags -----------------------------------------------------------------------------
out=$("$BIN" --version)
assert_contains "--version names the daemon" "$out" "insights-api"
docs=$("$BIN" --config-docs)
for v in CLIENT_ID LAUNCH_ENVIRONMENT LICENSE_KEY SUBSCRIPTION_ID DI_POSTGRES_SYNC_DATABASE \
    SMS_EXTRACTOR_BATCH_SIZE DI_MONGODB_WAIT_QUEUE_TIMEOUT_MS DI_MONGODB_URI COMPANY_MODEL_PATH \
    PREDICTORS_EMI_LGB_MODEL_V2_PATH AUTH_CACHE_TTL_SECONDS TRUSTED_PROXY_CIDRS EXTRACTION_STRICT; do
    case "$docs" in *"$v"*) ;; *) fail "--config-docs lacks $v" ;; esac
done
ok "--config-docs lists the guide's variables and ours"
assert_contains "--error-docs prints the error table" "$("$BIN" --error-docs)" "rate_limited"
"$BIN" --features-docs >"$T_TMP/features.md" 2>&1
assert_true "--features-docs prints the catalogue" grep -q 'estimated_salary' "$T_TMP/features.md"
"$BIN" --no-such-flag >/dev/null 2>&1
assert_eq "an unknown flag is a usage error (2)" 2 "$?"
"$BIN" client frobnicate >/dev/null 2>&1
assert_eq "an unknown client verb is a usage error (2)" 2 "$?"

# ---- prod refusals ---------------------------------------------------------------------
expect_refusal prod-nodb "$BIN" LAUNCH_ENVIRONMENT=prod
assert_true "prod without a database refuses to start" test "$R_EXIT" -ne 0
assert_contains "... and says why" "$R_OUT" "DI_POSTGRES_HOST"
expect_refusal prod-unsealed "$BIN" LAUNCH_ENVIRONMENT=prod DI_POSTGRES_HOST=127.0.0.1 \
    DI_POSTGRES_PORT=9 TOKEN_PEPPER="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    USER_KEY_SECRET="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
assert_true "prod with the unsealed default artifacts refuses to start" test "$R_EXIT" -ne 0
assert_contains "... and says why" "$R_OUT" "unsealed artifact refused in prod"
expect_refusal prod-placeholder "$BIN" LAUNCH_ENVIRONMENT=prod DI_POSTGRES_HOST=127.0.0.1 \
    DI_POSTGRES_PORT=9 TOKEN_PEPPER=change-me
assert_true "prod with the placeholder pepper refuses to start" test "$R_EXIT" -ne 0
assert_contains "... naming TOKEN_PEPPER" "$R_OUT" "TOKEN_PEPPER: placeholder value refused"

# ---- the daemon with sms-extraction ----------------------------------------------------
start_smsx_bg || {
    fail "sms-extraction did not start: $(tail -n 5 "$D_LOG")"
    finish
}
start_insights COMPANY_MODEL_PATH=s3://bucket/india_models_company_model.pkl.enc \
    LICENSE_KEY=LKEY-9f8e7d6c5b4a SUBSCRIPTION_ID=sub-42 CLIENT_ID=$INS_CLIENT \
    DEMO_CLIENTS="$INS_CLIENT:tok-front-1" || {
    fail "insights-api did not start (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
    finish
}
privacy_secret tok-front-1
privacy_secret LKEY-9f8e7d6c5b4a
assert_true "an unused guide variable is warned about at start-up" \
    grep -q '"variables":"COMPANY_MODEL_PATH"' "$D_LOG"
m=$(metrics)
assert_contains "the licence is shown masked in /metrics" "$m" 'license_key="LKEY****"'
assert_not_contains "... never in clear" "$m" "9f8e7d6c5b4a"
assert_contains "the subscription id is in /metrics" "$m" 'subscription_id="sub-42"'

http GET "$INS_URL/api/insight"
assert_eq "unknown path: 403" 403 "$H_STATUS"
assert_eq "unknown path: the documented HTML page" "$FORBIDDEN" "$H_BODY"
assert_contains "unknown path: text/html" "$(header Content-Type)" "text/html"
http GET "$INS_URL/health"
assert_eq "/health answers" 200 "$H_STATUS"
HTTP_PORT=$D_PORT "$BIN" --healthcheck
assert_eq "--healthcheck exits 0 while the daemon runs" 0 "$?"

# ---- validation ------------------------------------------------------------------------
mark=$(privacy_marker front)
echo '{"client_id": "'$INS_CLIENT'", "groupings": ["sms"]}' >"$T_TMP/missing.json"
api /api/insights "$T_TMP/missing.json" "$INS_CLIENT" tok-front-1
assert_eq "missing user_id: 422" 422 "$H_STATUS"
assert_eq "missing user_id: pydantic detail" '"missing" ["body","user_id"] "Field required"' \
    "$(jqr '.detail[0] | "\(.type|tojson) \(.loc|tojson) \(.msg|tojson)"')"
echo '{"user_id": "u1", "client_id": "'$INS_CLIENT'", "groupings": ["sms", "horoscope"]}' >"$T_TMP/bad-group.json"
api /api/insights "$T_TMP/bad-group.json" "$INS_CLIENT" tok-front-1
assert_eq "unknown grouping: 422 at its index" '["body","groupings",1]' "$(jqr '.detail[0].loc | tojson')"
printf '{"user_id": "u1", ' >"$T_TMP/broken.json"
api /api/generate_features "$T_TMP/broken.json" "$INS_CLIENT" tok-front-1
assert_eq "broken JSON: 422 json_invalid" "422 json_invalid" "$H_STATUS $(jqr '.detail[0].type')"
jq -cn --arg m "$mark" '{user_id: "u1", client_id: "'$INS_CLIENT'", note: ("x " + $m),
    sms_data: [{sms_id: "1", sms_sender: "VM-HDFCBK", sms_body: ("debited " + $m), sms_inbox_date: "not a date"}]}' \
    >"$T_TMP/bad-sms.json"
api /api/generate_features "$T_TMP/bad-sms.json" "$INS_CLIENT" tok-front-1
assert_eq "bad sms_inbox_date: 422" 422 "$H_STATUS"
assert_not_contains "422 details never echo an SMS body or unknown field" "$H_BODY" "$mark"
jq -cn --arg m "$mark" '{client_id: "'$INS_CLIENT'", groupings: ["sms"], extra: $m}' >"$T_TMP/echo.json"
api /api/insights "$T_TMP/echo.json" "$INS_CLIENT" tok-front-1
assert_not_contains "the echoed input redacts unknown fields" "$H_BODY" "$mark"

# ---- credentials -----------------------------------------------------------------------
user=$(privacy_marker u)
jq -cn --arg u "$user" '{user_id: $u, client_id: "'$INS_CLIENT'", sms_data: [], apps_data: [], device_data: null}' \
    >"$T_TMP/empty-user.json"
check_401() { # NAME: the last reply is the documented 401
    local rid
    rid=$(header X-Request-Id)
    assert_eq "$1: 401" 401 "$H_STATUS"
    assert_eq "$1: the documented body" \
        "Could not validate credentials. (request_id=$rid). It has been logged successfully on our servers. Please contact us with the request_id for assistance." \
        "$(jqr .error)"
}
http POST "$INS_URL/api/generate_features" "$T_TMP/empty-user.json"
check_401 "no credential headers"
api /api/generate_features "$T_TMP/empty-user.json" "$INS_CLIENT" wrong-token
check_401 "wrong token"
api /api/generate_features "$T_TMP/empty-user.json" someone_else tok-front-1
check_401 "token of another client"
jq -c '.client_id = "someone_else"' "$T_TMP/empty-user.json" >"$T_TMP/mismatch.json"
api /api/generate_features "$T_TMP/mismatch.json" "$INS_CLIENT" tok-front-1
check_401 "header client differs from the body's client_id"
api /api/generate_features "$T_TMP/empty-user.json" "$INS_CLIENT" tok-front-1
assert_eq "right credentials, empty user: 200" 200 "$H_STATUS"
assert_eq "... featurization completed" "featurization completed" "$(jqr .message)"
assert_eq "... the user echoed" "$user" "$(jqr .user_id)"
assert_eq "... null reason for SMS present" true "$(jqr 'has("sms_data_null_reason")')"

# ---- generate_features on a synthetic user ---------------------------------------------
gen_users "$T_TMP/users" 1 4242
uf=$(user_files "$T_TMP/users" | head -n 1)
truth=${uf%.json}.truth.json
inline_body "$uf" "$T_TMP/inline.json"
api /api/generate_features "$T_TMP/inline.json" "$INS_CLIENT" tok-front-1
assert_eq "generate_features on a generated user: 200" 200 "$H_STATUS"
reply=$H_BODY
nfeat=$(jqr 'keys | length')
assert_true "one flat object with hundreds of features ($nfeat keys)" test "${nfeat:-0}" -ge 500
assert_eq "all_sms_count_nlp counts every message but the client's own" "$(jq .sms_counted "$truth")" "$(jqr .all_sms_count_nlp)"
assert_eq "no failed groups" null "$(jqr .failed_groups)"
assert_eq "request_id is the X-Request-Id" "$(header X-Request-Id)" "$(jqr .request_id)"
assert_true "data_requested_time is YYYY-MM-DD HH:MM:SS" \
    bash -c '[[ "$1" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}$ ]]' _ "$(jqr .data_requested_time)"
inline_body "$uf" "$T_TMP/inline-sms.json" '["sms"]'
api /api/generate_features "$T_TMP/inline-sms.json" "$INS_CLIENT" tok-front-1
assert_eq "groupings [sms]: extracted_sms features are null" null "$(jqr .estimated_salary)"
assert_eq "groupings [sms]: sms counts present" "$(jq .sms_counted "$truth")" "$(jqr .all_sms_count_nlp)"

# ---- what needs a database or MongoDB --------------------------------------------------
insights_body "$T_TMP/ins.json" "$user"
api /api/async_insights "$T_TMP/ins.json" "$INS_CLIENT" tok-front-1
assert_eq "async without a database: 502" 502 "$H_STATUS"
assert_true "... with Retry-After" test -n "$(header Retry-After)"
api /api/insights "$T_TMP/ins.json" "$INS_CLIENT" tok-front-1
assert_eq "sync insights without MongoDB: 502" 502 "$H_STATUS"
stop_daemon "$INS_PID"
assert_eq "insights-api stops cleanly on SIGTERM" 0 "$D_EXIT"
HTTP_PORT=$D_PORT "$BIN" --healthcheck
assert_eq "--healthcheck exits 1 once it is gone" 1 "$?"

# ---- extraction down -------------------------------------------------------------------
dead=$(free_port)
SMSX_URL=http://127.0.0.1:$dead start_insights DEMO_CLIENTS="$INS_CLIENT:tok-front-1" \
    SMS_EXTRACTOR_RETRIES=0 || fail "insights-api did not start with extraction down"
api /api/generate_features "$T_TMP/inline.json" "$INS_CLIENT" tok-front-1
assert_eq "extraction down: still 200" 200 "$H_STATUS"
assert_eq "... failed_groups names the SMS groups" '["sms","extracted_sms"]' "$(jqr '.failed_groups | tojson')"
assert_eq "... SMS features are null, not 0" null "$(jqr .all_sms_count_nlp)"
assert_eq "... the other groups are computed (apps, the client's own left out)" "$(jq .apps_counted "$truth")" "$(jqr .apps_count_total)"
stop_daemon "$INS_PID"
SMSX_URL=http://127.0.0.1:$dead start_insights DEMO_CLIENTS="$INS_CLIENT:tok-front-1" \
    SMS_EXTRACTOR_RETRIES=0 EXTRACTION_STRICT=true || fail "insights-api did not start (strict)"
api /api/generate_features "$T_TMP/inline.json" "$INS_CLIENT" tok-front-1
assert_eq "extraction down, EXTRACTION_STRICT: 502" 502 "$H_STATUS"
stop_daemon "$INS_PID"

# ---- addresses: rate limit, allow-list, trusted proxies --------------------------------
# Can the daemon see the TCP peer? (common/http_server.h needs http_request_peer for that.)
start_insights DEMO_CLIENTS="$INS_CLIENT:tok-front-1" IP_ALLOW_LIST=127.0.0.0/8 || fail "no start"
api /api/generate_features "$T_TMP/empty-user.json" "$INS_CLIENT" tok-front-1
peer_known=$([ "$H_STATUS" = 200 ] && echo 1)
stop_daemon "$INS_PID"
if [ -z "$peer_known" ]; then
    skip "rate limit and allow-list of a known peer: the daemon cannot see the peer address (common/http_server.h has no http_request_peer yet)"
else
    ok "a client inside IP_ALLOW_LIST is served"
    start_insights DEMO_CLIENTS="$INS_CLIENT:tok-front-1" RATE_LIMIT_PER_MINUTE=5 || fail "no start"
    codes=""
    for i in 1 2 3 4 5 6 7; do
        api /api/generate_features "$T_TMP/empty-user.json" "$INS_CLIENT" tok-front-1
        codes="$codes $H_STATUS"
    done
    assert_eq "6th and 7th request in a minute: 429" " 200 200 200 200 200 429 429" "$codes"
    ra=$(header Retry-After)
    assert_true "429 carries Retry-After (1..60 s, got '$ra')" test "${ra:-0}" -ge 1 -a "${ra:-0}" -le 60
    assert_eq "429 body" rate_limited "$(jqr .code)"
    http GET "$INS_URL/health"
    assert_eq "/health is not rate limited" 200 "$H_STATUS"
    stop_daemon "$INS_PID"
    start_insights DEMO_CLIENTS="$INS_CLIENT:tok-front-1" IP_ALLOW_LIST=192.0.2.0/24 \
        TRUSTED_PROXY_CIDRS=127.0.0.0/8 || fail "no start"
    api /api/generate_features "$T_TMP/empty-user.json" "$INS_CLIENT" tok-front-1 "$INS_URL" \
        -H "X-Forwarded-For: 192.0.2.77"
    assert_eq "allowed client behind a trusted proxy (X-Forwarded-For): 200" 200 "$H_STATUS"
    stop_daemon "$INS_PID"
fi
start_insights DEMO_CLIENTS="$INS_CLIENT:tok-front-1" IP_ALLOW_LIST=192.0.2.0/24 || fail "no start"
api /api/generate_features "$T_TMP/empty-user.json" "$INS_CLIENT" tok-front-1
assert_eq "not in IP_ALLOW_LIST: 403" 403 "$H_STATUS"
assert_eq "... the documented page" "$FORBIDDEN" "$H_BODY"
api /api/generate_features "$T_TMP/empty-user.json" "$INS_CLIENT" tok-front-1 "$INS_URL" \
    -H "X-Forwarded-For: 192.0.2.77"
assert_eq "X-Forwarded-For from an untrusted peer is ignored: 403" 403 "$H_STATUS"
stop_daemon "$INS_PID"
stop_daemon "$SMSX_PID"
finish
