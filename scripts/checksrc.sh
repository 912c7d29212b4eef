#!/usr/bin/env bash
# House-rule checks that a compiler does not make: every C file opens with an SPDX
# line and a prose comment, and none calls the banned string/number functions
# (style.md rule 15). Prints one line per finding; exits 1 if there is any.
set -u
cd "$(dirname "$0")/.."
bad=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null; git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
for f in $files; do
    [ -f "$f" ] || continue
    if ! head -n 1 "$f" | grep -q 'SPDX-License-Identifier'; then
        echo "checksrc: $f:1: missing SPDX line"
        bad=1
    fi
    if ! head -n 3 "$f" | grep -q '^/\*'; then
        echo "checksrc: $f: no purpose comment after the SPDX line"
        bad=1
    fi
    hits=$(grep -nE '\b(sprintf|strcat|strncpy|strtok|atoi|atol|sscanf|gets)\s*\(' "$f" | grep -v 'checksrc:allow')
    if [ -n "$hits" ]; then
        echo "$hits" | sed "s|^|checksrc: $f:|; s|$| (banned function)|"
        bad=1
    fi
done
[ "$bad" = 0 ] && echo "checksrc: ok ($(echo "$files" | wc -w) files)"
exit $bad
