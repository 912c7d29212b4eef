# shellcheck shell=bash
# Helpers for tests/install/test_*.sh (the install, bare-machine and image checks), on top of
# tests/integration/ins_lib.sh and lib.sh (ok/fail/skip, free ports, HTTP, privacy markers,
# synthetic borrowers).
# shellcheck source=../integration/ins_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/ins_lib.sh"

# prereq_missing REASON: what a test needs is not here. A user's `make test` skips the test
# with the reason; under CI=true it is a failure, so CI never skips it silently.
prereq_missing() {
    if [ "${CI:-}" = true ]; then
        fail "$1 (CI=true: this check never skips in CI)"
    else
        skip "$1"
    fi
    finish
}

# skip_requested VAR: the user set VAR=1 to leave this test out (refused under CI=true).
skip_requested() {
    [ "${!1:-}" = 1 ] || return 0
    prereq_missing "$1=1"
}

# readme_command N: the README's Nth command (1: the demo, 2: all tests), word for word: the
# Nth line of the first ```sh block that does not start with a blank, without its comment.
readme_command() {
    awk -v n="$1" '/^```sh$/ { inb = 1; next } inb && /^```/ { exit }
        inb && /^[^ \t#]/ { if (++k == n) { sub(/[ \t]*#.*$/, ""); print; exit } }' \
        "$REPO_ROOT/README.md"
}
