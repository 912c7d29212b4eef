#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Unit tests of tools/ladder's arithmetic: capacity, the min/max rules (floor of 2, one
spare above the peak, max > min), and that more DAU never means fewer replicas.
run: python3 tests/deploy/test_ladder.py (from the repository root)"""
import importlib.machinery
import importlib.util
import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
_loader = importlib.machinery.SourceFileLoader("ladder", os.path.join(HERE, "..", "..", "tools", "ladder"))
_spec = importlib.util.spec_from_loader("ladder", _loader)
ladder = importlib.util.module_from_spec(_spec)
_loader.exec_module(ladder)


class LadderTest(unittest.TestCase):
    def test_capacity(self):
        # 0.5 core x 50 % / (20 ms x 1.5) = 8.33 users/s
        self.assertAlmostEqual(ladder.capacity(0.5, 0.5, 20.0, 1.5), 8.333, places=3)

    def test_floor_and_spare(self):
        self.assertEqual(ladder.replicas(0.1, 0.5, 10.0, 2), (2, 3))  # tiny load: floor, max > min
        self.assertEqual(ladder.replicas(25.0, 95.0, 10.0, 2), (3, 11))  # ceil(2.5)=3, ceil(9.5)+1=11
        self.assertEqual(ladder.replicas(0.1, 0.5, 10.0, 1), (1, 2))  # dev floor

    def test_monotonic_in_dau(self):
        a = ladder.parse_args(["--dau", "10000,25000,50000,100000,400000,1000000"])
        _, rows = ladder.ladder(a)
        for name in ("insights-api", "sms-extraction"):
            pairs = [r[name] for r in rows]
            for lo, hi in pairs:
                self.assertGreaterEqual(lo, 2)
                self.assertGreater(hi, lo)
            self.assertEqual(pairs, sorted(pairs))
        self.assertGreater(rows[-1]["insights-api"][1], rows[0]["insights-api"][1])

    def test_overlay_text_carries_numbers(self):
        a = ladder.parse_args([])
        _, rows = ladder.ladder(a)
        text = ladder.overlay_text(a, rows[-1])
        lo, hi = rows[-1]["insights-api"]
        self.assertIn("value: %d" % hi, text)
        self.assertIn("  - ../prod", text)


if __name__ == "__main__":
    unittest.main()
