#!/usr/bin/env bash
# The README on a bare machine: a copy of a pristine Debian 12 root (debootstrap minbase plus
# git, scripts/bare-root.sh: no make, no compiler), this checkout copied in as a clone, and
# inside a chroot (/proc, /dev, /sys mounted, then unmounted), as root:
#   the README's first command, word for word, must print the demo (both daemons' parts);
#   the install step run again is timed (printed: the README promises under a second);
#   `scripts/deps.sh --check` reports nothing missing;
#   deps.sh asked for a package that does not exist fails loudly and names it (real apt);
#   the kustomize renderer deps.sh installed there (Debian's kubernetes-client 1.20 when the
#   machine has no kubectl) renders every overlay, and each rendering matches the one of
#   the host's kubectl when there is one (names' content hashes aside).
# Not the whole test suite a second time. Needs root, chroot, and debootstrap or
# BARE_ROOT_TAR; without them a user's run skips (CI never does). Takes minutes (the
# install downloads the packages); SKIP_FRESH_MACHINE=1 leaves it out of a user's run.
source "$(dirname "$0")/install_lib.sh"
skip_requested SKIP_FRESH_MACHINE
[ "$(id -u)" = 0 ] || prereq_missing "needs root (debootstrap, chroot, mounts)"
command -v chroot >/dev/null || prereq_missing "chroot not found"
git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1 || prereq_missing "$REPO_ROOT is not a git clone"

DEMO_CMD=$(readme_command 1)
TEST_CMD=$(readme_command 2)
echo "     README: first command '$DEMO_CMD', second '$TEST_CMD'"
assert_true "the README has its two commands" test -n "$DEMO_CMD" -a -n "$TEST_CMD"
assert_true ".ci/run runs the README's second command" grep -qxF "$TEST_CMD" "$REPO_ROOT/.ci/run"

t0=$SECONDS
tar=$("$REPO_ROOT/scripts/bare-root.sh" 2>"$T_TMP/bare-root.err")
rc=$?
sed 's/^/     /' "$T_TMP/bare-root.err"
assert_eq "a pristine Debian 12 root (scripts/bare-root.sh, $((SECONDS - t0)) s)" 0 "$rc"
[ "$rc" = 0 ] || finish

W=$(mktemp -d /tmp/fresh-machine.XXXXXX)
ROOT=$W/root
MOUNTED=()
teardown() {
    local p pid m
    # Anything still running inside the root was started by this test: end it by PID.
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && kill -KILL "$pid" 2>/dev/null
    done
    for m in "${MOUNTED[@]}"; do umount -l "$ROOT/$m" 2>/dev/null; done
    # Only once nothing is mounted below it (rm would otherwise walk into /dev or /sys).
    if ! grep -q " $ROOT/" /proc/mounts; then rm -rf "$W"; fi
    cleanup_daemons
}
trap teardown EXIT
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$tar"
assert_true "the copy is bare: no make, no cc, no node" \
    test ! -e "$ROOT/usr/bin/make" -a ! -e "$ROOT/usr/bin/cc" -a ! -e "$ROOT/usr/bin/node"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

# The clone a user would have, plus this checkout's uncommitted files (none in CI).
SRC=$ROOT/root/sms-insights
git clone -q "$REPO_ROOT" "$SRC"
(cd "$REPO_ROOT" && git ls-files -z -c -o --exclude-standard |
    xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _ |
    tar --null -T - -cf -) | tar -C "$SRC" -xf -

mount -t proc proc "$ROOT/proc" && MOUNTED+=(proc)
mount --rbind /dev "$ROOT/dev" && MOUNTED+=(dev)
mount --rbind /sys "$ROOT/sys" && MOUNTED+=(sys)
assert_eq "/proc, /dev, /sys mounted in the root" "proc dev sys" "${MOUNTED[*]}"

# The machine's own network setup, passed in as it is: its proxy variables, and the extra CA
# node is given here (a machine may reach the npm registry through a proxy with its own CA;
# Debian's apt goes over http and needs none). Nothing else of the host's environment.
ROOT_ENV=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!v:-}" ] && ROOT_ENV+=("$v=${!v}")
done
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    mkdir -p "$ROOT/etc/ssl/host"
    cp "$NODE_EXTRA_CA_CERTS" "$ROOT/etc/ssl/host/node-extra-ca.pem"
    ROOT_ENV+=(NODE_EXTRA_CA_CERTS=/etc/ssl/host/node-extra-ca.pem)
fi

# in_root CMD: CMD in bash inside the root, in the clone, with a login's bare environment.
in_root() {
    chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${ROOT_ENV[@]}" \
        /bin/bash -lc "cd /root/sms-insights && $1"
}

# ---- the README's first command, word for word ------------------------------------------
t0=$SECONDS
in_root "$DEMO_CMD" >"$LOG_DIR/$TEST_NAME.demo.out" 2>&1
rc=$?
demo_s=$((SECONDS - t0))
grep -E '^deps: (installing|installed)|^demo: (HTTP|daemons stopped|daemon stopped)' \
    "$LOG_DIR/$TEST_NAME.demo.out" | cut -c1-200 | sed 's/^/     /'
echo "     the README's first command took $demo_s s on the bare root (output: $LOG_DIR/$TEST_NAME.demo.out)"
assert_eq "'$DEMO_CMD' on the bare root: exit 0" 0 "$rc"
[ "$rc" = 0 ] || tail -n 30 "$LOG_DIR/$TEST_NAME.demo.out"
assert_true "... it printed the demo batch's extracted records" \
    grep -q '^demo: HTTP 200, extracted records:' "$LOG_DIR/$TEST_NAME.demo.out"
assert_true "... and the demo user's insights" \
    grep -q '^demo: HTTP 200, [0-9]* keys in one flat object' "$LOG_DIR/$TEST_NAME.demo.out"

# ---- the install step again, --check, a package that does not exist ----------------------
out=$(in_root 'TIMEFORMAT=%R; time bash scripts/deps.sh' 2>&1)
rc=$?
again=$(in_root 'TIMEFORMAT=%R; { time bash scripts/deps.sh >/dev/null; } 2>&1' 2>&1)
echo "     install step run again: $(tail -n 1 <<<"$out") s, and once more: $again s"
assert_eq "scripts/deps.sh run again: exit 0, installs nothing" "0 deps: ok" "$rc $(grep '^deps:' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
out=$(in_root 'scripts/deps.sh --check' 2>&1)
assert_eq "scripts/deps.sh --check on the installed root: nothing missing" "0 deps: nothing missing" "$? $out"
BOGUS=no-such-package-smsinsights
out=$(in_root "DEPS_EXTRA_APT=$BOGUS scripts/deps.sh" 2>&1)
rc=$?
assert_true "a package that does not exist: deps.sh fails (exit $rc) naming it" \
    test "$rc" != 0 -a -n "$(grep "installing Debian packages: $BOGUS" <<<"$out")" \
    -a -n "$(grep "apt-get failed" <<<"$out")"

# ---- the overlays with the renderer installed here --------------------------------------
kver=$(in_root 'kubectl version --client --short 2>/dev/null || kubectl version --client' 2>&1 | head -n 1)
echo "     kubectl in the root: $kver"
mkdir -p "$T_TMP/root-render" "$T_TMP/host-render"
for o in "$SRC"/k8s/base "$SRC"/k8s/overlays/*/; do
    rel=${o#"$SRC"/}
    rel=${rel%/}
    name=$(basename "$rel")
    in_root "kubectl kustomize $rel" >"$T_TMP/root-render/$name.yaml" 2>"$T_TMP/root-render/$name.err"
    rc=$?
    assert_eq "kubectl kustomize $rel in the root: exit 0" 0 "$rc"
    [ "$rc" = 0 ] || head -c 300 "$T_TMP/root-render/$name.err"
    if command -v kubectl >/dev/null; then
        (cd "$REPO_ROOT" && kubectl kustomize "$rel" 2>/dev/null) >"$T_TMP/host-render/$name.yaml"
        [ "$rc" = 0 ] && assert_true "... same objects as the host's kubectl renders" \
            python3 "$REPO_ROOT/tests/install/same_objects.py" \
            "$T_TMP/root-render/$name.yaml" "$T_TMP/host-render/$name.yaml"
    fi
done
finish
