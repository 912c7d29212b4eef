#!/usr/bin/env bash
# The rules keep their gates' promises: every trigger, anchor, require_any, digit_then,
# then_digit and then gate claims something about all matches of its pattern, and a
# false claim silently loses matches (an anchor at a word the match starts before). For
# every body of our fixture tables, of the 100,000 generated bench bodies and of the dev
# set when ../shared is present, `smsx-extract --check-gates` runs each pattern with and
# without its gates and must find no difference. A rule with a wrong anchor is caught.
source "$(dirname "$0")/lib.sh"

CHECK="$BUILD/tools/smsx-extract"
cd "$REPO_ROOT" || exit 1

check_corpus() { # name file
    local out rc
    out=$("$CHECK" --check-gates <"$2" 2>&1)
    rc=$?
    assert_eq "$1: no pattern's gates change its result ($(head -n 1 <<<"$out"))" 0 "$rc"
    [ "$rc" = 0 ] || sed 's/^/     /' <<<"$out"
}

python3 - tests/data/sms/*.tsv >"$T_TMP/fixtures.jsonl" <<'PY'
import json, sys
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or "\t" not in line:
            continue
        sender, body = line.rstrip("\n").split("\t")[:2]
        print(json.dumps({"sender": sender, "body": body}))
PY
check_corpus "fixture tables ($(wc -l <"$T_TMP/fixtures.jsonl") bodies)" "$T_TMP/fixtures.jsonl"

"$BUILD/bench/bench_extract" --write-corpus "$T_TMP/generated.jsonl" >/dev/null
check_corpus "generated bench corpus" "$T_TMP/generated.jsonl"

if [ -f "$SHARED_DIR/data/sms/cases.jsonl" ]; then
    cat "$SHARED_DIR"/data/sms/*.jsonl >"$T_TMP/dev.jsonl"
    check_corpus "dev set" "$T_TMP/dev.jsonl"
else
    skip "dev set: $SHARED_DIR/data/sms absent"
fi

# The check can fail: a template anchored at a word its matches start before (the "at"
# template said to start at "upi") never matches; it is flagged on a body it would miss.
python3 - sms-extraction/rules/regex.json >"$T_TMP/bad-regex.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["fields"]["party"]:
    if t["id"] == "party-at":
        t.update(triggers=["upi"], anchor="trigger")
print(json.dumps(d))
PY
printf '%s\n' '{"sender": "VM-KOTAKB", "body": "Rs 700 paid at CAFE MOCHA via UPI from A/c XX1234"}' >"$T_TMP/one.jsonl"
out=$("$CHECK" --check-gates --regex "$T_TMP/bad-regex.json" <"$T_TMP/one.jsonl" 2>&1)
assert_eq "a wrong anchor makes --check-gates exit 1" 1 "$?"
assert_contains "and names the template" "$out" "party-at"

# A line that is not a message is named on stderr (never echoed) and skipped; the
# good lines around it are still checked.
mark=$(privacy_marker gates)
printf '%s\n' '{"sender": "VM-HDFCBK", "body": "Rs 500 debited from A/c XX1234"}' \
    "{not json $mark" '{"sender": "VM-HDFCBK", "body": 7}' \
    '{"sender": "VM-HDFCBK", "body": "Rs 900 credited to A/c XX1234"}' >"$T_TMP/mixed.jsonl"
out=$("$CHECK" --check-gates <"$T_TMP/mixed.jsonl" 2>"$T_TMP/mixed.err")
assert_eq "broken lines: the run still succeeds" 0 "$?"
assert_contains "broken lines: both good bodies are checked" "$out" "check-gates: 2 bodies"
err=$(cat "$T_TMP/mixed.err")
assert_contains "broken lines: line 2 is named" "$err" "line 2: not an object"
assert_contains "broken lines: line 3 (a body that is not a string) is named" "$err" "line 3: not an object"
assert_not_contains "broken lines: the line itself is not echoed" "$err" "$mark"
finish
