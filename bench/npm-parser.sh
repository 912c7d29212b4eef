#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The reference npm parser (transaction-sms-parser@3.3.0) on the corpus that
# bench_extract generates, so `make bench` prints both engines' rates.
# Installs the package with npm into .deps/npm-parser (gitignored) on first use.
# Env: BUILD (dir with bench/bench_extract; default build), BENCH_SECONDS (default 2).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DIR=.deps/npm-parser
PKG=transaction-sms-parser@3.3.0

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: node/npm not installed: npm parser benchmark skipped"
    exit 0
fi
if [ ! -x "$BUILD/bench/bench_extract" ]; then
    echo "npm-parser.sh: $BUILD/bench/bench_extract missing (make BUILD=$BUILD $BUILD/bench/bench_extract)" >&2
    exit 1
fi
if [ ! -f "$DIR/node_modules/transaction-sms-parser/package.json" ]; then
    mkdir -p "$DIR"
    [ -f "$DIR/package.json" ] || echo '{"name":"npm-parser-bench","private":true}' >"$DIR/package.json"
    (cd "$DIR" && npm install --no-audit --no-fund --silent "$PKG") || {
        echo "SKIP: npm install $PKG failed: npm parser benchmark skipped"
        exit 0
    }
fi
corpus=$(mktemp /tmp/smsx-corpus.XXXXXX)
trap 'rm -f "$corpus"' EXIT
"$BUILD/bench/bench_extract" --write-corpus "$corpus" >/dev/null
NPM_PARSER_DIR="$PWD/$DIR" node bench/npm-parser.mjs "$corpus" "${BENCH_SECONDS:-2}"
