# shellcheck shell=bash
# Helpers for the insights-api integration tests (tests/integration/test_ins_*.sh), on top of
# lib.sh (whose scripts/harness.sh starts the two daemons, makes and loads synthetic users
# and calls the API): the PostgreSQL settings of a test database, and a database of its own.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# pg_env DB: the DI_POSTGRES_* assignments for database DB of the peer.
pg_env() {
    echo "DI_POSTGRES_HOST=$PGHOST DI_POSTGRES_PORT=$PGPORT DI_POSTGRES_USERNAME=$PGUSER" \
        "DI_POSTGRES_DATABASE=$1 DI_POSTGRES_SSLMODE=disable"
}


# use_database DB: creates DB on the peer (the test ends at once if it cannot) and points
# insights-api at it: the DI_POSTGRES_* settings and a TOKEN_PEPPER exported, T_DB set, and
# q SQL running one query there.
use_database() {
    T_DB=$1
    psql_q postgres "CREATE DATABASE $T_DB" || {
        fail "could not create database $T_DB"
        finish
    }
    # shellcheck disable=SC2046
    export $(pg_env "$T_DB")
    export TOKEN_PEPPER=pepper-$$
}

q() { psql_q "$T_DB" "$1"; }
