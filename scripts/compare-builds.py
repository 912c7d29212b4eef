#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers of scripts/compare-builds.sh: the extraction corpora as request batches, and the
field-by-field comparison of two insights-api replies.

    compare-builds.py corpus KIND OUT [ARGS]   write a corpus as JSONL {"sender", "body"}
        dev SHARED_DIR                the labelled dev bodies (cases, aux, dev2_*)
        users DIR                     the SMS of the tools/gen-users users in DIR
        jsonl FILE                    a JSONL corpus as is (bench_extract --write-corpus)
        hostile N SEED                N bodies an attacker or a broken phone sends
        symbols DEVFILE SEED          the dev bodies with symbols in and around the words
    compare-builds.py batches CORPUS OUTDIR N  request bodies of N messages each
    compare-builds.py diff A.json B.json       fields that differ, timestamps and ids aside

Deterministic for given arguments, standard library only.
"""
import glob
import json
import os
import random
import sys

IGNORED = {"request_id", "data_requested_time", "data_processed_time"}
# Per fetched record: the call's own id and time (Credeau's request_id, created_at, created_date:
# issue 15), like the reply's request_id and times above.
RECORD_IGNORED = {"request_id", "created_at", "created_date"}


def write_jsonl(out, rows):
    with open(out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{out}: {len(rows)} bodies")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def corpus_dev(shared):
    rows = []
    for name in ("cases.jsonl", "aux.jsonl", "dev2_cases.jsonl", "dev2_aux.jsonl"):
        p = os.path.join(shared, "data", "sms", name)
        if os.path.exists(p):
            rows += [{"sender": r.get("sender") or "", "body": r["body"]} for r in read_jsonl(p)]
    return rows


def corpus_users(d):
    rows = []
    for p in sorted(glob.glob(os.path.join(d, "*.json"))):
        if p.endswith(".truth.json"):
            continue
        with open(p, encoding="utf-8") as f:
            user = json.load(f)
        rows += [{"sender": m.get("sms_sender") or "", "body": m["sms_body"]} for m in user["sms"]]
    return rows


def hostile_body(rnd):
    """One body of a kind that breaks naive parsers: all of them valid JSON strings."""
    kinds = [
        lambda: "Rs." + "9" * rnd.randint(20, 400) + " debited from A/c XX1234",
        lambda: "".join(chr(rnd.randint(0x20, 0x7e)) for _ in range(rnd.randint(0, 3000))),
        lambda: "".join(chr(rnd.choice([rnd.randint(0x80, 0x7ff), rnd.randint(0x900, 0x97f),
                                        rnd.randint(0x1f300, 0x1f6ff)]))
                        for _ in range(rnd.randint(1, 400))),
        lambda: ("INR " * rnd.randint(1, 300)) + "credited",
        lambda: "A/c XX" + "X" * rnd.randint(1, 200) + "1234 debited by Rs 1,00,00,000.00",
        lambda: "\n\t\r\f\b\"\\/" * rnd.randint(1, 200),
        lambda: " ".join(rnd.choice(["debited", "credited", "Rs", "INR", "A/c", "UPI", "Ref",
                                     "Avl", "Bal", "XX1234", "@", "on", "to", "by", "0", ".",
                                     "1,234.56", "salary", "EMI", "bounce", "OTP"])
                         for _ in range(rnd.randint(1, 600))),
        lambda: "Rs " + ".".join(str(rnd.randint(0, 999)) for _ in range(rnd.randint(2, 80))),
        lambda: "",
        lambda: "\u200b\u200d\ufeff" * rnd.randint(1, 100) + "Rs 500 debited",
        lambda: "Rs.500 debited to VPA " + "a" * rnd.randint(1, 2000) + "@okaxis",
        lambda: "\U0001f4b0" * rnd.randint(1, 500),
    ]
    return rnd.choice(kinds)()


def corpus_hostile(n, seed):
    rnd = random.Random(seed)
    senders = ["", "VM-HDFCBK", "X" * 300, "-", "AD-", "VM-HDFCBK-S", "12345", "\u00e9\u00e9"]
    return [{"sender": rnd.choice(senders), "body": hostile_body(rnd)} for _ in range(n)]


def corpus_symbols(dev, seed):
    rnd = random.Random(seed)
    marks = list("*#|~^_=+<>[]{}()!?;:,.'`\"-/\\@&%$")
    rows = []
    for r in read_jsonl(dev):
        words = r["body"].split(" ")
        out = []
        for w in words:
            if rnd.random() < 0.3:
                w = rnd.choice(marks) + w
            if rnd.random() < 0.3:
                w = w + rnd.choice(marks) * rnd.randint(1, 3)
            out.append(w)
        rows.append({"sender": r["sender"], "body": rnd.choice([" ", "  ", "*"]).join(out)})
    return rows


def batches(corpus, outdir, n):
    rows = read_jsonl(corpus)
    os.makedirs(outdir, exist_ok=True)
    for k in range(0, len(rows), n):
        sms = [{"sms_id": str(k + i), "sms_sender": r["sender"], "sms_body": r["body"],
                "sms_inbox_date": "2026-11-01 10:00:00"} for i, r in enumerate(rows[k:k + n])]
        body = {"client_id": "compare", "user_id": "compare", "request_id": f"cmp-{k}",
                "sms": sms}
        with open(os.path.join(outdir, f"{k:08d}.json"), "w", encoding="utf-8") as f:
            json.dump(body, f, ensure_ascii=False)
    print(f"{outdir}: {(len(rows) + n - 1) // n} batches")


def diff(a_path, b_path):
    with open(a_path, encoding="utf-8") as f:
        a = json.load(f)
    with open(b_path, encoding="utf-8") as f:
        b = json.load(f)
    if not isinstance(a, dict) or not isinstance(b, dict):
        return [] if a == b else ["(whole reply)"]
    for reply in (a, b):
        for rec in reply.get("extracted_sms_data") or []:
            for k in RECORD_IGNORED & set(rec if isinstance(rec, dict) else ()):
                rec[k] = None
    keys = (set(a) | set(b)) - IGNORED
    out = [k for k in sorted(keys) if k not in a or k not in b or a[k] != b[k]]
    if list(k for k in a if k not in IGNORED) != list(k for k in b if k not in IGNORED):
        out.append("(key order)")
    return out


def main(argv):
    if len(argv) >= 3 and argv[1] == "corpus":
        kind, out, args = argv[2], argv[3], argv[4:]
        rows = {"dev": lambda: corpus_dev(args[0]),
                "users": lambda: corpus_users(args[0]),
                "jsonl": lambda: read_jsonl(args[0]),
                "hostile": lambda: corpus_hostile(int(args[0]), int(args[1])),
                "symbols": lambda: corpus_symbols(args[0], int(args[1]))}[kind]()
        write_jsonl(out, rows)
        return 0
    if len(argv) == 5 and argv[1] == "batches":
        batches(argv[2], argv[3], int(argv[4]))
        return 0
    if len(argv) == 4 and argv[1] == "diff":
        fields = diff(argv[2], argv[3])
        print(" ".join(fields))
        return 1 if fields else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
