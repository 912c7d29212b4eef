#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end truth for `insights-api monitor` (tests/integration/test_ins_monitor_truth.sh).

    monitor_truth.py run URL CLIENT TOKEN USERS SEED EXPECTED

For every user tools/gen-users wrote into USERS: POST /api/generate_features with an explicit
as_of (the user's own "now"), then plant the outcome from the user's truth file, bad when the
planted truth shows a bounce in 180 days, an overdue/collection notice in 180 days, or
over-indebtedness (contracted EMIs above half the salary), each label flipped with
probability 0.1 (random.Random(SEED): seeded noise), and POST it to /api/outcomes naming the
reply's request_id. EXPECTED (the JSON monitor_check.py compare reads) holds, per score group
of the replies (model version, arm), scikit-learn's volume, labelled count, bad rate,
roc_auc_score, max(tpr - fpr) of roc_curve and calibration_curve(strategy="quantile",
n_bins=10), computed from the scores in the replies and the outcomes posted here: nothing is
read back from the daemon's tables. Run with /usr/bin/python3 (Debian's python3-sklearn).
"""
import json
import os
import random
import sys
import time
import urllib.request

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score, roc_curve

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from monitor_check import post_user  # noqa: E402

SCORE = "credeau_payday_score"
NOISE = 0.1


def planted_bad(truth):
    salary = (truth.get("salary") or {}).get("amount") or 0
    over_indebted = (truth.get("emi_contracted_monthly") or 0) > 0.5 * salary
    return (truth.get("bounce_count_c180", 0) > 0
            or truth["delinquency"].get("notice_count_c180", 0) > 0
            or over_indebted)


def post_outcome(url, client, token, body):
    req = urllib.request.Request(url + "/api/outcomes", json.dumps(body).encode(),
                                 {"content-type": "application/json",
                                  "x-client-id": client, "x-auth-token": token})
    with urllib.request.urlopen(req, timeout=60) as r:
        reply = json.load(r)
    if reply.get("status") != "recorded":
        raise SystemExit("outcome not recorded: %s" % reply.get("status"))


def run(url, client, token, users_dir, seed, expected_path):
    rnd = random.Random(int(seed))
    names = sorted(n for n in os.listdir(users_dir)
                   if n.endswith(".json") and not n.endswith(".truth.json"))
    groups = {}
    planted = flipped = 0
    for name in names:
        with open(os.path.join(users_dir, name[:-5] + ".truth.json")) as f:
            truth = json.load(f)
        bad = planted_bad(truth)
        planted += bad
        if rnd.random() < NOISE:
            bad = not bad
            flipped += 1
        user_id, _, reply = post_user(url, client, token, users_dir, name)
        if reply.get(SCORE) is None:
            continue
        post_outcome(url, client, token, {"client_id": client, "user_id": user_id,
                                          "request_id": reply["request_id"],
                                          "outcome": "bad" if bad else "good",
                                          "observed_at": int(time.time())})
        key = "|".join([SCORE, reply[SCORE + "_model_version"], reply[SCORE + "_arm"], "f"])
        groups.setdefault(key, []).append((reply[SCORE], bad))
    expected = {}
    for key, pairs in groups.items():
        s = np.array([p[0] for p in pairs])
        y = np.array([int(p[1]) for p in pairs])
        fpr, tpr, _ = roc_curve(y, s)
        prob_true, prob_pred = calibration_curve(y, s, n_bins=10, strategy="quantile")
        expected[key] = {"volume": len(pairs), "labelled": len(pairs), "bad_rate": float(y.mean()),
                         "auc": float(roc_auc_score(y, s)), "ks": float(np.max(tpr - fpr)),
                         "calibration_true": [float(v) for v in prob_true],
                         "calibration_pred": [float(v) for v in prob_pred]}
    with open(expected_path, "w") as f:
        json.dump(expected, f, indent=1)
    print("%d users scored in %d group(s), %d planted bad, %d labels flipped"
          % (sum(len(p) for p in groups.values()), len(groups), planted, flipped))


def main(argv):
    if len(argv) == 8 and argv[1] == "run":
        run(*argv[2:])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
