#!/usr/bin/env bash
# The synthetic users insights-api is tested on: tools/gen-users must be deterministic, its
# planted truth must agree with the messages themselves (counted from the SMS text, not from
# the generator's own labels), and tools/load-user must put the users into the real CongoDB
# as docs/data-model.md says: several sync documents per user that merge back (SMS deduped
# by sms_id, apps by package_name, latest device wins) to exactly what was generated.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

GEN="$REPO_ROOT/tools/gen-users"
LOAD="$BUILD/tools/load-user"
NOW="2026-11-22 12:00:00"
CLIENT="gentest_$$_$RANDOM"

if [ ! -x "$LOAD" ]; then
    fail "no $LOAD (build tools first)"
    finish
fi

# ---- generation -------------------------------------------------------------------------

if python3 "$GEN" --users 3 --seed 7 --now "$NOW" --client-id "$CLIENT" --out "$T_TMP/a" \
    >"$T_TMP/gen.out" 2>&1; then
    ok "gen-users wrote 3 users ($(wc -l <"$T_TMP/gen.out") lines of summary)"
else
    fail "gen-users exited non-zero: $(tail -n 3 "$T_TMP/gen.out")"
    finish
fi
python3 "$GEN" --users 3 --seed 7 --now "$NOW" --client-id "$CLIENT" --out "$T_TMP/b" >/dev/null
python3 "$GEN" --users 3 --seed 8 --now "$NOW" --client-id "$CLIENT" --out "$T_TMP/c" >/dev/null
assert_true "same seed and --now give byte-identical files" diff -r -q "$T_TMP/a" "$T_TMP/b"
if diff -r -q "$T_TMP/a" "$T_TMP/c" >/dev/null 2>&1; then
    fail "another seed gives the same users"
else
    ok "another seed gives other users"
fi
assert_eq "six files (user + truth per user)" 6 "$(find "$T_TMP/a" -name '*.json' | wc -l)"

# Seed 7 plants every app category, bounces (one by cheque), EMIs and credit cards; the
# checks below fail if a generator change loses one, rather than turning vacuous.
# Checks the files against their truth, reading the SMS text independently of the labels.
# Prints "ok|what" or "fail|what: detail" lines.
cat >"$T_TMP/check.py" <<'EOF'
import datetime as dt, glob, json, os, re, sys
d = sys.argv[1]
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
BOUNCE = re.compile(r"returned unpaid|dishono?u?red|bounced on|could not be processed", re.I)
EMI_WORD = re.compile(r"NACH|ECS|ACH|auto[- ]debit", re.I)
CHARGE = re.compile(r"charge|CHGS|penalty", re.I)
OTP = re.compile(r"\bOTP\b|verification code|login code|One Time Password")
SALARY = re.compile(r"\bSAL(ARY)?\b")
def out(ok, what, detail=""):
    print(("ok|%s" % what) if ok else ("fail|%s: %s" % (what, detail)))
def ist_ms(s):
    return int(dt.datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST).timestamp() * 1000)
def amount_digits(v):
    return "%d" % int(v)
senders, cats = set(), {"lending_apps": 0, "gambling_apps": 0, "fraud_assist_apps": 0}
planted = {"bounces": 0, "emis": 0, "sips": 0}
bands = set()
for tf in sorted(glob.glob(os.path.join(d, "*.truth.json"))):
    t = json.load(open(tf)); u = json.load(open(tf.replace(".truth.json", ".json")))
    uid = u["user_id"]; sms = u["sms"]; apps = u["apps"]; dev = u["device"]
    out(t["user_id"] == uid and os.path.basename(tf) == uid + ".truth.json", uid + " names match")
    bad = [s for s in sms if not (isinstance(s.get("sms_id"), str) and isinstance(s.get("sms_sender"), str)
           and isinstance(s.get("sms_body"), str) and isinstance(s.get("sms_inbox_date"), int)
           and s.get("type") == "inbox")]
    out(not bad, uid + " every SMS has the data-model fields", str(bad[:1])[:200])
    ids = [s["sms_id"] for s in sms]
    out(len(set(ids)) == len(ids), uid + " sms_id unique")
    out(1000 <= len(sms) <= 4000 and t["sms_total"] == len(sms), uid + " about 2,000 SMS (%d)" % len(sms))
    out(100 <= len(apps) <= 220 and t["apps_total"] == len(apps), uid + " about 150 apps (%d)" % len(apps))
    badapps = [a for a in apps if not (isinstance(a.get("package_name"), str) and isinstance(a.get("app_name"), str)
               and isinstance(a.get("install_time"), int) and isinstance(a.get("update_time"), int)
               and isinstance(a.get("is_system"), bool) and a["install_time"] <= a["update_time"])]
    out(not badapps, uid + " every app has the data-model fields", str(badapps[:1])[:200])
    lo, hi = ist_ms(t["window_start"]), ist_ms(t["now"])
    out(all(lo <= s["sms_inbox_date"] <= hi for s in sms), uid + " SMS dates within the window")
    out(sorted(l["sms_id"] for l in t["messages"]) == sorted(ids), uid + " one label per SMS")
    senders.update(s["sms_sender"] for s in sms)
    # Salary: one SALARY/SAL credit per month, to the salary account, for the amount, on the day.
    sal = t["salary"]
    amt = "{:,.2f}".format(sal["amount"])
    hits = [s for s in sms if SALARY.search(s["sms_body"]) and sal["account_tail"] in s["sms_body"]
            and sal["employer"] in s["sms_body"]]
    out(len(hits) == sal["months"] == 6, uid + " salary SMS count equals months", "%d SMS" % len(hits))
    # on the day, except the late ones the truth lists (2-5 days after a pay day)
    late = set(sal.get("late_dates", []))
    when = [dt.datetime.fromtimestamp(s["sms_inbox_date"] / 1000, IST) for s in hits]
    days = {w.day for w in when if w.strftime("%Y-%m-%d %H:%M:%S") not in late}
    out(days == {sal["day_of_month"]}, uid + " salary credited on day_of_month", str(days))
    lags = [(w - w.replace(day=1)).days for w in when if w.strftime("%Y-%m-%d %H:%M:%S") in late]
    out(len(lags) == len(late) <= 1, uid + " late salaries are the truth's", str(late))
    # SIPs: one SIP message per planted debit, naming a clearing house, never a lender.
    sip_sms = [s for s in sms if re.search(r"\bSIP\b", s["sms_body"])
               and any(p in s["sms_body"] for p in ("BSE STAR MF", "NSCCL MF", "ICCL MUTUAL FUND"))]
    out(len(sip_sms) == sum(len(x["debit_dates"]) for x in t["sips"]),
        uid + " SIP debit SMS equal the planted SIP debits", "%d" % len(sip_sms))
    planted["sips"] += len(t["sips"])
    amt_re = re.compile(r"(?:Rs\.? ?|INR ?|\u20b9)([0-9,]+(?:\.\d\d)?)")
    vals = {float(amt_re.search(s["sms_body"]).group(1).replace(",", "")) for s in hits}
    out(vals == {sal["amount"]}, uid + " salary amount in every salary SMS", str(vals))
    # Bounces: returned-unpaid / dishonoured notices, one per planted bounce.
    nb = sum(1 for s in sms if BOUNCE.search(s["sms_body"]))
    out(nb == t["bounce_count"] == len(t["bounces"]), uid + " bounce notices equal bounce_count",
        "%d vs %d" % (nb, t["bounce_count"]))
    out(abs(sum(b["charge"] for b in t["bounces"]) - t["bounce_charges_total"]) < 0.01,
        uid + " bounce charges add up")
    # EMIs: NACH/ECS debits naming the lender, bounces and charges excluded.
    narrs = [e["narration"] for e in t["emis"]]
    emi_sms = [s for s in sms if any(n in s["sms_body"] for n in narrs)
               and EMI_WORD.search(s["sms_body"]) and not BOUNCE.search(s["sms_body"])
               and not CHARGE.search(s["sms_body"])]
    out(len(emi_sms) == t["emi_debit_count"] == sum(e["debit_count"] for e in t["emis"]),
        uid + " EMI debit SMS equal emi_debit_count", "%d vs %d" % (len(emi_sms), t["emi_debit_count"]))
    out(t["emi_count"] == len(t["emis"]), uid + " emi_count")
    n_otp = sum(1 for s in sms if OTP.search(s["sms_body"]))
    out(n_otp == t["counts"].get("otp", 0), uid + " OTP SMS equal counts.otp", "%d vs %s" % (n_otp, t["counts"].get("otp")))
    bodies = "\n".join(s["sms_body"] for s in sms)
    missing = [a["tail"] for a in t["accounts"] if a["tail"] not in bodies]
    out(not missing, uid + " every planted account appears in the SMS", str(missing))
    out(sum(a["is_salary_account"] for a in t["accounts"]) == 1, uid + " one salary account")
    pk = {a["package_name"] for a in apps}
    for c in cats:
        out(set(t[c]) <= pk, uid + " %s are installed" % c)
        cats[c] += len(t[c])
    out(t["device"]["model"] == dev["model"] and dev["captured_at"] <= hi, uid + " device matches truth")
    out(all(h["captured_at"] < dev["captured_at"] for h in u.get("device_history", [])),
        uid + " device history is older than the device")
    bands.add(t["device"]["price_band"])
    planted["bounces"] += t["bounce_count"]
    planted["emis"] += t["emi_count"]
    print("stat|%s|%d|%d|%s|%d" % (uid, len(sms), len(apps), dev["model"], dev["captured_at"]))
out(len(senders) >= 25, "many distinct sender headers (%d)" % len(senders))
out(all(v > 0 for v in cats.values()), "lending, gambling and fraud-assist apps all planted", str(cats))
out(all(v > 0 for v in planted.values()), "bounces and EMIs planted (checks above not vacuous)", str(planted))
EOF

python3 "$T_TMP/check.py" "$T_TMP/a" >"$T_TMP/check.out" 2>&1 || fail "check.py crashed: $(tail -n 3 "$T_TMP/check.out")"
while IFS='|' read -r verdict what rest; do
    case "$verdict" in
    ok) ok "$what" ;;
    fail) fail "$what" ;;
    esac
done <"$T_TMP/check.out"

# ---- loading into CongoDB ---------------------------------------------------------------

users=("$T_TMP"/a/u*[0-9a-f].json)
if "$LOAD" --drop "${users[@]}" >"$T_TMP/load.out" 2>&1; then
    ok "load-user loaded ${#users[@]} users into \$MONGO_URI"
else
    fail "load-user failed: $(tail -n 3 "$T_TMP/load.out")"
fi

# stat_field JSON KEY: one integer/string field of a --stat line.
stat_field() { printf '%s' "$1" | jq -r --arg k "$2" '.[$k]' 2>/dev/null; }

grep '^stat|' "$T_TMP/check.out" >"$T_TMP/stats"
while IFS='|' read -r _ uid nsms napps model captured; do
    s=$("$LOAD" --stat --client-id "$CLIENT" --user-id "$uid" 2>&1)
    assert_eq "$uid read back: SMS deduplicated by sms_id" "$nsms" "$(stat_field "$s" sms_unique)"
    assert_eq "$uid read back: 3 SMS sync documents" 3 "$(stat_field "$s" sms_docs)"
    items=$(stat_field "$s" sms_items)
    if [ "${items:-0}" -gt "$nsms" ]; then
        ok "$uid SMS sync documents overlap ($items items for $nsms SMS)"
    else
        fail "$uid SMS sync documents do not overlap ($items items for $nsms SMS)"
    fi
    assert_eq "$uid read back: apps by package_name" "$napps" "$(stat_field "$s" apps_unique)"
    assert_eq "$uid read back: latest device document wins" "$model $captured" \
        "$(stat_field "$s" device_model) $(stat_field "$s" device_captured_at)"
done <"$T_TMP/stats"

# Loading again without --drop adds sync documents but no new SMS; --drop starts over.
first=$(head -n 1 "$T_TMP/stats" | cut -d'|' -f2)
nsms=$(head -n 1 "$T_TMP/stats" | cut -d'|' -f3)
"$LOAD" "$T_TMP/a/$first.json" >/dev/null 2>&1
s=$("$LOAD" --stat --client-id "$CLIENT" --user-id "$first" 2>&1)
assert_eq "reload without --drop: 6 SMS documents" 6 "$(stat_field "$s" sms_docs)"
assert_eq "reload without --drop: still $nsms distinct SMS" "$nsms" "$(stat_field "$s" sms_unique)"
"$LOAD" --drop --syncs 1 "$T_TMP/a/$first.json" >/dev/null 2>&1
s=$("$LOAD" --stat --client-id "$CLIENT" --user-id "$first" 2>&1)
assert_eq "--drop --syncs 1: one document per collection" "1 1 1" \
    "$(stat_field "$s" sms_docs) $(stat_field "$s" apps_docs) $(stat_field "$s" device_docs)"
s=$("$LOAD" --stat --client-id "$CLIENT" --user-id "nobody_here" 2>&1)
got="$(stat_field "$s" sms_docs) $(stat_field "$s" apps_docs)"
# the tool's own words when it did not answer in JSON (one CI run got nothing readable)
[ "$got" = "0 0" ] || echo "     load-user --stat said: $(printf '%s' "$s" | head -c 300)"
assert_eq "unknown user reads back empty" "0 0" "$got"

# A broken file is refused with an error naming it, and no SMS body is echoed.
marker=$(privacy_marker gu)
printf '{"client_id":"%s","user_id":"x","sms":[{"sms_id":1,"sms_body":"%s"}],"apps":[],"device":{}}\n' \
    "$CLIENT" "$marker" >"$T_TMP/bad.json"
rc=0
out=$("$LOAD" "$T_TMP/bad.json" 2>&1) || rc=$?
assert_eq "bad user file: exit 1" 1 "$rc"
assert_contains "bad user file: error names the file and field" "$out" "bad.json"
assert_not_contains "bad user file: body not echoed" "$out" "$marker"

finish
