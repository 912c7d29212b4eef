#!/usr/bin/env bash
# A daemon's log is JSON from its first line, also when a process killed with SIGKILL left
# /dev/shm/mongoc-<pid> behind for a pid the daemon now gets: libmongoc, initialised when
# the library loads (before main), would print "Falling back to malloc for counters." as
# plain text (docs/operations.md). sms-extraction must not load libmongoc at all (the ASan
# build used to: Debian's gcc drops --as-needed under -fsanitize); insights-api runs with
# MONGOC_DISABLE_SHM=1 as its image sets it. The stale file is planted for the very pid the
# binary runs as: the shell's own, which exec keeps.
source "$(dirname "$0")/lib.sh"

# stderr_with_stale_shm BIN [NAME=value...]: what BIN --version prints on stderr when
# /dev/shm/mongoc-<its pid> already exists (MONGOC_DISABLE_SHM unset unless given).
stderr_with_stale_shm() {
    local bin=$1 out
    shift
    out=$(env -u MONGOC_DISABLE_SHM "$@" bash -c \
        'echo $$ >"$1"; : >"/dev/shm/mongoc-$$"; exec "$0" --version 2>&1 >/dev/null' \
        "$bin" "$T_TMP/pid")
    rm -f "/dev/shm/mongoc-$(cat "$T_TMP/pid")"
    printf '%s' "$out"
}

if [ ! -w /dev/shm ]; then
    skip "no writable /dev/shm here: nothing can be planted"
    finish
fi

assert_true "sms-extraction does not load libmongoc ($BUILD)" \
    bash -c "! readelf -d '$BUILD/sms-extraction' | grep -q 'NEEDED.*libmongoc'"
assert_eq "sms-extraction: nothing on stderr with a stale /dev/shm/mongoc-<pid>" "" \
    "$(stderr_with_stale_shm "$BUILD/sms-extraction")"

# The hazard itself, with this machine's libmongoc: shown, not required (a libmongoc
# without load-time init would not print it, and that would be fine).
bare=$(stderr_with_stale_shm "$BUILD/insights-api")
case "$bare" in
*"Falling back to malloc for counters"*) ok "insights-api without MONGOC_DISABLE_SHM: libmongoc prints its plain-text warning (the hazard is real here)" ;;
*) skip "this libmongoc prints nothing on a stale counters file" ;;
esac

# The value the image sets, read from its Dockerfile: removing it fails here.
value=$(sed -n 's/^ *MONGOC_DISABLE_SHM=\([^ ]*\).*/\1/p' "$REPO_ROOT/deploy/insights-api.Dockerfile")
assert_eq "deploy/insights-api.Dockerfile sets MONGOC_DISABLE_SHM=1" 1 "$value"
assert_eq "insights-api with MONGOC_DISABLE_SHM=$value: nothing on stderr" "" \
    "$(stderr_with_stale_shm "$BUILD/insights-api" MONGOC_DISABLE_SHM="$value")"
finish
