# shellcheck shell=bash
# Helpers for the insights-api integration tests (tests/integration/test_ins_*.sh), on top of
# lib.sh (whose scripts/harness.sh starts the two daemons, makes and loads synthetic users
# and calls the API): the PostgreSQL settings of a test database.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# pg_env DB: the DI_POSTGRES_* assignments for database DB of the peer.
pg_env() {
    echo "DI_POSTGRES_HOST=$PGHOST DI_POSTGRES_PORT=$PGPORT DI_POSTGRES_USERNAME=$PGUSER" \
        "DI_POSTGRES_DATABASE=$1 DI_POSTGRES_SSLMODE=disable"
}

