#!/usr/bin/env bash
# sms-extraction with sealed rules: rules sealed by build/tools/artifact load with the right
# ARTIFACT_KEYS; without the key it refuses to start; LAUNCH_ENVIRONMENT=prod refuses plain
# (unsealed) rules.
source "$(dirname "$0")/lib.sh"

# prod refuses plain rules: this part needs no tool.
expect_refusal prod-plain "$BUILD/sms-extraction" LAUNCH_ENVIRONMENT=prod
assert_true "prod with plain rules: refuses to start (exit $R_EXIT)" [ "$R_EXIT" != 0 -a "$R_EXIT" != 137 ]
assert_true "prod with plain rules: the line says why" grep -Eiq 'seal|unsealed|plain' <<<"$R_OUT"

TOOL="$BUILD/tools/artifact"
if [ ! -x "$TOOL" ]; then
    skip "sealed rules: $TOOL not built (tools/artifact.c absent)"
    finish
fi
kid=it1
key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
privacy_secret "$key"
R="$T_TMP/sealed"
mkdir -p "$R"
printf '%s:%s\n' "$kid" "$key" >"$T_TMP/keys"
chmod 600 "$T_TMP/keys"
sealed_ok=1
for a in vocabulary classification regex; do
    if ! "$TOOL" seal --key-id "$kid" --key-file "$T_TMP/keys" \
        "$REPO_ROOT/sms-extraction/rules/$a.json" "$R/$a.enc" >"$T_TMP/seal.out" 2>&1; then
        sealed_ok=0
        fail "seal $a.json: $(head -n 3 "$T_TMP/seal.out")"
    fi
done
[ "$sealed_ok" = 1 ] && ok "sealed the three rule files with build/tools/artifact"
assert_true "sealed file does not contain the plain JSON" \
    bash -c "! grep -q '\"version\"' '$R/regex.enc'"
PATHS=(VOCAB_PATH="$R/vocabulary.enc" CLASSIFICATION_PATH="$R/classification.enc" REGEX_PATH="$R/regex.enc")

mark=$(privacy_marker sealed)
make_batch "$T_TMP/batch.json" 5 "$mark"
if start_smsx "${PATHS[@]}" ARTIFACT_KEYS="$kid:$key" LAUNCH_ENVIRONMENT=prod; then
    ok "prod starts with sealed rules and ARTIFACT_KEYS"
    post_json /api/extract "$T_TMP/batch.json"
    assert_eq "extracts with sealed rules" 5 "$(jqr '.extracted_sms_data | length')"
    stop_daemon
else
    fail "did not start with sealed rules (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
fi

if start_smsx "${PATHS[@]}" ARTIFACT_KEYS_FILE="$T_TMP/keys"; then
    ok "starts with sealed rules and ARTIFACT_KEYS_FILE"
    stop_daemon
else
    fail "did not start with ARTIFACT_KEYS_FILE (exit ${D_EXIT:-?}): $(tail -n 5 "$D_LOG")"
fi

expect_refusal sealed-nokey "$BUILD/sms-extraction" "${PATHS[@]}"
assert_true "sealed rules without a key: refuses to start (exit $R_EXIT)" [ "$R_EXIT" != 0 -a "$R_EXIT" != 137 ]
assert_true "sealed rules without a key: the line says a key is needed" grep -Eiq 'sealed.*key' <<<"$R_OUT"

other=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
privacy_secret "$other"
expect_refusal sealed-wrongkey "$BUILD/sms-extraction" "${PATHS[@]}" ARTIFACT_KEYS="$kid:$other"
assert_true "sealed rules with a wrong key: refuses to start (exit $R_EXIT)" [ "$R_EXIT" != 0 -a "$R_EXIT" != 137 ]
assert_not_contains "wrong key: the key is not printed" "$R_OUT" "$other"
finish
