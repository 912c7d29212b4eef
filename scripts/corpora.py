#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the five corpora the extraction engine's records are compared on (records-diff.sh).

    scripts/corpora.py OUTDIR --bench BUILD/bench/bench_extract [--shared ../shared]

Each OUTDIR/<name>.jsonl holds one {"sender": ..., "body": ...} a line:
  dev       the labelled dev bodies of ../shared/data/sms (every file; skipped when absent)
  users     the ~51,000 SMS of 30 generated users (tools/gen-users --users 30 --seed 5)
  bench     the 100,000 generated bench bodies (bench_extract --write-corpus)
  hostile   3,000 bodies an attacker or a broken phone would send (long, repetitive,
            backtracking bait, control and look-alike characters, truncated UTF-8 text)
  symbols   symbol-heavy variants of the dev bodies (of our fixture bodies when the dev set
            is absent): rupee signs, dashes, brackets, look-alike letters and digits
Every corpus is the same bytes on every run (fixed seeds). Standard library only.
"""
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def write(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for sender, body in rows:
            f.write(json.dumps({"sender": sender, "body": body}, ensure_ascii=False) + "\n")
    return len(rows)


def dev_rows(shared):
    rows = []
    for p in sorted(glob.glob(os.path.join(shared, "data", "sms", "*.jsonl"))):
        for line in open(p, encoding="utf-8"):
            if line.strip():
                d = json.loads(line)
                rows.append((d.get("sender"), d["body"]))
    return rows


def fixture_rows():
    rows = []
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "sms", "*.tsv"))):
        for line in open(p, encoding="utf-8"):
            if line.startswith("#") or "\t" not in line:
                continue
            sender, body = line.rstrip("\n").split("\t")[:2]
            rows.append((sender, body))
    return rows


def user_rows():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen-users"), "--users", "30",
                        "--seed", "5", "--now", "2026-11-22 12:00:00", "--out", d],
                       check=True, stdout=subprocess.DEVNULL)
        rows = []
        for p in sorted(glob.glob(os.path.join(d, "*.json"))):
            if p.endswith(".truth.json"):
                continue
            for s in json.load(open(p, encoding="utf-8"))["sms"]:
                rows.append((s.get("sms_sender"), s["sms_body"]))
        return rows


def bench_rows(bench):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "bench.jsonl")
        subprocess.run([bench, "--write-corpus", out], check=True, stdout=subprocess.DEVNULL)
        return [(j.get("sender"), j["body"]) for j in map(json.loads, open(out, encoding="utf-8"))]


MATH_SANS_BOLD_A, MATH_SANS_BOLD_a, MATH_SANS_BOLD_0 = 0x1D5D4, 0x1D5EE, 0x1D7EC


def math_sans(word):
    out = []
    for c in word:
        if "A" <= c <= "Z":
            out.append(chr(MATH_SANS_BOLD_A + ord(c) - 65))
        elif "a" <= c <= "z":
            out.append(chr(MATH_SANS_BOLD_a + ord(c) - 97))
        elif "0" <= c <= "9":
            out.append(chr(MATH_SANS_BOLD_0 + ord(c) - 48))
        else:
            out.append(c)
    return "".join(out)


def fullwidth(text):
    return "".join(chr(0xFF10 + ord(c) - 48) if "0" <= c <= "9" else c for c in text)


SYMBOL_EDITS = [
    lambda b, r: b.replace("Rs.", "₹").replace("Rs ", "₹ ").replace("INR ", "₹"),
    lambda b, r: b.replace(" - ", " – ").replace("-", "‑" if r.random() < 0.5 else "—"),
    lambda b, r: b.replace("Ref", "[Ref").replace(". ", "]; ", 1),
    lambda b, r: b.replace(" ", "\u00a0", 3).replace(",", ",,", 1).replace(":", " :: "),
    lambda b, r: " ".join(math_sans(w) if r.random() < 0.3 else w for w in b.split(" ")),
    lambda b, r: fullwidth(b) if r.random() < 0.5 else b.replace("XX", "**").replace("@", " @ "),
    lambda b, r: b.replace(" ", "  ").replace(".", " . ", 2).upper(),
    lambda b, r: "--" + b.replace("/", " / ") + " ;;",
]


def symbol_rows(base):
    r = random.Random(13)
    rows = []
    for sender, body in base:
        for k in r.sample(range(len(SYMBOL_EDITS)), 4):
            rows.append((sender, SYMBOL_EDITS[k](body, r)))
    return rows


WORDS = ("rs inr debited credited from to at by a/c xx1234 upi/dr/ ref: info: neft imps on bal avl "
         "@ybl ₹ 1,00,000.00 -- ; [ ] ( ) withdrawn emi nach ach/ salary otp due overdue").split()


def hostile_body(r, i):
    kind = i % 12
    if kind == 0:  # past the 4096-byte read limit
        return "Rs 500 debited from A/c XX1234 to " + "A" * r.randint(4000, 9000)
    if kind == 1:  # more trigger occurrences than the scan records
        return " ".join(r.choice(["rs", "to", "at", "on", "debited", "upi"]) for _ in range(r.randint(260, 900)))
    if kind == 2:  # backtracking bait: a verb, then no end in sight
        return "debited " + ("to " + "x " * 50) * r.randint(5, 40)
    if kind == 3:  # digits and separators without end
        return "Rs " + ",".join("1" for _ in range(r.randint(200, 1500)))
    if kind == 4:  # control characters and escapes
        return "".join(chr(r.randint(1, 31)) if r.random() < 0.3 else r.choice(WORDS) + " " for _ in range(200))
    if kind == 5:  # look-alikes, zero-width and right-to-left marks
        return "".join(r.choice(["\u200b", "\u200e", "\u202e", "\ufeff", "ı", "İ", "Ѕ", "ℝ"]) + r.choice(WORDS) for _ in range(80))
    if kind == 6:  # a word salad of the engine's own trigger words
        return " ".join(r.choice(WORDS) for _ in range(r.randint(5, 400)))
    if kind == 7:  # emoji and scripts
        return "".join(chr(r.choice([0x1F600, 0x0905, 0x0B85, 0x4E00, 0x0627]) + r.randint(0, 40)) for _ in range(r.randint(1, 500)))
    if kind == 8:  # nested brackets and slashes (narration bait)
        return "UPI/" + "/".join(r.choice(["DR", "123456789012", "NAME", "", "@"]) for _ in range(r.randint(10, 600)))
    if kind == 9:  # empty, whitespace, lone symbols
        return r.choice(["", " ", "\n\n\n", "₹", "@", "--", ";", "Rs", "Rs.", "XX", "a/c"])
    if kind == 10:  # huge numbers and odd decimals
        return "Rs %s.%s debited; Avl Bal Rs -%s" % ("9" * r.randint(20, 400), "9" * r.randint(0, 50), "0" * r.randint(1, 300))
    return "".join(chr(r.randint(0x20, 0x7e)) for _ in range(r.randint(0, 3000)))


def hostile_rows():
    r = random.Random(7)
    return [(r.choice([None, "", "VM-HDFCBK", "X" * 200, "-S", "AD-"]), hostile_body(r, i)) for i in range(3000)]


def main(argv):
    if len(argv) < 2 or "--bench" not in argv:
        sys.exit(__doc__)
    out = argv[1]
    bench = argv[argv.index("--bench") + 1]
    shared = argv[argv.index("--shared") + 1] if "--shared" in argv else os.path.join(os.path.dirname(ROOT), "shared")
    os.makedirs(out, exist_ok=True)
    dev = dev_rows(shared) if os.path.isdir(os.path.join(shared, "data", "sms")) else []
    counts = {}
    if dev:
        counts["dev"] = write(os.path.join(out, "dev.jsonl"), dev)
    elif os.path.exists(os.path.join(out, "dev.jsonl")):
        os.remove(os.path.join(out, "dev.jsonl"))
    counts["users"] = write(os.path.join(out, "users.jsonl"), user_rows())
    counts["bench"] = write(os.path.join(out, "bench.jsonl"), bench_rows(bench))
    counts["hostile"] = write(os.path.join(out, "hostile.jsonl"), hostile_rows())
    counts["symbols"] = write(os.path.join(out, "symbols.jsonl"), symbol_rows(dev or fixture_rows()))
    print(" ".join("%s=%d" % kv for kv in counts.items()))


if __name__ == "__main__":
    main(sys.argv)
