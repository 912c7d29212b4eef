#!/usr/bin/env bash
# scripts/deps.sh's detection, the part that once reported nothing missing on any machine
# (dpkg-query exits 1 for an unknown package, and under `set -e` that killed the listing):
#   a package that does not exist is reported missing and --check exits 1;
#   an installed package (dpkg itself) is not reported;
#   when dpkg-query is absent, or fails the way a broken database does (exit 2), deps.sh
#   says it cannot tell and exits non-zero instead of reporting nothing.
# Installs nothing (only --check runs).
source "$(dirname "$0")/install_lib.sh"
cd "$REPO_ROOT" || exit 1
TMP=$T_TMP

# A name that cannot be a Debian package (upper case is not allowed in package names) and
# one that surely is installed on any Debian machine.
BOGUS=no-such-package-SMSINSIGHTS-$$
out=$(DEPS_EXTRA_APT="$BOGUS dpkg" bash scripts/deps.sh --check 2>&1)
rc=$?
if [ "$rc" = 1 ] && grep "^deps: missing Debian packages:" <<<"$out" | grep -qw -- "$BOGUS"; then
    ok "deps --check reports the package that does not exist, exit 1"
else
    fail "deps --check with $BOGUS: exit $rc, output: $out"
fi
if grep "^deps: missing Debian packages:" <<<"$out" | grep -qw dpkg; then
    fail "deps --check reports dpkg (installed) as missing: $out"
else
    ok "deps --check does not report an installed package (dpkg)"
fi

# dpkg-query failing (exit 2: cannot read its database): a loud failure, not "nothing missing".
mkdir -p "$TMP/bin"
printf '#!/bin/sh\necho "dpkg-query: error: parsing file /var/lib/dpkg/status" >&2\nexit 2\n' \
    >"$TMP/bin/dpkg-query"
chmod +x "$TMP/bin/dpkg-query"
out=$(PATH="$TMP/bin:$PATH" bash scripts/deps.sh --check 2>&1)
rc=$?
if [ "$rc" != 0 ] && grep -q "dpkg-query failed (exit 2)" <<<"$out" &&
    grep -q "cannot tell which Debian packages are installed" <<<"$out"; then
    ok "a failing dpkg-query stops deps --check with the reason (exit $rc)"
else
    fail "failing dpkg-query: exit $rc, output: $out"
fi
out=$(PATH="$TMP/bin:$PATH" bash scripts/deps.sh 2>&1)
rc=$?
if [ "$rc" != 0 ] && grep -q "cannot tell which Debian packages are installed" <<<"$out" &&
    ! grep -q "^deps: ok" <<<"$out"; then
    ok "a failing dpkg-query stops the install too, before apt-get (exit $rc)"
else
    fail "failing dpkg-query, install mode: exit $rc, output: $out"
fi

# No dpkg-query at all (not a Debian machine): PATH without it, but with bash and coreutils.
mkdir -p "$TMP/nodpkg"
for t in bash env dirname cat awk mktemp rm head id sha256sum cut cmp grep node; do
    p=$(command -v "$t") && ln -sf "$p" "$TMP/nodpkg/$t"
done
out=$(PATH="$TMP/nodpkg" bash scripts/deps.sh --check 2>&1)
rc=$?
if [ "$rc" != 0 ] && grep -q "dpkg-query not found" <<<"$out"; then
    ok "no dpkg-query: deps --check says so and exits $rc"
else
    fail "no dpkg-query: exit $rc, output: $out"
fi
finish
