#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need on a Debian 12 machine, bare
# ones included (debootstrap minbase plus git: no make, no compiler), and nothing when it is
# all there (one dpkg-query, the rest in bash: well under a second).
#
#   Debian packages  make, compilers, the C libraries, PostgreSQL 15, valgrind, wrk, node,
#                    podman/buildah/debootstrap (image and fresh-machine checks), a kustomize
#                    renderer (the machine's kubectl, else Debian's kubernetes-client 1.20) ...
#   npm test peers   CongoDB (MongoDB wire protocol) and an S3 server that verifies SigV4,
#                    pinned in tests/peers/package-lock.json, installed into .deps/peers
#                    (gitignored). CongoDB ships inside @push.rocks/smartmongo@2.2.0, whose
#                    own dependency list does not resolve on the registry, so its tarball is
#                    unpacked by hand after an integrity check and only CongoDB's real
#                    dependencies are installed.
#   npm deploy tools the pinned validators of scripts/check-deploy.sh (tests/deploy), into
#                    .deps/deploy.
#
# usage: scripts/deps.sh            install what is missing, saying what
#        scripts/deps.sh --check    install nothing: list what is missing, exit 1 if anything is
# DEPS_EXTRA_APT="pkg ..." adds Debian packages to the required list (the tests use it to
# feed the detection a package that does not exist).
#
# Safe to run again and again; scripts/make.sh runs it before make, CI through that.
# Needs root (or sudo) only when a Debian package is missing. When it cannot tell what is
# installed (no dpkg-query, dpkg-query failing) it stops with the reason instead of guessing.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)

APT_PKGS=(build-essential pkg-config make git
    libevent-dev libpq-dev libmongoc-dev libbson-dev libpcre2-dev libjansson-dev
    libcurl4-openssl-dev libssl-dev libcmocka-dev
    clang clang-format libclang-rt-14-dev valgrind pmccabe
    postgresql postgresql-15 postgresql-client-15
    python3 wrk hyperfine curl ca-certificates jq procps util-linux openssl
    yamllint docker-compose prometheus python3-sklearn
    podman buildah runc debootstrap)
# shellcheck disable=SC2206
APT_PKGS+=(${DEPS_EXTRA_APT:-})

SMARTMONGO=@push.rocks/smartmongo@2.2.0
SMARTMONGO_TGZ=push.rocks-smartmongo-2.2.0.tgz
SMARTMONGO_SHA512=ovVCNoJ3D0aBuKtoKaQWWQKvBngaGJq9fAPQigzji1EHsS1XyGpXWCpe5nq/ptGvBROOcpqZcOFEGAcrnb+OjA==
PEERS_DIR=$REPO_ROOT/.deps/peers
DEPLOY_DIR=$REPO_ROOT/.deps/deploy

say() { echo "deps: $*"; }
die() {
    echo "deps: $*" >&2
    exit 1
}

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

# The quick path (everything installed) is what every `scripts/make.sh` pays: it forks one
# dpkg-query and nothing else, since on a busy machine each process costs a tenth of a second.

# WANTED: the Debian packages to require on this machine: the fixed list, plus node/npm and
# a kustomize renderer when the machine has none from elsewhere.
wanted_apt() {
    WANTED=("${APT_PKGS[@]}")
    # node/npm may come from another Debian repository (the nodesource build bundles npm,
    # and Debian's npm package conflicts with it): only ask apt when they are absent.
    command -v node >/dev/null || WANTED+=(nodejs)
    command -v npm >/dev/null || WANTED+=(npm)
    # Any kubectl renders the overlays (Google Cloud SDK's, upstream's); Debian 12 has
    # kubernetes-client 1.20, whose kustomize the overlays are written for (k8s/).
    command -v kubectl >/dev/null || WANTED+=(kubernetes-client)
}

# MISSING: the wanted packages that are not installed. Returns non-zero (with the reason on
# stderr) when it cannot tell.
missing_apt() {
    local status rc=0 name abbrev p
    local -A installed=()
    MISSING=()
    wanted_apt
    command -v dpkg-query >/dev/null || {
        echo "dpkg-query not found: this script knows Debian's packages only" >&2
        return 2
    }
    # dpkg-query exits 1 when some package is not known to dpkg: exactly the packages we look
    # for. Any other non-zero exit means it could not read its database: ask again for the
    # message (only on that path, to keep the quick path at one process).
    status=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${WANTED[@]}" 2>/dev/null) || rc=$?
    if [ "$rc" -gt 1 ]; then
        echo "dpkg-query failed (exit $rc): $(dpkg-query -W "${WANTED[@]}" 2>&1 >/dev/null | head -c 300)" >&2
        return 2
    fi
    # Installed = the status letter (second of the abbreviation) is "i"; "un", "rc", half
    # installed or unpacked packages count as missing.
    while read -r name abbrev; do
        [ "${abbrev:1:1}" = i ] && installed[$name]=1
    done <<<"$status"
    for p in "${WANTED[@]}"; do
        [ -n "${installed[$p]:-}" ] || [[ " ${MISSING[*]} " == *" $p "* ]] || MISSING+=("$p")
    done
}

install_apt() {
    local missing
    missing_apt || die "cannot tell which Debian packages are installed"
    [ "${#MISSING[@]}" = 0 ] && return 0
    missing=("${MISSING[@]}")
    say "installing Debian packages: ${missing[*]}"
    # Installing the postgresql package would create and start a cluster on 5432; the tests
    # run their own throwaway cluster, so keep the packaged one from starting.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        added_policy=1
    fi
    local rc=0 log=/tmp/deps-apt.log
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >>"$log" 2>&1 || rc=$?
    fi
    [ "$added_policy" = 1 ] && as_root rm -f "$policy"
    if [ "$rc" != 0 ]; then
        tail -n 20 "$log" >&2 || true
        die "apt-get failed (exit $rc; whole log: $log)"
    fi
    # Check the result rather than trust apt's exit status.
    missing_apt || die "cannot tell which Debian packages are installed"
    [ "${#MISSING[@]}" = 0 ] || die "still missing after apt-get install: ${MISSING[*]}"
    say "installed ${#missing[@]} Debian packages"
}

# What the installed peers depend on: the pinned lists (npm ci leaves copies of them in
# .deps/peers), the smartmongo tarball and the node binary (by path, and not newer than the
# stamp). Compared in bash, without a process.
peers_want() { echo "$(command -v node) $SMARTMONGO $SMARTMONGO_SHA512"; }

same_file() { [ -f "$1" ] && [ -f "$2" ] && [ "$(<"$1")" = "$(<"$2")" ]; }

peers_current() {
    local node
    node=$(command -v node) || return 1
    [ -f "$PEERS_DIR/.stamp" ] && [ "$(<"$PEERS_DIR/.stamp")" = "$(peers_want)" ] &&
        [ ! "$node" -nt "$PEERS_DIR/.stamp" ] &&
        same_file tests/peers/package.json "$PEERS_DIR/package.json" &&
        same_file tests/peers/package-lock.json "$PEERS_DIR/package-lock.json" &&
        [ -f "$PEERS_DIR/vendor/smartmongo/dist_ts/congodb/index.js" ] &&
        [ -d "$PEERS_DIR/node_modules/@20minutes/s3rver" ]
}

install_peers() {
    peers_current && return 0
    local dir=$PEERS_DIR
    say "installing npm test peers into .deps/peers"
    rm -rf "$dir"
    mkdir -p "$dir/vendor"
    cp tests/peers/package.json tests/peers/package-lock.json "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$dir/npm.log" 2>&1) || {
        tail -n 20 "$dir/npm.log" >&2
        die "npm ci of tests/peers failed"
    }
    (cd "$dir/vendor" && npm pack "$SMARTMONGO" --loglevel=error >>"$dir/npm.log" 2>&1) ||
        die "npm pack $SMARTMONGO failed (log: $dir/npm.log)"
    local got
    got=$(openssl dgst -sha512 -binary "$dir/vendor/$SMARTMONGO_TGZ" | base64 -w0)
    [ "$got" = "$SMARTMONGO_SHA512" ] || die "$SMARTMONGO_TGZ: integrity mismatch (got sha512-$got)"
    mkdir -p "$dir/vendor/smartmongo"
    tar xzf "$dir/vendor/$SMARTMONGO_TGZ" -C "$dir/vendor/smartmongo" --strip-components=1
    rm -f "$dir/vendor/$SMARTMONGO_TGZ"
    peers_want >"$dir/.stamp"
}

# scripts/check-deploy.sh installs these itself too; the same test (lock file unchanged).
deploy_tools_current() {
    [ -d "$DEPLOY_DIR/node_modules" ] &&
        same_file tests/deploy/package-lock.json "$DEPLOY_DIR/.installed-lock.json"
}

install_deploy_tools() {
    deploy_tools_current && return 0
    say "installing npm deploy tools into .deps/deploy"
    scripts/check-deploy.sh --deps-only || die "npm ci of tests/deploy failed"
}

check_only() {
    local n=0
    missing_apt || die "cannot tell which Debian packages are installed"
    if [ "${#MISSING[@]}" != 0 ]; then
        say "missing Debian packages: ${MISSING[*]}"
        n=${#MISSING[@]}
    fi
    peers_current || {
        say "missing: npm test peers (.deps/peers, tests/peers/package-lock.json)"
        n=$((n + 1))
    }
    deploy_tools_current || {
        say "missing: npm deploy tools (.deps/deploy, tests/deploy/package-lock.json)"
        n=$((n + 1))
    }
    if [ "$n" != 0 ]; then
        say "$n missing (scripts/deps.sh installs them)"
        exit 1
    fi
    say "nothing missing"
}

case "${1:-}" in
--check)
    check_only
    ;;
"")
    install_apt
    install_peers
    install_deploy_tools
    say "ok"
    ;;
*)
    die "usage: scripts/deps.sh [--check]"
    ;;
esac
