#!/usr/bin/env bash
# The container images, built and run with podman the way docs/deployment.md says:
#   build both (scripts/images.sh: base = the pristine bare root, one compile shared), each
#   <= 120 MB uncompressed, no shell inside;
#   each daemon in a container with a read-only root, --cap-drop ALL, no-new-privileges,
#   checked from the kernel's view of the container's process (uid 10001, no effective
#   capability, NoNewPrivs, / mounted ro), the HEALTHCHECK kept (docker format);
#   /health, /ready, /metrics; the demo batch through /api/extract (hand-checked fields, and
#   the whole reply equal to the tested build's); a generated borrower through
#   /api/generate_features with insights-api calling the sms-extraction container (the
#   reply equal to the tested build's, less the per-request fields);
#   `insights-api migrate` and `client add` in the image against the test PostgreSQL, the
#   token then accepted by an insights-api container on that database, its spool on the
#   compose file's tmpfs;
#   `podman stop` drains (a request held in flight gets its 200) and the exit status is 0.
# Containers use the host network (podman 4.3 here has no working bridge) and the peers of
# scripts/peers.sh. Needs root, podman, and debootstrap or BARE_ROOT_TAR (scripts/bare-root.sh);
# without them a user's run skips (CI never does). IMAGES_TAG reuses images already built.
source "$(dirname "$0")/install_lib.sh"
skip_requested SKIP_IMAGES
[ "$(id -u)" = 0 ] || prereq_missing "needs root (podman's store, debootstrap)"
command -v podman >/dev/null || prereq_missing "podman not found (scripts/deps.sh installs it)"
[ -n "${PGPORT:-}" ] || prereq_missing "no PostgreSQL peer (run under scripts/run-integration.sh or after scripts/peers.sh up)"

TAG=${IMAGES_TAG:-}
if [ -z "$TAG" ]; then
    TAG="test"
    out=$("$REPO_ROOT/scripts/images.sh" "$TAG" 2>&1)
    rc=$?
    printf '%s\n' "$out" | sed 's/^/     /'
    assert_eq "scripts/images.sh builds both images" 0 "$rc"
    [ "$rc" = 0 ] || finish
    assert_contains "one compile for both images" "$out" "reused the compile of sms-extraction"
fi
SMSX_IMG=localhost/sms-extraction:$TAG
INS_IMG=localhost/insights-api:$TAG
LIMIT=$((120 * 1000 * 1000))
for img in "$SMSX_IMG" "$INS_IMG"; do
    size=$(podman image inspect --format '{{.Size}}' "$img")
    echo "     $img: $size bytes ($((size / 1000000)) MB) uncompressed"
    assert_true "$img is at most 120 MB ($((size / 1000000)) MB)" test "${size:-999999999999}" -le "$LIMIT"
    assert_eq "$img runs as 10001:10001" "10001:10001" "$(podman image inspect --format '{{.Config.User}}' "$img")"
    assert_true "$img keeps its HEALTHCHECK (docker format)" \
        test -n "$(podman image inspect --format '{{.Config.Healthcheck}}' "$img" | grep -- --healthcheck)"
    podman run --rm --runtime runc --network host --entrypoint /bin/sh "$img" -c true >/dev/null 2>&1
    assert_true "$img has no shell (/bin/sh does not run)" test $? != 0
done

# podman's own complaints (no systemd to time healthchecks) go here, not into the report.
PODMAN_ERR=$LOG_DIR/$TEST_NAME.podman-stderr.txt
CIDS=()
cleanup_containers() {
    local c
    for c in "${CIDS[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
    cleanup_daemons
}
trap cleanup_containers EXIT

# The podman flags every container here runs with (the traps of podman 4.3 on this kernel:
# runc, explicit ulimits, host network) plus the hardening under test.
# No systemd here to time the HEALTHCHECK (--health-interval disable); the test runs it itself.
RUN_FLAGS=(--runtime runc --network host --ulimit nofile=4096:4096 --ulimit nproc=4096:4096
    --health-interval disable --read-only --cap-drop ALL --security-opt no-new-privileges)

# run_daemon NAME IMAGE [podman args...]: detached on free ports; sets C_ID C_URL C_ADMIN_URL.
run_daemon() {
    local name=$1 img=$2 port admin
    shift 2
    port=$(free_port)
    admin=$(free_port)
    while [ "$admin" = "$port" ]; do admin=$(free_port); done
    C_URL=http://127.0.0.1:$port
    C_ADMIN_URL=http://127.0.0.1:$admin
    C_ID=$(podman run -d --name "smoke-$name-$$" "${RUN_FLAGS[@]}" -e HTTP_PORT="$port" \
        -e ADMIN_PORT="$admin" -e HTTP_BIND=127.0.0.1 "$@" "$img" 2>>"$PODMAN_ERR") || return 1
    CIDS+=("$C_ID")
    for _ in $(seq 200); do
        curl -s -o /dev/null -m 1 "$C_URL/health" && return 0
        [ "$(podman inspect --format '{{.State.Running}}' "$C_ID")" = true ] || return 1
        sleep 0.1
    done
    return 1
}

save_logs() { # NAME CID
    podman logs "$2" >"$LOG_DIR/$TEST_NAME.$1.log" 2>&1
}

# check_hardening NAME CID: what the kernel says about the container's main process.
check_hardening() {
    local pid st
    pid=$(podman inspect --format '{{.State.Pid}}' "$2")
    st=$(cat "/proc/$pid/status")
    assert_eq "$1: runs as uid 10001 (real, effective, saved, fs)" "10001 10001 10001 10001" \
        "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' <<<"$st")"
    assert_eq "$1: no effective or bounding capability" "0000000000000000 0000000000000000" \
        "$(awk '/^CapEff:/ { e = $2 } /^CapBnd:/ { b = $2 } END { print e, b }' <<<"$st")"
    assert_eq "$1: NoNewPrivs" 1 "$(awk '/^NoNewPrivs:/ { print $2 }' <<<"$st")"
    assert_eq "$1: / is mounted read-only" ro \
        "$(awk '$5 == "/" { split($6, o, ","); print o[1]; exit }' "/proc/$pid/mountinfo")"
    podman healthcheck run "$2" >/dev/null 2>&1
    assert_eq "$1: podman healthcheck run (the image's --healthcheck) passes" 0 "$?"
}

# ---- sms-extraction ------------------------------------------------------------------------
if ! run_daemon smsx "$SMSX_IMG" -e LOG_LEVEL=info; then
    fail "sms-extraction container did not answer /health"
    podman logs "$C_ID" 2>&1 | tail -n 20
    finish
fi
SMSX_ID=$C_ID C_SMSX_URL=$C_URL SMSX_ADMIN=$C_ADMIN_URL
ok "sms-extraction container answers /health"
check_hardening sms-extraction "$SMSX_ID"
http_get "$C_SMSX_URL/ready"
assert_eq "sms-extraction /ready" 200 "$H_STATUS"
http_get "$SMSX_ADMIN/metrics"
assert_contains "sms-extraction /metrics on the admin port" "$H_BODY" "# TYPE"
DEMO=$REPO_ROOT/tests/data/demo/batch.json
http POST "$C_SMSX_URL/api/extract" "$DEMO"
assert_eq "demo batch through /api/extract: 200" 200 "$H_STATUS"
demo_reply=$H_BODY
# Worked out from the message texts (tests/data/demo/batch.json).
assert_eq "d1: a debit of 1250 from account 4821" "debit-transaction 1250 4821" \
    "$(jqr '.extracted_sms_data[0] | "\(.transaction_type) \(.transaction | floor) \(.account_last_digits)"')"
assert_eq "d2: a credit of 3400 to account 7730" "credit-transaction 3400 7730" \
    "$(jqr '.extracted_sms_data[1] | "\(.transaction_type) \(.transaction | floor) \(.account_last_digits)"')"
assert_eq "d3: a credit of 62000 to account 0193" "credit-transaction 62000 0193" \
    "$(jqr '.extracted_sms_data[2] | "\(.transaction_type) \(.transaction | floor) \(.account_last_digits)"')"
assert_eq "d4 (OTP) and d5 (promotion) are not transactional" "false false" \
    "$(jqr '[.extracted_sms_data[3,4].is_transactional] | map(tostring) | join(" ")')"
if [ -x "$BUILD/sms-extraction" ]; then
    start_smsx LOG_LEVEL=info || fail "host sms-extraction did not start"
    post_json /api/extract "$DEMO"
    assert_eq "the container's demo reply equals the tested build's ($BUILD), request_id aside" \
        "$(printf '%s' "$H_BODY" | jq -S 'del(.request_id)')" "$(printf '%s' "$demo_reply" | jq -S 'del(.request_id)')"
    stop_daemon
else
    fail "no $BUILD/sms-extraction to compare the container's reply with"
fi

# ---- insights-api beside it, no database -------------------------------------------------
# The spool tmpfs exactly as deploy/compose.yml mounts it (podman refuses uid=N there).
SPOOL_TMPFS=$(grep -o '/var/spool/insights-api:[^ ]*' "$REPO_ROOT/deploy/compose.yml" | head -n 1)
assert_true "deploy/compose.yml mounts a tmpfs on the spool ($SPOOL_TMPFS)" test -n "$SPOOL_TMPFS"
TOKEN=$(privacy_marker tok)
if ! run_daemon insights "$INS_IMG" -e LOG_LEVEL=info -e DEMO_CLIENTS="demo_client:$TOKEN" \
    -e SMS_EXTRACTOR_SERVICE_URL="$C_SMSX_URL" --tmpfs "$SPOOL_TMPFS"; then
    fail "insights-api container did not answer /health"
    podman logs "$C_ID" 2>&1 | tail -n 20
    finish
fi
INS_ID=$C_ID INS_URL=$C_URL INS_ADMIN=$C_ADMIN_URL
ok "insights-api container answers /health"
check_hardening insights-api "$INS_ID"
http_get "$INS_URL/ready"
assert_eq "insights-api /ready" 200 "$H_STATUS"
http_get "$INS_ADMIN/metrics"
assert_contains "insights-api /metrics on the admin port" "$H_BODY" "# TYPE"

extract_calls() { curl -s -m 10 "$SMSX_ADMIN/metrics" | awk '/^[a-z_]*requests_total.*extract.*200/ { n += $2 } END { print n + 0 }'; }
before=$(extract_calls)
gen_users "$T_TMP/users" 1 4711
uf=$(user_files "$T_TMP/users" | head -n 1)
truth=${uf%.json}.truth.json
# as of the generator's now: the container's call and the host build's, seconds apart, see the
# same windows (an event near a 7/30/90-day edge would otherwise count in one and not the other).
inline_body "$uf" "$T_TMP/inline-now.json"
jq -c --arg t "$(jq -r .now "$truth")" '.as_of = $t' "$T_TMP/inline-now.json" >"$T_TMP/inline.json"
api /api/generate_features "$T_TMP/inline.json" demo_client "$TOKEN" "$INS_URL"
assert_eq "generated borrower through /api/generate_features: 200" 200 "$H_STATUS"
ins_reply=$H_BODY
assert_eq "... every SMS counted (the client's own lender's left out)" "$(jq .sms_counted "$truth")" "$(jqr .all_sms_count_nlp)"
assert_eq "... no failed groups (sms-extraction answered)" null "$(jqr .failed_groups)"
assert_true "... insights-api called the sms-extraction container ($before -> $(extract_calls) extract replies)" \
    test "$(extract_calls)" -gt "$before"
# The same input through the tested build of both daemons, without the per-request fields.
strip_req='del(.request_id, .data_requested_time, .data_processed_time)'
if [ -x "$BUILD/insights-api" ]; then
    start_smsx_bg
    start_insights LOG_LEVEL=info DEMO_CLIENTS="demo_client:$TOKEN" ||
        fail "host insights-api did not start"
    api /api/generate_features "$T_TMP/inline.json" demo_client "$TOKEN"
    host_reply=$(jqr "$strip_req")
    differ=$(jq -rn --argjson a "$host_reply" --argjson b "$(printf '%s' "$ins_reply" | jq "$strip_req")" \
        '[($a + $b) | keys[] as $k | select($a[$k] != $b[$k]) | "\($k): \($a[$k]) vs \($b[$k])"] | join("; ")' 2>&1)
    assert_eq "the container's features equal the tested build's (keys that differ: host vs container)" "" "$differ"
    stop_daemon "$INS_PID"
    stop_daemon "$SMSX_PID"
else
    fail "no $BUILD/insights-api to compare the container's reply with"
fi

# ---- podman stop drains ----------------------------------------------------------------------
# A third insights-api calls sms-extraction through tests/install/hold_proxy.py, which holds
# one call for 2 s on request: the borrower's request is then surely in flight inside the
# container when `podman stop` sends SIGTERM, and must still get its 200.
PROXY_PORT=$(free_port)
python3 "$REPO_ROOT/tests/install/hold_proxy.py" "$C_SMSX_URL" "$PROXY_PORT" "$T_TMP/hold" 2 &
PROXY_PID=$!
T_PIDS+=("$PROXY_PID")
for _ in $(seq 100); do port_open "$PROXY_PORT" && break; sleep 0.05; done
if run_daemon insights-drain "$INS_IMG" -e LOG_LEVEL=info -e DEMO_CLIENTS="demo_client:$TOKEN" \
    -e SMS_EXTRACTOR_SERVICE_URL="http://127.0.0.1:$PROXY_PORT" --tmpfs "$SPOOL_TMPFS"; then
    DRAIN_ID=$C_ID
    touch "$T_TMP/hold"
    curl -s -o "$T_TMP/drain.out" -w '%{http_code}' -m 60 -X POST -H 'Content-Type: application/json' \
        -H 'x-client-id: demo_client' -H "x-auth-token: $TOKEN" --data-binary "@$T_TMP/inline.json" \
        "$C_URL/api/generate_features" >"$T_TMP/drain.code" &
    curl_pid=$!
    for _ in $(seq 200); do [ -e "$T_TMP/hold.held" ] && break; sleep 0.05; done
    assert_true "a request is in flight (its sms-extraction call is held)" test -e "$T_TMP/hold.held"
    podman stop -t 15 "$DRAIN_ID" >/dev/null 2>>"$PODMAN_ERR"
    assert_eq "podman stop insights-api: exit status 0" 0 "$(podman inspect --format '{{.State.ExitCode}}' "$DRAIN_ID")"
    wait "$curl_pid"
    assert_eq "... the request in flight got its 200" 200 "$(cat "$T_TMP/drain.code")"
    assert_eq "... with every SMS counted" "$(jq .sms_counted "$truth")" "$(jq .all_sms_count_nlp "$T_TMP/drain.out" 2>/dev/null)"
    save_logs insights-drain "$DRAIN_ID"
    assert_true "... it drained one request in flight (its log)" \
        grep -q '"msg":"draining".*"in_flight":1' "$LOG_DIR/$TEST_NAME.insights-drain.log"
else
    fail "insights-api container (through the hold proxy) did not answer /health"
fi
kill "$PROXY_PID" 2>/dev/null
wait "$PROXY_PID" 2>/dev/null
podman stop -t 15 "$INS_ID" >/dev/null 2>>"$PODMAN_ERR"
assert_eq "podman stop insights-api (no request in flight): exit status 0" 0 \
    "$(podman inspect --format '{{.State.ExitCode}}' "$INS_ID")"
save_logs insights "$INS_ID"
podman stop -t 15 "$SMSX_ID" >/dev/null 2>>"$PODMAN_ERR"
assert_eq "podman stop sms-extraction: exit status 0" 0 "$(podman inspect --format '{{.State.ExitCode}}' "$SMSX_ID")"
save_logs smsx "$SMSX_ID"
assert_true "... it drained (its log)" grep -q '"msg":"drained"' "$LOG_DIR/$TEST_NAME.smsx.log"

# ---- the one-shot commands against the test PostgreSQL ------------------------------------
DB=smoke_images_$$
psql_q postgres "CREATE DATABASE $DB" >/dev/null
PEPPER=$(privacy_marker pepper)
PG_ENV=(-e DI_POSTGRES_HOST="$PGHOST" -e DI_POSTGRES_PORT="$PGPORT" -e DI_POSTGRES_USERNAME="$PGUSER"
    -e DI_POSTGRES_DATABASE="$DB" -e DI_POSTGRES_SSLMODE=disable -e TOKEN_PEPPER="$PEPPER")
podman run --rm "${RUN_FLAGS[@]}" "${PG_ENV[@]}" "$INS_IMG" migrate >"$LOG_DIR/$TEST_NAME.migrate.log" 2>>"$PODMAN_ERR"
assert_eq "insights-api migrate in the image: exit 0" 0 "$?"
assert_true "... the schema is there (api_clients)" \
    test "$(psql_q "$DB" "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%client%'")" -ge 1
podman run --rm "${RUN_FLAGS[@]}" "${PG_ENV[@]}" "$INS_IMG" client add --client smoke_client \
    >"$T_TMP/client.json" 2>"$LOG_DIR/$TEST_NAME.client-add.log"
assert_eq "insights-api client add in the image: exit 0" 0 "$?"
PG_TOKEN=$(jq -r '.token // empty' "$T_TMP/client.json" 2>/dev/null | tail -n 1)
privacy_secret "$PG_TOKEN"
assert_true "... it printed a token" test -n "$PG_TOKEN"
if run_daemon insights-pg "$INS_IMG" -e LOG_LEVEL=info "${PG_ENV[@]}" \
    -e SMS_EXTRACTOR_SERVICE_URL=http://127.0.0.1:9 --tmpfs "$SPOOL_TMPFS"; then
    ok "... it opened its spool on the compose file's tmpfs (a store that cannot would not start)"
    inline_body "$uf" "$T_TMP/inline-pg.json" '["sms"]'
    jq -c '.client_id = "smoke_client"' "$T_TMP/inline-pg.json" >"$T_TMP/inline-sms.json"
    api /api/generate_features "$T_TMP/inline-sms.json" smoke_client "$PG_TOKEN" "$C_URL"
    assert_eq "the token from client add is accepted by the container on that database" 200 "$H_STATUS"
    api /api/generate_features "$T_TMP/inline-sms.json" smoke_client "wrong-$PG_TOKEN" "$C_URL"
    assert_eq "... and a wrong one is not" 401 "$H_STATUS"
    podman stop -t 15 "$C_ID" >/dev/null 2>>"$PODMAN_ERR"
    assert_eq "... podman stop: exit status 0" 0 "$(podman inspect --format '{{.State.ExitCode}}' "$C_ID")"
    save_logs insights-pg "$C_ID"
else
    fail "insights-api container on PostgreSQL did not answer /health"
    podman logs "$C_ID" 2>&1 | tail -n 20
fi
psql_q postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
finish
