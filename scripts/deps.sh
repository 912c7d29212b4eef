#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need on a fresh Debian 12 machine,
# and nothing when it is all there (one dpkg-query and one stamp check: well under a second).
#
#   Debian packages  compilers, the C libraries, PostgreSQL 15, valgrind, wrk, node ...
#   npm test peers   CongoDB (MongoDB wire protocol) and an S3 server that verifies SigV4,
#                    pinned in tests/peers/package-lock.json, installed into .deps/peers
#                    (gitignored). CongoDB ships inside @push.rocks/smartmongo@2.2.0, whose
#                    own dependency list does not resolve on the registry, so its tarball is
#                    unpacked by hand after an integrity check and only CongoDB's real
#                    dependencies are installed.
#
# Safe to run again and again; CI runs it first (.ci/run). Needs root (or sudo) only when
# a Debian package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)

APT_PKGS=(build-essential pkg-config make git
    libevent-dev libpq-dev libmongoc-dev libbson-dev libpcre2-dev libjansson-dev
    libcurl4-openssl-dev libssl-dev libcmocka-dev
    clang clang-format libclang-rt-14-dev valgrind pmccabe
    postgresql postgresql-15 postgresql-client-15
    python3 wrk hyperfine curl ca-certificates jq procps util-linux
    yamllint docker-compose prometheus python3-sklearn)

SMARTMONGO=@push.rocks/smartmongo@2.2.0
SMARTMONGO_TGZ=push.rocks-smartmongo-2.2.0.tgz
SMARTMONGO_SHA512=ovVCNoJ3D0aBuKtoKaQWWQKvBngaGJq9fAPQigzji1EHsS1XyGpXWCpe5nq/ptGvBROOcpqZcOFEGAcrnb+OjA==

say() { echo "deps: $*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        say "need root to run: $*" >&2
        return 1
    fi
}

missing_apt() {
    local pkgs=("${APT_PKGS[@]}")
    # node/npm may come from another Debian repository (the nodesource build bundles npm,
    # and Debian's npm package conflicts with it): only ask apt when they are absent.
    command -v node >/dev/null || pkgs+=(nodejs)
    command -v npm >/dev/null || pkgs+=(npm)
    local installed
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${pkgs[@]}" 2>/dev/null |
        awk '$2 ~ /^ii/ { print $1 }')
    local p
    for p in "${pkgs[@]}"; do
        grep -qx "$p" <<<"$installed" || echo "$p"
    done
}

install_apt() {
    local missing
    mapfile -t missing < <(missing_apt)
    [ "${#missing[@]}" = 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    # Installing the postgresql package would create and start a cluster on 5432; the tests
    # run their own throwaway cluster, so keep the packaged one from starting.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        added_policy=1
    fi
    local rc=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || rc=$?
    if [ "$rc" = 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >/tmp/deps-apt.log 2>&1 || rc=$?
    fi
    [ "$added_policy" = 1 ] && as_root rm -f "$policy"
    if [ "$rc" != 0 ]; then
        tail -n 20 /tmp/deps-apt.log >&2 || true
        say "apt-get failed (exit $rc)" >&2
        return "$rc"
    fi
}

peers_stamp() {
    cat tests/peers/package.json tests/peers/package-lock.json
    echo "$SMARTMONGO $SMARTMONGO_SHA512"
    node --version
}

install_peers() {
    local dir="$REPO_ROOT/.deps/peers"
    local want
    want=$(peers_stamp | sha256sum | cut -d' ' -f1)
    if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ] &&
        [ -f "$dir/vendor/smartmongo/dist_ts/congodb/index.js" ] &&
        [ -d "$dir/node_modules/@20minutes/s3rver" ]; then
        return 0
    fi
    say "installing npm test peers into .deps/peers"
    rm -rf "$dir"
    mkdir -p "$dir/vendor"
    cp tests/peers/package.json tests/peers/package-lock.json "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config' || true)
    [ -d "$dir/node_modules/@20minutes/s3rver" ] || {
        say "npm ci failed" >&2
        return 1
    }
    (cd "$dir/vendor" && npm pack "$SMARTMONGO" --loglevel=error 2>&1 | grep -v 'Unknown user config' >/dev/null || true)
    local got
    got=$(openssl dgst -sha512 -binary "$dir/vendor/$SMARTMONGO_TGZ" | base64 -w0)
    if [ "$got" != "$SMARTMONGO_SHA512" ]; then
        say "$SMARTMONGO_TGZ: integrity mismatch (got sha512-$got)" >&2
        return 1
    fi
    mkdir -p "$dir/vendor/smartmongo"
    tar xzf "$dir/vendor/$SMARTMONGO_TGZ" -C "$dir/vendor/smartmongo" --strip-components=1
    rm -f "$dir/vendor/$SMARTMONGO_TGZ"
    echo "$want" >"$dir/.stamp"
}

install_apt
install_peers
say "ok"
