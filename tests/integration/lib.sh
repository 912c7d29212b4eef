# shellcheck shell=bash
# Helpers sourced by every tests/integration/test_*.sh: the daemons, HTTP and request bodies
# of scripts/harness.sh, plus what only tests need: one printed line per check, the privacy
# markers, start-up refusals and the PostgreSQL peer.
#
# Env (set by scripts/run-integration.sh; defaults let a script run alone from the repo
# root after `eval "$(scripts/peers.sh up)"`): BUILD, REPO_ROOT, SHARED_DIR, LOG_DIR and
# the peers' PG_CONNINFO, PGHOST, PGPORT, PGUSER, MONGO_URI, S3_ENDPOINT, S3_BUCKET,
# S3_ACCESS_KEY, S3_SECRET_KEY.
#
# Privacy: every SMS body a test sends carries a marker (privacy_marker); the markers are
# listed in $LOG_DIR/privacy-markers.txt and scripts/test-all.sh fails if any daemon log
# written into $LOG_DIR contains one.

# shellcheck source=../../scripts/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/harness.sh"
# A daemon with an s3:// artifact and no credentials configured would ask the EC2 instance
# metadata address (169.254.169.254), the last source of the AWS chain: tests never send
# traffic off this machine, so it is off unless a test turns it on inside its own network
# namespace (test_aws_credentials.sh).
export AWS_EC2_METADATA_DISABLED=${AWS_EC2_METADATA_DISABLED:-true}
T_PASS=0
T_FAIL=0
T_SKIP=0
# ---- results ---------------------------------------------------------------------------

ok() {
    T_PASS=$((T_PASS + 1))
    echo "ok   $TEST_NAME: $*"
}

fail() {
    T_FAIL=$((T_FAIL + 1))
    echo "FAIL $TEST_NAME: $*"
}

skip() {
    T_SKIP=$((T_SKIP + 1))
    echo "SKIP $TEST_NAME: $*"
}

# assert_eq NAME EXPECTED ACTUAL
assert_eq() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        fail "$1: expected '$2', got '$(printf '%.300s' "$3")'"
    fi
}

# assert_contains NAME HAYSTACK NEEDLE
assert_contains() {
    case "$2" in
    *"$3"*) ok "$1" ;;
    *) fail "$1: '$3' not in '$(printf '%.300s' "$2")'" ;;
    esac
}

# assert_not_contains NAME HAYSTACK NEEDLE
assert_not_contains() {
    case "$2" in
    *"$3"*) fail "$1: '$3' must not appear" ;;
    *) ok "$1" ;;
    esac
}

# assert_true NAME COMMAND...   (passes when the command exits 0)
assert_true() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else fail "$name: '$*' was false"; fi
}

# Ends the script: prints the counts and exits non-zero on any failure.
finish() {
    echo "$TEST_NAME: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
    [ "$T_FAIL" = 0 ]
    exit $?
}

# ---- privacy markers -------------------------------------------------------------------

# privacy_marker [PREFIX]: prints a fresh marker and records it for the log check.
privacy_marker() {
    local m
    m="${1:-pm}$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    echo "$m" >>"$LOG_DIR/privacy-markers.txt"
    echo "$m"
}

# privacy_secret VALUE: a token/key that must never appear in a log either.
privacy_secret() {
    [ -n "$1" ] && echo "$1" >>"$LOG_DIR/privacy-markers.txt"
}

# ---- start-up refusals ------------------------------------------------------------------

# expect_refusal NAME BINARY [VAR=value...]: runs a daemon that must refuse to start;
# sets R_EXIT and R_OUT (its output). Kills it after 20 s if it starts after all.
expect_refusal() {
    local name=$1 bin=$2
    shift 2
    T_DAEMON_SEQ=$((T_DAEMON_SEQ + 1))
    local logf="$LOG_DIR/$TEST_NAME.$name.$T_DAEMON_SEQ.log"
    R_EXIT=0
    (cd "$REPO_ROOT" && exec env HTTP_PORT="$(free_port)" ADMIN_PORT="$(free_port)" \
        HTTP_BIND=127.0.0.1 "$@" timeout -s KILL 20 "$bin") </dev/null >"$logf" 2>&1 || R_EXIT=$?
    R_OUT=$(cat "$logf")
}

# ---- bursts of clients -----------------------------------------------------------------

# burst_fire URL BODY_FILE: 12 clients POST the body at once and all are waited for; reply i
# (1..12) is in $T_TMP/b<i>.code, .hdr and .body.
burst_fire() {
    local i pids=()
    for i in $(seq 12); do
        curl -s -m 120 -o "$T_TMP/b$i.body" -D "$T_TMP/b$i.hdr" -w '%{http_code}' \
            -H 'Content-Type: application/json' --data-binary "@$2" "$1" >"$T_TMP/b$i.code" 2>/dev/null &
        pids+=($!)
    done
    wait "${pids[@]}" # not a bare wait: the daemons are children of this shell too
}

# shed_burst LABEL BODY_FILE N: sms-extraction under bursts of 12 batches of N messages,
# up to 3 bursts until both a 200 and a 503 are seen; checks that every request was answered
# 200 with all N records or 503 overloaded with Retry-After, and that both happened.
shed_burst() {
    local label=$1 body=$2 n=$3 total=0 n200=0 n503=0 other=0 bad200=0 retry_after=0 code_ok=0
    local round i c
    for round in 1 2 3; do
        burst_fire "$D_URL/api/extract" "$body"
        for i in $(seq 12); do
            total=$((total + 1))
            c=$(cat "$T_TMP/b$i.code")
            case "$c" in
            200)
                n200=$((n200 + 1))
                [ "$(jq '.extracted_sms_data | length' "$T_TMP/b$i.body" 2>/dev/null)" = "$n" ] ||
                    bad200=$((bad200 + 1))
                ;;
            503)
                n503=$((n503 + 1))
                grep -qi '^retry-after: *[0-9]' "$T_TMP/b$i.hdr" && retry_after=$((retry_after + 1))
                [ "$(jq -r .code "$T_TMP/b$i.body" 2>/dev/null)" = overloaded ] && code_ok=$((code_ok + 1))
                ;;
            *) other=$((other + 1)) ;;
            esac
        done
        [ "$n503" -gt 0 ] && [ "$n200" -gt 0 ] && break
    done
    echo "     $label: $total requests in $round round(s): $n200 x 200, $n503 x 503, $other other"
    assert_eq "$label: every request answered 200 or 503 (none lost)" 0 "$other"
    assert_true "$label: some requests were served (200)" [ "$n200" -gt 0 ]
    assert_true "$label: some requests were shed (503)" [ "$n503" -gt 0 ]
    assert_eq "$label: every 200 carries all $n records" 0 "$bad200"
    assert_eq "$label: every 503 has a Retry-After header" "$n503" "$retry_after"
    assert_eq "$label: every 503 has code overloaded" "$n503" "$code_ok"
}

# ---- PostgreSQL peer -------------------------------------------------------------------

# pg_ctl_peer start|stop: controls the throwaway cluster of scripts/peers.sh.
pg_ctl_peer() {
    local args=(-D "$PGDATA_DIR" -w -t 30)
    [ "$1" = start ] && args+=(-l "$PEERS_DIR/pg.log")
    [ "$1" = stop ] && args+=(-m fast)
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" "${args[@]}" "$1" >/dev/null
    else
        "$PGBIN/pg_ctl" "${args[@]}" "$1" >/dev/null
    fi
}

# psql_q DB SQL: one query, unaligned tuples only.
psql_q() {
    psql -X -q -v ON_ERROR_STOP=1 -At -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$1" -c "$2"
}
