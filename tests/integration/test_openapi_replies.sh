#!/usr/bin/env bash
# docs/openapi.yaml is a promise to client developers, so real replies of both daemons are
# checked against it: sms-extraction 200/422/404/405/415/413 and its probes, insights-api
# generate_features 200 for a generated borrower, 401, 403 (unknown path and IP allow
# list), 422 and 429 (skipped while the daemon cannot see peer addresses), each with its documented Content-Type and JSON schema (ajv via
# tests/deploy/openapi-reply.mjs). A reply broken on purpose must be rejected, so the check
# can fail. Needs node and the pinned npm packages (scripts/check-deploy.sh --deps-only).
# shellcheck source=ins_lib.sh
source "$(dirname "$0")/ins_lib.sh"

SPEC=$REPO_ROOT/docs/openapi.yaml
CHECKER=$REPO_ROOT/.deps/deploy/bin/openapi-reply.mjs
TOKEN=tok-openapi-1
privacy_secret "$TOKEN"

if ! "$REPO_ROOT/scripts/check-deploy.sh" --deps-only >/dev/null 2>&1 || [ ! -f "$CHECKER" ]; then
    fail "npm packages for the OpenAPI check could not be installed (scripts/check-deploy.sh --deps-only)"
    finish
fi

# conforms NAME METHOD PATH: the last reply (H_STATUS, H_BODY, Content-Type) matches the spec.
conforms() {
    local out
    printf '%s' "$H_BODY" >"$T_TMP/body"
    if out=$(node "$CHECKER" "$SPEC" "$2" "$3" "$H_STATUS" "$(header content-type)" "$T_TMP/body" 2>&1); then
        ok "$1 ($H_STATUS matches the OpenAPI file)"
    else
        fail "$1: $out"
    fi
}

# ---- sms-extraction --------------------------------------------------------------------------
start_smsx_bg || {
    fail "sms-extraction did not start"
    finish
}
make_batch "$T_TMP/batch.json" 40 "$(privacy_marker oa)"
post_json /api/extract "$T_TMP/batch.json"
assert_eq "extract answers 200" 200 "$H_STATUS"
conforms "extract 200" POST /api/extract
good_extract=$H_BODY

# negative control: a record missing a key must be refused by the checker
H_BODY=$(printf '%s' "$good_extract" | jq -c 'del(.extracted_sms_data[0].channel)')
printf '%s' "$H_BODY" >"$T_TMP/body"
if node "$CHECKER" "$SPEC" POST /api/extract 200 application/json "$T_TMP/body" >/dev/null 2>&1; then
    fail "the checker accepted a record without 'channel'"
else
    ok "the checker rejects a record without 'channel'"
fi

jq -c 'del(.user_id)' "$T_TMP/batch.json" >"$T_TMP/no-user.json"
post_json /api/extract "$T_TMP/no-user.json"
assert_eq "extract without user_id answers 422" 422 "$H_STATUS"
conforms "extract 422" POST /api/extract
assert_not_contains "422 echo has no SMS text" "$H_BODY" "$(tail -n1 "$LOG_DIR/privacy-markers.txt")"

printf '{' >"$T_TMP/broken.json"
post_json /api/extract "$T_TMP/broken.json"
conforms "extract broken JSON" POST /api/extract

http POST "$D_URL/api/extract" "" -H 'Content-Type: text/plain' --data-binary 'x'
assert_eq "extract text/plain answers 415" 415 "$H_STATUS"
conforms "extract 415" POST /api/extract

# 404 and 405 are documented on /api/extract, the only sms-extraction operation.
http_get "$D_URL/api/extract"
assert_eq "GET /api/extract answers 405" 405 "$H_STATUS"
conforms "extract 405" POST /api/extract
http_get "$D_URL/no-such-path"
assert_eq "unknown path answers 404" 404 "$H_STATUS"
conforms "sms-extraction 404" POST /api/extract

for p in /health /ready; do
    http_get "$D_URL$p"
    conforms "sms-extraction $p" GET "$p"
done
SMALL_PID=
if start_smsx MAX_BODY_BYTES=1024 || start_smsx MAX_BODY_BYTES=1024; then
    SMALL_PID=$D_PID
    post_json /api/extract "$T_TMP/batch.json"
    assert_eq "body over MAX_BODY_BYTES answers 413" 413 "$H_STATUS"
    conforms "extract 413" POST /api/extract
    stop_daemon "$SMALL_PID"
else
    fail "sms-extraction with MAX_BODY_BYTES=1024 did not start"
fi

# ---- insights-api ----------------------------------------------------------------------------
# start_ins VAR=value...: start_insights, once more if the first try lost its random port to
# another process (free_port can race with other test runs on the machine).
start_ins() { start_insights "$@" || start_insights "$@"; }
INS_CLIENT=demo_client
start_ins DEMO_CLIENTS="$INS_CLIENT:$TOKEN" || {
    fail "insights-api did not start"
    finish
}
gen_users "$T_TMP/users" 1 5
ufile=$(user_files "$T_TMP/users" | head -n1)
inline_body "$ufile" "$T_TMP/gf.json" '["sms","fraud","extracted_sms"]'
api /api/generate_features "$T_TMP/gf.json" "$INS_CLIENT" "$TOKEN"
assert_eq "generate_features answers 200" 200 "$H_STATUS"
conforms "generate_features 200" POST /api/generate_features
assert_eq "features computed" "featurization completed" "$(jqr .message)"

api /api/generate_features "$T_TMP/gf.json" "$INS_CLIENT" wrong-token
assert_eq "wrong token answers 401" 401 "$H_STATUS"
conforms "generate_features 401" POST /api/generate_features

echo '{"client_id": "'$INS_CLIENT'"}' >"$T_TMP/no-user-ins.json"
api /api/generate_features "$T_TMP/no-user-ins.json" "$INS_CLIENT" "$TOKEN"
assert_eq "generate_features without user_id answers 422" 422 "$H_STATUS"
conforms "generate_features 422" POST /api/generate_features

http_get "$INS_URL/no-such-path"
assert_eq "insights-api unknown path answers 403" 403 "$H_STATUS"
conforms "insights-api 403 page" POST /api/insights

for p in /health /ready; do
    http_get "$INS_URL$p"
    conforms "insights-api $p" GET "$p"
done
stop_daemon "$INS_PID"

# 429 needs the daemon to see the peer address; where it cannot yet (common/http_server.h
# without a peer accessor), an allow list of 127.0.0.0/8 refuses us too and 429 is skipped.
peer_known=
if start_ins DEMO_CLIENTS="$INS_CLIENT:$TOKEN" IP_ALLOW_LIST=127.0.0.0/8; then
    api /api/generate_features "$T_TMP/no-user-ins.json" "$INS_CLIENT" "$TOKEN"
    [ "$H_STATUS" = 422 ] && peer_known=1
    stop_daemon "$INS_PID"
fi
if [ -z "$peer_known" ]; then
    skip "429: insights-api cannot see the peer address yet, so the per-IP limit never triggers"
elif start_ins DEMO_CLIENTS="$INS_CLIENT:$TOKEN" RATE_LIMIT_PER_MINUTE=2; then
    for _ in 1 2 3; do api /api/generate_features "$T_TMP/no-user-ins.json" "$INS_CLIENT" "$TOKEN"; done
    assert_eq "third call with RATE_LIMIT_PER_MINUTE=2 answers 429" 429 "$H_STATUS"
    conforms "generate_features 429" POST /api/generate_features
    stop_daemon "$INS_PID"
else
    fail "insights-api with RATE_LIMIT_PER_MINUTE=2 did not start"
fi
if start_ins DEMO_CLIENTS="$INS_CLIENT:$TOKEN" IP_ALLOW_LIST=192.0.2.0/24; then
    api /api/generate_features "$T_TMP/gf.json" "$INS_CLIENT" "$TOKEN"
    assert_eq "address outside IP_ALLOW_LIST answers 403" 403 "$H_STATUS"
    conforms "generate_features 403" POST /api/generate_features
    stop_daemon "$INS_PID"
else
    fail "insights-api with IP_ALLOW_LIST did not start"
fi
stop_daemon "$SMSX_PID"
finish
