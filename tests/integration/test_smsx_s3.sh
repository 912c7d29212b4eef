#!/usr/bin/env bash
# sms-extraction loading its rules from S3 (the S3 server verifies SigV4): with the guide's
# *_USE_S3 variables and with s3:// paths it becomes ready and extracts; with a wrong secret
# it refuses to start with one clear line that does not show the secret.
source "$(dirname "$0")/lib.sh"

: "${S3_ENDPOINT:?run through scripts/run-integration.sh (needs the S3 peer)}"
prefix="clients/client_it$RANDOM/extractor"
s3_put() { # FILE KEY
    curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
        -H "x-amz-content-sha256: $(sha256sum "$1" | cut -d' ' -f1)" \
        -T "$1" "$S3_ENDPOINT/$S3_BUCKET/$2"
}
for a in vocabulary classification regex; do
    assert_eq "upload $a.json to the S3 server" 200 \
        "$(s3_put "$REPO_ROOT/sms-extraction/rules/$a.json" "$prefix/$a/$a.json")"
done
privacy_secret "$S3_SECRET_KEY"
AUTH=(AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY"
    AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL_S3="$S3_ENDPOINT")
GUIDE=()
for a in VOCAB CLASSIFICATION REGEX; do
    l=$(echo "$a" | tr 'A-Z' 'a-z')
    [ "$l" = vocab ] && l=vocabulary
    GUIDE+=("${a}_USE_S3=true" "${a}_S3_BUCKET=$S3_BUCKET" "${a}_S3_KEY=$prefix/$l/$l.json"
        "${a}_S3_REGION=us-east-1")
done
mark=$(privacy_marker s3)
make_batch "$T_TMP/batch.json" 8 "$mark"

# 1. The guide's four-variable form.
if start_smsx "${AUTH[@]}" "${GUIDE[@]}"; then
    ok "starts with rules from S3 (*_USE_S3 form)"
    http_get "$D_URL/ready"
    assert_eq "ready with S3 rules" 200 "$H_STATUS"
    post_json /api/extract "$T_TMP/batch.json"
    assert_eq "extracts with S3 rules" 8 "$(jqr '.extracted_sms_data | length')"
    assert_contains "metrics name the S3 source" "$(metrics)" "s3://$S3_BUCKET/"
    stop_daemon
    assert_eq "SIGTERM: exit status 0" 0 "$D_EXIT"
else
    fail "did not start with S3 rules (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
fi

# 2. s3:// locations in the *_PATH variables.
if start_smsx "${AUTH[@]}" VOCAB_PATH="s3://$S3_BUCKET/$prefix/vocabulary/vocabulary.json" \
    CLASSIFICATION_PATH="s3://$S3_BUCKET/$prefix/classification/classification.json" \
    REGEX_PATH="s3://$S3_BUCKET/$prefix/regex/regex.json"; then
    ok "starts with s3:// paths"
    post_json /api/extract "$T_TMP/batch.json"
    assert_eq "extracts with s3:// rules" 8 "$(jqr '.extracted_sms_data | length')"
    stop_daemon
else
    fail "did not start with s3:// paths (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
fi

# 3. Wrong secret: the server answers 403 SignatureDoesNotMatch; the daemon must refuse.
wrong="wrong$RANDOM$RANDOM"
privacy_secret "$wrong"
expect_refusal s3-wrong-secret "$BUILD/sms-extraction" AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" \
    AWS_SECRET_ACCESS_KEY="$wrong" AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL_S3="$S3_ENDPOINT" \
    "${GUIDE[@]}"
assert_true "wrong secret: refuses to start (exit $R_EXIT)" [ "$R_EXIT" != 0 -a "$R_EXIT" != 137 ]
assert_true "wrong secret: one clear line naming S3 and the status" \
    grep -Eiq '(s3|vocabulary).*(403|signature|denied|forbidden)' <<<"$R_OUT"
assert_not_contains "wrong secret: the secret is not printed" "$R_OUT" "$wrong"

# 4. Missing object.
expect_refusal s3-missing "$BUILD/sms-extraction" "${AUTH[@]}" "${GUIDE[@]}" \
    REGEX_S3_KEY="$prefix/regex/nope.json"
assert_true "missing object: refuses to start (exit $R_EXIT)" [ "$R_EXIT" != 0 -a "$R_EXIT" != 137 ]
assert_true "missing object: the error names the key or 404" grep -Eiq '(nope.json|404|NoSuchKey)' <<<"$R_OUT"
finish
