#!/usr/bin/env bash
# The rule admission policy (docs/rules.md): every classification rule, channel pattern and
# field template decides something on dev rows of >= 2 projects or of >= 3 test files of one
# project, or is one of at most 15 "fixture_only" exceptions that our own fixtures of >= 3
# banks back. `smsx-extract --rule-stats` checks it on the dev set (../shared, never copied
# into the repo) and our fixture tables; a template that fits one message is caught.
source "$(dirname "$0")/lib.sh"

CHECK="$BUILD/tools/smsx-extract"
cd "$REPO_ROOT" || exit 1

if [ ! -f "$SHARED_DIR/data/sms/cases.jsonl" ]; then
    skip "rule admission: $SHARED_DIR/data/sms absent (the dev rows decide admission)"
    finish
fi

cat "$SHARED_DIR"/data/sms/*.jsonl >"$T_TMP/rows.jsonl"
python3 - tests/data/sms/*.tsv >>"$T_TMP/rows.jsonl" <<'PY'
import json, os, sys
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or "\t" not in line:
            continue
        sender, body = line.rstrip("\n").split("\t")[:2]
        print(json.dumps({"source": "fixture:" + os.path.basename(path), "sender": sender, "body": body}))
PY

out=$("$CHECK" --rule-stats <"$T_TMP/rows.jsonl" 2>&1)
rc=$?
assert_eq "shipped rules keep the admission policy ($(tail -n 1 <<<"$out"))" 0 "$rc"
[ "$rc" = 0 ] || grep -v ' ok$' <<<"$out" | sed 's/^/     /'

# --pattern-cost times every pattern on the same rows (a rule author's speed check).
out=$("$CHECK" --pattern-cost <"$T_TMP/rows.jsonl" 2>&1)
assert_eq "--pattern-cost runs" 0 "$?"
assert_contains "and reports per pattern" "$out" "pattern-cost: "

# A template written for one message: under the bar, named, and the run fails.
python3 - sms-extraction/rules/regex.json >"$T_TMP/one-off.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["fields"]["party"].insert(0, {"id": "party-one-message", "triggers": ["kaggis"],
                                "pattern": "\\b(?<party>kaggis\\s+cakes)\\b"})
print(json.dumps(d))
PY
out=$("$CHECK" --rule-stats --regex "$T_TMP/one-off.json" <"$T_TMP/rows.jsonl" 2>&1)
assert_eq "a one-message template fails the check" 1 "$?"
assert_contains "and is named under the bar" "$(grep party-one-message <<<"$out")" "UNDER THE BAR"

# More than 15 exceptions fail too, even when each is backed by fixtures.
python3 - sms-extraction/rules/classification.json >"$T_TMP/many.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for i in range(16):
    r = dict(d["rules"][-1], id="extra-%d" % i, fixture_only="test")
    d["rules"].insert(0, r)
print(json.dumps(d))
PY
out=$("$CHECK" --rule-stats --classification "$T_TMP/many.json" <"$T_TMP/rows.jsonl" 2>&1)
assert_eq "more than 15 fixture-only exceptions fail the check" 1 "$?"
finish
