#!/usr/bin/env bash
# insights-api's PostgreSQL layer against the real PostgreSQL 15 peer: runs the store, jobs
# and clients cmocka binaries with PG_CONNINFO set (each creates and drops its own database,
# so they never see each other's rows), then checks that what they leave behind is clean:
# no test database survives. One "ok"/"FAIL" line per binary.
source "$(dirname "$0")/lib.sh"

: "${PG_CONNINFO:?run through scripts/run-integration.sh (needs the PostgreSQL peer)}"

for t in test_store test_jobs test_clients; do
    bin="$BUILD/tests/insights-api/$t"
    if [ ! -x "$bin" ]; then
        fail "$t: $bin not built (make BUILD=... $bin)"
        continue
    fi
    out="$LOG_DIR/$TEST_NAME.$t.out"
    if (cd "$REPO_ROOT" && PG_CONNINFO="$PG_CONNINFO" REPO_ROOT="$REPO_ROOT" \
        timeout -s KILL 240 "$bin") >"$out" 2>&1; then
        passed=$(grep -c '^\[       OK \]' "$out")
        skipped=$(grep -c '^\[  SKIPPED \] test_' "$out")
        if [ "$skipped" != 0 ] || [ "$passed" = 0 ]; then
            fail "$t: $passed passed but $skipped skipped with PG_CONNINFO set (see $out)"
        else
            ok "$t: $passed cmocka tests passed against PostgreSQL"
        fi
    else
        fail "$t: $(grep -E 'FAILED|ERROR|error' "$out" | head -n 3 | tr '\n' ' ') (see $out)"
    fi
done

left=$(psql_q postgres "SELECT count(*) FROM pg_database WHERE datname ~ '^t_(store|jobs|clients)_'")
assert_eq "every test database was dropped" 0 "$left"
finish
