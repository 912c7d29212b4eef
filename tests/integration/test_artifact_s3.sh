#!/usr/bin/env bash
# build/tools/artifact against the real S3 server (@20minutes/s3rver, which verifies SigV4):
# a plain and a sealed artifact uploaded with curl --aws-sigv4 come back byte for byte
# through `artifact fetch s3://...`; a wrong secret fails with HTTP 403 naming the location;
# a missing key fails with HTTP 404; temporary credentials verify with their session token and
# a made-up token is refused;
# keys needing percent-encoding work; the size cap and a tampered object are refused.
# No error line may contain the secret or the artifact content.
source "$(dirname "$0")/lib.sh"

: "${S3_ENDPOINT:?run through scripts/run-integration.sh (needs the S3 peer)}"
TOOL="$BUILD/tools/artifact"
[ -x "$TOOL" ] || {
    fail "no $TOOL (build it first)"
    finish
    exit 1
}
prefix="artifact_it$RANDOM"
marker="ARTIFACT_CONTENT_MARKER_$RANDOM$RANDOM"
s3_put() { # FILE KEY(already URL-encoded)
    curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
        -H "x-amz-content-sha256: $(sha256sum "$1" | cut -d' ' -f1)" \
        -T "$1" "$S3_ENDPOINT/$S3_BUCKET/$2"
}
# fetch LOCATION OUT [VAR=value...]: runs the tool with the peer's credentials; sets F_RC, F_ERR
fetch() {
    local loc=$1 out=$2
    shift 2
    F_RC=0
    F_ERR=$(env AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
        AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL_S3="$S3_ENDPOINT" ARTIFACT_KEYS= \
        AWS_SESSION_TOKEN= "$@" "$TOOL" fetch "$loc" "$out" 2>&1 >/dev/null) || F_RC=$?
}

plain="$T_TMP/regex.json"
printf '{"version":1,"patterns":["%s","debited by"]}\n' "$marker" >"$plain"
keys=$("$TOOL" keygen it-2026)
assert_contains "keygen prints kid:hex64" "$keys" "it-2026:"
"$TOOL" seal --key-id it-2026 --keys "$keys" "$plain" "$T_TMP/regex.json.enc" 2>/dev/null
assert_eq "seal exits 0" 0 "$?"
sum=$(sha256sum "$plain" | cut -d' ' -f1)
v=$("$TOOL" verify --keys "$keys" "$T_TMP/regex.json.enc" 2>&1)
assert_contains "verify names the key id" "$v" "key_id=it-2026"
assert_contains "verify prints the content sha256" "$v" "sha256=$sum"
assert_not_contains "verify does not print the content" "$v" "$marker"

assert_eq "upload plain artifact" 200 "$(s3_put "$plain" "$prefix/plain/regex.json")"
assert_eq "upload sealed artifact" 200 "$(s3_put "$T_TMP/regex.json.enc" "$prefix/sealed/regex.json.enc")"
assert_eq "upload key with space and plus" 200 \
    "$(s3_put "$plain" "$prefix/odd%20name%2Bv1.json")"

# 1. plain via s3://
fetch "s3://$S3_BUCKET/$prefix/plain/regex.json" "$T_TMP/got-plain"
assert_eq "fetch plain: exit 0" 0 "$F_RC"
assert_true "fetch plain: same bytes" cmp -s "$plain" "$T_TMP/got-plain"
assert_contains "fetch plain: reported as plain" "$F_ERR" "plain, sha256=$sum"

# 2. sealed via s3://, unsealed with ARTIFACT_KEYS
fetch "s3://$S3_BUCKET/$prefix/sealed/regex.json.enc" "$T_TMP/got-sealed" ARTIFACT_KEYS="$keys"
assert_eq "fetch sealed: exit 0" 0 "$F_RC"
assert_true "fetch sealed: unsealed to the original bytes" cmp -s "$plain" "$T_TMP/got-sealed"
assert_contains "fetch sealed: reported as sealed" "$F_ERR" "sealed, sha256=$sum"

# 3. sealed, no keys configured
fetch "s3://$S3_BUCKET/$prefix/sealed/regex.json.enc" "$T_TMP/x1"
assert_eq "sealed without keys: exit 1" 1 "$F_RC"
assert_contains "sealed without keys: says what to set" "$F_ERR" "ARTIFACT_KEYS"

# 4. wrong secret: 403 SignatureDoesNotMatch, location named, secret not shown
wrong="wrongsecret$RANDOM$RANDOM"
fetch "s3://$S3_BUCKET/$prefix/plain/regex.json" "$T_TMP/x2" AWS_SECRET_ACCESS_KEY="$wrong"
assert_eq "wrong secret: exit 1" 1 "$F_RC"
assert_contains "wrong secret: names the location" "$F_ERR" "s3://$S3_BUCKET/$prefix/plain/regex.json"
assert_contains "wrong secret: HTTP 403" "$F_ERR" "HTTP 403 SignatureDoesNotMatch"
assert_not_contains "wrong secret: secret not echoed" "$F_ERR" "$wrong"
assert_eq "wrong secret: one line" 1 "$(printf '%s\n' "$F_ERR" | wc -l)"
assert_true "wrong secret: no output file" test ! -e "$T_TMP/x2"

# 5. missing key: 404 NoSuchKey
fetch "s3://$S3_BUCKET/$prefix/absent.json" "$T_TMP/x3"
assert_eq "missing key: exit 1" 1 "$F_RC"
assert_contains "missing key: HTTP 404 with the location" "$F_ERR" \
    "\"s3://$S3_BUCKET/$prefix/absent.json\": HTTP 404 NoSuchKey"

# 6. temporary credentials: the session token is sent and signed, and the server checks it
#    (the peers' S3 server verifies tokens of the keys its credentials server issued)
tmp_creds=$(curl -s -X POST "$AWS_CREDS_ENDPOINT/_admin/issue")
token=$(jq -r .SessionToken <<<"$tmp_creds")
privacy_secret "$token"
privacy_secret "$(jq -r .SecretAccessKey <<<"$tmp_creds")"
F_RC=0
F_ERR=$(env AWS_ACCESS_KEY_ID="$(jq -r .AccessKeyId <<<"$tmp_creds")" \
    AWS_SECRET_ACCESS_KEY="$(jq -r .SecretAccessKey <<<"$tmp_creds")" AWS_SESSION_TOKEN="$token" \
    AWS_ENDPOINT_URL_S3="$S3_ENDPOINT" "$TOOL" fetch "s3://$S3_BUCKET/$prefix/plain/regex.json" \
    "$T_TMP/got-token" 2>&1 >/dev/null) || F_RC=$?
assert_eq "with session token: exit 0" 0 "$F_RC"
assert_true "with session token: same bytes" cmp -s "$plain" "$T_TMP/got-token"
assert_not_contains "with session token: token not printed" "$F_ERR" "$token"
fetch "s3://$S3_BUCKET/$prefix/plain/regex.json" "$T_TMP/x4" AWS_SESSION_TOKEN="FwoGZXIvYXdzEtoken$RANDOM"
assert_contains "a made-up session token on a long-lived key: refused" "$F_ERR" "HTTP 403 InvalidToken"

# 7. a key that needs RFC 3986 encoding (signed path must match the server's)
fetch "s3://$S3_BUCKET/$prefix/odd name+v1.json" "$T_TMP/got-odd"
assert_eq "key with space and plus: exit 0" 0 "$F_RC"
assert_true "key with space and plus: same bytes" cmp -s "$plain" "$T_TMP/got-odd"

# 8. size cap
F_RC=0
F_ERR=$(env AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    AWS_ENDPOINT_URL_S3="$S3_ENDPOINT" "$TOOL" fetch --max-bytes 16 \
    "s3://$S3_BUCKET/$prefix/plain/regex.json" "$T_TMP/x5" 2>&1 >/dev/null) || F_RC=$?
assert_eq "size cap: exit 1" 1 "$F_RC"
assert_contains "size cap: says so" "$F_ERR" "larger than the 16-byte cap"

# 9. a tampered sealed object is refused, content never shown
cp "$T_TMP/regex.json.enc" "$T_TMP/tampered.enc"
printf 'X' | dd of="$T_TMP/tampered.enc" bs=1 seek=30 conv=notrunc 2>/dev/null
assert_eq "upload tampered object" 200 "$(s3_put "$T_TMP/tampered.enc" "$prefix/sealed/tampered.enc")"
fetch "s3://$S3_BUCKET/$prefix/sealed/tampered.enc" "$T_TMP/x6" ARTIFACT_KEYS="$keys"
assert_eq "tampered: exit 1" 1 "$F_RC"
assert_contains "tampered: authentication failure" "$F_ERR" "failed authentication"
assert_not_contains "no error shows the content" "$F_ERR" "$marker"

# 10. the same tool reads a local sealed file
fetch "$T_TMP/regex.json.enc" "$T_TMP/got-local" ARTIFACT_KEYS="$keys"
assert_eq "local sealed file: exit 0" 0 "$F_RC"
assert_true "local sealed file: same bytes" cmp -s "$plain" "$T_TMP/got-local"

finish
