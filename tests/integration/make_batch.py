#!/usr/bin/env python3
# Writes a POST /api/extract request body of N invented SMS of the kinds an Indian phone
# receives (debits, credits, salary, OTP, promo, bill due, declines, balance, card spends).
# Every body ends with MARKER, so the privacy check can look for it in the daemon logs.
# Deterministic for a given N and first id. Used by the integration tests and bench/http.sh.
# usage: make_batch.py OUT N MARKER [FIRST_ID]
import json
import random
import sys

SENDERS = ["VM-HDFCBK", "AD-ICICIB", "JD-SBIINB", "VK-AXISBK", "BZ-KOTAKB", "AX-PNBSMS",
           "VM-IDFCFB", "JM-YESBNK"]
NAMES = ["ravi traders", "sharma medicals", "anil kumar", "fresh mart", "city fuels",
         "metro cabs", "priya stores", "green grocers"]

TEMPLATES = [
    "Rs.{amt} debited from A/c XX{acct} on {d} to VPA {vpa}@okaxis UPI Ref No {ref}. "
    "Not you? Call 18002586161",
    "INR {amt} credited to your A/c XX{acct} on {d} by NEFT from {name}. Avl Bal INR {bal}",
    "Salary of Rs {amt} credited to a/c **{acct} on {d}. Avl bal Rs {bal}.",
    "{otp} is your OTP for a transaction of Rs {amt} at {name}. Valid for 5 mins. "
    "Do not share it with anyone.",
    "Get a pre-approved personal loan up to Rs 5,00,000 at 10.5% p.a. Apply now, T&C apply.",
    "Your Credit Card XX{acct} bill of Rs {amt} is due on {d}. Minimum amount due Rs {min}.",
    "Txn of Rs {amt} on card XX{acct} at {name} declined due to insufficient balance.",
    "Avl Bal in A/c XX{acct} as on {d} is Rs {bal}.",
    "Rs {amt} spent on your Credit Card ending {acct} at {name} on {d}. Avl Lmt Rs {bal}",
    "Rs {amt} withdrawn at ATM from A/c XX{acct} on {d}. Avl Bal Rs {bal}",
]


def body(rng, i, marker):
    t = TEMPLATES[i % len(TEMPLATES)]
    text = t.format(
        amt=f"{rng.randint(10, 90000)}.{rng.randint(0, 99):02d}",
        acct=f"{rng.randint(0, 9999):04d}",
        d=f"{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-2026",
        vpa=rng.choice(NAMES).split()[0] + str(rng.randint(1, 99)),
        ref=str(rng.randint(10**11, 10**12 - 1)),
        name=rng.choice(NAMES).upper(),
        bal=f"{rng.randint(100, 400000)}.{rng.randint(0, 99):02d}",
        otp=f"{rng.randint(100000, 999999)}",
        min=f"{rng.randint(100, 5000)}.00",
    )
    return f"{text} {marker}" if marker else text


def main():
    out, n, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    rng = random.Random(n * 7919 + first)
    sms = []
    for i in range(n):
        item = {"sms_id": str(first + i), "sms_sender": SENDERS[i % len(SENDERS)],
                "sms_body": body(rng, i, marker)}
        # Alternate the two accepted date forms: text (India time) and epoch milliseconds.
        if i % 2:
            item["sms_inbox_date"] = 1795000000000 + i * 60000
        else:
            item["sms_inbox_date"] = f"2026-11-{1 + i % 28:02d} 10:{i % 60:02d}:00"
        sms.append(item)
    req = {"client_id": "demo-client", "user_id": "user-42", "sms": sms}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(req, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
