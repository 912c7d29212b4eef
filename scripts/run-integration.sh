#!/usr/bin/env bash
# Runs every tests/integration/test_*.sh against real peers: brings PostgreSQL, CongoDB and
# the S3 server up (scripts/peers.sh) unless they already run, exports the env contract,
# runs each script, and takes the peers it started down again even when a script fails or
# the run is interrupted. A script passes
# when it exits 0; its "ok"/"FAIL" lines are counted. Ends with
# "integration: N passed, M failed"; exits non-zero on any failure.
# usage: scripts/run-integration.sh [BUILD_DIR] [test-name-filter]
#        (COUNTS_FILE=f appends "N M"; LOG_DIR defaults to BUILD/test-logs/integration;
#        TESTS_DIR=tests/install runs that directory's test_*.sh instead, the same way)
set -uo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || {
    echo "run-integration: no build dir '${1:-build}'" >&2
    exit 1
}
filter=${2:-}
TESTS_DIR=${TESTS_DIR:-tests/integration}
KIND=$(basename "$TESTS_DIR")
export BUILD REPO_ROOT
export SHARED_DIR=${SHARED_DIR:-$(cd .. && pwd)/shared}
export LOG_DIR=${LOG_DIR:-$BUILD/test-logs/$KIND}
mkdir -p "$LOG_DIR"

# Reuse peers a caller already runs (scripts/test-all.sh does, for unit and integration
# tests alike); otherwise start them here and always take them down again.
if ! env_lines=$(scripts/peers.sh env 2>/dev/null); then
    trap 'scripts/peers.sh down' EXIT
    trap 'exit 130' INT TERM
    env_lines=$(scripts/peers.sh up) || {
        echo "FAIL $KIND: peers did not start"
        echo "$KIND: 0 passed, 1 failed"
        [ -n "${COUNTS_FILE:-}" ] && echo "0 1" >>"$COUNTS_FILE"
        exit 1
    }
fi
eval "$env_lines"

pass=0
failn=0
for t in "$TESTS_DIR"/test_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    case "$name" in *"$filter"*) ;; *) continue ;; esac
    out="$LOG_DIR/$name.out"
    start=$(date +%s)
    rc=0
    timeout -s KILL "${INTEGRATION_TIMEOUT:-300}" bash "$t" >"$out" 2>&1 || rc=$?
    cat "$out"
    p=$(grep -c '^ok ' "$out")
    f=$(grep -c '^FAIL ' "$out")
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1
        echo "FAIL $name: exited $rc without a FAIL line (see $out)"
    fi
    if [ "$rc" = 0 ] && [ "$f" != 0 ]; then
        echo "FAIL $name: printed FAIL lines but exited 0"
    fi
    echo "---- $name: exit $rc, $(($(date +%s) - start)) s"
    pass=$((pass + p))
    failn=$((failn + f))
done
echo "$KIND: $pass passed, $failn failed"
[ -n "${COUNTS_FILE:-}" ] && echo "$pass $failn" >>"$COUNTS_FILE"
[ "$failn" = 0 ]
