#!/usr/bin/env bash
# A pristine Debian 12 root as a tarball: what a fresh server or container has, and a user
# who just cloned the repository (debootstrap --variant=minbase --include=ca-certificates,git
# bookworm, with bookworm-updates and bookworm-security added to its sources.list). The
# fresh-machine check (scripts/fresh-machine.sh) extracts a copy of it for each run, and the
# image build (scripts/images.sh) imports it as the build stage's base, so every use starts
# bare and neither needs a registry.
#
# Made once per build directory (a CI run starts from a fresh clone, so once per CI run) and
# reused while it is there; about 1.5 minutes on a quiet 2-core machine. BARE_ROOT_TAR=FILE
# starts from an existing pristine tarball of the same recipe instead (read, never written).
# Prints the tarball's path on stdout. Needs root and debootstrap (scripts/deps.sh).
# usage: scripts/bare-root.sh [OUT_TAR]   (default build/bare-root/bookworm-minbase-git.tar)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-$(pwd)/build/bare-root/bookworm-minbase-git.tar}
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security

[ -s "$OUT" ] && {
    echo "$OUT"
    exit 0
}
[ "$(id -u)" = 0 ] || {
    echo "bare-root: needs root (debootstrap, chroot)" >&2
    exit 1
}
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d "$(dirname "$OUT")/root.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
t0=$(date +%s)
if [ -n "${BARE_ROOT_TAR:-}" ]; then
    echo "bare-root: from $BARE_ROOT_TAR" >&2
    tar -C "$WORK" -xf "$BARE_ROOT_TAR"
else
    command -v debootstrap >/dev/null || {
        echo "bare-root: debootstrap not found (scripts/deps.sh installs it)" >&2
        exit 1
    }
    echo "bare-root: debootstrap --variant=minbase --include=ca-certificates,git bookworm" >&2
    debootstrap --variant=minbase --include=ca-certificates,git bookworm "$WORK" "$MIRROR" \
        >"$OUT.debootstrap.log" 2>&1 || {
        tail -n 20 "$OUT.debootstrap.log" >&2
        echo "bare-root: debootstrap failed (log: $OUT.debootstrap.log)" >&2
        exit 1
    }
fi
grep -q bookworm-security "$WORK/etc/apt/sources.list" || cat >>"$WORK/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
SOURCES
# No apt lists, no package cache: the root is what debootstrap leaves, nothing more.
rm -rf "$WORK"/var/lib/apt/lists/* "$WORK"/var/cache/apt/archives/*.deb
tar --numeric-owner -C "$WORK" -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
echo "bare-root: $OUT ($(du -m "$OUT" | cut -f1) MB) in $(($(date +%s) - t0)) s" >&2
echo "$OUT"
