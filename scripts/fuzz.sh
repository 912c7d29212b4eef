#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c as a libFuzzer binary (clang, ASan + UBSan) and runs each
# for FUZZ_SECONDS (default 20), starting from its seeds in tests/fuzz/corpus/<name>/. New
# inputs go to tests/fuzz/corpus-work/<name>/ (gitignored), crashes to build/fuzz/crashes/.
# The repo's library sources are compiled here with clang and the fuzzer's coverage
# instrumentation (the gcc archives of `make` carry none) into build/fuzz/obj (only what
# changed), then archived so each target links just the objects it needs.
# With FUZZ_RUNS=N each target runs N executions instead (`make fuzz-long`: 10^7 per
# parser, out of CI).
# usage: scripts/fuzz.sh [fuzz_name...]      (COUNTS_FILE=f appends "N M")
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-20}
RUNS=${FUZZ_RUNS:-}
limit=(-max_total_time="$SECONDS_EACH")
budget="${SECONDS_EACH} s"
[ -n "$RUNS" ] && limit=(-runs="$RUNS") && budget="$RUNS runs"
OUT=build/fuzz
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
PKGS="libevent libevent_pthreads libpq libpcre2-8 jansson libcurl openssl libmongoc-1.0"
CFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -I. -fno-omit-frame-pointer \
 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
 $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lpthread -lm"

targets=("$@")
if [ ${#targets[@]} = 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        [ -f "$f" ] && targets+=("$(basename "$f" .c)")
    done
fi
if [ ${#targets[@]} = 0 ]; then
    echo "fuzz: no tests/fuzz/fuzz_*.c targets"
    echo "fuzz: 0 passed, 0 failed"
    exit 0
fi
command -v clang >/dev/null || {
    echo "fuzz: clang not installed (scripts/deps.sh)"
    exit 1
}

mkdir -p "$OUT/obj" "$OUT/crashes"
srcs=$(ls common/*.c sms-extraction/*.c insights-api/*.c 2>/dev/null | grep -v '/main\.c$')
export CFLAGS OUT
# Compile what changed (object older than its source or than this script).
printf '%s\n' $srcs | xargs -r -P "$JOBS" -I{} sh -c '
    o="$OUT/obj/$(echo {} | tr / _).o"
    if [ ! -f "$o" ] || [ {} -nt "$o" ] || [ scripts/fuzz.sh -nt "$o" ] || \
       [ -n "$(find $(dirname {}) -name "*.h" -newer "$o" 2>/dev/null | head -n 1)" ]; then
        clang $CFLAGS -c {} -o "$o" || exit 255
    fi'
[ $? = 0 ] || {
    echo "FAIL fuzz: library sources did not compile with clang"
    [ -n "${COUNTS_FILE:-}" ] && echo "0 1" >>"$COUNTS_FILE"
    exit 1
}
objs=$(for s in $srcs; do echo "$OUT/obj/$(echo "$s" | tr / _).o"; done)
# One archive, so a target links only the objects it needs (and nothing half-written elsewhere).
rm -f "$OUT/libfuzzsrc.a"
# shellcheck disable=SC2086
ar rcs "$OUT/libfuzzsrc.a" $objs

pass=0
failn=0
for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    if ! clang $CFLAGS -fsanitize=fuzzer "tests/fuzz/$t.c" "$OUT/libfuzzsrc.a" $LIBS -o "$OUT/$t" \
        >"$OUT/$t.build.log" 2>&1; then
        echo "FAIL fuzz $t: build failed"
        head -n 20 "$OUT/$t.build.log" | sed 's/^/    /'
        failn=$((failn + 1))
        continue
    fi
    work=tests/fuzz/corpus-work/$t
    seeds=tests/fuzz/corpus/$t
    mkdir -p "$work"
    dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    t0=$(date +%s)
    if "$OUT/$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$OUT/crashes/$t-" "${dirs[@]}" >"$OUT/$t.log" 2>&1; then
        echo "ok   fuzz $t: $(grep -Eo 'Done [0-9]+ runs' "$OUT/$t.log" | tail -n 1), no crash (${budget}, $(($(date +%s) - t0)) s)"
        pass=$((pass + 1))
    else
        echo "FAIL fuzz $t: see $OUT/$t.log"
        grep -E 'ERROR|SUMMARY|Test unit written' "$OUT/$t.log" | head -n 10 | sed 's/^/    /'
        failn=$((failn + 1))
    fi
done
echo "fuzz: $pass passed, $failn failed"
[ -n "${COUNTS_FILE:-}" ] && echo "$pass $failn" >>"$COUNTS_FILE"
[ "$failn" = 0 ]
