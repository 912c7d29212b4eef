#!/usr/bin/env bash
# Runs every benchmark: each build/bench/* binary (cwd = repo root, REPO_ROOT and SHARED_DIR
# set, like the unit tests) and each bench/*.sh script, with a header per bench. Builds
# first. Figures are printed, never asserted.
# usage: scripts/bench.sh [BUILD_DIR] [name-filter]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
filter=${2:-}
export REPO_ROOT=$(pwd)
export SHARED_DIR=${SHARED_DIR:-$(cd .. && pwd)/shared}
export BUILD
make -s -j"$(nproc 2>/dev/null || echo 2)" BUILD="$BUILD" all >/dev/null || {
    echo "bench: build failed (make BUILD=$BUILD all)"
    exit 1
}
rc=0
echo "bench: $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs, $(uname -m), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
for b in "$BUILD"/bench/*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    case "$(basename "$b")" in *"$filter"*) ;; *) continue ;; esac
    echo
    echo "==== $(basename "$b") ($b)"
    "$b" || {
        echo "bench: $(basename "$b") exited $?"
        rc=1
    }
done
for s in bench/*.sh; do
    [ -f "$s" ] || continue
    case "$(basename "$s" .sh)" in *"$filter"*) ;; *) continue ;; esac
    echo
    echo "==== $(basename "$s") ($s)"
    bash "$s" "$BUILD" || {
        echo "bench: $s exited $?"
        rc=1
    }
done
exit $rc
