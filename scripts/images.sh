#!/usr/bin/env bash
# Builds both container images with podman the way CI does (docs/deployment.md):
#   1. the build stage's base is a pristine Debian 12 root (scripts/bare-root.sh), imported
#      into podman's store as localhost/sms-insights-base:bookworm (no registry needed);
#   2. deploy/sms-extraction.Dockerfile, then deploy/insights-api.Dockerfile; their build
#      stages are the same, so the second reuses the first one's cached compile;
#   3. prints each image's uncompressed size (podman image inspect).
# podman 4.3 (Debian 12) traps, see ../shared/reference/test-infrastructure.md section 10:
# `--isolation chroot` (the default fails on cgroups), `--format docker` (the OCI format
# drops HEALTHCHECK).
# usage: scripts/images.sh [TAG]      (default dev: localhost/sms-extraction:dev, ...)
# Env: BASE_IMAGE=NAME:TAG uses that image as the build stage's base instead of the bare root.
# Needs root (debootstrap, podman's store) and podman/buildah (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-dev}
BASE_NAME=localhost/sms-insights-base:bookworm

say() { echo "images: $*"; }
die() {
    echo "images: $*" >&2
    exit 1
}

command -v podman >/dev/null || die "podman not found (scripts/deps.sh installs it)"

# The two build stages must stay the same, or "one compile" silently becomes two.
build_stage() { sed -n '/^FROM ${BASE}:${BASE_TAG} AS build$/,/^$/p' "$1"; }
[ -n "$(build_stage deploy/sms-extraction.Dockerfile)" ] &&
    [ "$(build_stage deploy/sms-extraction.Dockerfile)" = "$(build_stage deploy/insights-api.Dockerfile)" ] ||
    die "the build stages of deploy/sms-extraction.Dockerfile and deploy/insights-api.Dockerfile differ"

import_base() {
    local tar id want
    tar=$(scripts/bare-root.sh) || die "no bare root"
    # Re-import only when the tarball changed (a new CI run makes a new one).
    want="$(stat -c '%s-%Y' "$tar")"
    id=$(podman image inspect --format '{{index .Labels "org.sms-insights.root"}}' "$BASE_NAME" 2>/dev/null || true)
    if [ "$id" = "$want" ]; then
        return 0
    fi
    say "importing $tar as $BASE_NAME"
    podman import --change 'CMD ["bash"]' --change "LABEL org.sms-insights.root=$want" \
        "$tar" "$BASE_NAME" >build/images/import.log 2>&1 || {
        tail -n 20 build/images/import.log >&2
        die "podman import of $tar failed"
    }
}

build() { # NAME
    local t0=$SECONDS log=build/images/$1.build.log
    say "building localhost/$1:$TAG (log: $log)"
    podman build --isolation chroot --format docker --network host \
        --build-arg BASE="${BASE%:*}" --build-arg BASE_TAG="${BASE##*:}" -f "deploy/$1.Dockerfile" -t "localhost/$1:$TAG" . >"$log" 2>&1 || {
        tail -n 30 "$log" >&2
        die "podman build of deploy/$1.Dockerfile failed"
    }
    say "built localhost/$1:$TAG in $((SECONDS - t0)) s"
}

mkdir -p build/images
if [ -n "${BASE_IMAGE:-}" ]; then
    BASE=$BASE_IMAGE
else
    import_base
    BASE=$BASE_NAME
fi
build sms-extraction
build insights-api
# The second build's compile step must come from the cache of the first.
if grep -A1 'RUN make ' build/images/insights-api.build.log | grep -q 'Using cache'; then
    say "insights-api reused the compile of sms-extraction (one compile for both images)"
else
    die "insights-api compiled again: the shared build stage was not reused (see build/images/insights-api.build.log)"
fi
for n in sms-extraction insights-api; do
    size=$(podman image inspect --format '{{.Size}}' "localhost/$n:$TAG")
    say "localhost/$n:$TAG: $size bytes ($((size / 1000000)) MB) uncompressed"
done
