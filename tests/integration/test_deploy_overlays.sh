#!/usr/bin/env bash
# Every Kubernetes overlay's rendered configuration starts the real daemons (issue 17).
# Each overlay (k8s/base, overlays/dev, prod, dau-*) is rendered with `kubectl kustomize`;
# tests/deploy/overlay-env.mjs takes each container's environment (envFrom ConfigMaps and
# Secrets, env), arguments and mounted files from the rendered objects. Then, as an operator
# and the cluster would, and nothing else:
#   operator: the documented placeholders are replaced (change-me secrets by strong values,
#     the database and MongoDB hosts and ports by the test peers', the artifact bucket by the
#     test bucket, the postgres-ca bundle by the test PostgreSQL's CA), the documented role
#     and database are created (docs/deployment.md), the artifacts are sealed with a fresh key
#     and uploaded to the object names the ConfigMaps give;
#   cluster: each mount is a directory under a temporary root and every variable that names
#     a path inside a mount points there; the projected ServiceAccount token is one the test
#     STS accepts (the cluster's OIDC issuer); ports are free loopback ports; the
#     sms-extraction Service name resolves to its port; AWS_ENDPOINT_URL_STS/_S3 point at the
#     local STS and S3 servers (standing in for AWS's); the working directory is the tree
#     (the image's /app).
# Then the migrate Job's and the maintain CronJob's commands run with their env, both daemons
# start with theirs and must answer /ready; PostgreSQL is reached (verify-full in prod), an
# extraction and a featurisation go through, and SIGTERM stops both with status 0. Overlays
# whose extracted configuration is identical (prod and the dau-* rungs differ only in HPA
# bounds) are started once and named together. In prod, each placeholder secret left in place
# alone makes the daemon exit non-zero naming the variable.
# Env: K8S_DIR (default k8s) to run the same test on other manifests.
source "$(dirname "$0")/ins_lib.sh"

: "${PGPORT:?run through scripts/run-integration.sh (needs the peers)}"
: "${AWS_CREDS_ENDPOINT:?peers without the credentials server: restart them (scripts/peers.sh down; up)}"
K8S_DIR=${K8S_DIR:-$REPO_ROOT/k8s}
DEPS=$REPO_ROOT/.deps/deploy
command -v kubectl >/dev/null || {
    fail "kubectl not found: install it (scripts/deps.sh); the overlay test never skips"
    finish
}
"$REPO_ROOT/scripts/check-deploy.sh" --deps-only >/dev/null 2>&1 || {
    fail "could not install the deploy checkers (.deps/deploy)"
    finish
}
TOOL=$BUILD/tools/artifact

# ---- what the operator prepares once -------------------------------------------------------
PEPPER=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
PGPASS=pg-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
MONGOPASS=mg-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
KEYS=$("$TOOL" keygen "prod-$(date +%Y%m)")
for s in "$PEPPER" "$PGPASS" "$MONGOPASS" "${KEYS#*:}"; do privacy_secret "$s"; done
psql_q postgres "DO \$\$BEGIN CREATE ROLE mobileforge_user LOGIN PASSWORD '$PGPASS'; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$" ||
    fail "could not create the documented role"

# s3put LOCAL KEY: upload with the operator's own (static) key, as their release pipeline would.
s3put() {
    curl -s -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H "x-amz-content-sha256: $(sha256sum "$1" | cut -d' ' -f1)" \
        -T "$1" "$S3_ENDPOINT/$S3_BUCKET/$2"
}

# seal_and_upload LOCATION: the plain artifact of that name from the tree, sealed with KEYS.
declare -A UPLOADED
seal_and_upload() {
    local key=${1#s3://*/} base src
    [ -n "${UPLOADED[$key]:-}" ] && return 0
    base=$(basename "${key%.enc}")
    src=$(find "$REPO_ROOT/sms-extraction/rules" "$REPO_ROOT/insights-api/artifacts" \
        "$REPO_ROOT/insights-api/catalogue" -name "$base" | head -n 1)
    [ -n "$src" ] || {
        fail "no artifact in the tree for $1"
        return 1
    }
    printf '%s\n' "$KEYS" >"$T_TMP/keys.txt"
    "$TOOL" seal --key-id "${KEYS%%:*}" --key-file "$T_TMP/keys.txt" "$src" "$T_TMP/sealed" 2>/dev/null &&
        [ "$(s3put "$T_TMP/sealed" "$key")" = 200 ] || {
        fail "could not seal and upload $src to $key"
        return 1
    }
    UPLOADED[$key]=1
}

# ---- from an extracted container to a process environment ---------------------------------

# The operator's replacements, as a jq function over {key, value} of the environment.
# shellcheck disable=SC2016
OPERATOR_JQ='
def operator($k; $v):
  if $v == "change-me" then
    if $k == "TOKEN_PEPPER" then $pepper
    elif $k == "USER_KEY_SECRET" then ($pepper + "-user-key")
    elif $k == "ARTIFACT_KEYS" then $keys
    elif $k == "DI_MONGODB_PASSWORD" then $mongopass
    elif ($k | test("PASSWORD$")) then $pgpass
    elif $k == "CLIENT_ID" then "acme-lender"
    else error("unknown placeholder in " + $k) end
  elif $v == "postgres.example.internal" then "localhost"
  elif $v == "mongo.example.internal" then "127.0.0.1"
  elif ($k == "DI_POSTGRES_PORT" or $k == "DB_PORT") then $pgport
  elif $k == "DI_MONGODB_PORT" then $mongoport
  else $v | gsub("sms-insights-artifacts-change-me"; $bucket) end;'

# materialize JSON ROOT LEAVE: writes the container's mounts under ROOT and its environment
# (one NAME=value per line) to ROOT.env, with the operator's replacements except for the
# variable named LEAVE (left as rendered), and the cluster's stand-ins.
materialize() {
    local json=$1 root=$2 leave=${3:-} n i path
    mkdir -p "$root"
    n=$(jq '.mounts | length' "$json")
    for ((i = 0; i < n; i++)); do
        path=$root$(jq -r ".mounts[$i].mountPath" "$json")
        mkdir -p "$path"
        jq -r ".mounts[$i].files // {} | keys[]" "$json" | while read -r f; do
            jq -j --arg f "$f" ".mounts[$i].files[\$f]" "$json" >"$path/$f"
        done
        if [ "$(jq -r ".mounts[$i].source // \"\"" "$json")" != "" ] &&
            jq -e ".mounts[$i].source | startswith(\"postgres-ca\")" "$json" >/dev/null &&
            [ "$leave" != PGSSLROOTCERT ]; then
            cp "$PG_SSL_CA" "$path/ca.pem" # the operator's CA bundle
        fi
        jq -r ".mounts[$i].tokens // [] | .[].path" "$json" | while read -r f; do
            curl -s "$AWS_CREDS_ENDPOINT/_admin/oidc-token" | jq -r .token >"$path/$f"
        done
    done
    jq -r --arg pepper "$PEPPER" --arg keys "$KEYS" --arg pgpass "$PGPASS" --arg mongopass "$MONGOPASS" \
        --arg pgport "$PGPORT" --arg mongoport "$MONGO_PORT" --arg bucket "$S3_BUCKET" \
        --arg root "$root" --arg leave "$leave" --argjson mounts "$(jq '[.mounts[].mountPath]' "$json")" \
        "$OPERATOR_JQ"'
        .env | to_entries[] | .key as $k |
        (if $k == $leave then .value else operator($k; .value) end) as $v |
        ([$mounts[] | select(. as $m | $v | startswith($m + "/"))] | length > 0) as $in_mount |
        "\($k)=\(if $in_mount then $root + $v else $v end)"' "$json" >"$root.env" || return 1
}

# env_for ROOT [NAME=value...]: into the array E, exactly the materialised environment plus
# the cluster's stand-ins (and the given overrides, which win).
env_for() {
    local root=$1
    shift
    mapfile -t E <"$root.env"
    E=(PATH="$PATH" MONGOC_DISABLE_SHM=1 "${E[@]}" HTTP_BIND=127.0.0.1 AWS_ENDPOINT_URL_STS="$AWS_CREDS_ENDPOINT"
        AWS_ENDPOINT_URL_S3="$S3_ENDPOINT" "$@")
}

# run_with ROOT CMD...: CMD with that environment, in the tree (the image's /app).
run_with() {
    local root=$1
    shift
    env_for "$root"
    (cd "$REPO_ROOT" && exec env -i "${E[@]}" "$@")
}

# start_from ROOT NAME BINARY [NAME=value...]: the daemon on free ports until /ready answers
# 200; sets PID PORT ADMIN LOG. The subshell execs env, which execs the daemon: $! is its PID.
start_from() {
    local root=$1 name=$2 bin=$3 i
    shift 3
    PORT=$(free_port)
    ADMIN=$(free_port)
    while [ "$ADMIN" = "$PORT" ]; do ADMIN=$(free_port); done
    T_DAEMON_SEQ=$((T_DAEMON_SEQ + 1))
    LOG="$LOG_DIR/$TEST_NAME.$name.$T_DAEMON_SEQ.log"
    env_for "$root" HTTP_PORT="$PORT" ADMIN_PORT="$ADMIN" "$@"
    (cd "$REPO_ROOT" && exec env -i "${E[@]}" "$bin") </dev/null >"$LOG" 2>&1 &
    PID=$!
    T_PIDS+=("$PID")
    for i in $(seq 600); do
        kill -0 "$PID" 2>/dev/null || return 1
        [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$PORT/ready")" = 200 ] && return 0
        sleep 0.05
    done
    return 1
}

# ---- one configuration ----------------------------------------------------------------------

# start_config DIR NAMES: the Job, the CronJob and both daemons of one extracted configuration.
start_config() {
    local dir=$1 names=$2 r=$T_TMP/run.$RANDOM smsx_pid smsx_port ins_pid out loc
    psql_q postgres "DROP DATABASE IF EXISTS api_insights_db WITH (FORCE)" >/dev/null &&
        psql_q postgres "CREATE DATABASE api_insights_db OWNER mobileforge_user" >/dev/null ||
        fail "$names: could not create api_insights_db"
    for loc in $(jq -r '.env[]' "$dir"/*.json | grep -o 's3://[^ ]*' | sort -u); do
        seal_and_upload "${loc/sms-insights-artifacts-change-me/$S3_BUCKET}" || return 1
    done
    for w in insights-api-migrate insights-api-maintain sms-extraction insights-api; do
        materialize "$dir/$w.json" "$r/$w" || {
            fail "$names: could not prepare $w"
            return 1
        }
    done
    out=$(run_with "$r/insights-api-migrate" "$BUILD/insights-api" \
        $(jq -r '.args[]' "$dir/insights-api-migrate.json") 2>&1)
    assert_eq "$names: the migrate Job's command succeeds with its env" 0 "$?"
    assert_true "$names: ... and applies the schema" test "$(jq -r .migrations_applied <<<"$out" 2>/dev/null || echo 0)" -gt 0
    out=$(run_with "$r/insights-api-maintain" "$BUILD/insights-api" \
        $(jq -r '.args[]' "$dir/insights-api-maintain.json") 2>&1)
    assert_eq "$names: the maintain CronJob's command succeeds with its env" 0 "$?"

    if start_from "$r/sms-extraction" smsx "$BUILD/sms-extraction"; then
        ok "$names: sms-extraction starts with the rendered configuration and is ready"
    else
        fail "$names: sms-extraction not ready: $(grep -o '"error":"[^"]*"' "$LOG" | tail -n 1)"
        return 1
    fi
    smsx_pid=$PID smsx_port=$PORT
    make_batch "$T_TMP/batch.json" 20 "$(privacy_marker ov)"
    http POST "http://127.0.0.1:$smsx_port/api/extract" "$T_TMP/batch.json"
    assert_eq "$names: sms-extraction extracts a batch" 20 "$(jqr '.extracted_sms_data | length')"

    # the Service name sms-extraction:8082 resolves to that daemon's port
    if start_from "$r/insights-api" insights "$BUILD/insights-api" \
        SMS_EXTRACTOR_SERVICE_URL="http://127.0.0.1:$smsx_port"; then
        ok "$names: insights-api starts with the rendered configuration and is ready"
    else
        fail "$names: insights-api not ready: $(grep -o '"error":"[^"]*"' "$LOG" | tail -n 1)"
        return 1
    fi
    ins_pid=$PID
    D_ADMIN_URL=http://127.0.0.1:$ADMIN
    for i in $(seq 100); do
        [ "$(metric_value insights_store_postgres_up)" = 1 ] && break
        sleep 0.1
    done
    assert_eq "$names: insights-api reaches PostgreSQL ($(jq -r '.env.DI_POSTGRES_SSLMODE' "$dir/insights-api.json"))" 1 \
        "$(metric_value insights_store_postgres_up)"
    tok=$(run_with "$r/insights-api" "$BUILD/insights-api" client add --client acme 2>/dev/null |
        jq -r .token)
    privacy_secret "$tok"
    api /api/generate_features "$T_TMP/inline.json" acme "$tok" "http://127.0.0.1:$PORT"
    assert_eq "$names: a borrower is featurised through both daemons" 200 "$H_STATUS"
    assert_true "$names: ... with SMS features" test "$(jqr '[.[]] | length')" -gt 100

    stop_daemon "$ins_pid"
    assert_eq "$names: insights-api stops cleanly on SIGTERM" 0 "$D_EXIT"
    stop_daemon "$smsx_pid"
    assert_eq "$names: sms-extraction stops cleanly on SIGTERM" 0 "$D_EXIT"
}

# refuse_placeholders DIR WORKLOAD BINARY: each placeholder of the rendered Secret (and the
# placeholder CA bundle), left alone, makes the daemon refuse to start naming it.
refuse_placeholders() {
    local dir=$1 w=$2 bin=$3 var r out rc
    for var in $(jq -r '.secretKeys[] as $k | select(.env[$k] == "change-me") | $k' "$dir/$w.json") PGSSLROOTCERT; do
        r=$T_TMP/refuse.$RANDOM
        materialize "$dir/$w.json" "$r" "$var" || return 1
        env_for "$r" HTTP_PORT="$(free_port)" ADMIN_PORT="$(free_port)"
        out=$(cd "$REPO_ROOT" && env -i "${E[@]}" timeout -s KILL 20 "$bin" 2>&1)
        rc=$?
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 137 ] && grep -q "\"error\":\"$var:" <<<"$out"; then
            ok "prod: $w with $var left as rendered exits $rc naming it"
        else
            fail "prod: $w with $var left as rendered: exit $rc, $(grep -o '"error":"[^"]*"' <<<"$out" | head -n 1)"
        fi
    done
}

# One invented borrower, sent through every configuration.
gen_users "$T_TMP/users" 1 17 >/dev/null
jq -c '.client_id = "acme"' "$(user_files "$T_TMP/users" | head -n 1)" >"$T_TMP/user.json"
inline_body "$T_TMP/user.json" "$T_TMP/inline.json"

# ---- every overlay ---------------------------------------------------------------------------
declare -A CONFIG_OF NAMES_OF
ORDER=()
for o in "$K8S_DIR/base" "$K8S_DIR"/overlays/*/; do
    name=$(basename "$o")
    if ! kubectl kustomize "$o" >"$T_TMP/$name.yaml" 2>"$T_TMP/$name.err"; then
        fail "$name: kubectl kustomize failed: $(tail -n 2 "$T_TMP/$name.err")"
        continue
    fi
    digests=$(node "$DEPS/bin/overlay-env.mjs" "$T_TMP/$name.yaml" "$T_TMP/cfg.$name") || {
        fail "$name: could not extract the containers' configuration"
        continue
    }
    for w in sms-extraction insights-api insights-api-migrate insights-api-maintain; do
        grep -q "^$w " <<<"$digests" || fail "$name: no $w workload rendered"
    done
    key=$(sha256sum <<<"$digests" | cut -c1-16)
    if [ -z "${CONFIG_OF[$key]:-}" ]; then
        CONFIG_OF[$key]=$T_TMP/cfg.$name
        ORDER+=("$key")
    fi
    NAMES_OF[$key]="${NAMES_OF[$key]:+${NAMES_OF[$key]}, }$name"
done
for key in "${ORDER[@]}"; do
    echo "---- configuration of: ${NAMES_OF[$key]}"
    start_config "${CONFIG_OF[$key]}" "${NAMES_OF[$key]}"
    if jq -e '.env.LAUNCH_ENVIRONMENT == "prod"' "${CONFIG_OF[$key]}/insights-api.json" >/dev/null; then
        refuse_placeholders "${CONFIG_OF[$key]}" insights-api "$BUILD/insights-api"
        refuse_placeholders "${CONFIG_OF[$key]}" sms-extraction "$BUILD/sms-extraction"
    fi
done
assert_true "the prod overlay was started" grep -q prod <<<"${NAMES_OF[*]}"
finish
