#!/usr/bin/env bash
# Runs every unit-test binary under BUILD/tests/*/ (cmocka), each with cwd = the repo root
# and REPO_ROOT / SHARED_DIR set, as the tests expect. Counts cmocka's test cases (a binary
# whose summary cannot be read counts as one test) and ends with
# "unit: N passed, M failed"; exits non-zero on any failure.
# usage: scripts/run-unit.sh [BUILD_DIR]     (default build; COUNTS_FILE=f appends "N M")
set -uo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || {
    echo "run-unit: no build dir '${1:-build}'" >&2
    exit 1
}
export REPO_ROOT
export SHARED_DIR=${SHARED_DIR:-$(cd .. && pwd)/shared}
LOG_DIR=${LOG_DIR:-$BUILD/test-logs}
mkdir -p "$LOG_DIR/unit"
pass=0
failn=0
found=0
for t in "$BUILD"/tests/*/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    found=$((found + 1))
    rel=${t#"$BUILD"/tests/}
    out="$LOG_DIR/unit/${rel//\//_}.out"
    rc=0
    timeout -s KILL "${UNIT_TIMEOUT:-300}" "$t" >"$out" 2>&1 || rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1 # crashed, or failed outside cmocka's accounting
    fi
    if [ "$p" = 0 ] && [ "$f" = 0 ]; then
        p=1 # no cmocka summary but exit 0
    fi
    pass=$((pass + p))
    failn=$((failn + f))
    if [ "$rc" = 0 ]; then
        echo "ok   unit $rel ($p passed)"
        grep '^SKIP' "$out" | sed 's/^/    /'
    else
        echo "FAIL unit $rel (exit $rc): output follows"
        grep -v '^\[ RUN      \]\|^\[       OK \]' "$out" | tail -n 40 | sed 's/^/    /'
    fi
done
[ "$found" = 0 ] && echo "unit: no test binaries under $BUILD/tests"
echo "unit: $pass passed, $failn failed"
[ -n "${COUNTS_FILE:-}" ] && echo "$pass $failn" >>"$COUNTS_FILE"
[ "$failn" = 0 ]
