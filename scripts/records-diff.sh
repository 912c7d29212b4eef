#!/usr/bin/env bash
# The extraction records of this checkout against those of another commit (default main),
# on the five corpora scripts/compare-builds.sh uses (its generator, the same seeds): the dev
# bodies (when ../shared is present), ~51,000 SMS of generated users, the 100,000 bench
# bodies, 3,000 hostile bodies and symbol-heavy variants of the dev bodies. Where
# compare-builds.sh says whether replies are identical, this says what changed: per corpus
# how many records differ and, per field, how many with a few examples (line number,
# old -> new; never a body). A field only one side has is named once, not counted per record.
#
# usage: scripts/records-diff.sh [BASE] [BUILD]      (make records-diff BASE=...)
#   RECORDS_EXAMPLES=N   examples per field (default 3)
#   RECORDS_IDENTICAL=1  exit 1 when any record differs (for changes that must not change
#                        records: refactors, speed work)
#   RECORDS_RENAMED=old:new[,old:new]  compare base's field old with head's field new (a
#                        field renamed by a schema change; 2026-12: sms_sub_type:sms_kind)
# The base is built once per commit from `git archive` into BUILD/records-base/<sha>.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-main}
BUILD=${2:-build}
sha=$(git rev-parse --verify "$BASE^{commit}")
base_dir="$BUILD/records-base/$sha"
corpora="$BUILD/records-corpora"
export SHARED_DIR=${SHARED_DIR:-$(cd .. && pwd)/shared}

make -s -j2 BUILD="$BUILD" "$BUILD/tools/smsx-extract" "$BUILD/bench/bench_extract"
if [ ! -x "$base_dir/build/tools/smsx-extract" ]; then
    rm -rf "$base_dir"
    mkdir -p "$base_dir"
    git archive "$sha" | tar -x -C "$base_dir"
    make -s -j2 -C "$base_dir" BUILD=build build/tools/smsx-extract >/dev/null
fi
# The corpora of scripts/compare-builds.sh (the same seeds), written once per run.
PY=scripts/compare-builds.py
mkdir -p "$corpora"
rm -f "$corpora"/*.jsonl
if [ -d "$SHARED_DIR/data/sms" ]; then
    python3 $PY corpus dev "$corpora/dev.jsonl" "$SHARED_DIR" >/dev/null
    python3 $PY corpus symbols "$corpora/symbols.jsonl" "$corpora/dev.jsonl" 12 >/dev/null
fi
rm -rf "$corpora/users"
python3 tools/gen-users --users 30 --seed 5 --now "2026-11-22 12:00:00" --out "$corpora/users" \
    >/dev/null
python3 $PY corpus users "$corpora/users.jsonl" "$corpora/users" >/dev/null
"$BUILD/bench/bench_extract" --write-corpus "$corpora/bench.raw" >/dev/null
python3 $PY corpus jsonl "$corpora/bench.jsonl" "$corpora/bench.raw" >/dev/null
python3 $PY corpus hostile "$corpora/hostile.jsonl" 3000 12 >/dev/null

run() { # dir-with-rules binary corpus out
    "$2" --vocabulary "$1/sms-extraction/rules/vocabulary.json" \
        --classification "$1/sms-extraction/rules/classification.json" \
        --regex "$1/sms-extraction/rules/regex.json" <"$3" >"$4"
}
rc=0
for c in dev users bench hostile symbols; do
    [ -f "$corpora/$c.jsonl" ] || {
        echo "== $c: absent (no ../shared)"
        continue
    }
    run "$base_dir" "$base_dir/build/tools/smsx-extract" "$corpora/$c.jsonl" "$corpora/$c.base"
    run . "$BUILD/tools/smsx-extract" "$corpora/$c.jsonl" "$corpora/$c.head"
    python3 - "$c" "$corpora/$c.base" "$corpora/$c.head" "${RECORDS_EXAMPLES:-3}" \
        "${RECORDS_RENAMED:-}" <<'PY' || rc=1
import json, sys
name, base, head, keep = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
renamed = dict(p.split(":") for p in sys.argv[5].split(",") if p)
a = [json.loads(l) for l in open(base, encoding="utf-8")]
b = [json.loads(l) for l in open(head, encoding="utf-8")]
for rec in a:
    for old, new in renamed.items():
        if old in rec:
            rec[new] = rec.pop(old)
if len(a) != len(b):
    print(f"== {name}: {len(a)} base records, {len(b)} head records")
    sys.exit(1)
only_a = sorted(set(a[0]) - set(b[0])) if a else []
only_b = sorted(set(b[0]) - set(a[0])) if b else []
fields, records = {}, 0
for i, (x, y) in enumerate(zip(a, b)):
    diff = [k for k in x if k in y and x[k] != y[k]]
    records += bool(diff)
    for k in diff:
        fields.setdefault(k, []).append((i + 1, x[k], y[k]))
print(f"== {name}: {len(a)} records, {records} differ"
      + (f"; only in base: {', '.join(only_a)}" if only_a else "")
      + (f"; only in head: {', '.join(only_b)}" if only_b else ""))
for k, v in sorted(fields.items(), key=lambda kv: -len(kv[1])):
    print(f"   {k:<22} {len(v):>6}   " + "; ".join(f"line {i}: {o!r} -> {n!r}" for i, o, n in v[:keep]))
sys.exit(1 if records else 0)
PY
done
if [ "${RECORDS_IDENTICAL:-0}" = 1 ]; then
    exit $rc
fi
exit 0
