#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent truth for `insights-api monitor` (tests/integration/test_ins_monitor.sh).

    monitor_check.py synthetic SQL EXPECTED   prediction_log + outcomes rows (SQL) and, worked out
                                              here from how they were planted, the labelled
                                              (score, bad) pairs of each group and scikit-learn's
                                              numbers for them (EXPECTED, JSON)
    monitor_check.py score URL CLIENT TOKEN USERS CREATED SQL
                                              POST every user of USERS to /api/generate_features
                                              (as of the users' own "now"), and write the
                                              prediction_log rows of the replies' payday score
                                              (request_id, value, model version, arm) created at
                                              CREATED: what the prediction log holds
    monitor_check.py gig USERS SHARE SEED     make a share of USERS unsalaried as
                                              tools/train-demo-models does (the training
                                              population has them)
    monitor_check.py compare EXPECTED RESULTS monitor_results rows (psql -A -F'|' output) against
                                              EXPECTED, to 1e-9; prints one line per check

The planting follows the join rule of docs/monitoring.md, and the fixture has rows that break
a wrong rule: an outcome naming an older request (joins it, not the latest), an outcome
without request id observed between two requests (joins the earlier one), another client
with the same user_key (never joined), predictions outside the window (never counted), two
outcomes of one request (bad when any is bad), null scores (not counted), scores rounded to
3 decimals (ties).
Run with /usr/bin/python3 (Debian's python3-sklearn).
"""
import json
import random
import sys

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score, roc_curve

GROUPS = [("credeau_payday_score", "demo-payday-v2", "a", False),
          ("credeau_payday_score", "demo-payday-v3", "b", False),
          ("credeau_payday_score", "demo-payday-v3", "a", True)]
CLIENT = "mon_client"


def q(s):
    return "'" + s.replace("'", "''") + "'"


def synthetic(sql_path, expected_path, users=1200, seed=18):
    rng = random.Random(seed)
    preds, outs = [], []
    labelled = {g: {} for g in GROUPS}  # (request_id, group) -> [score, bad]
    volume = {g: 0 for g in GROUPS}

    def predict(req, user, arm, as_of, created, in_window):
        gs = [GROUPS[0], GROUPS[2]] if arm == "a" else [GROUPS[1]]
        vals = {}
        for g in gs:
            v = round(min(1.0, max(0.0, rng.betavariate(2, 5) + (0.1 if g[3] else 0))), 3)
            preds.append((created, req, CLIENT, user, g[0], g[1], g[2], g[3], v, as_of))
            vals[g] = v
            volume[g] += in_window
        return vals

    def label(req, vals, bad, in_window):
        if not in_window:
            return
        for g, v in vals.items():
            cur = labelled[g].setdefault(req, [v, False])
            cur[1] = cur[1] or bad

    for i in range(users):
        user = "k%05d" % i
        arm = "a" if i % 3 else "b"
        old_in = i % 10 != 0  # every tenth user's first request is outside the window
        c1 = "2026-11-02 10:00:00+00" if old_in else "2026-10-15 10:00:00+00"
        r1, r2 = "r1-%05d" % i, "r2-%05d" % i
        v1 = predict(r1, user, arm, "2026-11-02 09:00:00+00" if old_in else "2026-10-15 09:00:00+00",
                     c1, old_in)
        v2 = predict(r2, user, arm, "2026-11-20 09:00:00+00", "2026-11-20 10:00:00+00", True)
        # another client's borrower with the same user_key: never joined to our outcomes
        volume[GROUPS[0]] += 1  # in the window and the group: counted, never joined
        preds.append(("2026-11-25 10:00:00+00", "x-%05d" % i, "other_client", user, GROUPS[0][0],
                      GROUPS[0][1], "a", False, 0.999, "2026-11-25 09:00:00+00"))
        if i % 7 == 0:  # a null score (under an evidence gate): not counted, and an outcome
            # without request id goes to the latest *scored* request (r2), not to this one
            preds.append(("2026-11-26 10:00:00+00", "n-%05d" % i, CLIENT, user, GROUPS[0][0],
                          GROUPS[0][1], "a", False, None, "2026-11-26 09:00:00+00"))
        kind = rng.random()
        base = np.mean(list(v2.values()))
        bad = rng.random() < base * 1.3
        if kind < 0.35:  # names the older request: joined to it although r2 is later
            outs.append((CLIENT, user, r1, "L%05d" % i, bad, "2026-12-01 00:00:00+00"))
            label(r1, v1, bad, old_in)
        elif kind < 0.7:  # no request id, observed after both: the latest (r2)
            outs.append((CLIENT, user, None, "L%05d" % i, bad, "2026-12-05 00:00:00+00"))
            label(r2, v2, bad, True)
        elif kind < 0.8:  # no request id, observed between them: r1
            outs.append((CLIENT, user, None, "L%05d" % i, bad, "2026-11-10 00:00:00+00"))
            label(r1, v1, bad, old_in)
        elif kind < 0.9:  # two loans on r2, one good one bad: bad
            outs.append((CLIENT, user, r2, "L%05da" % i, False, "2026-12-03 00:00:00+00"))
            outs.append((CLIENT, user, r2, "L%05db" % i, True, "2026-12-04 00:00:00+00"))
            label(r2, v2, False, True)
            label(r2, v2, True, True)
        # else: no outcome yet
    with open(sql_path, "w") as f:
        for p in preds:
            f.write("INSERT INTO prediction_log (created_at, request_id, client_id, user_key,"
                    " score_name, model_version, arm, shadow, value, as_of, predictors_digest)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'd');\n"
                    % (q(p[0]), q(p[1]), q(p[2]), q(p[3]), q(p[4]), q(p[5]), q(p[6]),
                       "true" if p[7] else "false", "NULL" if p[8] is None else repr(p[8]),
                       q(p[9])))
        for o in outs:
            f.write("INSERT INTO outcomes (created_at, client_id, user_key, request_id, loan_id,"
                    " outcome, observed_at) VALUES (now(), %s, %s, %s, %s, %s, %s);\n"
                    % (q(o[0]), q(o[1]), "NULL" if o[2] is None else q(o[2]), q(o[3]),
                       q("bad" if o[4] else "good"), q(o[5])))
    expected = {}
    for g in GROUPS:
        pairs = list(labelled[g].values())
        s = np.array([p[0] for p in pairs])
        y = np.array([int(p[1]) for p in pairs])
        fpr, tpr, _ = roc_curve(y, s)
        prob_true, prob_pred = calibration_curve(y, s, n_bins=10, strategy="quantile")
        expected["|".join([g[0], g[1], g[2], "t" if g[3] else "f"])] = {
            "volume": volume[g], "labelled": len(pairs), "bad_rate": float(y.mean()),
            "auc": float(roc_auc_score(y, s)), "ks": float(np.max(tpr - fpr)),
            "calibration_true": [float(v) for v in prob_true],
            "calibration_pred": [float(v) for v in prob_pred]}
    with open(expected_path, "w") as f:
        json.dump(expected, f, indent=1)


def compare(expected_path, results_path):
    """RESULTS: score|version|arm|shadow|metric|feature|bin|value|mean_pred|count per line."""
    with open(expected_path) as f:
        expected = json.load(f)
    got = {}
    with open(results_path) as f:
        for line in f:
            c = line.rstrip("\n").split("|")
            got.setdefault("|".join(c[:4]), []).append(c[4:])
    failures = 0

    def check(what, want, have):
        nonlocal failures
        good = have is not None and abs(want - have) <= 1e-9
        failures += not good
        print("%s %s: want %.17g, have %s" % ("ok  " if good else "FAIL", what, want, have))

    for key, want in expected.items():
        rows = got.get(key, [])
        one = {r[0]: float(r[3]) for r in rows if r[0] != "calibration" and r[3] != ""}
        for m in ("volume", "labelled", "bad_rate", "auc", "ks"):
            check("%s %s" % (key, m), want[m], one.get(m))
        cal = sorted((int(r[2]), float(r[3]), float(r[4])) for r in rows if r[0] == "calibration")
        if len(cal) != len(want["calibration_true"]):
            failures += 1
            print("FAIL %s calibration: %d deciles, sklearn %d" % (key, len(cal),
                                                                   len(want["calibration_true"])))
            continue
        for i, (b, t, p) in enumerate(cal):
            check("%s decile %d bad rate" % (key, b), want["calibration_true"][i], t)
            check("%s decile %d mean score" % (key, b), want["calibration_pred"][i], p)
    return 1 if failures else 0


def trainer():
    """tools/train-demo-models as a module (its make_gig_workers)."""
    import importlib.machinery
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                        "train-demo-models")
    return importlib.machinery.SourceFileLoader("train_demo_models", path).load_module()


def post_user(url, client, token, users_dir, name):
    import os
    import urllib.request
    with open(os.path.join(users_dir, name)) as f:
        user = json.load(f)
    with open(os.path.join(users_dir, name[:-5] + ".truth.json")) as f:
        now = json.load(f)["now"]
    body = json.dumps({"user_id": user["user_id"], "client_id": client, "as_of": now,
                       "sms_data": user["sms"], "apps_data": user["apps"],
                       "device_data": user["device"]}).encode()
    req = urllib.request.Request(url + "/api/generate_features", body,
                                 {"content-type": "application/json",
                                  "x-client-id": client, "x-auth-token": token})
    with urllib.request.urlopen(req, timeout=120) as r:
        return user["user_id"], now, json.load(r)


def score(url, client, token, users_dir, created, sql_path):
    import concurrent.futures
    import os
    names = sorted(n for n in os.listdir(users_dir)
                   if n.endswith(".json") and not n.endswith(".truth.json"))
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda n: post_user(url, client, token, users_dir, n), names))
    n = 0
    s = "credeau_payday_score"
    with open(sql_path, "w") as out:
        for user_id, now, reply in replies:
            if reply.get(s) is None:
                continue
            out.write("INSERT INTO prediction_log (created_at, request_id, client_id, user_key,"
                      " score_name, model_version, arm, shadow, value, as_of, predictors_digest)"
                      " VALUES (%s, %s, %s, %s, %s, %s, %s, false, %r, %s, 'd');\n"
                      % (q(created), q(reply["request_id"]), q(client), q(user_id), q(s),
                         q(reply[s + "_model_version"]), q(reply[s + "_arm"]), reply[s],
                         q(now + "+05:30")))
            n += 1
    print("%d users scored" % n)


def main(argv):
    if len(argv) == 8 and argv[1] == "score":
        score(*argv[2:])
        return 0
    if len(argv) == 5 and argv[1] == "gig":
        print("%d users made unsalaried" % trainer().make_gig_workers(argv[2], float(argv[3]),
                                                                     int(argv[4])))
        return 0
    if len(argv) == 4 and argv[1] == "synthetic":
        synthetic(argv[2], argv[3])
        return 0
    if len(argv) == 4 and argv[1] == "compare":
        return compare(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
