#!/usr/bin/env bash
# The README's two commands, `scripts/make.sh run` (the demo) and `scripts/make.sh test`
# (every test): install what is missing with scripts/deps.sh first, then run make with the
# same arguments. On a bare Debian 12 machine (no make, no compiler: a fresh server or
# container, as root) this is what brings make itself, which is why it is not a make target.
# The Makefile's own `deps` step is skipped (DEPS_CHECKED=1): it just ran here.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export DEPS_CHECKED=1
exec make "$@"
