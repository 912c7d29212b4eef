#!/bin/sh
# Runs in the images' build stage: lays out OUT, the whole root filesystem of a runtime stage
# built FROM scratch, holding only what the given binaries need at run time: the shared
# libraries they link (found with ldd, copied at the paths the loader looks in) and the
# loader itself, the loader cache, the CA bundle (libcurl and libmongoc verify TLS against
# it), /etc/passwd and /etc/group naming the unprivileged user 10001 the daemons run as,
# and an nsswitch.conf for name lookups. No shell, no package manager, no coreutils.
# usage: runtime-root.sh OUT BINARY...
set -eu
out=$1
shift
mkdir -p "$out/etc/ssl/certs" "$out/usr/lib/ssl"
# ldd lines: "libx.so.1 => /lib/x86_64-linux-gnu/libx.so.1 (0x...)" and the loader
# "/lib64/ld-linux-x86-64.so.2 (0x...)"; the vDSO has no file.
# (one binary at a time: given several, ldd prints a "/path:" header line before each).
for bin in "$@"; do ldd "$bin"; done |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u |
    while read -r lib; do
        # -L: the file itself under the name the binary asks for (Debian ships the sonames
        # as symlinks to versioned files).
        cp -L --parents "$lib" "$out"
    done
# Without this ldd finding nothing would give an image that cannot start; fail here instead.
[ -n "$(ls "$out"/lib64/ld-linux-* 2>/dev/null)" ] || {
    echo "runtime-root: no dynamic loader found for $*" >&2
    exit 1
}
ldconfig -r "$out"
cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/"
# OpenSSL's default locations on Debian (libmongoc's TLS uses them).
ln -s /etc/ssl/certs "$out/usr/lib/ssl/certs"
ln -s /etc/ssl/certs/ca-certificates.crt "$out/usr/lib/ssl/cert.pem"
printf 'root:x:0:0:root:/:/nonexistent\napp:x:10001:10001:sms-insights daemon:/nonexistent:/nonexistent\n' \
    >"$out/etc/passwd"
printf 'root:x:0:\napp:x:10001:\n' >"$out/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$out/etc/nsswitch.conf"
