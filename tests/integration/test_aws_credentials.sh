#!/usr/bin/env bash
# The AWS credential chain against real servers (issue 17). The test runs in a network
# namespace of its own (unshare -n) whose loopback also carries the link-local addresses AWS
# uses, 169.254.170.2 (ECS container credentials) and 169.254.169.254 (EC2 instance metadata),
# so the default endpoints are exercised as they are in a cluster; no packet leaves the
# namespace. In it: the S3 peer (tests/peers/s3.js) with the local STS / container / IMDS
# stand-in (tests/peers/aws-creds.js) issuing keys that live 4 seconds; the S3 server checks
# each such key's session token (present, signed, the one issued) and its expiry.
# For each source (environment keys with a session token, web identity via STS, container
# credentials by FULL_URI with a token file and by RELATIVE_URI with a token, IMDSv2 at its
# default address and at AWS_EC2_METADATA_SERVICE_ENDPOINT), sms-extraction loads its three
# sealed rules from S3 with those credentials and is ready; for each refreshing source (web
# identity, container by FULL_URI, IMDS at its default address; RELATIVE_URI and the IMDS
# override differ only in the URL) it is then reloaded (SIGHUP) every 0.3 s for 10 s while extraction requests flow: the credentials
# expire twice or more and are refreshed, and not one reload fails. Environment keys cannot be
# refreshed: after their expiry a reload fails with ExpiredToken and the old rules stay. A
# wrong session token is refused. 8 threads sharing one provider GET 640 times across several
# expiries without a failure (the live part of tests/unit/common/test_aws_credentials.c).
if [ -z "${IN_TEST_NETNS:-}" ]; then
    # Re-run this script inside a new network namespace (no skip: a failure here is a failure).
    exec unshare -n env IN_TEST_NETNS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
ip link set lo up && ip addr add 169.254.170.2/32 dev lo && ip addr add 169.254.169.254/32 dev lo || {
    fail "could not set up the test network namespace's loopback"
    finish
}
DIR=$T_TMP/s3
BUCKET=creds-test
CPORT=$(free_port)
SPORT=$(free_port)
while [ "$SPORT" = "$CPORT" ]; do SPORT=$(free_port); done
CREDS=http://127.0.0.1:$CPORT
S3=http://127.0.0.1:$SPORT
ADMIN_KEY=AKIACREDSTEST$RANDOM
ADMIN_SECRET=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
S3_ACCESS_KEY=$ADMIN_KEY S3_SECRET_KEY=$ADMIN_SECRET AWS_CREDS_LIFETIME_S=4 S3_PRIVATE_BUCKETS=$BUCKET \
    AWS_CREDS_LISTEN="127.0.0.1:$CPORT,169.254.170.2:80,169.254.169.254:80" \
    node "$REPO_ROOT/tests/peers/s3.js" "$SPORT" "$DIR" "$BUCKET" >"$T_TMP/s3.log" 2>&1 &
S3_PID=$!
T_PIDS+=("$S3_PID")
for i in $(seq 200); do port_open "$SPORT" && port_open "$CPORT" && break; sleep 0.05; done
port_open "$SPORT" || {
    fail "the S3/credentials peer did not start: $(tail -n 3 "$T_TMP/s3.log")"
    finish
}
stats() { curl -s "$CREDS/_admin/stats"; }

# ---- the rules, sealed, in the bucket ------------------------------------------------------
TOOL=$BUILD/tools/artifact
KEYS=$("$TOOL" keygen creds-test)
printf '%s\n' "$KEYS" >"$T_TMP/keys.txt"
privacy_secret "${KEYS#*:}"
for f in vocabulary classification regex; do
    "$TOOL" seal --key-id creds-test --key-file "$T_TMP/keys.txt" "$REPO_ROOT/sms-extraction/rules/$f.json" \
        "$T_TMP/$f.json.enc" 2>/dev/null
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$ADMIN_KEY:$ADMIN_SECRET" -H "x-amz-content-sha256: $(sha256sum "$T_TMP/$f.json.enc" | cut -d' ' -f1)" \
        -T "$T_TMP/$f.json.enc" "$S3/$BUCKET/rules/v1/$f.json.enc")
    [ "$code" = 200 ] || fail "upload of $f: HTTP $code"
done
RULES=(VOCAB_PATH="s3://$BUCKET/rules/v1/vocabulary.json.enc"
    CLASSIFICATION_PATH="s3://$BUCKET/rules/v1/classification.json.enc"
    REGEX_PATH="s3://$BUCKET/rules/v1/regex.json.enc"
    ARTIFACT_KEYS="$KEYS" LAUNCH_ENVIRONMENT=prod AWS_ENDPOINT_URL_S3="$S3" AWS_REGION=ap-south-1)
make_batch "$T_TMP/batch.json" 10 "$(privacy_marker cr)"

metric() { metrics | awk -v k="$1" 'index($0, k" ") == 1 { print $2; exit }'; }

# under_load NAME SOURCE: SIGHUP every 0.3 s for 10 s (2.5 lifetimes) with extraction requests
# flowing; every reload must succeed and the source must have issued fresh credentials.
under_load() {
    local name=$1 src=$2 issued0 loads0 i fails codes=""
    issued0=$(stats | jq ".issued[\"$src\"]")
    loads0=$(metric smsx_rules_loads_total)
    for i in $(seq 34); do
        kill -HUP "$D_PID"
        codes+=$(curl -s -o /dev/null -w '%{http_code} ' -H 'Content-Type: application/json' \
            --data-binary "@$T_TMP/batch.json" "$D_URL/api/extract")
        sleep 0.3
    done
    sleep 1
    fails=$(metric smsx_rules_reload_failures_total)
    assert_eq "$name: 34 reloads over 10 s of 4-second credentials, none failed" 0 "${fails:-missing}"
    assert_true "$name: ... the rules were really reloaded (loads $loads0 -> $(metric smsx_rules_loads_total))" \
        test "$(metric smsx_rules_loads_total)" -ge $((loads0 + 17))
    assert_true "$name: ... with credentials refreshed at least twice ($issued0 -> $(stats | jq ".issued[\"$src\"]"))" \
        test "$(stats | jq ".issued[\"$src\"]")" -ge $((issued0 + 2))
    assert_eq "$name: ... and every extraction answered 200" "" "$(tr ' ' '\n' <<<"$codes" | grep -v '^200$' | grep . | sort | uniq -c)"
}

# source_case NAME STATS_KEY REFRESHES VAR=value...: sms-extraction with only these credentials.
source_case() {
    local name=$1 src=$2 refresh=$3
    shift 3
    if start_smsx "${RULES[@]}" "$@"; then
        ok "$name: sms-extraction loads its sealed rules from S3 with these credentials"
    else
        fail "$name: sms-extraction did not start: $(grep -o '"error":"[^"]*"' "$D_LOG" | tail -n 1)"
        return 1
    fi
    assert_contains "$name: ... issued by the expected source" "$(stats | jq -c .issued)" "\"$src\":"
    [ "$refresh" = yes ] && under_load "$name" "$src"
    stop_daemon
}

before_ok=$(stats | jq .s3.temporary_ok)

# 1. environment keys + session token
env_creds=$(curl -s -X POST "$CREDS/_admin/issue")
for k in SecretAccessKey SessionToken; do privacy_secret "$(jq -r ".$k" <<<"$env_creds")"; done
ENV_KEYS=(AWS_ACCESS_KEY_ID="$(jq -r .AccessKeyId <<<"$env_creds")"
    AWS_SECRET_ACCESS_KEY="$(jq -r .SecretAccessKey <<<"$env_creds")"
    AWS_SESSION_TOKEN="$(jq -r .SessionToken <<<"$env_creds")")
if start_smsx "${RULES[@]}" "${ENV_KEYS[@]}"; then
    ok "environment keys with a session token: rules loaded from S3"
    sleep 5 # past their 4-second life: they cannot be refreshed
    kill -HUP "$D_PID"
    for i in $(seq 100); do [ "$(metric smsx_rules_reload_failures_total)" = 1 ] && break; sleep 0.1; done
    assert_eq "environment keys: after expiry a reload fails (the S3 server checks expiry)" 1 \
        "$(metric smsx_rules_reload_failures_total)"
    assert_true "... with ExpiredToken named in the log" grep -q 'ExpiredToken' "$D_LOG"
    http POST "$D_URL/api/extract" "$T_TMP/batch.json"
    assert_eq "... and the old rules keep serving" 200 "$H_STATUS"
    stop_daemon
else
    fail "environment keys: sms-extraction did not start: $(grep -o '"error":"[^"]*"' "$D_LOG" | tail -n 1)"
fi
expect_refusal wrong-token "$BUILD/sms-extraction" "${RULES[@]}" "${ENV_KEYS[@]:0:2}" AWS_SESSION_TOKEN=not-the-token
assert_true "a wrong session token is refused at start" test "$R_EXIT" -ne 0
assert_contains "... by the S3 server (InvalidToken)" "$R_OUT" "InvalidToken"

# 2. web identity (IRSA): the projected token file, exchanged at STS
curl -s "$CREDS/_admin/oidc-token" | jq -r .token >"$T_TMP/web-identity-token"
privacy_secret "$(cat "$T_TMP/web-identity-token")"
source_case "web identity (STS)" web-identity yes AWS_ROLE_ARN=arn:aws:iam::111122223333:role/sms-insights-artifacts \
    AWS_WEB_IDENTITY_TOKEN_FILE="$T_TMP/web-identity-token" AWS_ENDPOINT_URL_STS="$CREDS"
printf 'not-a-token-the-issuer-signed\n' >"$T_TMP/bad-token"
expect_refusal bad-web-identity "$BUILD/sms-extraction" "${RULES[@]}" \
    AWS_ROLE_ARN=arn:aws:iam::111122223333:role/x AWS_WEB_IDENTITY_TOKEN_FILE="$T_TMP/bad-token" \
    AWS_ENDPOINT_URL_STS="$CREDS"
assert_contains "web identity: a token STS rejects stops the start, with STS's code" "$R_OUT" "InvalidIdentityToken"

# 3. container credentials: EKS Pod Identity style (FULL_URI + token file), ECS (RELATIVE_URI)
AUTH=container-token-$RANDOM$RANDOM
privacy_secret "$AUTH"
curl -s -X POST "$CREDS/_admin/config?container_token=$AUTH" >/dev/null
printf '%s\n' "$AUTH" >"$T_TMP/container-token"
source_case "container credentials (FULL_URI, token file)" container yes \
    AWS_CONTAINER_CREDENTIALS_FULL_URI="$CREDS/pod-identity" AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T_TMP/container-token"
source_case "container credentials (RELATIVE_URI on 169.254.170.2)" container no \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/task-1 AWS_CONTAINER_AUTHORIZATION_TOKEN="$AUTH"
expect_refusal container-bad-auth "$BUILD/sms-extraction" "${RULES[@]}" \
    AWS_CONTAINER_CREDENTIALS_FULL_URI="$CREDS/pod-identity" AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong
assert_contains "container credentials: a wrong Authorization token stops the start (HTTP 401)" "$R_OUT" "HTTP 401"

# 4. EC2 instance metadata, IMDSv2: at its default address, and at the endpoint override
source_case "IMDSv2 (169.254.169.254)" imds yes AWS_EC2_METADATA_DISABLED=false
source_case "IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT)" imds no AWS_EC2_METADATA_DISABLED=false \
    AWS_EC2_METADATA_SERVICE_ENDPOINT="$CREDS/"
assert_true "IMDSv1 requests were refused, none were needed" test "$(stats | jq .refused.imds)" -eq 0

# 5. no source and no instance metadata: unsigned requests, which a private bucket refuses
expect_refusal unsigned "$BUILD/sms-extraction" "${RULES[@]}" AWS_EC2_METADATA_DISABLED=true
assert_contains "no credentials configured: unsigned GETs, refused by the private bucket" "$R_OUT" "HTTP 403 AccessDenied"

# 6. many threads, one provider, several expiries (the unit test's live part)
AWS_CREDS_TEST_ENDPOINT=$CREDS AWS_CREDS_TEST_S3=$S3 AWS_CREDS_TEST_BUCKET=$BUCKET \
    AWS_CREDS_TEST_KEY=rules/v1/regex.json.enc AWS_CREDS_TEST_FULL_URI="$CREDS/pod-identity" \
    AWS_CREDS_TEST_AUTH="$AUTH" "$BUILD/tests/common/test_aws_credentials" >"$T_TMP/unit.out" 2>&1
assert_eq "8 threads x 80 GETs over 2+ expiries of one provider's credentials: all succeed" 0 "$?"
grep -q 'SKIP' "$T_TMP/unit.out" && fail "the live part of test_aws_credentials skipped"

s=$(stats)
echo "     credentials server: $(jq -c '{issued, s3}' <<<"$s")"
assert_true "the S3 server accepted temporary keys only with their signed session token" \
    test "$(jq .s3.temporary_ok <<<"$s")" -gt "$before_ok"
assert_eq "no request was signed without the session token among its signed headers" 0 "$(jq .s3.unsigned_token <<<"$s")"
assert_eq "credentials were refreshed before they expired: only the environment keys' reload met ExpiredToken" 1 \
    "$(jq .s3.expired <<<"$s")"
assert_eq "only the one unsigned start was refused as anonymous" 1 "$(jq .s3.anonymous_refused <<<"$s")"
kill -TERM "$S3_PID" 2>/dev/null
wait "$S3_PID" 2>/dev/null
finish
