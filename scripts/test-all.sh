#!/usr/bin/env bash
# Everything `make test` checks, in one run that keeps going after a failure so the report
# is complete:
#   source rules (scripts/checksrc.sh) and clang-format on the C sources
#   build, unit tests, integration tests against real PostgreSQL / CongoDB / S3
#   the same build, unit and integration tests under ASan + UBSan (make SAN=1)
#   valgrind --leak-check=full on a short daemon run (start, requests incl. bad ones, SIGTERM)
#   scripts/deps.sh's detection, the README's first command on a bare Debian 12 root, both
#   container images built and smoke-tested with podman (tests/install)
#   docs drift (scripts/gen-docs.sh --check), a short libFuzzer run per fuzz target
#   privacy: no SMS body or secret the tests sent appears in any daemon log of the run
# Ends with the line "tests: N passed, M failed" and exits non-zero on any failure.
# Env: JOBS (make -j, default: CPUs), FUZZ_SECONDS (default 10), SKIP_ASAN=1, SKIP_FUZZ=1,
# SKIP_FRESH_MACHINE=1, SKIP_IMAGES=1 (the last two refused under CI=true).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)
export REPO_ROOT
export SHARED_DIR=${SHARED_DIR:-$(cd .. && pwd)/shared}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
LOGS="$REPO_ROOT/build/test-logs"
rm -rf "$LOGS"
mkdir -p "$LOGS"
COUNTS_FILE="$LOGS/counts"
export COUNTS_FILE
: >"$COUNTS_FILE"
T0=$(date +%s)

section() { echo; echo "==== $* ($(($(date +%s) - T0)) s)"; }

# check NAME COMMAND...: one counted check; its output is shown only when it fails.
check() {
    local name=$1
    shift
    local out
    out="$LOGS/check-$(printf '%s' "$name" | tr -c 'A-Za-z0-9_-' '_' | cut -c1-60).out"
    if "$@" >"$out" 2>&1; then
        echo "ok   $name"
        echo "1 0" >>"$COUNTS_FILE"
    else
        echo "FAIL $name"
        tail -n 40 "$out" | sed 's/^/    /'
        echo "0 1" >>"$COUNTS_FILE"
        return 1
    fi
}

format_check() {
    local files
    files=$( (git ls-files '*.c' '*.h'; git ls-files --others --exclude-standard '*.c' '*.h') 2>/dev/null | sort -u)
    [ -z "$files" ] && return 0
    # shellcheck disable=SC2086
    clang-format --dry-run -Werror $files
}

section "source checks"
[ -x scripts/checksrc.sh ] && check "checksrc (SPDX, purpose comment, banned functions)" scripts/checksrc.sh
check "clang-format --dry-run -Werror" format_check
check "function complexity ceiling (pmccabe)" scripts/complexity.sh

section "build (build/)"
check "make all" make -j"$JOBS" BUILD=build all

section "peers: PostgreSQL 15, CongoDB, S3 (scripts/peers.sh)"
# Up once for the whole run, so unit tests that use a real server find it too; always down.
trap 'scripts/peers.sh down' EXIT
trap 'exit 130' INT TERM
if env_lines=$(scripts/peers.sh up); then
    eval "$env_lines"
    echo "peers up: PGPORT=$PGPORT MONGO_URI=$MONGO_URI S3_ENDPOINT=$S3_ENDPOINT"
else
    echo "FAIL peers did not start (the integration tests will try again)"
fi
section "unit tests (build/)"
LOG_DIR="$LOGS/unit" scripts/run-unit.sh build
section "integration tests (build/)"
LOG_DIR="$LOGS/integration" scripts/run-integration.sh build

if [ "${SKIP_ASAN:-}" != 1 ]; then
    section "build under ASan + UBSan (build-asan/)"
    if check "make SAN=1 all" make -j"$JOBS" SAN=1 BUILD=build-asan all; then
        export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=23}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
        section "unit tests under ASan + UBSan"
        LOG_DIR="$LOGS/unit-asan" scripts/run-unit.sh build-asan
        section "integration tests under ASan + UBSan"
        # Under the sanitizers the daemon is slower; the tests assert no timings.
        LOG_DIR="$LOGS/integration-asan" scripts/run-integration.sh build-asan
        unset ASAN_OPTIONS UBSAN_OPTIONS
    fi
fi

section "valgrind on a short daemon run"
check "valgrind --leak-check=full: sms-extraction start, requests, SIGTERM" \
    scripts/valgrind-run.sh build "$LOGS/valgrind"
check "valgrind --leak-check=full: insights-api start, requests, SIGTERM" \
    scripts/valgrind-insights.sh build "$LOGS/valgrind-insights"

section "install: deps detection, the README on a bare Debian 12 root, container images (tests/install)"
# Minutes: the bare root downloads every package, the images are built. Without root or podman
# a user's run prints SKIP lines with the reason (SKIP_FRESH_MACHINE=1, SKIP_IMAGES=1 leave
# them out); under CI=true they never skip.
TESTS_DIR=tests/install INTEGRATION_TIMEOUT=${INSTALL_TIMEOUT:-3600} LOG_DIR="$LOGS/install" \
    scripts/run-integration.sh build

section "deploy: Dockerfiles, compose, k8s overlays, alerts, OpenAPI (scripts/check-deploy.sh)"
check "deploy checks (offline validation of everything ops runs)" scripts/check-deploy.sh build

section "docs drift"
check "docs match the binaries (scripts/gen-docs.sh --check)" scripts/gen-docs.sh build --check

if [ "${SKIP_FUZZ:-}" != 1 ]; then
    section "fuzzing (${FUZZ_SECONDS:-10} s per target)"
    FUZZ_SECONDS=${FUZZ_SECONDS:-10} scripts/fuzz.sh
fi

section "privacy: no SMS body or secret in any daemon log"
privacy_check() {
    local markers logs
    markers=$(mktemp)
    cat "$LOGS"/*/privacy-markers.txt "$LOGS"/*/*/privacy-markers.txt 2>/dev/null | grep . | sort -u >"$markers"
    logs=$(find "$LOGS" -name '*.log' -type f)
    echo "$(wc -l <"$markers") markers, $(echo "$logs" | grep -c .) daemon logs"
    if [ ! -s "$markers" ] || [ -z "$logs" ]; then
        echo "nothing to check: no markers or no logs (did the integration tests run?)"
        rm -f "$markers"
        return 1
    fi
    # shellcheck disable=SC2086
    if grep -F -l -f "$markers" $logs; then
        echo "the files above contain a body or secret the tests sent"
        rm -f "$markers"
        return 1
    fi
    rm -f "$markers"
}
check "privacy check over every daemon log" privacy_check

# Totals.
read -r pass failn < <(awk '{p += $1; f += $2} END {print p + 0, f + 0}' "$COUNTS_FILE")
section "done"
echo "logs: $LOGS"
echo "tests: $pass passed, $failn failed"
[ "$failn" = 0 ] && [ "$pass" -gt 0 ]
