#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Check `insights-api report` (tests/integration/test_ins_monitor.sh): parse the HTML page's
inline SVG charts with the standard library (no code of ours), map every mark back to data
values through the plot box and axis ranges the SVG declares (data-box, data-x, data-y), and
check each chart draws exactly one mark per row of report.csv for that chart, series by
series in order, at the row's x and y. Also: the page loads nothing (no script, link, src,
href, url(), @import).

    report_check.py DIR     (DIR/report.html, DIR/report.csv); prints one line per check
"""
import csv
import html.parser
import os
import sys


class Charts(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.charts = {}
        self.cur = None
        self.series = None
        self.index = -1
        self.fetches = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if k in a:
                self.fetches.append("%s %s=%s" % (tag, k, a[k]))
        if tag in ("script", "link", "iframe", "img", "object", "embed"):
            self.fetches.append(tag)
        if tag == "svg" and "data-chart" in a:
            box = [float(v) for v in a["data-box"].split()]
            xr = [float(v) for v in a["data-x"].split()]
            yr = [float(v) for v in a["data-y"].split()]
            self.cur = {"box": box, "x": xr, "y": yr, "marks": []}
            self.charts[a["data-chart"]] = self.cur
            self.index = -1
        elif tag == "g" and self.cur is not None and "data-series" in a:
            self.series = a["data-series"]
            self.index += 1
        elif tag in ("rect", "circle") and a.get("class") == "mark" and self.cur is not None:
            self.cur["marks"].append(self.value(tag, a))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "svg":
            self.cur = None

    def value(self, tag, a):
        left, top, width, height = self.cur["box"]
        (x0, x1), (y0, y1) = self.cur["x"], self.cur["y"]
        if tag == "circle":
            px, py = float(a["cx"]), float(a["cy"])
        else:  # a bar: its series' offset inside the bin is index x bar width
            px = float(a["x"]) - self.index * float(a["width"])
            py = float(a["y"])
        return (self.series, x0 + (px - left) / width * (x1 - x0),
                y0 + (top + height - py) / height * (y1 - y0), (x1 - x0), (y1 - y0))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(os.path.join(argv[1], "report.html")) as f:
        page = f.read()
    p = Charts()
    p.feed(page)
    rows = {}
    with open(os.path.join(argv[1], "report.csv"), newline="") as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["chart"], []).append((r["series"], float(r["x"]), float(r["y"])))
    failures = 0

    def check(ok, what):
        nonlocal failures
        failures += not ok
        print("%s %s" % ("ok  " if ok else "FAIL", what))

    lowered = page.lower()
    check(not p.fetches and "url(" not in lowered and "@import" not in lowered,
          "the page fetches nothing (%s)" % (", ".join(p.fetches) or "no src/href/script/link"))
    for chart in ("score_distribution", "roc", "psi", "calibration"):
        marks = p.charts.get(chart, {}).get("marks", [])
        want = rows.get(chart, [])
        check(chart in p.charts, "chart %s is in the page" % chart)
        check(len(marks) == len(want) and len(want) > 0,
              "%s: %d marks, %d CSV rows" % (chart, len(marks), len(want)))
        bad = [(m, w) for m, w in zip(marks, want)
               if m[0] != w[0] or abs(m[1] - w[1]) > 1e-5 * m[3] or abs(m[2] - w[2]) > 1e-5 * m[4]]
        check(not bad, "%s: every mark at its CSV row's series, x and y%s"
              % (chart, "" if not bad else ": first off %r vs %r" % bad[0]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
